"""``python -m tfstudio`` runs the command line (and the GUI when no subcommand is given)."""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from tfstudio.cli import main

    raise SystemExit(main())
