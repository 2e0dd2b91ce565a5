"""train, detect and evaluate.

torch is imported inside the handlers, so ``tfstudio --help`` and the other commands stay quick.

Exit codes of ``train``: 0 when the run finished or was stopped on request (SIGINT/SIGTERM:
the current batch is finished, the last checkpoint saved, the run marked ``stopped`` and
resumable; the final ``done`` event carries the status), 1 when the run failed (diverged
loss, unreadable audio, out of memory...), 2 for a usage error before any run was made.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from tfstudio.cli.common import (
    EXIT_SKIPPED,
    UserError,
    add_recording_option,
    chosen_recordings,
    emit_json,
    err,
    json_errors,
    open_project,
    progress,
)
from tfstudio.cli.compute import prepare_compute_process
from tfstudio.model.schedules import SCHEDULE_NAMES
from tfstudio.store import SPLITS as STORE_SPLITS
from tfstudio.store import Project, ProjectError, Recording, shown_names
from tfstudio.train.config import DEVICES, SAMPLERS, TASKS, TRAIN_PRESETS
from tfstudio.train.events import (
    BatchEvent,
    DoneEvent,
    EpochEvent,
    PrepareEvent,
    StartEvent,
    TrainEvent,
)

# The choices come from the torch-free configuration modules, so building the parser stays
# quick and there is one list of each.
SCHEDULES = SCHEDULE_NAMES
PRESETS = tuple(TRAIN_PRESETS)
SPLITS = ("test", "val")

EXIT_FAILED = 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's commands to the parser."""
    p = sub.add_parser(
        "train",
        help="train a model on the project's labels",
        description="Train the teacher-forced CRNN on the train split, early-stopping on the "
        "val split. Ctrl-C or SIGTERM stops after the current batch and keeps the run "
        "resumable (--resume RUN). Under 'torchrun --nproc_per_node=N -m tfstudio train' it "
        "trains with DistributedDataParallel.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--preset", choices=PRESETS, help="'paper' (Drossos et al.) or 'fast' (default)")
    p.add_argument("--epochs", type=int, metavar="N", help="maximum number of epochs")
    p.add_argument("--batch-size", type=int, metavar="B", help="sequences per batch (default 8)")
    p.add_argument("--lr", type=float, metavar="LR", help="Adam learning rate")
    p.add_argument(
        "--schedule", choices=SCHEDULES, help="teacher-forcing schedule (default drossos)"
    )
    p.add_argument(
        "--gamma",
        type=float,
        metavar="G",
        help="slope of the drossos schedule per epoch (fast preset 1.0, paper 0.125)",
    )
    p.add_argument("--p-min", type=float, metavar="P", help="lowest teacher-forcing probability")
    p.add_argument("--p-max", type=float, metavar="P", help="highest teacher-forcing probability")
    p.add_argument(
        "--device", choices=DEVICES, help="where to train (default auto: cuda › mps › cpu)"
    )
    p.add_argument(
        "--resume",
        type=int,
        metavar="RUN",
        help="continue a stopped or killed run, or train a finished one further (give more "
        "--epochs in all than it trained; one that early stopping ended also goes on up to "
        "its own epochs given a larger --patience)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line on stdout")
    task = p.add_argument_group("task")
    task.add_argument(
        "--task",
        choices=TASKS,
        help="multi-label (default: any number of classes at a time, sigmoid outputs) or "
        "single-label (exactly one class per frame, with a background class; softmax output; "
        "overlapping labels are listed and refused; no event mixing or threshold tuning)",
    )
    task.add_argument(
        "--sampled-softmax",
        type=int,
        metavar="K",
        help="single-label: train with a sampled softmax of K candidate classes per batch "
        "(validation, detection and export use the full softmax, same weights); worth it "
        "from a few thousand classes on. 0: the full softmax (default)",
    )
    task.add_argument(
        "--sampler",
        choices=SAMPLERS,
        help="how the sampled softmax draws its candidates: log-uniform (Zipf over the "
        "classes ranked by how often they occur in training, default) or frequency (in "
        "proportion to those counts)",
    )
    extra = p.add_argument_group("more options")
    extra.add_argument("--seq-len", type=int, metavar="FRAMES", help="frames per training sequence")
    extra.add_argument(
        "--patience", type=int, metavar="N", help="epochs without improvement before stopping"
    )
    extra.add_argument(
        "--unit", choices=("batch", "step"), help="what advances the schedule (default batch)"
    )
    extra.add_argument(
        "--decay-epochs",
        type=float,
        metavar="E",
        help="epochs over which linear/exponential/inverse-sigmoid decay",
    )
    extra.add_argument("--seed", type=int, metavar="K", help="random seed (default 0)")
    extra.add_argument("--workers", type=int, metavar="N", help="data loader processes (default 0)")
    extra.add_argument("--max-batches", type=int, metavar="N", help="cap on batches per epoch")
    extra.add_argument(
        "--no-amp",
        action="store_true",
        help="float32 throughout (default: the CNN in bf16 or fp16 on CUDA, and in bf16 on "
        "CPUs with native bf16)",
    )
    extra.add_argument(
        "--checkpoint-every",
        type=float,
        metavar="S",
        help="seconds between mid-epoch checkpoints (default 300)",
    )
    extra.add_argument(
        "--channels", type=int, metavar="C", help="CNN channels (overrides the preset)"
    )
    extra.add_argument(
        "--gru-hidden", type=int, metavar="H", help="GRU size (overrides the preset)"
    )
    extra.add_argument(
        "--init-cnn",
        metavar="FILE",
        help="start the CNN from a pretrained front-end file (made for the same CNN sizes, "
        "features and background subtraction; benchmarks/frontend.py makes them)",
    )
    extra.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="any training option by its run-config name, e.g. --set mix_probability=0 "
        "--set balance_classes=false, or one field of the features or the model, e.g. --set "
        "features.sample_rate=384000 (VALUE is read as JSON when it parses, else as text); "
        "repeatable",
    )
    extra.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "detect",
        help="detect events with a trained run",
        description="Detect events with a run's model (the latest finished run unless --run) "
        "and store them as model detections. PATHs are imported first (unlabelled, no split) "
        "and detected on; --recording, --split and --unlabelled choose among the project's "
        "recordings; without any of them, the test split is detected on.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument(
        "paths", nargs="*", metavar="PATH", help="audio files or folders to import and detect on"
    )
    p.add_argument("--run", type=int, metavar="RUN", help="run to use (default: latest finished)")
    p.add_argument(
        "--threshold", type=float, metavar="X", help="posterior threshold (default: the run's, 0.5)"
    )
    _postprocess_options(p)
    p.add_argument(
        "--split",
        choices=(*STORE_SPLITS, "none"),
        help="the project's recordings of this split ('none': those in no split, as imported "
        "recordings are)",
    )
    p.add_argument(
        "--unlabelled",
        action="store_true",
        help="the project's recordings without labels (of --split, if given), as the app's "
        "Model > Detect on unlabelled recordings",
    )
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument(
        "--json",
        action="store_true",
        help='one JSON line per recording as it starts ({"event": "progress", ...}), then a summary',
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="run the model on every recording again, even where this run's model has "
        "already saved its posteriors (an interrupted detect goes on where it stopped "
        "without it)",
    )
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser(
        "evaluate",
        help="score a run on the test (or val) split",
        description="Segment-based (1 s) F1 and error rate, and event-based F1 (200 ms collar, "
        "20% of length), overall and per class, as sed_eval defines them; for a single-label "
        "run also the frame accuracy and macro F1.",
    )
    p.add_argument("project", metavar="PROJECT")
    p.add_argument("--run", type=int, metavar="RUN", help="run to score (default: latest finished)")
    p.add_argument("--split", choices=SPLITS, default="test")
    p.add_argument(
        "--threshold", type=float, metavar="X", help="posterior threshold (default: the run's)"
    )
    _postprocess_options(p)
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evaluate)


