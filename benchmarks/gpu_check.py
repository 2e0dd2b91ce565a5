"""The device checks of issue 12 in one prepared run, for a session that is lent a GPU.

CUDA, AMP on CUDA and NCCL have never run in this project's sessions (none had a GPU); a
session lent one gets 15 minutes of device time in all, so everything it should measure is
here, each command with its own time limit, the results gathered into one JSON file and one
log (the device tool brings back at most 8 files).

On this machine, once (the GPU machine reaches no package index; its image has torch 2.11,
numpy, scipy, numba, scikit-learn, but not tfstudio's audio and store packages)::

    benchmarks/gpu_check.py wheels          # downloads them into .whl/ (ignored by git)

Then one device call, ``carry: [".whl"]``, ``timeout_s`` about 540::

    python3 benchmarks/gpu_check.py run --out $OUT

It installs the wheels into /tmp/site, then runs, in this order (most wanted first): the
recurrent passes' outputs and gradients on CUDA against the stepped reference (replay, fused);
``bench train`` at the paper preset with and without AMP and at the fast preset; ``bench
detect``; ``bench softmax``; the demo trained on CUDA and evaluated; a ``torchrun`` training
and detection (NCCL; one process per GPU). ``run --device cpu --quick`` tries the same here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / ".whl"

# What tfstudio's CLI imports beyond the GPU image's packages, at the versions CI installs
# (torchlibrosa pulls in librosa, and librosa pooch, soxr, audioread).
WHEEL_PINS = (
    "torchlibrosa==0.1.0",
    "librosa==0.11.0",
    "soundfile==0.14.0",
    "cffi==2.1.1",
    "pycparser",
    "soxr==1.1.0",
    "audioread==3.1.0",
    "pooch==1.9.0",
    "platformdirs",
    "decorator",
    "sqlite-utils==4.2.1",
    "sqlite-fts4==1.0.3",
    "click-default-group==1.2.4",
    "praatio==6.2.2",
    "psygnal==0.16.1",
)
PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
)


def download_wheels() -> int:
    WHEELS.mkdir(exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--python-version", "3.12", "--implementation", "cp",
        *(f"--platform={p}" for p in PLATFORMS), "-d", str(WHEELS), *WHEEL_PINS,
    ]  # fmt: skip
    return subprocess.call(command)


# The recurrent passes on the device: replay and fused against the stepped reference.
EQUAL = r"""
import json, torch
from tfstudio.model.crnn import CRNN, bce_loss, config_from_preset, softmax_loss
device = torch.device(DEVICE)
out = {}
for preset, frames, task in (("fast", 64, "multi-label"), ("paper", 128, "multi-label"),
                             ("fast", 64, "single-label")):
    torch.manual_seed(0)
    config = config_from_preset(preset, 40 if preset == "paper" else 64, 6, task=task)
    single = task == "single-label"
    features = torch.randn(4, frames, config.n_mels, device=device)
    if single:
        targets = torch.randint(0, 6, (4, frames), device=device)
    else:
        targets = (torch.rand(4, frames, 6, device=device) > 0.8).float()
    mask = torch.rand(4, frames, device=device) < 0.5
    results = {}
    ways = ("stepped", "replay", "fused", "replay+graph", "fused+graph")
    for way in ways:
        torch.manual_seed(1)
        model = CRNN(config).to(device).train()
        for m in model.modules():
            if isinstance(m, (torch.nn.Dropout, torch.nn.BatchNorm2d)):
                m.eval()
        model.recurrence = way.split("+")[0]
        model.cuda_graphs = way.endswith("+graph")
        for _ in range(2 if model.cuda_graphs else 1):  # capture, then a replay
            model.zero_grad()
            if single:
                logits = model(features, targets, teacher_mask=mask, return_hidden=True)
                softmax_loss(model.classifier, logits, targets).backward()
            else:
                logits = model(features, targets, teacher_mask=mask)
                bce_loss(logits, targets).backward()
        grads = torch.cat([p.grad.flatten() for p in model.parameters()])
        results[way] = (logits.detach(), grads, model.cuda_graphs)
    ref_logits, ref_grads, _ = results["stepped"]
    for name in ways[1:]:
        logits, grads, graphed = results[name]
        out[f"{preset}{'_single' if single else ''}_{name}"] = {
            "max_logit_diff": (logits - ref_logits).abs().max().item(),
            "max_grad_diff": (grads - ref_grads).abs().max().item(),
            "max_grad": ref_grads.abs().max().item(),
            "graph_kept": graphed,  # False: the capture failed and fell back to eager
        }
