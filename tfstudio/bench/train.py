"""``tfstudio bench train``: how fast the CRNN trains (``bench detect`` is :mod:`.detect`).

``train`` times one training step of a preset's model (the training preset's features, pools
and sizes) on random input, as training runs it: the two-pass forward (a no-grad stepped pass
that decides the feedback, then the states' gradient replayed from that pass on a CPU, one
fused GRU on CUDA: ``recurrence``), the loss, the backward pass, the gradient clip and the
optimiser's step. Beside it, in the same run on the same input:

- the step's parts, each forward + backward on its own: the CNN, the recurrent part (both
  passes, as the step runs them), the output layer with the loss, and the optimiser (clip
  and step); the recurrent part also with the other second pass (``recurrent_replay``,
  ``recurrent_fused``), so the two are compared side by side;
- one plain fused ``nn.GRU`` of the same sizes over the same sequences, forward + backward,
  and its forward alone without autograd. The two-pass design with a fused second pass costs
  at least their sum (its first pass makes the same recurrent products as that forward, step
  by step): ``recurrent_floor_vs_fused_gru``, about 1.25-1.4 on a CPU. The replayed second
  pass has no such floor: it does not run the recurrence forward again;
- the reference loop: the straightforward teacher-forcing training step the seed shows, the
  same model's ``GRUCell`` stepped frame by frame under autograd, the fed-back input chosen
  sequence by sequence in a Python loop over the batch. Its time over the step's is the
  speed-up, measured side by side; under autocast it runs mixed as the step does
  (``speedup``), and also in float32 as the seed ran it (``speedup_vs_float32_reference``);
- the step with the stepped recurrence under autograd (the model's own reference path), the
  stepped recurrent part, and inference.

Timings are medians over repeats after a warm-up; CUDA is synchronised around each one. All
run under the preset's autocast (``amp``) as training does, the reference loop too: bf16 or
fp16 on CUDA, bf16 on CPUs with native bf16 instructions, for the CNN only (the recurrence
runs in float32, see :func:`tfstudio.model.crnn._float32`); ``--no-amp`` times float32. The
JSON keys of :meth:`TrainBench.as_dict` are a contract (issue 12): ``sequences_per_s``, ``step_ms``,
``device``, ``breakdown`` (``cnn``, ``recurrent``, ``output_loss``, ``optimizer``),
``fused_gru_ms`` and ``reference_loop_ms``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from tfstudio.features import FeatureConfig
from tfstudio.model.crnn import CRNN, bce_loss, config_from_preset, teacher_forcing_mask
from tfstudio.train.config import TrainConfig
from tfstudio.train.device import amp_dtype, autocast, place_model, resolve_device

__all__ = ["BREAKDOWN", "TrainBench", "bench_train"]

# The parts of a training step, in the order they run.
BREAKDOWN = ("cnn", "recurrent", "output_loss", "optimizer")


@dataclass
class TrainBench:
    """One ``bench train`` result: the setting and the median milliseconds of each timing."""

    preset: str
    device: str
    recurrence: str  # the second pass the step's recurrent part runs ("replay", "fused")
    threads: int
    amp: str  # the autocast dtype ("off": float32)
    batch_size: int
    frames: int
    classes: int
    n_mels: int
    parameters: int
    repeats: int
    ms: dict[str, float] = field(default_factory=dict)

    @property
    def sequences_per_s(self) -> float:
        """Training sequences per second of whole steps."""
        return 1000.0 * self.batch_size / self.ms["step"]

    @property
    def speedup(self) -> float:
        """How many times faster the step is than the reference loop."""
        return self.ms["reference_loop"] / self.ms["step"]

    @property
    def speedup_vs_float32_reference(self) -> float:
        """How many times faster the step is than the reference loop in float32, as the seed
        ran it (the same as :attr:`speedup` where no autocast is on)."""
        return self.ms["reference_loop_float32"] / self.ms["step"]

    @property
    def recurrent_floor_vs_fused_gru(self) -> float:
        """What the two-pass recurrent part costs at least, over one fused GRU: the fused
        GRU's forward and backward plus a forward without autograd (the first pass)."""
        return (self.ms["fused_gru"] + self.ms["fused_gru_forward"]) / self.ms["fused_gru"]

    @property
    def recurrent_vs_fused_gru(self) -> float:
        """The recurrent part's time over one plain fused GRU's (1.0: no cost for the
        feedback)."""
        return self.ms["recurrent"] / self.ms["fused_gru"]

    def as_dict(self) -> dict[str, Any]:
        ms = {k: round(v, 2) for k, v in self.ms.items()}
        return {
            "sequences_per_s": round(self.sequences_per_s, 3),
            "step_ms": ms["step"],
            "device": self.device,
            "breakdown": {part: ms[part] for part in BREAKDOWN},
            "fused_gru_ms": ms["fused_gru"],
            "reference_loop_ms": ms["reference_loop"],
            "speedup": round(self.speedup, 3),
            "reference_loop_float32_ms": ms["reference_loop_float32"],
            "speedup_vs_float32_reference": round(self.speedup_vs_float32_reference, 3),
            "recurrent_vs_fused_gru": round(self.recurrent_vs_fused_gru, 3),
            "recurrence": self.recurrence,
            "recurrent_replay_ms": ms["recurrent_replay"],
            "recurrent_fused_ms": ms["recurrent_fused"],
            **(
                {"recurrent_graphed_ms": ms["recurrent_graphed"]}
                if "recurrent_graphed" in ms
                else {}
            ),
            "fused_gru_forward_ms": ms["fused_gru_forward"],
            "recurrent_floor_vs_fused_gru": round(self.recurrent_floor_vs_fused_gru, 3),
            "stepped_step_ms": ms["stepped_step"],
            "stepped_recurrent_ms": ms["stepped_recurrent"],
            "predict_ms": ms["predict"],
            "preset": self.preset,
            "threads": self.threads,
            "amp": self.amp,
            "batch_size": self.batch_size,
            "frames": self.frames,
            "classes": self.classes,
            "n_mels": self.n_mels,
            "parameters": self.parameters,
            "repeats": self.repeats,
        }


