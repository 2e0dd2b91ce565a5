"""A project reached through a borrowed Project or a folder."""

from __future__ import annotations

from tfstudio.session.project_ref import ProjectRef


def test_a_borrowed_project_is_never_closed(project):
    ref = ProjectRef(project)
    assert ref.get() is project and ref.root == project.root
    ref.close()
    assert project.runs() == []  # still open


def test_a_folder_is_opened_on_use_and_closed_by_close(project):
    ref = ProjectRef(project.root)
    own = ref.get()
    assert own is not None and own is not project and ref.get() is own
    ref.close()
    assert ref.get() is not own  # opened afresh
    ref.close()


def test_an_unavailable_project_reads_as_none(tmp_path, project):
    assert ProjectRef(None).get() is None
    assert ProjectRef(tmp_path / "nowhere").get() is None
    borrowed = ProjectRef(project)
    project.close()
    with borrowed.open() as closed:
        closed.runs()  # a project closed under us: no crash, the block just ends