def train_options() -> list[dict[str, Any]]:
    """The ``train`` command's options, read from its parser: one JSON-able dict per option
    (``names``, ``choices``, ``default``, ``takes_value``, ``metavar``, ``help``).

    This is how anything outside the command line (``tfstudio doctor``, the app) learns what
    ``train`` accepts, so that none of them reads argparse's internals itself.
    """
    sub = argparse.ArgumentParser(prog="tfstudio").add_subparsers()
    register(sub)
    options = []
    for action in sub.choices["train"]._actions:
        if not action.option_strings or "--help" in action.option_strings:
            continue
        default = action.default
        if not isinstance(default, int | float | str | bool | type(None)):
            default = None  # [] for the repeatable ones: nothing given
        options.append(
            {
                "names": list(action.option_strings),
                "choices": list(action.choices) if action.choices else None,
                "default": default,
                "takes_value": action.nargs != 0,
                "metavar": action.metavar if isinstance(action.metavar, str) else None,
                "help": action.help or "",
            }
        )
    return options


def _postprocess_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--class-threshold",
        action="append",
        default=[],
        metavar="NAME=X",
        help="threshold of one class (repeatable); on top of --threshold and the run's own",
    )
    add_recording_option(p)


def _class_thresholds(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, text = item.rpartition("=")
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not sep or not name or not 0 <= value <= 1:
            raise UserError(f"--class-threshold {item!r}: expected NAME=X with X between 0 and 1")
        out[name] = value
    return out


# ------------------------------------------------------------------------- train
_OPTION_FIELDS = {
    "task": "task",
    "sampled_softmax": "sampled_softmax",
    "sampler": "sampler",
    "epochs": "epochs",
    "batch_size": "batch_size",
    "lr": "lr",
    "schedule": "schedule",
    "gamma": "gamma",
    "p_min": "p_min",
    "p_max": "p_max",
    "device": "device",
    "seq_len": "seq_len",
    "patience": "patience",
    "unit": "unit",
    "decay_epochs": "decay_epochs",
    "seed": "seed",
    "workers": "num_workers",
    "max_batches": "max_batches_per_epoch",
    "checkpoint_every": "checkpoint_every_s",
    "init_cnn": "init_cnn",
}


# Run-config options that are mappings: --set GROUP.FIELD=VALUE sets one field of them.
_GROUPED_OPTIONS = ("features", "model")


def _given_options(args: argparse.Namespace) -> dict[str, Any]:
    options = {
        field: getattr(args, name)
        for name, field in _OPTION_FIELDS.items()
        if getattr(args, name) is not None
    }
    if args.no_amp:
        options["amp"] = False
    model = {
        k: getattr(args, k) for k in ("channels", "gru_hidden") if getattr(args, k) is not None
    }
    if model:
        options["model"] = model
    for item in args.set:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise UserError(f"--set {item!r}: expected FIELD=VALUE")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        group, dot, field = name.partition(".")
        if dot and group in _GROUPED_OPTIONS:
            if not field:
                raise UserError(f"--set {item!r}: expected {group}.FIELD=VALUE")
            name, value = group, {field: value}
        if name in _GROUPED_OPTIONS and isinstance(value, dict):
            current = options.get(name)
            value = {**(current if isinstance(current, dict) else {}), **value}
        options[name] = value
    if args.resume is None and isinstance(options.get("features"), dict):
        # Feature fields given add to the preset's, as model fields do (TrainConfig merges
        # those): --set features.sample_rate=384000 keeps the preset's bands and hop.
        preset = TRAIN_PRESETS.get(args.preset or "fast", {})
        options["features"] = {**preset.get("features", {}), **options["features"]}
    if isinstance(options.get("init_cnn"), str) and options["init_cnn"]:
        # Stored absolute: the run's config must name the same file from any folder.
        options["init_cnn"] = str(Path(options["init_cnn"]).expanduser().absolute())
    return options


class _StopOnSignal:
    """SIGINT/SIGTERM ask for a graceful stop; a second SIGINT interrupts at once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> threading.Event:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self.event

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.event.set()

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _fmt(value: float | None, spec: str = ".4f") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return format(value, spec)


def _print_start(event: StartEvent) -> None:
    cfg = event.config
    verb = (
        f"resuming run {event.run} at epoch {event.epoch + 1}"
        if event.resumed
        else f"run {event.run}"
    )
    amp = f", {event.amp} autocast" if event.amp else ""
    world = f" × {event.world_size} processes" if event.world_size > 1 else ""
    task = ""
    if cfg.get("task") == "single-label":
        sampled = cfg.get("sampled_softmax") or 0
        head = f"sampled softmax of {sampled} ({cfg.get('sampler')})" if sampled else "softmax"
        task = f", single-label ({head})"
    print(
        f"{verb} on {event.device}{world}{amp}: {event.train_recordings} train / "
        f"{event.val_recordings} val recordings, {event.batches_per_epoch} batches per epoch, "
        f"up to {event.epochs} epochs, preset {cfg['preset']}, schedule {cfg['schedule']}"
        f"{task}, {event.parameters:,} parameters",
        flush=True,
    )
    if event.val_within:
        print(
            f"no val split: the last {event.val_within:.0%} of each training recording "
            "validates (Set split ▸ Validation, or 'tfstudio split', gives val recordings of "
            "its own)",
            flush=True,
        )
    frame = f"  {'acc':>6}  {'mF1':>6}" if cfg.get("task") == "single-label" else ""
    print(
        f"{'epoch':>5}  {'train loss':>10}  {'val loss':>10}  {'F1':>6}  {'ER':>6}{frame}  "
        f"{'p_tf':>5}  {'time':>7}",
        flush=True,
    )


def _print_epoch(event: EpochEvent) -> None:
    frame = ""
    if event.accuracy is not None or event.macro_f1 is not None:
        frame = f"  {_fmt(event.accuracy, '.3f'):>6}  {_fmt(event.macro_f1, '.3f'):>6}"
    print(
        f"{event.epoch:>5}  {_fmt(event.train_loss):>10}  {_fmt(event.val_loss):>10}  "
        f"{_fmt(event.f1, '.3f'):>6}  {_fmt(event.er, '.3f'):>6}{frame}  "
        f"{_fmt(event.tf_prob, '.3f'):>5}  {event.seconds:>6.1f}s" + ("  *" if event.best else ""),
        flush=True,
    )


def _consume(
    events: Iterator[TrainEvent], *, as_json: bool, quiet: bool, main: bool
) -> DoneEvent | None:
    """Print the events (JSON lines or bar + table); return the final DoneEvent."""
    done = None
    bar = None
    for event in events:
        if isinstance(event, DoneEvent):
            done = event
        if not main:
            continue
        if isinstance(event, StartEvent):
            # Recordings whose audio could not be read: the run goes on without them.
            for line in event.left_out:
                err(f"skipped {line}")
        if as_json:
            emit_json(event.to_dict())
            continue
        if isinstance(event, PrepareEvent):
            err(f"computing features {event.done + 1}/{event.total}: {event.name}")
        elif isinstance(event, StartEvent):
            _print_start(event)
        elif isinstance(event, BatchEvent):
            if bar is None:
                bar = progress(
                    event.batches_per_epoch, f"epoch {event.epoch}", quiet=quiet, unit="batch"
                )
                bar.n = event.batch - 1
            bar.update(1)
            bar.set_postfix(loss=f"{event.loss:.4f}", p_tf=f"{event.tf_prob:.3f}", refresh=False)
        elif isinstance(event, EpochEvent):
            if bar is not None:
                bar.close()
                bar = None
            _print_epoch(event)
    if bar is not None:
        bar.close()
    return done


# Training recordings at this many times the features' rate or more (a bat detector's
# 384 kHz under the 22.05 kHz default; 96 kHz ones too) hold far more than the features keep.
_FAR_ABOVE_FEATURES = 4


def _say_if_above_features(project: Project, config: Any) -> None:
    """The features keep 0 to half their sample rate (or fmax): ultrasound recorded at
    384 kHz and labelled at 40–80 kHz is resampled away before the model sees it, and the
    run learns nothing of it. Allowed (a 96 kHz recording of birds under 11 kHz is fine),
    and said, with the option that keeps it."""
    features = config.feature_config
    top = features.sample_rate / 2 if features.fmax is None else features.fmax
    recordings = {
        r.id: r for r in project.recordings() if r.split in ("train", "val") and r.status == "ok"
    }
    if not recordings:
        return
    above = project.count_labels_above(top, ("train", "val"))
    rates = sorted(r.sample_rate for r in recordings.values())
    far = [rate for rate in rates if rate >= _FAR_ABOVE_FEATURES * features.sample_rate]
    if not above and len(far) * 2 < len(rates):
        return
    highest = rates[-1]
    what = []
    if far:
        what.append(f"{len(far)} of the {len(rates)} training recordings are at {_rates_text(far)}")
    if above:
        what.append(f"{above} label(s) lie wholly above {top:g} Hz")
    err(
        f"note: the features keep 0–{top:g} Hz (features.sample_rate {features.sample_rate}), "
        f"but {' and '.join(what)}: the model hears nothing above {top:g} Hz; to train on "
        f"it, add --set features.sample_rate={highest}"
    )


def _rates_text(rates: list[int]) -> str:
    low, high = min(rates), max(rates)
    return f"{low} Hz" if low == high else f"{low}–{high} Hz"


def cmd_train(args: argparse.Namespace) -> int:
    prepare_compute_process()
    from tfstudio.train import TrainConfig, TrainError, train
    from tfstudio.train.distributed import distributed_rank

    options = _given_options(args)
    if args.gamma is not None and args.schedule not in (None, "drossos"):
        raise UserError(f"--gamma applies only to the drossos schedule, not {args.schedule}")
    main = distributed_rank() == 0
    with open_project(args.project) as project:
        try:
            config = None
            if args.resume is None:
                config = TrainConfig.from_preset(args.preset or "fast", **options)
            elif args.preset is not None:
                raise UserError("--preset cannot change a resumed run")
            if config is not None and main:
                _say_if_above_features(project, config)
            with _StopOnSignal() as stop:
                if config is not None:
                    events = train(project, config, stop=stop)
                else:
                    events = train(project, resume=args.resume, overrides=options, stop=stop)
                done = _consume(events, as_json=args.json, quiet=args.quiet, main=main)
        except TrainError as exc:
            raise UserError(str(exc)) from None
    if done is None:  # pragma: no cover - the generator always ends with a DoneEvent
        return EXIT_FAILED
    if main and not args.json:
        line = f"run {done.run} {done.status}: {done.message}"
        if done.best_checkpoint:
            line += f"\nbest checkpoint (epoch {done.best_epoch}): {done.best_checkpoint}"
        if done.status == "failed":
            err(f"error: {line}")
        else:
            print(line)
    return EXIT_FAILED if done.status == "failed" else 0


# ------------------------------------------------------------------------ detect
def _bar_callback(bar: Any, shown: Mapping[int, str]) -> Callable[[int, int, Any], None]:
    def step(done: int, total: int, rec: Any) -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(shown.get(rec.id, rec.name), refresh=True)

    return step


def _json_progress(shown: Mapping[int, str]) -> Callable[[int, int, Any], None]:
    """``detect --json``: one line per finished recording, before the summary line, naming it
    as the app does (with its folders where several recordings share its file name)."""

    def step(done: int, total: int, rec: Any) -> None:
        name = shown.get(rec.id, rec.name)
        emit_json({"event": "progress", "done": done, "total": total, "recording": name})

    return step


def _chosen_in_project(
    project: Project,
    split: str | None,
    unlabelled: bool,
    gone: Mapping[int, str] = {},
    skipped: list[str] | None = None,
) -> list[Recording]:
    """The project's recordings of ``split`` ("none": in no split) and, with ``unlabelled``,
    without labels; those whose audio is missing (or in ``gone``, as found just now) are left
    out, and said so on stderr."""
    recordings = project.recordings()
    if split is not None:
        recordings = [r for r in recordings if r.split == (None if split == "none" else split)]
    if unlabelled:
        labelled = project.label_totals([r.id for r in recordings])
        recordings = [r for r in recordings if r.id not in labelled]
    what = "unlabelled recordings" if unlabelled else "recordings"
    if split is not None:
        what += " in no split" if split == "none" else f" in the {split} split"
    usable = [r for r in recordings if r.status == "ok" and r.id not in gone]
    if skipped is not None:
        shown = shown_names(recordings)
        skipped.extend(shown[r.id] for r in recordings if r not in usable)
    if len(usable) < len(recordings):
        print(
            f"{len(recordings) - len(usable)} of the {len(recordings)} {what} left out: their "
            "audio is missing or changed ('tfstudio relink' finds moved files)",
            file=sys.stderr,
        )
    if not usable:
        raise UserError(f"no {what} to detect on")
    return usable


@json_errors
def cmd_detect(args: argparse.Namespace) -> int:
    prepare_compute_process()
    from tfstudio.audio import content_hash
    from tfstudio.train import TrainError, detect_recordings
    from tfstudio.train.detect import torchrun_ranks
    from tfstudio.train.layout import select_run

    class_thresholds = _class_thresholds(args.class_threshold)
    if args.threshold is not None and not 0 <= args.threshold <= 1:
        raise UserError("--threshold must be between 0 and 1")
    # Under torchrun every rank takes its share of the recordings (i % N == rank); rank 0
    # alone imports PATHs, shows progress and prints the result.
    with torchrun_ranks() as ranks, open_project(args.project) as project:
        chosen = [
            name
            for name, given in (
                ("audio PATHs", bool(args.paths)),
                ("--recording", bool(args.recording)),
                ("--split or --unlabelled", args.split is not None or args.unlabelled),
            )
            if given
        ]
        if len(chosen) > 1:
            raise UserError(f"give only one of {' and '.join(chosen)}")
        skipped: list[str] = []  # PATHs not imported (each said on stderr): exit 3
        # The run first: without one, say so before complaining about recordings, and never
        # import PATHs into a project that cannot detect on them yet.
        try:
            run = select_run(project, args.run)
        except TrainError as exc:
            raise UserError(str(exc)) from None
        if ranks.main:
            _say_if_training(run)
        # Statuses as the files are now (a stat each), so a recording whose audio went
        # missing since the project last looked is left out and said, not a traceback.
        gone = {
            rec.id: why
            for rec, why in project.check_files(
                record=ranks.main and not project.read_only, digest=content_hash
            )
        }
        if args.split is not None or args.unlabelled:
            recordings = _chosen_in_project(project, args.split, args.unlabelled, gone, skipped)
        elif args.recording:
            recordings = chosen_recordings(project, args.recording)
            for rec in recordings:
                if rec.id in gone:
                    shown = shown_names(project.recordings())[rec.id]
                    raise UserError(
                        f"--recording {shown}: {gone[rec.id]} ('tfstudio relink' finds moved files)"
                    )
        elif args.paths:
            ids = (
                _import_to_detect(project, args.paths, ranks.active, skipped)
                if ranks.main
                else None
            )
            ids = ranks.broadcast(ids)
            if isinstance(ids, str):
                raise UserError(ids)
            recordings = [project.recording(i) for i in ids]
        else:
            if not project.recordings("test"):
                raise UserError("no recordings in the test split; give audio PATHs to detect on")
            recordings = _chosen_in_project(project, "test", False, gone, skipped)
        if ranks.main:
            _say_if_narrower(run, recordings)
        quiet = args.quiet or args.json or not ranks.main
        bar = progress(len(ranks.share(recordings)), "detecting", quiet=quiet, unit="rec")
        step = None
        if ranks.main:
            names = shown_names(project.recordings())
            step = _json_progress(names) if args.json else _bar_callback(bar, names)
        try:
            result = detect_recordings(
                project,
                recordings,
                run_id=run.id,
                threshold=args.threshold,
                class_thresholds=class_thresholds,
                device=args.device,
                reuse_posteriors=not args.fresh,
                progress=step,
                ranks=ranks,
            )
        except TrainError as exc:
            raise UserError(str(exc)) from None
        finally:
            bar.close()
    if not ranks.main:
        return 0
    # Recordings whose audio turned out unreadable: the others were detected on.
    for line in result.left_out:
        err(f"skipped {line}")
    skipped.extend(result.left_out)
    code = EXIT_SKIPPED if skipped else 0
    if args.json:
        emit_json({"event": "summary", **result.to_dict(), "skipped": skipped})
        return code
    for name, count in result.per_recording.items():
        print(f"{name}: {count} event(s)")
    if result.reused:
        print(
            f"{result.reused} recording(s) reused the posteriors this model saved before "
            "(--fresh runs the model again)"
        )
    shared = f"{result.ranks} processes" if result.ranks > 1 else ""
    # Under a second of audio, the time is the model's start, not a speed worth a number.
    speed = f"{_significant(result.speed)}× real time" if result.audio_s >= 1 else ""
    aside = ", ".join(part for part in (speed, shared) if part)
    print(
        f"run {result.run}: {result.events} event(s) on {result.recordings} recording(s), "
        f"{_significant(result.audio_s)} s of audio in {result.elapsed_s:.1f} s"
        + (f" ({aside})" if aside else "")
    )
    return code


def _significant(value: float) -> str:
    """Whole from 10 on, else two significant digits: 3600, 2.5, 0.01 (a 10 ms file was
    "0 s of audio")."""
    return f"{value:.0f}" if value >= 10 else f"{value:.2g}"


def _say_if_narrower(run: Any, recordings: list[Recording]) -> None:
    """Recordings of a lower sample rate than the run's features are upsampled: above their
    Nyquist frequency they hold nothing the model was trained to hear. Allowed, and said."""
    try:
        rate = int(run.config_dict.get("features", {}).get("sample_rate") or 0)
    except (ValueError, TypeError, AttributeError):
        return
    narrow = [r for r in recordings if rate and r.sample_rate < rate]
    if narrow:
        shown = shown_names(recordings)
        names = ", ".join(f"{shown[r.id]} ({r.sample_rate} Hz)" for r in narrow[:3])
        more = f" and {len(narrow) - 3} more" if len(narrow) > 3 else ""
        err(
            f"note: {len(narrow)} recording(s) have a lower sample rate than run {run.id} was "
            f"trained at ({rate} Hz): {names}{more}; they are upsampled and hold nothing above "
            "half their rate, so sounds the model knows up there are not found in them"
        )


def _say_if_training(run: Any) -> None:
    """A run still training has a best checkpoint of some epoch and no tuned thresholds yet:
    detecting or scoring with it is allowed (to look at it while it learns), and said."""
    if run.status == "running":
        err(
            f"note: run {run.id} is still training: its best checkpoint so far is used, with "
            "the thresholds it started with (tuning comes at its end)"
        )


def _import_to_detect(
    project: Any, paths: list[str], ranked: bool, skipped: list[str]
) -> list[int] | str:
    """Import PATHs (unlabelled, no split): their recording ids, or why there are none; what
    was skipped is said on stderr and added to ``skipped``."""
    from tfstudio.importer import import_audio

    try:
        report = import_audio(project, paths, split=None)
    except Exception as exc:
        if not ranked:
            raise
        # The other ranks wait for rank 0's answer: give them the reason instead of a hang.
        return f"cannot import {', '.join(paths)}: {exc}"
    for line in report.skipped:
        err(f"skipped {line}")
    skipped.extend(str(line) for line in report.skipped)
    ids = list(dict.fromkeys(report.recording_ids))
    return ids or "no audio to detect on among the given paths"


# ---------------------------------------------------------------------- evaluate
@json_errors
def cmd_evaluate(args: argparse.Namespace) -> int:
    prepare_compute_process()
    from tfstudio.train import TrainError, evaluate_run

    class_thresholds = _class_thresholds(args.class_threshold)
    with open_project(args.project) as project:
        recordings = chosen_recordings(project, args.recording) if args.recording else None
        if args.run is not None:
            with contextlib.suppress(ProjectError):
                _say_if_training(project.run(args.run))
        try:
            result = evaluate_run(
                project,
                args.run,
                args.split,
                device=args.device,
                threshold=args.threshold,
                class_thresholds=class_thresholds,
                recording_ids=[r.id for r in recordings] if recordings else None,
            )
        except TrainError as exc:
            raise UserError(str(exc)) from None
    left_out = result.get("left_out") or []
    if left_out:
        err(
            f"{len(left_out)} recording(s) of the {result['split']} split left out: their audio "
            f"is missing or changed ({', '.join(left_out[:3])}{' …' if len(left_out) > 3 else ''}"
            "; 'tfstudio relink' finds moved files)"
        )
    if result.get("note"):
        err(result["note"])
    if args.json:
        emit_json(result)
        return EXIT_SKIPPED if left_out else 0
    per_class = set(result.get("class_thresholds", {}).values())
    shown = (
        f"threshold {result['threshold']:g}"
        if len(per_class) <= 1
        else "per-class thresholds tuned on val"
    )
    print(
        f"run {result['run']} on the {result['split']} split ({result['recordings']} recordings, "
        f"{shown})"
    )
    print(
        f"segment F1 {_fmt(result['segment_f1'], '.3f')}  ER {_fmt(result['segment_er'], '.3f')}   "
        f"event F1 {_fmt(result['event_f1'], '.3f')}"
    )
    if result.get("task") == "single-label":
        print(
            f"frame accuracy {_fmt(result['frame_accuracy'], '.3f')}  "
            f"macro F1 {_fmt(result['macro_f1'], '.3f')} (frames, classes in play)"
        )
    thresholds = result.get("class_thresholds", {})
    hysteresis = result.get("class_hysteresis", {})
    # The lower threshold an event may run on at (threshold × hysteresis), where there is one.
    lower = any(value < 1 for value in hysteresis.values())
    print(
        f"{'class':<20} {'seg F1':>7} {'seg ER':>7} {'event F1':>8} {'ref':>5} {'det':>5} {'thr':>5}"
        + (f" {'low':>5}" if lower else "")
    )
    for name, scores in result["per_class"].items():
        threshold = thresholds.get(name)
        ratio = hysteresis.get(name, 1.0)
        low = threshold * ratio if threshold is not None and ratio < 1 else None
        print(
            f"{name:<20} {_fmt(scores['segment_f1'], '.3f'):>7} {_fmt(scores['segment_er'], '.3f'):>7} "
            f"{_fmt(scores['event_f1'], '.3f'):>8} {scores['reference_events']:>5} "
            f"{scores['detected_events']:>5} {_fmt(threshold, '.2f'):>5}"
            + (f" {_fmt(low, '.2f'):>5}" if lower else "")
        )
    return EXIT_SKIPPED if left_out else 0
