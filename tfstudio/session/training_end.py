"""How a training child ended, and the run's status repaired when the child could not record it.

The child writes its run's ending to the store itself (done, stopped, or failed and why). When
it was killed, crashed or exited without saying so, the run would stay "running" forever; the
GUI's training job then decides the ending from what it saw (the child's ``done`` event, a stop
it asked for, the exit code) and records it. Qt-free: ``qt/training/process.py`` only calls
:func:`settle_run` when its child has ended.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tfstudio.session.jobs import JobResult
from tfstudio.session.stream import describe_failure
from tfstudio.store import Project, ProjectError, Run
from tfstudio.train.events import DoneEvent, TrainingSummary

__all__ = ["UNFINISHED", "Settled", "ending_message", "find_run", "settle_run"]

# Statuses in which a run is still "in flight" in the store; anything else was set on purpose.
UNFINISHED = ("queued", "running")


@dataclass(frozen=True)
class Settled:
    """The summary of a finished training child (what the job's ``finished`` signal carries),
    the run it made (None when none was found) and a line for the log when the store could
    not be read or written."""

    summary: TrainingSummary
    run_id: int | None
    warning: str = ""


def find_run(project: Project, run_id: int | None, pid: int, started_at: float) -> Run | None:
    """The run a child made: ``run_id`` when its stream named one (or it resumed one), else the
    latest run created by process ``pid`` since ``started_at``."""
    if run_id is not None:
        try:
            return project.run(run_id)
        except ProjectError:
            return None
    if not pid:
        return None
    mine = [r for r in project.runs() if r.pid == pid and r.created_at >= started_at - 1.0]
    return mine[-1] if mine else None


def ending_message(
    status: str,
    detail: str,
    code: int | None,
    crashed: bool,
    forced: bool,
    stderr_tail: str,
    *,
    forced_by_user: bool = False,
) -> str:
    """What the user reads about an ending: why it failed, that it was killed, how to resume."""
    if status == "failed":
        return describe_failure(
            stderr_tail=stderr_tail, exit_code=code, crashed=crashed, message=detail
        )
    if status == "stopped" and forced_by_user:
        return (
            "Stopped at once, as asked (Force stop): the batch it was in is lost; resume it to "
            "continue from its last checkpoint."
        )
    if status == "stopped" and forced:
        return describe_failure(
            stderr_tail=stderr_tail, exit_code=code, crashed=crashed, killed_by_us=True
        )
    if status == "stopped":
        return detail or "Stopped; resume it to continue from its last checkpoint."
    return detail


def settle_run(
    project_root: Path | str,
    result: JobResult,
    *,
    done: DoneEvent | None,
    stop_requested: bool,
    run_id: int | None,
    pid: int,
    started_at: float,
) -> Settled:
    """Decide how a started training child ended and record it on its run when the child
    did not: the child's own record wins, then its ``done`` event, then a requested stop,
    then the exit code (0 without a ``done`` event and with the run left open is a failure)."""
    stderr_tail = "\n".join(result.stderr_tail)
    code, crashed = result.exit_code, result.crashed
    if done is not None and done.status:
        status = done.status
    elif stop_requested:
        # Stopped on request, whether the engine caught SIGTERM or died of it.
        status = "stopped"
    elif code == 0:
        # Exited cleanly without a "done" line: trust the store (read below).
        status = "done"
    else:
        status = "failed"

    detail = done.message if done is not None else ""

    def said(status: str, detail: str) -> str:
        return ending_message(
            status,
            detail,
            code,
            crashed,
            result.forced,
            stderr_tail,
            forced_by_user=result.forced_by_user,
        )

    run: Run | None = None
    found = run_id
    warning = ""
    try:
        # mark_dead=False: the caller knows how its child ended better than "it is gone".
        with Project.open(project_root, mark_dead=False) as project:
            run = find_run(project, run_id, pid, started_at)
            if run is not None:
                found = run.id
            recorded = run is not None and run.status not in UNFINISHED
            if run is not None and recorded:
                # The engine recorded its own ending (done, stopped, or failed and why).
                status, detail = run.status, detail or run.message
            elif status == "done" and done is None:
                # A clean exit that never said "done" and left the run open is no success.
                status = "failed"
            message = said(status, detail)
            if run is not None and not recorded:
                project.update_run(run.id, status=status, message=message, finished_at=time.time())
    except (ProjectError, OSError) as exc:
        run = None
        message = said(status, detail)
        warning = f"could not read or record the run's status: {exc}"
    best_checkpoint = done.best_checkpoint if done is not None else None
    if run is not None and not best_checkpoint:
        best_checkpoint = run.best_checkpoint
    summary = TrainingSummary.after(
        done,
        run=found,
        status=status,
        best_checkpoint=best_checkpoint,
        message=message,
        exit_code=code,
        crashed=crashed,
        forced=result.forced,
        elapsed_s=time.time() - started_at,
    )
    return Settled(summary, found, warning)
