"""``tfstudio bench softmax``: a full and a sampled softmax head, step time and accuracy.

A generated Zipf task stands in for a model's hidden states: class ``k`` (0 the most frequent,
P(k) ∝ 1 / (k + 1)) has a random prototype, and a frame of class ``k`` is its prototype plus
Gaussian noise. Two copies of one :class:`~tfstudio.model.sampled_softmax.SoftmaxOutput` (the
same initial weights) train on the same batches, one step each in turn (the order rotating,
so that the machine's load and the caches fall on both alike): the full softmax with
``torch.optim.Adam``, and the sampled softmax (a sparse gradient of the weight,
:class:`~tfstudio.model.sampled_softmax.LazyAdam`; see there why). A step is the forward, the backward (to the weights and to the hidden states, as inside a
model) and the optimiser step; the sampled one includes drawing its candidates. Step times
are medians over the steps after the first (which allocates the optimiser's state); CUDA is
synchronised around each step. Accuracy is the full softmax's argmax on held-out frames of
the same task after the same number of steps, for both heads.

For the choice of the sampled head's optimiser the same sampled loss is also timed over the
first few steps with a dense gradient and ``torch.optim.Adam``, and with a sparse gradient and
``torch.optim.SparseAdam``, beside the sampled head itself over those steps
(``variants_ms``: ``dense_adam``, ``sparse_adam``, ``lazy_adam``).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from tfstudio.model.sampled_softmax import SAMPLERS, LazyAdam, SoftmaxOutput
from tfstudio.train.device import resolve_device

__all__ = ["SoftmaxBench", "SoftmaxBenchConfig", "ZipfTask", "bench_softmax"]

Say = Callable[[str], None]


@dataclass
class SoftmaxBenchConfig:
    """What ``bench softmax`` builds and trains (the CLI's options)."""

    classes: int = 100_000
    hidden: int = 512
    frames: int = 256
    num_sampled: int = 1024
    sampler: str = "log-uniform"
    steps: int = 30
    held_out: int = 4096
    lr: float = 0.01
    noise: float = 1.0
    seed: int = 0
    variant_steps: int = 6

    def check(self) -> None:
        """Raise ValueError naming the first bad setting."""
        for name in ("hidden", "frames", "steps", "held_out"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
        if self.classes < 2:
            raise ValueError("--classes must be at least 2")
        if not 0 < self.num_sampled < self.classes:
            raise ValueError(
                f"--num-sampled must be between 1 and {self.classes - 1} (fewer than the classes)"
            )
        if self.sampler not in SAMPLERS:
            raise ValueError(f"--sampler must be one of {', '.join(SAMPLERS)}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError("--lr must be a positive number")
        if self.variant_steps < 0:
            raise ValueError("variant_steps must be >= 0")


@dataclass
class SoftmaxBench:
    """One ``bench softmax`` result: median step times (ms) and held-out accuracies."""

    full_ms: float
    sampled_ms: float
    full_acc: float
    sampled_acc: float
    device: str
    threads: int
    classes: int
    hidden: int
    frames: int
    num_sampled: int
    sampler: str
    steps: int
    held_out: int
    lr: float
    # Distinct classes among the training frames, and the share of held-out frames whose
    # class was among them (the best a head can hope to recognise).
    seen_classes: int = 0
    held_out_seen: float = 0.0
    # The sampled loss with other gradients and optimisers, median ms over the first
    # variant_steps steps (the first left out, as above).
    variants_ms: dict[str, float] = field(default_factory=dict)
    variant_steps: int = 0
    seconds: float = 0.0

    @property
    def speedup(self) -> float:
        """How many times faster the sampled step is than the full one."""
        return self.full_ms / self.sampled_ms

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        head = {key: data.pop(key) for key in ("full_ms", "sampled_ms")}
        head["speedup"] = round(self.speedup, 2)
        head.update({key: data.pop(key) for key in ("full_acc", "sampled_acc")})
        return {**head, **data}


class ZipfTask:
    """Frames of a learnable single-label task with Zipf-distributed labels.

    Class ``k`` has probability ∝ 1 / (k + 1) and a prototype drawn from N(0, 1)^H; a frame
    is ``(prototype + noise · N(0, 1)^H) / sqrt(1 + noise²)`` (unit variance per feature).
    Everything is drawn on the CPU from ``seed``, so every device sees the same frames.
    """

    def __init__(self, classes: int, hidden: int, noise: float = 1.0, seed: int = 0) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        self.prototypes = torch.randn(classes, hidden, generator=self.generator)
        weights = 1.0 / torch.arange(1, classes + 1, dtype=torch.float64)
        self.probabilities = weights / weights.sum()
        self.cdf = torch.cumsum(self.probabilities, 0)
        self.noise = noise
        self.classes = classes

    def labels(self, rows: int) -> torch.Tensor:
        uniform = torch.rand(rows, dtype=torch.float64, generator=self.generator)
        ids = torch.searchsorted(self.cdf, uniform * self.cdf[-1], right=True)
        return ids.clamp_(max=self.classes - 1)

    def frames(self, rows: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``rows`` frames (rows, H) float32 and their labels (rows,) int64, on the CPU."""
        labels = self.labels(rows)
        noise = torch.randn(rows, self.prototypes.shape[1], generator=self.generator)
        hidden = (self.prototypes[labels] + self.noise * noise) / math.sqrt(1 + self.noise**2)
        return hidden, labels


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _Head:
    """A head, its optimiser(s) and its own candidate generator, timed step by step."""

    def __init__(
        self,
        output: SoftmaxOutput,
        optimisers: list[torch.optim.Optimizer],
        device: torch.device,
        seed: int,
    ) -> None:
        self.output = output.to(device).train()
        self.optimisers = optimisers
        self.device = device
        self.generator = torch.Generator().manual_seed(seed)
        self.times: list[float] = []

    def step(self, hidden: torch.Tensor, labels: torch.Tensor) -> None:
        _sync(self.device)
        start = time.perf_counter()
        for optimiser in self.optimisers:
            optimiser.zero_grad(set_to_none=True)
        # The gradient reaches the hidden states too, as it would reach the model below.
        x = hidden.detach().requires_grad_(True)
        self.output.loss(x, labels, generator=self.generator).backward()
        for optimiser in self.optimisers:
            optimiser.step()
        _sync(self.device)
        self.times.append(time.perf_counter() - start)

    def median_ms(self, steps: int | None = None) -> float:
        """Median ms over the first ``steps`` steps (default all) but the very first, which
        allocates the optimiser's state."""
        times = self.times[:steps]
        return 1000 * statistics.median(times[1:] or times)

    @torch.no_grad()
    def accuracy(self, hidden: torch.Tensor, labels: torch.Tensor, chunk: int = 1024) -> float:
        """Full-softmax argmax accuracy on (rows, H) frames, ``chunk`` rows at a time."""
        self.output.eval()
        correct = 0
        for start in range(0, hidden.shape[0], chunk):
            x = hidden[start : start + chunk].to(self.device)
            y = labels[start : start + chunk].to(self.device)
            correct += int((self.output(x).argmax(-1) == y).sum())
        self.output.train()
        return correct / hidden.shape[0]


def _copy_of(
    template: SoftmaxOutput, config: SoftmaxBenchConfig, counts: torch.Tensor | None, sparse: bool
) -> SoftmaxOutput:
    output = SoftmaxOutput(
        config.hidden,
        config.classes,
        num_sampled=config.num_sampled,
        sampler=config.sampler,
        class_counts=counts,
        sparse_grad=sparse,
    )
    with torch.no_grad():
        output.weight.copy_(template.weight)
        output.bias.copy_(template.bias)
    return output


def bench_softmax(
    config: SoftmaxBenchConfig | None = None, *, device: str = "auto", say: Say | None = None
) -> SoftmaxBench:
    """Train a full and a sampled head side by side on a Zipf task; time and score them."""
    config = config or SoftmaxBenchConfig()
    config.check()
    dev = resolve_device(device)
    say = say or (lambda _line: None)
    began = time.perf_counter()
    torch.manual_seed(config.seed)
    task = ZipfTask(config.classes, config.hidden, config.noise, config.seed)
    batches = [task.frames(config.frames) for _ in range(config.steps)]
    held_out = task.frames(config.held_out)
    trained = torch.cat([labels for _, labels in batches])
    counts = torch.bincount(trained, minlength=config.classes)
    # The frequency sampler needs counts; the log-uniform one is given none, as class id k
    # is already frequency rank k here.
    sampler_counts = counts if config.sampler == "frequency" else None

    template = SoftmaxOutput(config.hidden, config.classes).to(dev)
    full = _Head(
        template, [torch.optim.Adam(template.parameters(), lr=config.lr)], dev, config.seed
    )
    output = _copy_of(template, config, sampler_counts, sparse=True).to(dev)
    sampled = _Head(output, [LazyAdam(output.parameters(), lr=config.lr)], dev, config.seed)
    variants: dict[str, _Head] = {}
    variant_steps = min(config.variant_steps, config.steps)
    if variant_steps:
        dense = _copy_of(template, config, sampler_counts, sparse=False).to(dev)
        variants["dense_adam"] = _Head(
            dense, [torch.optim.Adam(dense.parameters(), lr=config.lr)], dev, config.seed
        )
        sparse = _copy_of(template, config, sampler_counts, sparse=True).to(dev)
        variants["sparse_adam"] = _Head(
            sparse,
            [
                torch.optim.SparseAdam([sparse.weight], lr=config.lr),
                torch.optim.Adam([sparse.bias], lr=config.lr),
            ],
            dev,
            config.seed,
        )
    say(
        f"{config.classes} classes, hidden {config.hidden}, {config.frames} frames a step, "
        f"{config.num_sampled} sampled ({config.sampler}), {config.steps} steps on {dev}"
    )
    variants_ms: dict[str, float] = {}
    report_every = max(1, config.steps // 5)
    for step, (hidden, labels) in enumerate(batches):
        hidden, labels = hidden.to(dev), labels.to(dev)
        heads = [full, sampled, *variants.values()]
        # Each step starts with the next head, so none always runs in the caches another
        # one left (the full head's logits alone are frames × classes floats).
        first = step % len(heads)
        for head in heads[first:] + heads[:first]:
            head.step(hidden, labels)
        if step + 1 == variant_steps:
            # The sampled head over the same steps, for a like-for-like comparison.
            variants["lazy_adam"] = sampled
            variants_ms = {
                name: round(head.median_ms(variant_steps), 3) for name, head in variants.items()
            }
            variants.clear()  # their weights and optimiser states are no longer needed
        if (step + 1) % report_every == 0 or step + 1 == config.steps:
            say(
                f"step {step + 1}/{config.steps}: full {full.median_ms():.1f} ms, "
                f"sampled {sampled.median_ms():.1f} ms"
            )
    result = SoftmaxBench(
        full_ms=round(full.median_ms(), 3),
        sampled_ms=round(sampled.median_ms(), 3),
        full_acc=round(full.accuracy(*held_out), 4),
        sampled_acc=round(sampled.accuracy(*held_out), 4),
        device=str(dev),
        threads=torch.get_num_threads(),
        classes=config.classes,
        hidden=config.hidden,
        frames=config.frames,
        num_sampled=config.num_sampled,
        sampler=config.sampler,
        steps=config.steps,
        held_out=config.held_out,
        lr=config.lr,
        seen_classes=int((counts > 0).sum()),
        held_out_seen=round(float((counts[held_out[1]] > 0).float().mean()), 4),
        variants_ms=variants_ms,
        variant_steps=variant_steps,
    )
    result.seconds = round(time.perf_counter() - began, 1)
    return result
