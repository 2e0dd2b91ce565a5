"""The bundle's entry point: the app for ``[PROJECT]``, else a command (as ``tfstudio``).

A child that the app starts for training or detection is this same executable with the
command as its arguments (tfstudio.session.jobs.tfstudio_command).
"""

import multiprocessing
import sys

from tfstudio.__main__ import main

if __name__ == "__main__":
    # A spawned multiprocessing child of a frozen app runs its task and exits here.
    multiprocessing.freeze_support()
    sys.exit(main())
