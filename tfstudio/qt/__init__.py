"""The desktop app: every widget, view, worker and plot (the only package that imports Qt).

``tfstudio.qt.app.run(project)`` opens the main window; ``python -m tfstudio.qt.screenshots``
and ``python -m tfstudio.qt.bench`` render screenshots and print performance numbers.
"""
