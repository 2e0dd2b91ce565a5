"""The mean teacher (Tarvainen & Valpola 2017) and the moving average of weights.

With unlabelled recordings (in no split, without labels) and a consistency weight, every
labelled batch is paired with a batch of unlabelled windows: the model sees them augmented
and fed its own predictions, the teacher (a moving average of the model's weights) sees them
clean, and the squared distance between their outputs is a second loss, ramped up over the
first epochs. The same moving average keeps the Polyak-averaged weights that validation and
detection use when a run asks for them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch.utils.data import default_collate

from tfstudio.model.crnn import CRNN, bce_loss, softmax_loss, teacher_forcing_mask
from tfstudio.train.augment import SpecAugment
from tfstudio.train.config import TrainConfig
from tfstudio.train.data import (
    Normalizer,
    RecordingData,
    SeededWindow,
    SequenceDataset,
    epoch_batches,
    seed_windows,
    train_windows,
)
from tfstudio.train.device import autocast

__all__ = ["UnlabelledBatches", "consistency_weight", "mean_teacher_losses", "moving_average"]

Batch = dict[str, torch.Tensor]


@torch.no_grad()
def moving_average(
    average: torch.nn.Module, model: torch.nn.Module | None, decay: float, iteration: int
) -> None:
    """average ← decay · average + (1 − decay) · model; batch-norm statistics are the model's.
    The decay starts low (1 − 1/(iteration + 2)) so the average is not stuck at the initial
    weights."""
    assert model is not None
    decay = min(decay, 1.0 - 1.0 / (iteration + 2))
    for mine, theirs in zip(average.parameters(), model.parameters()):
        mine.lerp_(theirs.detach(), 1.0 - decay)
    for buffer, source in zip(average.buffers(), model.buffers()):
        buffer.copy_(source)


def consistency_weight(cfg: TrainConfig, iteration: int, batches_per_epoch: int) -> float:
    """The consistency loss weight, ramped up as exp(−5 (1 − t)²) (Laine & Aila 2017)."""
    span = cfg.consistency_rampup_epochs * batches_per_epoch
    if span <= 0:
        return cfg.consistency_weight
    t = min(1.0, iteration / span)
    return cfg.consistency_weight * math.exp(-5.0 * (1.0 - t) ** 2)


class UnlabelledBatches:
    """The unlabelled recordings' windows in batches of ``batch_size``, each in two views: the
    augmented one the model sees and the clean one the teacher sees.

    Batch ``index`` of ``epoch`` (:meth:`pair`) is deterministic, so a resumed run pairs its
    labelled batches with the same unlabelled ones; an epoch has as many as the unlabelled
    recordings give, used round-robin.
    """

    def __init__(
        self,
        recordings: Sequence[RecordingData],
        normalizer: Normalizer,
        augment: SpecAugment,
        *,
        seq_len: int,
        batch_size: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.student = SequenceDataset(recordings, seq_len, normalizer, augment)
        self.teacher = SequenceDataset(recordings, seq_len, normalizer)
        self.lengths = [d.n_frames for d in recordings]
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.seed = seed + 7  # not the labelled windows' order
        self.rank = rank
        self.world_size = world_size
        self._epoch = -1
        self._batches: list[list[SeededWindow]] = []

    def pair(self, epoch: int, index: int) -> tuple[Batch, Batch]:
        """The (augmented, clean) views of the unlabelled batch paired with labelled batch
        ``index`` of ``epoch``."""
        if self._epoch != epoch:
            seed = self.seed
            windows = train_windows(self.lengths, self.seq_len, epoch=epoch, seed=seed)
            batches = epoch_batches(
                windows,
                self.batch_size,
                epoch=epoch,
                seed=seed,
                rank=self.rank,
                world_size=self.world_size,
            )
            self._batches = seed_windows(batches, epoch=epoch, seed=seed, rank=self.rank)
            self._epoch = epoch
        chosen = self._batches[index % len(self._batches)]
        return (
            default_collate([self.student[w] for w in chosen]),
            default_collate([self.teacher[w] for w in chosen]),
        )


def mean_teacher_losses(
    net: torch.nn.Module,
    model: CRNN,
    teacher: CRNN,
    labelled: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    unlabelled: tuple[Batch, Batch],
    tf_prob: float,
    cfg: TrainConfig,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(supervised loss, consistency MSE): one forward of ``net`` (the model, or its DDP
    wrapper) over the labelled batch (``features, targets, weights``; teacher forced at
    ``tf_prob``) and the augmented unlabelled one (fed its own predictions), and the teacher
    on the clean unlabelled batch."""
    features, targets, weights = labelled
    augmented, clean = unlabelled
    n, frames = targets.shape[:2]
    extra = augmented["features"].to(device, non_blocking=True)
    forced = teacher_forcing_mask(n, frames, tf_prob, device=device)[..., 0]
    own = torch.zeros(len(extra), frames, dtype=torch.bool, device=device)
    # The unlabelled sequences are fed their own predictions: their targets are never read.
    padding = targets.new_zeros(len(extra), *targets.shape[1:])
    single = cfg.single_label
    with autocast(device, cfg.amp):
        outputs = net(
            torch.cat([features, extra]),
            torch.cat([targets, padding]),
            teacher_mask=torch.cat([forced, own]),
            return_hidden=single,
        )
        with torch.no_grad():
            reference = teacher(clean["features"].to(device, non_blocking=True))
    valid = augmented["mask"].to(device, non_blocking=True).float()
    if single:
        # Squared distance between the two class distributions, summed over the classes.
        classifier = model.softmax_output
        supervised = softmax_loss(classifier, outputs[:n], targets, weights)
        student = torch.softmax(classifier(outputs[n:].float()), dim=-1)
        gap = ((student - torch.softmax(reference.float(), dim=-1)) ** 2).sum(-1)
    else:
        supervised = bce_loss(outputs[:n].float(), targets, weights)
        gap = (torch.sigmoid(outputs[n:].float()) - torch.sigmoid(reference.float())) ** 2
        gap = gap.mean(-1)
    consistency = (gap * valid).sum() / valid.sum().clamp_min(1.0)
    return supervised, consistency
