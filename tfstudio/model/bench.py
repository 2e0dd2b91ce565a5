"""Time the CRNN's forward and backward pass: ``python -m tfstudio.model.bench --help``."""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from tfstudio.model.crnn import CRNN, PRESETS, bce_loss, config_from_preset


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def benchmark(
    preset: str = "fast",
    batch: int = 8,
    frames: int = 256,
    n_mels: int = 40,
    n_classes: int = 6,
    tf_prob: float = 0.5,
    repeats: int = 5,
    device: str = "cpu",
    compile_step: bool = False,
) -> dict[str, float]:
    """Median seconds for forward, forward + backward, and no-grad inference."""
    dev = torch.device(device)
    torch.manual_seed(0)
    model = CRNN(config_from_preset(preset, n_mels=n_mels, n_classes=n_classes)).to(dev)
    if compile_step:
        model.compile_step()
    features = torch.randn(batch, frames, n_mels, device=dev)
    targets = (torch.rand(batch, frames, n_classes, device=dev) > 0.8).float()
    # On a GPU the probability stays a device tensor: no host sync per batch.
    p = torch.tensor(tf_prob, device=dev) if dev.type == "cuda" else tf_prob

    def forward() -> None:
        model(features, targets, p)

    def forward_backward() -> None:
        model.zero_grad(set_to_none=True)
        bce_loss(model(features, targets, p), targets).backward()

    def inference() -> None:
        model.predict(features)

    results = {}
    for name, fn in [
        ("forward", forward),
        ("forward+backward", forward_backward),
        ("predict", inference),
    ]:
        fn()  # warm-up (allocations, lazy imports, compilation)
        times = []
        for _ in range(repeats):
            _sync(dev)
            start = time.perf_counter()
            fn()
            _sync(dev)
            times.append(time.perf_counter() - start)
        results[name] = statistics.median(times)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="fast")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--frames", type=int, default=256)
    parser.add_argument("--mels", type=int, default=40)
    parser.add_argument("--classes", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--compile-step", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    model = CRNN(config_from_preset(args.preset, n_mels=args.mels, n_classes=args.classes))
    parameters = sum(p.numel() for p in model.parameters())
    results = benchmark(
        args.preset,
        args.batch,
        args.frames,
        args.mels,
        args.classes,
        repeats=args.repeats,
        device=args.device,
        compile_step=args.compile_step,
    )
    print(
        f"preset={args.preset} parameters={parameters} input={args.batch}x{args.frames}x{args.mels} "
        f"device={args.device} threads={torch.get_num_threads()} compile_step={args.compile_step}"
    )
    for name, seconds in results.items():
        print(f"  {name:<17} {1000 * seconds:8.1f} ms")


if __name__ == "__main__":
    main()
