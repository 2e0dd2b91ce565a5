"""export_labels as the GUI calls it: refusals are ExportRefused, before anything is written."""

from __future__ import annotations

import pytest

from tests.conftest import fake_recording
from tfstudio.exporter import ExportRefused, export_labels


@pytest.fixture
def labelled(project):
    rec = fake_recording(project, "a.wav", duration=5.0)
    cls = project.add_class("bird")
    project.add_event(rec, cls.id, 1.0, 2.0)
    return project


def test_an_existing_file_needs_overwrite(labelled, tmp_path):
    out = tmp_path / "labels.tsv"
    out.write_text("mine\n")
    with pytest.raises(ExportRefused) as info:
        export_labels(labelled, "dcase", out)
    assert info.value.exists and str(info.value) == f"{out} already exists"
    assert out.read_text() == "mine\n"
    assert export_labels(labelled, "dcase", out, overwrite=True) == [out]
    assert "a.wav\t1.0\t2.0\tbird" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["labels.tsv", "proj"])


def test_the_database_is_never_an_output(labelled):
    with pytest.raises(ExportRefused) as info:
        export_labels(labelled, "json", labelled.db_path, overwrite=True)
    assert not info.value.exists and "is the project's database" in str(info.value)
    assert len(labelled.labels()) == 1


def test_the_default_output_is_refused_the_second_time_without_overwrite(labelled):
    (first,) = export_labels(labelled, "audacity")
    assert first == labelled.root / "exports" / "labels-audacity" / "a.txt"
    with pytest.raises(ExportRefused, match="already holds 1 of the files to write"):
        export_labels(labelled, "audacity")
    assert export_labels(labelled, "audacity", overwrite=True) == [first]


def test_textgrid_form_is_checked(labelled, tmp_path):
    with pytest.raises(ValueError, match="textgrid_form must be one of long, short"):
        export_labels(labelled, "textgrid", tmp_path / "tg", textgrid_form="medium")
    assert not (tmp_path / "tg").exists()


def test_a_json_export_of_detections_keeps_the_rejected_ones(project, tmp_path):
    """The review's negatives go with the project's JSON (the other formats cannot hold a
    rejection), and come back rejected."""
    from tfstudio.formats import jsonfmt
    from tfstudio.importer import import_labels
    from tfstudio.store import Project

    rec = fake_recording(project, "rec1.wav")
    bird = project.add_class("bird").id
    run = project.create_run({})
    ids = project.add_events(
        [
            dict(
                recording_id=rec,
                class_id=bird,
                onset=t,
                offset=t + 1,
                source="model",
                run_id=run.id,
                confidence=0.5 + t / 10,
            )
            for t in (1.0, 2.0, 3.0)
        ]
    )
    project.update_event(ids[0], review="accepted")
    project.update_event(ids[1], review="rejected")
    (path,) = export_labels(project, "json", tmp_path / "d.json", source="detections")
    reviews = sorted((e.onset, e.review) for e in jsonfmt.read(path).events)
    assert reviews == [(1.0, "accepted"), (2.0, "rejected"), (3.0, "none")]
    # The formats without a place for a rejection leave it out, as before.
    (tsv,) = export_labels(project, "dcase", tmp_path / "d.tsv", source="detections")
    assert [line.split("\t")[1] for line in tsv.read_text().splitlines()[1:]] == ["1.0", "3.0"]
    with Project.create(tmp_path / "other") as other:
        fake_recording(other, "rec1.wav")
        import_labels(other, [path])
        back = sorted((e.onset, e.review) for e in other.events(source="model"))
        assert back == reviews
