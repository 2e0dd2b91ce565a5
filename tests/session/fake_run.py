"""A finished run with synthetic posteriors (no model, no torch): what it detects is known."""

from __future__ import annotations

import numpy as np

HOP_S = 0.01  # 160 samples at 16 kHz
# Posterior bumps on rec0 (10 s): class -> [(start s, end s, value)].
BUMPS = {
    "bird": [(1.0, 2.0, 0.9), (3.0, 4.0, 0.7), (5.0, 6.0, 0.55), (7.0, 8.0, 0.35)],
    "frog": [(2.5, 3.5, 0.8), (6.0, 7.0, 0.45)],
}


def expected(threshold: float, classes=("bird", "frog")) -> int:
    """How many detections the bumps give at ``threshold``."""
    return sum(1 for c in classes for _, _, value in BUMPS[c] if value > threshold)


def synthetic_posteriors(seconds: float = 10.0) -> np.ndarray:
    """(frames, [bird, frog]) with flat bumps of known height on a 0.05 floor."""
    frames = round(seconds / HOP_S) + 1
    post = np.full((frames, 2), 0.05, dtype=np.float32)
    for column, name in enumerate(("bird", "frog")):
        for start, end, value in BUMPS[name]:
            post[round(start / HOP_S) : round(end / HOP_S), column] = value
    return post


def make_fake_run(project, *, threshold: float = 0.5):
    """A finished run whose posteriors are synthetic (no model, no torch)."""
    config = {
        # The model's classes, as a checkpoint keeps them: renaming a project class later
        # changes neither them nor the stamp of the posteriors saved with them.
        "classes": [c.name for c in project.classes()],
        "features": {"hop_length": 160, "sample_rate": 16000},
        "threshold": threshold,
        "median_filter_frames": 1,
        "min_event_s": 0.0,
        "min_gap_s": 0.0,
    }
    run = project.create_run(config)
    return project.update_run(run.id, status="done", best_checkpoint="runs/run-1/best.pt")


def detect_on(project, run, recording) -> None:
    """Save the synthetic posteriors for ``recording`` and its detections at 0.5, as
    ``tfstudio detect`` would."""
    from tfstudio.session.detections import RunInfo

    post = synthetic_posteriors(recording.duration)
    info = RunInfo.from_run(project, project.run(run.id))
    assert info is not None
    save_posteriors(project, run.id, info.classes, recording, post)
    ids = {c.name: c.id for c in project.classes()}
    rows = [
        {"class_id": ids[name], "onset": start, "offset": end, "confidence": value}
        for name, bumps in BUMPS.items()
        for start, end, value in bumps
        if value > 0.5
    ]
    project.replace_detections(run.id, recording.id, rows)


def stamp_posteriors(project, run_id: int, classes) -> None:
    """Write the run's posteriors stamp as this version's ``detect`` would, for ``classes``
    (once: a stamp already there is kept)."""
    import json

    from tfstudio.train.layout import STITCHING, posteriors_stamp

    stamp = posteriors_stamp(project, run_id)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    if not stamp.exists():
        stamp.write_text(json.dumps({"stitching": STITCHING, "classes": list(classes)}))


def save_posteriors(project, run_id: int, classes, recording, post: np.ndarray) -> None:
    """Save ``post`` as ``detect`` saves a recording's posteriors, stamped."""
    from tfstudio.train.layout import posteriors_file

    stamp_posteriors(project, run_id, classes)
    np.save(posteriors_file(project, run_id, recording), post)
