"""A stand-in for ``python -m tfstudio`` in job tests: behaviour chosen by the command line.

``fake_cli.py detect …`` prints two progress lines and a summary; with FAKE_CLI=sleep it
hangs (to be cancelled), with FAKE_CLI=fail it reports an error like the real CLI does, with
FAKE_CLI=skip it leaves a recording out as the real CLI does one whose audio cannot be read
(a "skipped" line on stderr, ``left_out`` in the summary, exit 3). ``fake_cli.py evaluate …``
prints scores shaped as ``tfstudio evaluate --json`` prints them, for the fake run's classes
(bird, frog) on the split it is given.
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
if sys.argv[1:2] == ["evaluate"]:
    split = sys.argv[sys.argv.index("--split") + 1] if "--split" in sys.argv else "test"
    scores = {
        "bird": {"segment_f1": 0.8, "segment_er": 0.3, "event_f1": 0.5},
        "frog": {"segment_f1": None, "segment_er": 1.0, "event_f1": 0.0},
    }
    for s in scores.values():
        s.update(reference_events=2, detected_events=1, event_er=0.5)
    result = {
        "run": 1,
        "split": split,
        "epoch": 3,
        "recordings": 1,
        "threshold": 0.5,
        "segment_f1": 0.6,
        "segment_er": 0.5,
        "event_f1": 0.4,
        "event_er": 0.7,
        "per_class": scores,
        "class_thresholds": {"bird": 0.4, "frog": 0.6},
        "class_hysteresis": {"bird": 0.5},
    }
    print(json.dumps(result), flush=True)
    sys.exit(0)
for done in (1, 2):
    print(json.dumps({"done": done, "total": 2, "name": f"rec{done}.wav"}), flush=True)
left_out = ["/data/rec2.flac: damaged audio: it cannot be decoded between 0.00 s and 4.00 s"]
if mode == "skip":
    print(f"skipped {left_out[0]}", file=sys.stderr, flush=True)
summary = {"run": 1, "recordings": 2, "events": 5, "per_recording": {}}
print(json.dumps({**summary, "left_out": left_out if mode == "skip" else []}), flush=True)
sys.exit(3 if mode == "skip" else 0)
