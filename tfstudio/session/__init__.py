"""The open project as the GUI sees it, without Qt: what the widgets show and the rules their
edits follow, testable and usable without a display.

- :mod:`.stream` — following a ``train --json`` child: lines, events, smoothing, ETA, failures.
- :mod:`.runs` — one summary per run for the history, and a run's stored curves as arrays.
- :mod:`.series` — growing buffers for live curves.
- :mod:`.detections` — a run's detections for review: run info, posteriors, post-processing,
  what is drawn, repeats of decisions, thresholds stored with the run.
- :mod:`.labels` — the events of one recording as arrays: culling, hit tests, navigation.
- :mod:`.rules` — what counts as a label; adjusting a detection accepts it, deleting one rejects it.
- :mod:`.project_ref` — a project given open (borrowed) or as a folder (opened on use).

``tfstudio.qt`` builds on this package; nothing here imports Qt (an import contract holds it).
"""
