"""The open project as the GUI sees it, without Qt: what the widgets show and the rules their
edits follow, testable and usable without a display. Models tell of changes through
plain-Python events (psygnal): widgets subscribe to them and write to the models.

- :mod:`.workspace` — the open project: current recording, selection, current class, active
  run, its detections there; edits through the rules below; ``workspace.events``.
- :mod:`.detection_model` — the review's live detections: posteriors of the current recording,
  global and per-class thresholds, the throttled preview, writing them on release.
- :mod:`.deferred` — work a model does a little later (the GUI's event loop, or at once).
- :mod:`.jobs` — a ``tfstudio`` child of the GUI: its command line, environment, outcome, failure.
- :mod:`.stream` — following a ``train --json`` child: lines, events, smoothing, ETA, failures.
- :mod:`.runs` — one summary per run for the history, a run's title, its stored curves as arrays.
- :mod:`.engine` — what training can use: devices (``tfstudio doctor``), options, presets, recipe.
- :mod:`.schedule` — the teacher-forcing schedule's preview: p_tf against epochs, in a sentence.
- :mod:`.series` — growing buffers for live curves.
- :mod:`.detections` — a run's detections for review: run info, posteriors, post-processing,
  what is drawn, repeats of decisions, thresholds stored with the run.
- :mod:`.labels` — the events of one recording as arrays: culling, hit tests, navigation.
- :mod:`.review` — the review list: which detections, in which order, counts per state.
- :mod:`.rules` — what counts as a label; adjusting a detection accepts it, deleting one rejects it.
- :mod:`.project_ref` — a project given open (borrowed) or as a folder (opened on use).
- :mod:`.folders` — a new project's folder: what it holds already, a free name inside it.
- :mod:`.view_settings` — how spectrograms are drawn (remembered by :mod:`tfstudio.qt.settings`).

``tfstudio.qt`` builds on this package; nothing here imports Qt (an import contract holds it).
"""