print(json.dumps(out))
"""


def _run(log: Any, results: dict[str, Any], name: str, command: list[str], limit: float) -> None:
    start = time.perf_counter()
    log.write(f"\n$ {' '.join(command)}\n")
    log.flush()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, cwd=ROOT)
        rc, stdout, stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        rc = 124
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
    seconds = round(time.perf_counter() - start, 1)
    log.write(stdout[-20000:] + stderr[-20000:] + f"\n[{name}: rc {rc}, {seconds} s]\n")
    log.flush()
    entry: dict[str, Any] = {"rc": rc, "seconds": seconds}
    try:
        entry["result"] = json.loads(stdout)
    except ValueError:
        entry["tail"] = (stdout + stderr)[-1500:]
    results[name] = entry
    print(f"{name}: rc {rc}, {seconds} s", flush=True)


def run_checks(out: Path, device: str, quick: bool, budget: float) -> int:
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    env_path = os.environ.get("PYTHONPATH", "")
    # The wheels are for the GPU image's Python (3.12); elsewhere the environment has them.
    if sys.version_info[:2] == (3, 12) and WHEELS.is_dir() and any(WHEELS.glob("*.whl")):
        site = Path("/tmp/site")
        install = [
            sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
            "--no-compile", "--no-cache-dir", "--upgrade", "--target", str(site),
            *map(str, sorted(WHEELS.glob("*.whl"))),
        ]  # fmt: skip
        subprocess.run(install, check=True)
        env_path = os.pathsep.join(p for p in (str(site), env_path) if p)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env_path) if p)
    os.environ["PYTHONUNBUFFERED"] = "1"
    py = sys.executable
    tfs = [py, "-m", "tfstudio"]
    work = Path("/tmp/gpu_check")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    small = ["--batch-size", "2", "--frames", "32", "--repeats", "1"] if quick else []
    paper = small or ["--batch-size", "8", "--frames", "512", "--classes", "16", "--repeats", "3"]
    results: dict[str, Any] = {"device": device, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    with (out / "gpu_check.log").open("w", encoding="utf-8") as log:
        checks: list[tuple[str, list[str], float]] = [
            ("nvidia_smi", ["nvidia-smi"], 20),
            ("doctor", [*tfs, "doctor", "--json"], 60),
            ("equal", [py, "-c", f"DEVICE = {device!r}\n{EQUAL}"], 120),
            ("pytest_cuda", [py, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "tests/model/test_graphs.py", "tests/model/test_replay.py",
                             "tests/model/test_crnn.py"], 180),
            ("bench_train_paper", [*tfs, "bench", "train", "--preset", "paper", *paper,
                                   "--device", device, "--json"], 150),
            ("bench_train_paper_no_amp", [*tfs, "bench", "train", "--preset", "paper", *paper,
                                          "--device", device, "--no-amp", "--json"], 120),
            ("bench_train_fast", [*tfs, "bench", "train", "--preset", "fast", *small,
                                  "--device", device, "--json"], 60),
            ("bench_detect_paper", [*tfs, "bench", "detect", "--preset", "paper", "--seconds",
                                    "30" if quick else "600", "--device", device, "--json"], 90),
            ("bench_softmax", [*tfs, "bench", "softmax", "--device", device, "--json",
                               *(["--classes", "2000", "--steps", "3"] if quick else [])], 90),
            ("demo", [*tfs, "demo", str(work / "demo")], 60),
            ("demo_train", [*tfs, "train", str(work / "demo"), "--preset", "fast", "--device",
                            device, "--quiet", *(["--epochs", "2"] if quick else [])], 240),
            ("demo_evaluate", [*tfs, "evaluate", str(work / "demo"), "--json"], 60),
            ("torchrun_train", [py, "-m", "torch.distributed.run", "--standalone",
                                "--nproc_per_node=1", "-m", "tfstudio", "train",
                                str(work / "demo"), "--preset", "fast", "--epochs", "2",
                                "--device", device, "--quiet"], 120),
            ("torchrun_detect", [py, "-m", "torch.distributed.run", "--standalone",
                                 "--nproc_per_node=2", "-m", "tfstudio", "detect",
                                 str(work / "demo"), "--quiet"], 120),
        ]  # fmt: skip
        for name, command, limit in checks:
            if name == "nvidia_smi" and shutil.which("nvidia-smi") is None:
                continue
            left = budget - (time.monotonic() - started)
            if left < 10:
                results[name] = {"rc": None, "skipped": f"out of the {budget:.0f} s budget"}
            else:
                _run(log, results, name, command, min(limit, left))
            (out / "gpu_check.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("wheels", help="download the packages the GPU image lacks into .whl/")
    run = sub.add_parser("run", help="run the checks (on the GPU machine)")
    run.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "/tmp/gpu_out")))
    run.add_argument("--device", default="cuda")
    run.add_argument("--quick", action="store_true", help="tiny sizes, to try the script")
    run.add_argument(
        "--budget",
        type=float,
        default=510.0,
        help="seconds for all checks (default 510, inside a 540 s device call); later "
        "checks are left out when it is spent",
    )
    args = parser.parse_args()
    if args.command == "wheels":
        return download_wheels()
    return run_checks(args.out, args.device, args.quick, args.budget)


if __name__ == "__main__":
    sys.exit(main())
