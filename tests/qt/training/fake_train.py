"""A stand-in for ``tfstudio train PROJECT … --json`` that speaks the engine's protocol in
milliseconds and can misbehave on request (NaN loss, crash, ignore SIGTERM, garbage output).

Run as ``python fake_train.py train PROJECT [options] --json``. It writes the run and its
metrics to the store the way the engine does, so the GUI's store-side logic is exercised too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tfstudio.store import Project

stop_requested = False


def _on_sigterm(signum, frame):
    global stop_requested
    stop_requested = True


def emit(obj: dict) -> None:
    print(json.dumps(obj), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("project")
    parser.add_argument("--preset", default="fast")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--schedule", default="drossos")
    parser.add_argument("--gamma", type=float)
    parser.add_argument("--p-min", type=float, default=0.05)
    parser.add_argument("--p-max", type=float, default=0.9)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--task", default="multi-label")
    parser.add_argument("--resume", type=int)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--max-batches", type=int)
    # Fake-only knobs.
    parser.add_argument("--batches", type=int, default=5, help="batches per epoch")
    parser.add_argument("--delay", type=float, default=0.01, help="seconds per batch")
    parser.add_argument("--nan-at", type=int, help="iteration whose loss is NaN")
    parser.add_argument("--crash-at", type=int, help="iteration at which to die hard")
    parser.add_argument("--ignore-term", action="store_true", help="ignore SIGTERM")
    parser.add_argument("--noise", action="store_true", help="print non-JSON lines too")
    parser.add_argument("--no-start", action="store_true", help="send no start event")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, signal.SIG_IGN if args.ignore_term else _on_sigterm)
    project = Project.open(args.project)
    config = {
        "preset": args.preset,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "schedule": args.schedule,
        "gamma": args.gamma,
        "p_min": args.p_min,
        "p_max": args.p_max,
        "device": args.device,
        "task": args.task,
    }
    first_epoch, iteration = 1, 0
    if args.resume is not None:
        run = project.run(args.resume)
        config = run.config_dict
        done_batches = project.metrics(run.id, "batch")
        # A run the store keeps only epochs of (made by a test) goes on after its last one.
        done_epochs = max((r["epoch"] for r in project.metrics(run.id, "epoch")), default=0)
        iteration = max((r["iteration"] for r in done_batches), default=-1) + 1
        if not done_batches:
            iteration = done_epochs * args.batches
        first_epoch = iteration // args.batches + 1
    else:
        run = project.create_run(config)
    project.update_run(
        run.id, status="running", device="cpu", started_at=time.time(), pid=os.getpid()
    )
    n_b = args.batches
    if not args.no_start:
        emit(
            {
                "event": "start",
                "run": run.id,
                "device": "cpu",
                "batches_per_epoch": n_b,
                "epochs": args.epochs,
                "config": config,
                "resumed": args.resume is not None,
                "epoch": first_epoch - 1,
                "iteration": iteration,
                "future_key": [1, 2],
            }
        )
    if args.noise:
        print("a plain log line", flush=True)
        sys.stdout.write('{"event": "batch", "partial')
        sys.stdout.flush()
        time.sleep(0.05)
        sys.stdout.write('": 1}\n{not json}\n')
        sys.stdout.flush()
        print(json.dumps({"event": "mystery", "x": 1}), flush=True)
        print("a warning on stderr", file=sys.stderr, flush=True)
    gamma = args.gamma or 0.125
    status, message = "done", ""
    for epoch in range(first_epoch, args.epochs + 1):
        losses = []
        for b in range(n_b):
            if stop_requested:
                break
            if args.crash_at is not None and iteration == args.crash_at:
                print("Traceback (most recent call last):", file=sys.stderr)
                print("RuntimeError: CUDA out of memory. Tried to allocate 2 GiB", file=sys.stderr)
                sys.stderr.flush()
                os._exit(1)
            time.sleep(args.delay)
            p = 1 - min(1 - args.p_min, 2 / (1 + math.exp(-gamma * iteration / n_b)) - 1)
            p = min(args.p_max, p)
            loss = 0.7 * math.exp(-iteration / 20) + 0.05
            if args.nan_at is not None and iteration >= args.nan_at:
                loss = float("nan")
            project.add_metrics(
                run.id,
                [
                    {
                        "kind": "batch",
                        "epoch": epoch,
                        "iteration": iteration,
                        "tf_prob": p,
                        "loss": loss,
                    }
                ],
            )
            emit(
                {
                    "event": "batch",
                    "epoch": epoch,
                    "iteration": iteration,
                    "tf_prob": p,
                    "loss": None if math.isnan(loss) else loss,
                    "batch": b,
                    "batches_per_epoch": n_b,
                }
            )
            if math.isnan(loss):
                status, message = "failed", f"loss is NaN at iteration {iteration}"
                break
            losses.append(loss)
            iteration += 1
        if status == "failed" or (stop_requested and len(losses) < n_b):
            break
        val = sum(losses) / len(losses) + 0.02
        f1 = min(0.95, 0.3 + 0.2 * epoch)
        row = {"kind": "epoch", "epoch": epoch, "iteration": iteration, "tf_prob": p}
        row.update(loss=sum(losses) / len(losses), val_loss=val, f1=f1, er=1 - f1)
        project.add_metrics(run.id, [row])
        emit(
            {
                "event": "epoch",
                "epoch": epoch,
                "train_loss": row["loss"],
                "val_loss": val,
                "f1": f1,
                "er": 1 - f1,
                "tf_prob": p,
                "iteration": iteration,
            }
        )
        if stop_requested:
            break
    if stop_requested and status != "failed":
        status, message = "stopped", "stopped on request"
    best = str(project.runs_dir / f"run{run.id}-best.pt")
    # A file there, as the engine leaves one: the run can be trained further.
    Path(best).parent.mkdir(parents=True, exist_ok=True)
    Path(best).write_bytes(b"fake checkpoint")
    project.update_run(
        run.id,
        status=status,
        message=message,
        best_checkpoint=best,
        last_checkpoint=best,
        finished_at=time.time(),
    )
    emit(
        {
            "event": "done",
            "run": run.id,
            "status": status,
            "best_checkpoint": best,
            "message": message,
        }
    )
    return 1 if status == "failed" else 0


if __name__ == "__main__":
    raise SystemExit(main())
