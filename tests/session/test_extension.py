"""Train further: which runs can go on, up to how many epochs, and what early stopping does,
as the store tells it (no torch: the checkpoints only have to be there)."""

from __future__ import annotations

import pytest

from tfstudio.session.runs import extension
from tfstudio.train.resume import epochs_begun, epochs_refusal, fewest_epochs


def make_run(project, *, status="done", epochs=10, patience=3, val_losses=(), batches=()):
    """A run with ``val_losses`` per epoch, batch rows of ``batches`` (epoch numbers) and
    its best and last checkpoint files present."""
    run = project.create_run({"preset": "fast", "epochs": epochs, "patience": patience})
    folder = project.run_dir(run.id)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("best.pt", "last.pt"):
        (folder / name).write_bytes(b"not read here")
    rows = [
        {"kind": "epoch", "epoch": i + 1, "iteration": 10 * (i + 1), "val_loss": v}
        for i, v in enumerate(val_losses)
    ]
    rows += [
        {"kind": "batch", "epoch": e, "iteration": 1000 + i, "loss": 1.0}
        for i, e in enumerate(batches)
    ]
    if rows:
        project.add_metrics(run.id, rows)
    relative = f"runs/run-{run.id}"
    return project.update_run(
        run.id,
        status=status,
        best_checkpoint=f"{relative}/best.pt",
        last_checkpoint=f"{relative}/last.pt",
    )


def test_the_rule_the_loop_and_the_app_share():
    assert epochs_begun(4, 0) == 4 and epochs_begun(4, 3) == 5
    assert fewest_epochs("done", 10) == 11 and fewest_epochs("stopped", 5) == 5
    # A run that trained all its epochs: the command line's words, unchanged.
    for asked in (None, 10, 3):
        assert epochs_refusal(3, "done", 10, 10, asked) == (
            "run 3 has finished its 10 epoch(s); --resume goes on with a stopped or killed "
            "run, or with a finished one given more --epochs. Start a new run to train again"
        )
    assert epochs_refusal(3, "done", 10, 10, 11) is None
    # Early stopping ended it at 6 of 10: 7 goes on (it was refused as "finished its 10").
    assert epochs_refusal(3, "done", 10, 6, 7) is None
    assert "stopped early after 6 of its 10 epoch(s)" in epochs_refusal(3, "done", 10, 6, 6)
    assert epochs_refusal(3, "stopped", 10, 5, 4) == (
        "--epochs 4 is fewer than the 5 epoch(s) run 3 has begun; give more (its own number "
        "is 10), or leave --epochs out"
    )
    assert epochs_refusal(3, "stopped", 10, 5, None) is None


def test_an_early_stopped_run_goes_on_given_more_patience_alone():
    # Stopped by early stopping after 12 of its 50 epochs, 5 of them without a better loss.
    def refusal(asked=None, patience=None):
        return epochs_refusal(7, "done", 50, 12, asked, patience=patience, without_better=5)

    assert refusal(patience=6) is None and refusal(patience=100) is None
    for patience in (5, 2):
        assert refusal(patience=patience) == (
            "run 7 stopped early after 12 of its 50 epoch(s), the last 5 without a better "
            f"validation loss; --patience {patience} leaves it no epoch to wait: give "
            "--patience 6 or more to go on up to its 50 epochs"
        )
    # Nothing given: what to give, either way.
    assert refusal() == (
        "run 7 stopped early after 12 of its 50 epoch(s), the last 5 without a better "
        "validation loss; to go on, give --patience 6 or more (up to its 50 epochs) or "
        "--epochs 13 or more"
    )
    assert refusal(12, patience=9) == (
        "run 7 stopped early after 12 of its 50 epoch(s); --epochs 12 is not more than it "
        "trained: give --epochs 13 or more, or leave --epochs out and give --patience 6 or "
        "more (up to its 50 epochs)"
    )
    # More epochs go on whatever the patience (its count goes on, as patience_text says).
    assert refusal(13, patience=2) is None and refusal(60) is None
    # A run that trained all its epochs: a patience alone changes nothing.
    assert "has finished its 50 epoch(s)" in epochs_refusal(
        7, "done", 50, 50, None, patience=100, without_better=0
    )
    # A stopped run goes on with or without a patience.
    assert epochs_refusal(7, "stopped", 50, 12, None, patience=1, without_better=5) is None


