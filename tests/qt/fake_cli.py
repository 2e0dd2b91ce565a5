"""A stand-in for ``python -m tfstudio`` in job tests: behaviour chosen by the command line.

``fake_cli.py detect …`` prints two progress lines and a summary; with FAKE_CLI=sleep it
hangs (to be cancelled), with FAKE_CLI=fail it reports an error like the real CLI does.
"""

import json
import os
import sys
import time

mode = os.environ.get("FAKE_CLI", "")
if mode == "sleep":
    time.sleep(60)
elif mode == "fail":
    print("error: no finished training run with a checkpoint yet", file=sys.stderr)
    sys.exit(2)
for done in (1, 2):
    print(json.dumps({"done": done, "total": 2, "name": f"rec{done}.wav"}), flush=True)
print(json.dumps({"run": 1, "recordings": 2, "events": 5, "per_recording": {}}), flush=True)
