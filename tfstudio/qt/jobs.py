"""The model's jobs as child processes: detection on recordings, evaluation on a split.

Both are CliJobs (:mod:`tfstudio.qt.job`): ``detect --json`` prints a progress line per
finished recording and a summary, which ``progress`` and ``finished`` carry.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from tfstudio.qt.job import CliJob
from tfstudio.session.detection_model import DetectionModel
from tfstudio.session.jobs import JobResult
from tfstudio.store import Project, Recording


class DetectJob(CliJob):
    """``tfstudio detect PROJECT PATH… --run RUN --json`` with per-recording progress; done
    also when recordings whose audio cannot be read were left out (exit 3)."""

    done_with_skips = True

    def __init__(
        self,
        project: Project,
        recordings: list[Recording],
        run_id: int,
        parent: QObject | None = None,
        *,
        threshold: float | None = None,
        device: str = "auto",
        program: list[str] | None = None,
    ):
        # Recordings are named by path: detect imports them first, a no-op for known files.
        args = [str(project.root), *(str(project.absolute_path(r)) for r in recordings)]
        args += ["--run", str(run_id), "--device", device, "--quiet"]
        if threshold is not None:
            args += ["--threshold", f"{threshold:.4f}"]
        super().__init__("detect", args, parent, program=program)
        self.recording_ids = [r.id for r in recordings]
        self.run_id = run_id
        self._total = len(recordings)

    def start(self) -> None:
        super().start()
        # Loading torch and the model takes seconds before the first recording's line.
        self.progress.emit(0, self._total, "starting (loading the model)")


class EvaluateJob(CliJob):
    """``tfstudio evaluate PROJECT --run RUN --split SPLIT --json``."""

    def __init__(
        self,
        project_root: Path,
        run_id: int,
        split: str,
        parent: QObject | None = None,
        *,
        threshold: float | None = None,
        device: str = "auto",
        program: list[str] | None = None,
    ):
        args = [str(project_root), "--run", str(run_id), "--split", split, "--device", device]
        if threshold is not None:
            args += ["--threshold", f"{threshold:.4f}"]
        super().__init__("evaluate", args, parent, program=program)
        self.run_id = run_id
        self.split = split


class Detector(QObject):
    """One detection child at a time for the window, on the workspace's active run.

    When it ends (done or cancelled) the recordings it reached are post-processed again at
    the Review panel's thresholds, so what the sliders say is what the recordings show.
    """

    started = Signal(int)  # number of recordings
    progress = Signal(int, int, str)  # done, total, recording name
    finished = Signal(object)  # JobResult

    def __init__(
        self,
        detections: DetectionModel,
        parent: QObject | None = None,
        *,
        program: list[str] | None = None,
        device: str = "auto",
    ):
        super().__init__(parent)
        self.detections = detections
        self.workspace = detections.workspace
        self.program = program
        self.device = device
        self.job: DetectJob | None = None

    def is_running(self) -> bool:
        return self.job is not None and self.job.is_running()

    def detect(self, recording_ids: list[int]) -> bool:
        """Detect on these recordings with the active run; False (and a message) if not."""
        ws = self.workspace
        if self.is_running():
            ws.report("A detection is already running")
            return False
        if ws.project is None or ws.run_id is None:
            ws.report("Train a model first: there is no run to detect with")
            return False
        wanted = set(recording_ids)
        recordings = [r for r in ws.recordings() if r.id in wanted and r.status == "ok"]
        if not recordings:
            ws.report("No recordings to detect on")
            return False
        # No --threshold: the Review panel's thresholds (global and per class) are stored
        # with the run as they move, and detect reads them there, so the window detects
        # exactly as `tfstudio detect` does. A --threshold would override the per-class ones.
        self.job = DetectJob(
            ws.project,
            recordings,
            ws.run_id,
            self,
            device=self.device,
            program=self.program,
        )
        self.job.progress.connect(self.progress)
        self.job.finished.connect(self._on_job_finished)
        self.job.start()
        self.started.emit(len(recordings))
        return True

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def shutdown(self) -> None:
        if self.job is not None:
            self.job.shutdown()

    def _on_job_finished(self, outcome: JobResult) -> None:
        job = self.job
        self.workspace.refresh()
        self.detections.reload()
        if (
            job is not None
            and outcome.status in ("done", "cancelled")
            and job.run_id == self.workspace.run_id
        ):
            self.detections.apply(job.recording_ids)
        self.finished.emit(outcome)
