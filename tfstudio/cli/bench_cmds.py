"""``tfstudio bench …``: benchmarks that build what they measure and print numbers.

``bench`` is a group: each subject is a subcommand (``bench store``, ``train``, ``detect``,
``spectrogram``, ``startup``, ``softmax``), registered from :data:`SUBJECTS`.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tfstudio.cli.common import UserError, emit_json, err
from tfstudio.cli.compute import prepare_compute_process
from tfstudio.train.config import DEVICES, TRAIN_PRESETS

Register = Callable[[argparse._SubParsersAction], None]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure how fast tfstudio is on generated material",
        description="Benchmarks that build what they measure and print timings.",
    )
    subjects = p.add_subparsers(dest="subject", title="subjects", required=True)
    for register_subject in SUBJECTS:
        register_subject(subjects)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _register_store(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "store",
        help="import, open, query and export a generated project of a given size",
        description="Build a project of N recordings (tiny generated WAVs), M events and K "
        "classes, import the labels as 'tfstudio import --labels' does, and print import, "
        "open, query, edit/undo and export times and peak RSS.",
    )
    p.add_argument("--recordings", type=_positive, default=1_000, metavar="N")
    p.add_argument("--events", type=_positive, default=100_000, metavar="M")
    p.add_argument("--classes", type=_positive, default=30, metavar="K")
    p.add_argument(
        "--events-per-file",
        type=_positive,
        default=100_000,
        metavar="E",
        help="events per generated DCASE label file (default 100000)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--folder",
        metavar="DIR",
        help="build the project in DIR (new or empty) and keep it; default: a temporary folder",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(func=cmd_bench_store)


def cmd_bench_store(args: argparse.Namespace) -> int:
    from tfstudio.bench.store import StoreBenchConfig, run_store_bench

    config = StoreBenchConfig(
        recordings=args.recordings,
        events=args.events,
        classes=args.classes,
        events_per_file=args.events_per_file,
        seed=args.seed,
    )
    try:
        config.check()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    say = err if args.json else print
    if args.folder is None:
        with tempfile.TemporaryDirectory(prefix="tfstudio-bench-") as tmp:
            result = run_store_bench(config, Path(tmp), say=say)
    else:
        folder = Path(args.folder)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise UserError(f"{folder}: give a new or empty folder for the benchmark project")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"{folder}: cannot create the folder ({exc.strerror})") from None
        result = run_store_bench(config, folder, say=say)
    if args.json:
        emit_json(result.as_dict())
    return 0


def _presets() -> list[str]:
    return sorted(TRAIN_PRESETS)


def _positive_number(unit: str = "", maximum: float = math.inf) -> Callable[[str], float]:
    """An argparse type: a finite number above 0 (and at most ``maximum``), in ``unit``."""
    noun = f"number of {unit}" if unit else "number"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        if not 0 < value <= maximum or not math.isfinite(value):
            wanted = (
                f"a {noun} between 0 and {maximum:g}"
                if math.isfinite(maximum)
                else f"a positive {noun}"
            )
            raise argparse.ArgumentTypeError(f"{text} is not {wanted}")
        return value

    return parse


_seconds = _positive_number("seconds")
_hours = _positive_number("hours", maximum=1000)
_rate = _positive_number()


def _add_amp_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-amp",
        action="store_true",
        help="float32 throughout (default: the preset's mixed precision, bf16 for the CNN on "
        "CUDA and on CPUs with native bf16, as training and detection run)",
    )


def _register_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="time a training step of a preset's model against the reference loop",
        description="Time one training step of a preset's CRNN on random input as training "
        "runs it (two-pass: stepped feedback without autograd, then one fused GRU; loss, "
        "backward, clip, Adam) and its parts (CNN, recurrent, output and loss, optimiser); "
        "beside it, in the same run: one plain fused GRU of the same sizes, the "
        "straightforward per-sequence teacher-forcing loop (the reference of the speed-up), "
        "the step with the stepped recurrence under autograd, and inference. --json keys: "
        "sequences_per_s, step_ms, device, breakdown {cnn, recurrent, output_loss, optimizer}, "
        "fused_gru_ms, reference_loop_ms, and more.",
    )
    p.add_argument("--preset", choices=_presets(), default="fast")
    p.add_argument("--batch-size", type=_positive, metavar="B", help="default: the preset's")
    p.add_argument("--frames", type=_positive, metavar="T", help="default: the preset's")
    p.add_argument("--classes", type=_positive, default=6, metavar="C")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--repeats", type=_positive, default=5, metavar="N")
    _add_amp_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(func=cmd_bench_train)


def _register_detect(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "detect",
        help="time detection of a generated recording, from the audio file to stored events",
        description="Time 'tfstudio detect' on a generated recording of S seconds in a "
        "throwaway project, with an untrained model of a preset (speed does not depend on the "
        "weights): the whole detection from the audio file to stored events (the real-time "
        "factor), its peak memory, and its stages apart: log-mel features from the file, the "
        "model's posteriors and post-processing.",
    )
    p.add_argument("--preset", choices=_presets(), default="fast")
    p.add_argument("--seconds", type=_seconds, default=600.0, metavar="S")
    p.add_argument("--classes", type=_positive, default=6, metavar="C")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--repeats", type=_positive, default=3, metavar="N")
    _add_amp_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(func=cmd_bench_detect)


def _check_sizes(args: argparse.Namespace) -> None:
    for name in ("batch_size", "frames", "classes", "repeats"):
        if getattr(args, name, None) == 0:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")


def _measure(args: argparse.Namespace, measure: Callable[[], Any]) -> Any:
    """Run a timing with the sizes checked and a training error as one line; with --json
    print its dict and give None, else give the result for the caller to print."""
    from tfstudio.train.config import TrainError

    _check_sizes(args)
    try:
        result = measure()
    except TrainError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        emit_json(result.as_dict())
        return None
    return result


def cmd_bench_train(args: argparse.Namespace) -> int:
    # Training's allocator, but not its OpenMP wait policy: the reference loop's thousands
    # of tiny operations slow down by ~20 % when idle threads sleep, and the seed ran it with
    # the default policy (the step itself measures the same either way).
    prepare_compute_process(wait_policy=False)
    from tfstudio.bench.train import BREAKDOWN, bench_train

    result = _measure(
        args,
        lambda: bench_train(
            args.preset,
            batch_size=args.batch_size,
            frames=args.frames,
            classes=args.classes,
            device=args.device,
            repeats=args.repeats,
            amp=not args.no_amp,
        ),
    )
    if result is None:
        return 0
    ms = result.ms
    print(
        f"preset {result.preset}: {result.parameters} parameters, input {result.batch_size} × "
        f"{result.frames} frames × {result.n_mels} mel bands, {result.classes} classes, "
        f"{result.device}, {result.threads} threads, autocast {result.amp}"
    )
    print(f"  training step       {ms['step']:9.1f} ms   {result.sequences_per_s:.2f} sequences/s")
    for part in BREAKDOWN:
        note = f"   second pass: {result.recurrence}" if part == "recurrent" else ""
        print(f"    {part:<17} {ms[part]:9.1f} ms{note}")
    print(
        f"  recurrent, replayed {ms['recurrent_replay']:9.1f} ms   second pass from the first's states"
    )
    print(f"  recurrent, fused    {ms['recurrent_fused']:9.1f} ms   second pass one fused GRU")
    if "recurrent_graphed" in ms:
        print(
            f"  recurrent, graphed  {ms['recurrent_graphed']:9.1f} ms   first pass one CUDA graph"
        )
    print(f"  fused GRU alone     {ms['fused_gru']:9.1f} ms")
    print(f"    its forward       {ms['fused_gru_forward']:9.1f} ms   without autograd")
    print(f"  reference loop      {ms['reference_loop']:9.1f} ms")
    mixed = result.amp != "off"
    if mixed:
        print(f"    in float32        {ms['reference_loop_float32']:9.1f} ms   as the seed ran it")
    print(f"  stepped step        {ms['stepped_step']:9.1f} ms")
    print(f"  stepped recurrent   {ms['stepped_recurrent']:9.1f} ms")
    print(f"  inference           {ms['predict']:9.1f} ms")
    versus_float32 = (
        f" ({result.speedup_vs_float32_reference:.2f}× its float32 run)" if mixed else ""
    )
    print(
        f"  the step is {result.speedup:.2f}× as fast as the reference loop{versus_float32}; "
        "the recurrent "
        f"part costs {result.recurrent_vs_fused_gru:.2f}× one fused GRU (a fused second "
        f"pass costs at least {result.recurrent_floor_vs_fused_gru:.2f}×: the first pass "
        "repeats its forward's recurrent products)"
    )
    return 0


def cmd_bench_detect(args: argparse.Namespace) -> int:
    prepare_compute_process(wait_policy=False)  # the allocator, as bench train
    from tfstudio.bench.detect import bench_detect

    result = _measure(
        args,
        lambda: bench_detect(
            args.preset,
            seconds=args.seconds,
            classes=args.classes,
            device=args.device,
            repeats=args.repeats,
            amp=not args.no_amp,
            say=err if args.json else print,
        ),
    )
    if result is None:
        return 0
    print(
        f"preset {result.preset}: {result.audio_seconds:g} s of audio, {result.classes} classes, "
        f"{result.device}, {result.threads} threads, autocast {result.amp}, "
        f"median of {result.repeats}"
    )
    names = {
        "detect": "detect (file to stored events)",
        "load": "  loading the model",
        "features": "  features from the file",
        "model": "  model",
        "postprocess": "  post-processing",
        "store": "  storing the events",
    }
    for name, seconds in result.seconds.items():
        print(f"  {names.get(name, name):<32} {seconds:8.3f} s")
    scope = "" if result.peak_scoped else " (the whole process's)"
    print(
        f"  {result.realtime:.0f}× real time; peak memory {result.peak_rss_mb:.0f} MiB{scope} "
        f"({result.rss_before_mb:.0f} MiB before); {result.events} event(s) stored"
    )
    print(
        f"  (before the repeats, a process's first features took {result.warm_up_s:.1f} s, "
        "mostly importing librosa)"
    )
    return 0


def _register_spectrogram(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "spectrogram",
        help="time a long recording's first spectrogram picture, and its memory",
        description="Open a generated H-hour recording (or --audio FILE) as the spectrogram "
        "view does, without a window: the overview and the tiles of the opening view on the "
        "view's worker thread. Print the seconds to the first picture the window could draw, "
        "to the finished overview and to every tile of the opening view; one tile's time at "
        "several zoom levels; and the peak memory against the recording's decoded size. "
        "The window's own figures (first paint, pan and zoom frame times with thousands of "
        "labels) come from 'python -m tfstudio.qt.bench'.",
    )
    p.add_argument(
        "--hours", type=_hours, metavar="H", help="length of the generated recording (default 2)"
    )
    p.add_argument("--audio", metavar="FILE", help="measure this recording instead")
    p.add_argument(
        "--rate",
        type=_positive,
        default=48_000,
        metavar="HZ",
        help="sample rate of the generated recording (default 48000)",
    )
    p.add_argument(
        "--width",
        type=_positive,
        default=1600,
        metavar="PX",
        help="width of the view in pixels, which sets the tiles' zoom level (default 1600)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(func=cmd_bench_spectrogram)


def cmd_bench_spectrogram(args: argparse.Namespace) -> int:
    if args.audio is not None and args.hours is not None:
        raise UserError("give --hours (a generated recording) or --audio FILE, not both")
    for name in ("rate", "width"):
        if getattr(args, name) == 0:
            raise UserError(f"--{name} must be at least 1")
    audio = None
    if args.audio is not None:
        audio = Path(args.audio)
        if not audio.is_file():
            raise UserError(f"{audio}: no such audio file")
    from tfstudio.audio import AudioError
    from tfstudio.bench.spectrogram import bench_spectrogram

    say = err if args.json else print
    try:
        result = bench_spectrogram(
            2.0 if args.hours is None else args.hours,
            audio=audio,
            sample_rate=args.rate,
            width_px=args.width,
            say=say,
        )
    except (AudioError, OSError, RuntimeError) as exc:
        raise UserError(str(exc)) from None
    if args.json:
        emit_json(result.as_dict())
        return 0
    r = result
    print(
        f"{r.seconds / 3600:.2f} h at {r.sample_rate} Hz ({r.file_mb:.0f} MiB file, "
        f"{r.decoded_mb:.0f} MiB decoded as float32); opening view {r.view_s:g} s across "
        f"{r.width_px} px: level {r.level}, {r.tiles_in_view} tile(s)"
    )
    for name, seconds in (
        (f"first picture ({r.first_image})", r.first_image_s),
        ("draft overview", r.draft_overview_s),
        ("finished overview", r.overview_s),
        ("first tile of the view", r.first_tile_s),
        ("whole opening view", r.view_ready_s),
    ):
        print(f"  {name:<26} {seconds:8.3f} s")
    print("  one tile, computed cold, at the zoom of a view of")
    for zoom in r.zooms:
        print(
            f"    {zoom['view']:>6}: level {zoom['level']:2d} "
            f"({zoom['tile_s']:g} s a tile) {zoom['tile_ms']:8.1f} ms"
        )
    scope = "" if r.peak_scoped else " (the whole process's)"
    print(
        f"  memory: {r.rss_before_mb:.0f} MiB before opening, peak {r.peak_rss_mb:.0f} MiB"
        f"{scope}; tile cache {r.tile_cache_mb:.1f} MiB"
    )
    return 0


def _register_startup(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "startup",
        help="time the app's cold start to its first painted window",
        description="Start the app N times with a project and N times without one, each in a "
        "fresh process with empty settings, and print the median seconds from the start of "
        "the process to each start-up step and to the first paint of the window; and the time "
        "of importing the main window alone. Without a display the app runs offscreen: run "
        "it under 'xvfb-run -a' for a real window system.",
    )
    p.add_argument("project", nargs="?", help="project folder (default: a generated demo)")
    p.add_argument("--repeats", type=_positive, default=5, metavar="N")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(func=cmd_bench_startup)


def cmd_bench_startup(args: argparse.Namespace) -> int:
    from tfstudio.bench.startup import run_startup_bench

    if args.repeats == 0:
        raise UserError("--repeats must be at least 1")
    project = None
    if args.project is not None:
        project = Path(args.project)
        if not project.is_dir():
            raise UserError(f"{project}: no such project folder")
    try:
        result = run_startup_bench(project, args.repeats, say=err if args.json else print)
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        emit_json(result.as_dict())
    return 0


def _register_softmax(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "softmax",
        help="time and score a full and a sampled softmax head over many classes",
        description="Train a full softmax head and a sampled one (sparse gradient, lazy Adam) "
        "side by side on the same batches of a generated Zipf task (class prototypes plus "
        "noise), and print the median time of a step of each (forward, backward and "
        "optimiser step) and the full softmax's accuracy on held-out frames after the same "
        "number of steps.",
    )
    p.add_argument("--classes", type=_positive, default=100_000, metavar="V", help="default 100000")
    p.add_argument(
        "--hidden", type=_positive, default=512, metavar="H", help="hidden size (default 512)"
    )
    p.add_argument(
        "--frames", type=_positive, default=256, metavar="N", help="frames a step (default 256)"
    )
    p.add_argument(
        "--num-sampled",
        type=_positive,
        metavar="K",
        help="candidates of the sampled head (default 1024, at most a quarter of the classes)",
    )
    p.add_argument("--sampler", choices=("log-uniform", "frequency"), default="log-uniform")
    p.add_argument("--steps", type=_positive, default=30, metavar="S", help="default 30")
    p.add_argument(
        "--held-out",
        type=_positive,
        default=4096,
        metavar="M",
        help="frames the accuracy is measured on (default 4096)",
    )
    p.add_argument("--lr", type=_rate, default=0.01, help="Adam's learning rate (default 0.01)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    p.set_defaults(func=cmd_bench_softmax)


def cmd_bench_softmax(args: argparse.Namespace) -> int:
    for name in ("hidden", "frames", "steps", "held_out"):
        if getattr(args, name) == 0:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1")
    if args.classes < 2:
        raise UserError("--classes must be at least 2")
    if args.num_sampled is None:
        args.num_sampled = min(1024, max(1, args.classes // 4))
    if not 0 < args.num_sampled < args.classes:
        raise UserError(
            f"--num-sampled must be between 1 and {args.classes - 1} (fewer than the classes)"
        )
    from tfstudio.bench.softmax import SoftmaxBenchConfig, bench_softmax

    config = SoftmaxBenchConfig(
        classes=args.classes,
        hidden=args.hidden,
        frames=args.frames,
        num_sampled=args.num_sampled,
        sampler=args.sampler,
        steps=args.steps,
        held_out=args.held_out,
        lr=args.lr,
        seed=args.seed,
    )
    say = err if args.json else print
    result = _measure(args, lambda: bench_softmax(config, device=args.device, say=say))
    if result is None:
        return 0
    print(
        f"{result.classes} classes, hidden {result.hidden}, {result.frames} frames a step, "
        f"{result.num_sampled} sampled ({result.sampler}), {result.steps} steps, "
        f"{result.device}, {result.threads} threads"
    )
    print(f"  full     {result.full_ms:9.1f} ms a step   accuracy {result.full_acc:.4f}")
    print(f"  sampled  {result.sampled_ms:9.1f} ms a step   accuracy {result.sampled_acc:.4f}")
    print(
        f"  the sampled step is {result.speedup:.1f}× as fast; accuracy "
        f"{100 * (result.sampled_acc - result.full_acc):+.1f} points "
        f"({result.held_out_seen:.1%} of the held-out frames are of classes seen in training)"
    )
    if result.variants_ms:
        print(f"  over the first {result.variant_steps} steps, the sampled loss with")
    for name, ms in result.variants_ms.items():
        print(f"    {_VARIANTS.get(name, name)}: {ms:.1f} ms a step")
    return 0


_VARIANTS = {
    "dense_adam": "a dense gradient and torch.optim.Adam",
    "sparse_adam": "a sparse gradient and torch.optim.SparseAdam",
    "lazy_adam": "a sparse gradient and LazyAdam (as above)",
}


SUBJECTS: tuple[Register, ...] = (
    _register_store,
    _register_train,
    _register_detect,
    _register_spectrogram,
    _register_startup,
    _register_softmax,
)
