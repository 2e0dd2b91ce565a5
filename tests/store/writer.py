"""A child process that writes events as fast as it can (used by the concurrency tests).

usage: python writer.py PROJECT RECORDING_ID CLASS_ID COUNT BATCH TAG
Prints the ids of each committed batch, one line per commit, flushed.
"""

import sys

from tfstudio.store import Project

root, rec, cls, count, batch, tag = sys.argv[1:7]
with Project.open(root) as project:
    for i in range(int(count)):
        rows = [
            dict(recording_id=int(rec), class_id=int(cls), onset=i + j / 1000, offset=i + 1.0)
            for j in range(int(batch))
        ]
        ids = project.add_events(rows, description=f"{tag} {i}")
        if (
            i % 7 == 0
        ):  # mix in undo-history traffic and run/metric writes, as the GUI and trainer do
            project.update_event(ids[0], offset=i + 2.0)
        print(" ".join(map(str, ids)), flush=True)
