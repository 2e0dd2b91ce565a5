"""A stand-in for ``python -m tfstudio`` in job tests: behaviour chosen by the command line.

``fake_cli.py detect …`` prints two progress lines and a summary; with FAKE_CLI=sleep it
hangs (to be cancelled), with FAKE_CLI=fail it reports an error like the real CLI does, with
FAKE_CLI=skip it leaves a recording out as the real CLI does one whose audio cannot be read
(a "skipped" line on stderr, ``left_out`` in the summary, exit 3).
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
left_out = ["/data/rec2.flac: damaged audio: it cannot be decoded between 0.00 s and 4.00 s"]
if mode == "skip":
    print(f"skipped {left_out[0]}", file=sys.stderr, flush=True)
summary = {"run": 1, "recordings": 2, "events": 5, "per_recording": {}}
print(json.dumps({**summary, "left_out": left_out if mode == "skip" else []}), flush=True)
sys.exit(3 if mode == "skip" else 0)