def _median_ms(
    run: Callable[[], object], device: torch.device, repeats: int, warmup: int = 1
) -> float:
    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def _model(config: TrainConfig, n_mels: int, classes: int, device: torch.device) -> CRNN:
    torch.manual_seed(0)
    model_config = config_from_preset(config.preset, n_mels, classes, **config.model)
    return place_model(CRNN(model_config), device)


def bench_train(
    preset: str = "fast",
    *,
    batch_size: int | None = None,
    frames: int | None = None,
    classes: int = 6,
    device: str = "auto",
    repeats: int = 5,
    tf_prob: float = 0.5,
    amp: bool = True,
) -> TrainBench:
    """Time a training step of ``preset`` (batch and sequence length default to its own;
    ``amp`` False: float32 throughout, else the preset's mixed precision)."""
    config = TrainConfig.from_preset(preset)
    dev = resolve_device(device)
    batch = batch_size or config.batch_size
    steps = frames or config.seq_len
    n_mels = FeatureConfig.from_dict(config.features).n_mels
    model = _model(config, n_mels, classes, dev).train()
    assert isinstance(model.classifier, nn.Linear)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    features = torch.randn(batch, steps, n_mels, device=dev)
    targets = (torch.rand(batch, steps, classes, device=dev) > 0.8).float()
    # On a GPU the probability stays a device tensor: no host sync per step.
    p_tf: float | torch.Tensor = (
        torch.tensor(tf_prob, device=dev) if dev.type == "cuda" else tf_prob
    )
    amp = config.amp and amp

    def optimise() -> None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()

    def step(two_pass: bool) -> Callable[[], None]:
        def run() -> None:
            model.recurrence = "auto" if two_pass else "stepped"
            optimizer.zero_grad(set_to_none=True)
            with autocast(dev, amp):
                logits = model(features, targets, p_tf)
            bce_loss(logits.float(), targets).backward()
            optimise()

        return run

    def reference_loop(mixed: bool = True) -> None:
        # The seed's step, without its bugs: per frame one GRUCell call on the batch, then
        # each sequence's next input picked in a Python loop (truth or own prediction).
        optimizer.zero_grad(set_to_none=True)
        with autocast(dev, amp and mixed):
            encoded = model.encode(features)
            feedback = encoded.new_zeros(batch, classes)
            hidden = encoded.new_zeros(batch, model.config.gru_hidden)
            outputs = []
            for t in range(steps):
                hidden = model.gru(torch.cat([encoded[:, t], feedback], dim=-1), hidden)
                out = model.classifier(hidden)
                outputs.append(out)
                own = out.sigmoid().gt(0.5).to(encoded.dtype)
                forced = torch.rand(batch) < tf_prob
                feedback = encoded.new_empty(batch, classes)
                for b in range(batch):
                    feedback[b] = targets[b, t] if forced[b] else own[b]
            logits = torch.stack(outputs, dim=1)
        bce_loss(logits.float(), targets).backward()
        optimise()

    with torch.no_grad(), autocast(dev, amp):
        encoded = model.encode(features).float()
    mask = teacher_forcing_mask(batch, steps, tf_prob, device=dev).unbind(1)
    encoded_grad = torch.randn_like(encoded)
    hidden_grad = torch.randn(batch, steps, model.config.gru_hidden, device=dev)

    def cnn() -> None:
        model.zero_grad(set_to_none=True)
        with autocast(dev, amp):
            out = model.encode(features)
        out.float().backward(encoded_grad)

    # The recurrent parts run in float32 whatever the autocast (crnn._float32), so they are
    # timed without one.
    def recurrent(recurrence: str, graphs: bool = False) -> Callable[[], None]:
        def run() -> None:
            model.recurrence = recurrence
            model.cuda_graphs = graphs
            model.zero_grad(set_to_none=True)
            x = encoded.detach().requires_grad_(True)
            hidden = model._trained_hidden(x, targets, mask)
            hidden.backward(hidden_grad)
            model.recurrence = "auto"
            model.cuda_graphs = False

        return run

    def output_loss() -> None:
        model.zero_grad(set_to_none=True)
        hidden = hidden_grad.detach().requires_grad_(True)
        with autocast(dev, amp):
            logits = model.classifier(hidden)
        bce_loss(logits.float(), targets).backward()

    def stepped_recurrent() -> None:
        model.zero_grad(set_to_none=True)
        x = encoded.detach().requires_grad_(True)
        logits, _, _ = model._stepped(x, targets, mask)
        bce_loss(logits, targets).backward()

    gru = nn.GRU(
        model.gru.input_size, model.config.gru_hidden, batch_first=True, device=dev
    ).train()
    gru_input = torch.randn(batch, steps, model.gru.input_size, device=dev)

    # The yardstick GRU runs in float32 as the model's recurrence does (always, also under
    # autocast: see tfstudio.model.crnn._float32).
    def fused_gru() -> None:
        gru.zero_grad(set_to_none=True)
        x = gru_input.detach().requires_grad_(True)
        out, _ = gru(x)
        out.backward(hidden_grad)

    def fused_gru_forward() -> None:
        with torch.no_grad():
            gru(gru_input)

    def predict() -> None:
        with autocast(dev, amp):
            model.predict(features)

    result = TrainBench(
        preset=preset,
        device=str(dev),
        recurrence=model._training_recurrence(dev),
        threads=torch.get_num_threads(),
        amp=str(amp_dtype(dev, amp) or "off").removeprefix("torch."),
        batch_size=batch,
        frames=steps,
        classes=classes,
        n_mels=n_mels,
        parameters=sum(p.numel() for p in model.parameters()),
        repeats=repeats,
    )
    mixed = amp_dtype(dev, amp) is not None
    timings: tuple[tuple[str, Callable[[], None]], ...] = (
        ("step", step(True)),
        ("reference_loop", reference_loop),
        # The seed's loop as the seed ran it, in float32; timed apart only under autocast.
        *((("reference_loop_float32", lambda: reference_loop(mixed=False)),) if mixed else ()),
        ("cnn", cnn),
        ("recurrent", recurrent("auto")),
        ("recurrent_replay", recurrent("replay")),
        ("recurrent_fused", recurrent("fused")),
        # CUDA only: the first pass as one captured graph (tfstudio.model.graphs, off by
        # default until measured), with the second pass the step uses.
        *((("recurrent_graphed", recurrent("auto", graphs=True)),) if dev.type == "cuda" else ()),
        ("output_loss", output_loss),
        ("optimizer", optimise),
        ("fused_gru", fused_gru),
        ("fused_gru_forward", fused_gru_forward),
        ("stepped_step", step(False)),
        ("stepped_recurrent", stepped_recurrent),
        ("predict", predict),
    )
    for name, run in timings:
        if name == "optimizer":
            step(True)()  # the optimiser's part needs every parameter's gradient
        result.ms[name] = _median_ms(run, dev, repeats)
    result.ms.setdefault("reference_loop_float32", result.ms["reference_loop"])
    model.recurrence = "auto"
    return result