def test_a_run_that_trained_all_its_epochs_goes_on_from_the_next(project):
    run = make_run(project, epochs=4, patience=3, val_losses=(0.9, 0.7, 0.8, 0.75))
    ext = extension(project, run)
    assert ext.possible and not ext.early_stopped
    assert (ext.begun, ext.minimum, ext.next_epoch, ext.default) == (4, 5, 5, 9)
    assert (ext.best_epoch, ext.without_better, ext.patience) == (2, 2, 3)
    assert ext.refusal(4) and ext.refusal(5) is None
    # Its count goes on: two epochs without a better one, patience 3 leaves one more.
    assert "it has gone 2 epoch(s) without a better validation loss than epoch 2's" in (
        ext.patience_text(3)
    )
    assert "ends after 1 more epoch(s) without a better one" in ext.patience_text(3)
    assert "ends after 4 more epoch(s)" in ext.patience_text(6)


def test_an_early_stopped_run_is_offered_its_next_epoch_and_told_about_patience(project):
    run = make_run(project, epochs=50, patience=2, val_losses=(0.9, 0.5, 0.6, 0.7))
    ext = extension(project, run)
    assert ext.early_stopped and ext.possible
    # Its own 50 epochs were never used: they are the proposal; 5 is the fewest.
    assert (ext.minimum, ext.default, ext.without_better) == (5, 50, 2)
    # As the loop says it: a patience above the two epochs gone goes on, up to its 50.
    assert ext.refusal(None, patience=3) is None
    assert "give --patience 3 or more" in ext.refusal(None, patience=2)
    text = ext.patience_text(2)
    assert "does not start again" in text
    assert "ends after the next epoch unless that one is better" in text
    assert "raise the patience" in text


def test_a_long_run_is_offered_half_as_many_again(project):
    run = make_run(project, epochs=40, val_losses=[1.0 / (i + 1) for i in range(40)])
    ext = extension(project, run)
    assert (ext.minimum, ext.default, ext.without_better) == (41, 60, 0)
    assert "its last epoch was its best so far (epoch 40)" in ext.patience_text(3)


def test_a_run_stopped_part_way_through_an_epoch_goes_on_in_it(project):
    run = make_run(project, status="stopped", val_losses=(0.9, 0.8), batches=(3, 3))
    ext = extension(project, run)
    assert (ext.begun, ext.minimum, ext.next_epoch, ext.default) == (3, 3, 3, 10)
    run = make_run(project, status="stopped", val_losses=(0.9, 0.8), batches=(2,))
    assert extension(project, run).next_epoch == 3


@pytest.mark.parametrize("gone", ["best.pt", "last.pt"])
def test_a_run_whose_checkpoint_is_gone_says_so(project, gone):
    run = make_run(project, val_losses=(0.9,))
    path = project.run_dir(run.id) / gone
    path.unlink()
    ext = extension(project, run)
    assert not ext.possible
    which = gone.removesuffix(".pt")
    assert ext.problem.startswith(f"run {run.id}: {which} checkpoint is missing: {path}")
    assert ext.refusal(100) == ext.problem


def test_runs_that_cannot_go_on(project):
    running = make_run(project, status="running")
    assert extension(project, running).problem == f"run {running.id} is still training"
    fresh = project.create_run({"epochs": 3})
    stopped = project.update_run(fresh.id, status="stopped")
    assert "ended before its first checkpoint: Resume starts it again" in (
        extension(project, stopped).problem
    )
    imported = project.create_run({"imported": {"tool": "birdnet"}})
    imported = project.update_run(imported.id, status="done")
    assert "imported detections" in extension(project, imported).problem
