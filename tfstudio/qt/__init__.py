"""The desktop app: every widget, view, worker and plot (the only package that imports Qt). What
they show and the rules their edits follow without Qt live in :mod:`tfstudio.session`.

``tfstudio.qt.app.run(project)`` opens the main window; ``python -m tfstudio.qt.screenshots``
renders screenshots (``--review``: detections and evaluation too); ``python -m tfstudio.qt.bench``
and ``python -m tfstudio.qt.bench_review`` (the threshold slider) print performance numbers.
"""
