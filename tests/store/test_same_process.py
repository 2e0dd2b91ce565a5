"""Two connections to one project in one process (the window and a dialog, a test and the
window) survive another process writing and closing: opening must never drop the locks of
the connection that is already open."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import fake_recording
from tfstudio.store import Project

CHILD = textwrap.dedent(
    """
    import sys
    from tfstudio.store import Project
    with Project.open(sys.argv[1]) as project:
        rec = project.recordings()[0]
        cls = project.add_class("from-child")
        project.add_events([
            dict(recording_id=rec.id, class_id=cls.id, onset=i * 0.01, offset=i * 0.01 + 0.5)
            for i in range(2000)
        ])
    """
)


def test_a_second_open_in_this_process_keeps_the_first_connection_working(tmp_path):
    root = tmp_path / "p"
    window = Project.create(root)
    rec = fake_recording(window)
    bird = window.add_class("bird")
    window.add_event(rec, bird.id, 0.0, 1.0)
    assert len(window.events()) == 1
    # Another process writes and closes (as `tfstudio detect` does under the window) ...
    subprocess.run([sys.executable, "-c", CHILD, str(root)], check=True, timeout=120)
    # ... then this process opens the project a second time (a dialog; a test checking what
    # the window wrote) and reads, again and again.
    for _ in range(3):
        with Project.open(root) as second:
            assert len(second.events()) >= 2001
        assert len(window.events()) >= 2001
        subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD.replace('"from-child"', '"x"').replace("add_class", "ensure_class"),
                str(root),
            ],
            check=True,
            timeout=120,
        )
    assert {c.name for c in window.classes()} == {"bird", "from-child", "x"}
    window.close()
