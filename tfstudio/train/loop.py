"""The training loop: one generator of events, shared by the CLI, the GUI and the tests.

``train(project, config)`` creates a run (or resumes one), computes and caches features,
trains the CRNN with teacher forcing on the chosen schedule, validates after each epoch,
keeps the best and last checkpoints, writes the run row and metrics to the store as it goes,
and yields small event records (:mod:`tfstudio.train.events`). A stop request is honoured
between batches: the last checkpoint is saved and the run ends with status ``stopped``.

Failure policy: a problem the user can act on (bad data, a diverged loss, out of memory, a
missing file) ends the run with status ``failed`` and a message in the final ``DoneEvent``;
anything else (a bug) also marks the run failed and is re-raised. The run row never stays
``running`` after the generator ends, unless the process itself is killed (resume handles
that: a ``running`` run whose process is gone can be resumed).

Under ``torchrun`` (RANK / WORLD_SIZE / LOCAL_RANK in the environment) the same loop trains
with DistributedDataParallel; only rank 0 writes the store and checkpoints and yields events
other than the final ``DoneEvent``.

Its parts, each with a reason of its own to change: :mod:`.distributed` (torchrun's processes
and collectives), :mod:`.validation` (the scores at an epoch's end, the tuning at the run's),
:mod:`.mean_teacher` (unlabelled batches, the consistency loss, moving averages of weights),
:mod:`.metric_writer` (metric rows to the store), :mod:`.checkpoint` and :mod:`.layout`.
This module keeps the run itself: set-up, the model and optimiser, the steps and epochs,
checkpoints and the ending.
"""

from __future__ import annotations

import copy
import math
import os
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tfstudio.audio import AudioError
from tfstudio.features.cache import FeatureCache
from tfstudio.features.config import FeatureConfig
from tfstudio.model.crnn import CRNN, CRNNConfig, bce_loss, config_from_preset, softmax_loss
from tfstudio.model.sampled_softmax import LazyAdam, clip_grad_norm_
from tfstudio.model.schedules import Schedule, make_schedule
from tfstudio.store import Project, ProjectError, Run
from tfstudio.store.runs import process_gone
from tfstudio.train.augment import (
    EventVariation,
    SpecAugment,
    balance_windows,
    mixup_batch,
    positive_weights,
)
from tfstudio.train.checkpoint import (
    CHECKPOINT_FORMAT,
    copy_checkpoint,
    read_checkpoint,
    write_checkpoint,
)
from tfstudio.train.config import RECIPE_OFF, RUNTIME_FIELDS, TrainConfig, TrainError
from tfstudio.train.data import (
    Mixing,
    Normalizer,
    SeededWindow,
    SequenceDataset,
    epoch_batches,
    iterate_batches,
    load_recordings,
    make_loader,
    pcen_smoothing,
    seed_windows,
    split_within,
    train_windows,
)
from tfstudio.train.detect import unreadable_message
from tfstudio.train.device import amp_dtype, autocast, place_model, resolve_device
from tfstudio.train.distributed import Distributed, distributed_rank  # re-exported
from tfstudio.train.events import (
    BatchEvent,
    CheckpointEvent,
    DoneEvent,
    EpochEvent,
    PrepareEvent,
    StartEvent,
    TrainEvent,
)
from tfstudio.train.frontend import FrontendError, load_frontend
from tfstudio.train.layout import checkpoint_paths
from tfstudio.train.mean_teacher import (
    UnlabelledBatches,
    consistency_weight,
    mean_teacher_losses,
    moving_average,
)
from tfstudio.train.metric_writer import MetricWriter
from tfstudio.train.resume import checkpoint_refusal, epochs_begun, epochs_refusal, stored_path
from tfstudio.train.single_label import find_overlaps, overlap_message
from tfstudio.train.validation import Scores, ValidationSet, tune, validate

__all__ = [
    "StopRequest",
    "distributed_rank",
    "train",
]

StopRequest = Callable[[], bool] | threading.Event | None


class _StoppedEarly(Exception):
    """A stop asked for before training began: the run ends stopped, with no checkpoint
    (resuming it starts it again; the features cached so far are kept)."""


class _Diverged(Exception):
    """The loss (or gradient) became NaN or infinite."""


def train(
    project: Project,
    config: TrainConfig | None = None,
    *,
    resume: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    stop: StopRequest = None,
) -> Iterator[TrainEvent]:
    """Train a new run with ``config`` (default: the fast preset), or resume run ``resume``.

    A resumed run continues from its last checkpoint with its stored configuration, its
    iteration count and its teacher-forcing schedule; ``overrides`` may change only the
    runtime fields (epochs, patience, device, amp, workers, checkpoint interval, batch cap).
    ``stop`` is polled between batches. Raises :class:`TrainError` before any run is created
    when the project cannot be trained (no classes, empty splits, missing device...).
    """
    trainer = _Trainer(project, config, resume, dict(overrides or {}), _stop_function(stop))
    yield from trainer.run()


def _stop_function(stop: StopRequest) -> Callable[[], bool]:
    if stop is None:
        return lambda: False
    if isinstance(stop, threading.Event):
        return stop.is_set
    return stop


def _still_running(run: Run) -> bool:
    """Whether a run marked running may really be running in another process: its process
    lives (the store's check, which knows reused pids, zombies and other hosts). This
    process's own pid means an in-process run that was interrupted, never a live one."""
    if run.status != "running" or not run.pid or run.pid == os.getpid():
        return False
    return not process_gone(run.pid, run.host, run.pid_started)


class _Trainer:
    def __init__(
        self,
        project: Project,
        config: TrainConfig | None,
        resume: int | None,
        overrides: dict[str, Any],
        stop: Callable[[], bool],
    ):
        self.project = project
        self.resume = resume
        self.overrides = overrides
        self.stop = stop
        self.given_config = config
        self.dist = Distributed.from_env()
        self.run_id = -1
        self.model: CRNN | None = None
        self.state_loaded: dict[str, Any] | None = None
        self.resumed_run: Run | None = None
        # Progress, saved in every checkpoint.
        self.epoch = 0  # epochs completed
        self.batch_in_epoch = 0  # batches done in epoch ``epoch + 1``
        self.iteration = 0  # batches done over the whole run
        self.epoch_loss_sum = 0.0
        self.epoch_loss_count = 0
        self.best_val_loss = math.inf
        self.best_epoch = 0
        self.best_saved_epoch = 0  # the epoch the best checkpoint file holds
        self.bad_epochs = 0
        self.tf_prob = 0.0
        self.best_path: Path | None = None
        self.last_path: Path | None = None
        self.last_checkpoint_time = time.monotonic()

    # ------------------------------------------------------------------ set-up
    def _resolve_config(self) -> None:
        if self.resume is None:
            self.cfg = (
                self.given_config
                if self.given_config is not None
                else TrainConfig.from_preset("fast")
            )
            bad = set(self.overrides) - {f for f in TrainConfig.__dataclass_fields__}
            if bad:
                raise TrainError(f"unknown training option(s): {', '.join(sorted(bad))}")
            if self.overrides:
                self.cfg = self.cfg.replace(**self.overrides)
                self.cfg.validate()
            return
        try:
            run = self.project.run(self.resume)
        except ProjectError as exc:
            raise TrainError(str(exc)) from None
        if _still_running(run):
            raise TrainError(f"run {run.id} is still running (pid {run.pid})")
        if not run.last_checkpoint:
            self._restart(run)
            return
        path = stored_path(self.project.root, run.last_checkpoint)
        best = stored_path(self.project.root, run.best_checkpoint) if run.best_checkpoint else None
        refusal = checkpoint_refusal(run.id, run.status, path, best)
        if refusal:
            raise TrainError(refusal)
        state = read_checkpoint(path)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise TrainError(f"{path}: unknown checkpoint format {state.get('format')!r}")
        # A run stored before the generalisation recipe existed resumes without it.
        cfg = TrainConfig.from_dict({**RECIPE_OFF, **state["train_config"]})
        changes = self._runtime_changes(cfg)
        begun = epochs_begun(state.get("epoch", 0), state.get("batch_in_epoch", 0))
        asked = int(changes["epochs"]) if "epochs" in changes else None
        refusal = epochs_refusal(
            run.id,
            run.status,
            cfg.epochs,
            begun,
            asked,
            patience=int(changes["patience"]) if "patience" in changes else None,
            without_better=int(state.get("bad_epochs", 0)),
        )
        if refusal:
            raise TrainError(refusal)
        self.cfg = cfg.replace(**changes)
        self.cfg.validate()
        self.resumed_run = run
        self.state_loaded = state

    def _restart(self, run: Run) -> None:
        """Resume a run that ended before its first checkpoint (stopped or killed while its
        features were computed, or before its first epoch ended): it starts again from the
        beginning, as the same run with its stored configuration (the features already
        cached are kept)."""
        if run.status not in ("stopped", "failed") or run.imported:
            raise TrainError(f"run {run.id} has no checkpoint to resume from")
        try:
            cfg = TrainConfig.from_dict(run.config_dict)
        except (TrainError, ValueError) as exc:
            raise TrainError(
                f"run {run.id} has no checkpoint, and its stored configuration cannot be used "
                f"to start it again ({exc}); start a new run"
            ) from None
        changes = self._runtime_changes(cfg)
        self.cfg = cfg.replace(**changes)
        self.cfg.validate()
        self.resumed_run = run

    def _runtime_changes(self, stored: TrainConfig) -> dict[str, Any]:
        """What a resume may change (``RUNTIME_FIELDS``): TrainError for anything else that
        differs from the ``stored`` run's (the run's own command line again, ``--resume N``
        added, resumes it)."""
        changes = dict(self.overrides)
        if self.given_config is not None:
            given = self.given_config.to_dict()
            changes = {**{k: given[k] for k in RUNTIME_FIELDS}, **changes}
        kept = stored.to_dict()
        for name, value in list(changes.items()):
            if name == "model" and isinstance(value, dict) and isinstance(kept.get(name), dict):
                value = {**kept[name], **value}  # as a new run's model options add to its preset's
            if name not in RUNTIME_FIELDS and value == kept.get(name):
                del changes[name]
        not_runtime = set(changes) - RUNTIME_FIELDS
        if not_runtime:
            raise TrainError(
                "a resumed run keeps its configuration; only these may change: "
                + ", ".join(sorted(RUNTIME_FIELDS))
                + f" (not {', '.join(sorted(not_runtime))})"
            )
        return changes

    def _check_project(self) -> None:
        if self.state_loaded is not None:
            self.classes = list(self.state_loaded["classes"])
            known = {c.name for c in self.project.classes()}
            gone = [c for c in self.classes if c not in known]
            if gone:
                raise TrainError(
                    f"class(es) of this run no longer in the project: {', '.join(gone)}"
                )
        else:
            self.classes = [c.name for c in self.project.classes()]
            if not self.classes:
                raise TrainError("the project has no classes; add classes and labels first")
        # Recordings whose audio could not be read when their features were computed:
        # (recording id, name, what is wrong and what to do), left out of this run.
        self.left_out: list[tuple[int, str, str]] = []
        self.train_recs = [r for r in self.project.recordings("train") if r.status == "ok"]
        self.val_recs = [r for r in self.project.recordings("val") if r.status == "ok"]
        if not self.train_recs:
            raise TrainError(f"no recordings in the train split; {self._split_hint('train')}")
        # No val split: the end of each training recording validates (val_within), unless
        # that is switched off.
        self.val_within = 0.0 if self.val_recs else self.cfg.val_within
        if not self.val_recs and not self.val_within:
            raise TrainError(
                f"no recordings in the val split (needed for early stopping); "
                f"{self._split_hint('val')}"
            )
        # Mean teacher: recordings with no labels that are in no split.
        self.unlabelled_recs = []
        if self.cfg.consistency_weight > 0:
            counts = self.project.label_counts()
            self.unlabelled_recs = [
                r
                for r in self.project.recordings()
                if r.split is None and r.status == "ok" and not counts.get(r.id)
            ]
        labelled = sum(len(self.project.labels(r.id)) for r in self.train_recs)
        if labelled == 0:
            raise TrainError("the training recordings have no labels")
        self.frontend: dict[str, torch.Tensor] | None = None
        if self.state_loaded is None and self.cfg.init_cnn:
            # Read and checked before a run exists: a wrong file is a usage error.
            try:
                self.frontend = load_frontend(
                    self.cfg.init_cnn,
                    self._new_model_config(),
                    self.cfg.feature_config,
                    self.cfg.background_percentile,
                    self.cfg.pcen_time_constant,
                )
            except FrontendError as exc:
                raise TrainError(f"init_cnn: {exc}") from None
        if self.cfg.single_label:
            outputs = len(self.classes) + 1  # the background is class 0
            if self.cfg.sampled_softmax >= outputs:
                raise TrainError(
                    f"--sampled-softmax {self.cfg.sampled_softmax}: a sampled softmax draws "
                    f"fewer candidates than the {outputs} classes (background included); use "
                    f"at most {outputs - 1}, or 0 for the full softmax"
                )
            self._check_overlaps(self.train_recs + self.val_recs)

    def _check_overlaps(self, recordings: list[Any]) -> None:
        """A single-label run's labels give each frame one class: list every pair of labels
        of two classes that claim the same frames, before any run is made."""
        names = {c.id: c.name for c in self.project.classes()}
        known = set(self.classes)
        hop_s = self.cfg.feature_config.hop_s
        overlaps = []
        for rec in recordings:
            labels = [
                (e.onset, e.offset, names[e.class_id])
                for e in self.project.labels(rec.id)
                if names.get(e.class_id) in known
            ]
            overlaps += find_overlaps(rec.name, labels, hop_s)
        if overlaps:
            raise TrainError(overlap_message(overlaps))

    def _open_run(self) -> None:
        if not self.dist.main:
            self.run_id = int(self.dist.broadcast(None))
            return
        now = time.time()
        if self.resumed_run is not None:
            run = self.resumed_run
            started: dict[str, float] = {}
            if self.state_loaded is None:
                # Started again from the beginning (no checkpoint): its curves and its
                # start time too.
                self.project.clear_metrics(run.id)
                started["started_at"] = now
            self.project.update_run(
                run.id,
                status="running",
                message="",
                device=str(self.device),
                pid=os.getpid(),
                finished_at=None,
                config=self.cfg.to_dict(),
                **started,
            )
            self.run_id = run.id
        else:
            run = self.project.create_run(self.cfg.to_dict())
            self.run_id = run.id
            self.project.update_run(
                run.id, status="running", device=str(self.device), pid=os.getpid(), started_at=now
            )
        self.dist.broadcast(self.run_id)
        self.project.run_dir(self.run_id).mkdir(parents=True, exist_ok=True)
        self.best_path, self.last_path = checkpoint_paths(self.project, self.run_id)

    def _prepare(self) -> Iterator[TrainEvent]:
        fc = self.cfg.feature_config
        self.feature_config: FeatureConfig = fc
        recs = self.train_recs + self.val_recs + self.unlabelled_recs
        if self.dist.main:
            # Rank 0 fills the cache, one recording at a time so a GUI sees the progress.
            cache = FeatureCache(self.project.cache_dir, fc)
            for i, rec in enumerate(recs):
                if not cache.has(rec.content_hash):
                    if self.stop() and not self.dist.active:
                        # Seconds a recording: a stop need not wait for all of them.
                        raise _StoppedEarly(
                            f"stopped on request while computing features ({i} of {len(recs)} "
                            "recordings cached); resume it to start again from there"
                        )
                    yield PrepareEvent(i, len(recs), rec.name)
                    try:
                        cache.load(rec.content_hash, self.project.absolute_path(rec))
                    except AudioError as exc:
                        # Gone, changed or damaged since the project looked: one file does not
                        # fail a run over hundreds; it is left out and named (StartEvent).
                        self.left_out.append((rec.id, rec.name, unreadable_message(rec, exc)))
        self.dist.barrier()
        self.left_out = self.dist.broadcast(self.left_out)
        if self.left_out:
            gone = {rec_id for rec_id, _, _ in self.left_out}
            self.train_recs = [r for r in self.train_recs if r.id not in gone]
            self.val_recs = [r for r in self.val_recs if r.id not in gone]
            self.unlabelled_recs = [r for r in self.unlabelled_recs if r.id not in gone]
            recs = self.train_recs + self.val_recs + self.unlabelled_recs
            reasons = " | ".join(message for _, _, message in self.left_out)
            for split, kept in (("train", self.train_recs), ("val", self.val_recs)):
                if not kept and not (split == "val" and self.val_within):
                    raise TrainError(f"no readable recording left in the {split} split: {reasons}")
        try:
            data = load_recordings(
                self.project,
                recs,
                self.classes,
                fc,
                rejected_weight=self.cfg.rejected_weight,
                single_label=self.cfg.single_label,
            )
        except ValueError as exc:  # labels of two classes on a frame (changed meanwhile)
            raise TrainError(str(exc)) from None
        n_train, n_val = len(self.train_recs), len(self.val_recs)
        self.train_data = data[:n_train]
        self.val_data = data[n_train : n_train + n_val]
        self.unlabelled_data = data[n_train + n_val :]
        if self.val_within:
            self.train_data, self.val_data = split_within(
                self.train_data, self.val_within, fc.hop_s
            )
            if not self.val_data:
                raise TrainError(
                    "no recordings in the val split, and the training recordings are too short "
                    f"to keep their last {self.val_within:.0%} for validation; "
                    f"{self._split_hint('val')}"
                )
        if self.state_loaded is not None:
            self.normalizer = Normalizer.from_tensors(self.state_loaded["normalizer"])
        else:
            self.normalizer = Normalizer.fit(
                (d.features() for d in self.train_data),
                background_percentile=self.cfg.background_percentile,
                pcen_smoothing=pcen_smoothing(
                    self.cfg.pcen_time_constant, self.cfg.feature_config.hop_s
                ),
                window=self.cfg.seq_len,
            )
        cfg = self.cfg
        augment = SpecAugment(
            cfg.freq_mask_bands, cfg.time_mask_frames, cfg.gain_db, cfg.freq_shift_bands
        )
        mixing = Mixing(
            cfg.mix_probability,
            cfg.mix_max_events,
            tuple(cfg.mix_gain_db),  # type: ignore[arg-type]
            EventVariation(cfg.mix_filter_db, cfg.mix_shift_bands, cfg.mix_stretch),
        )
        train_targets = [d.targets for d in self.train_data]
        self.dataset = SequenceDataset(
            self.train_data,
            cfg.seq_len,
            self.normalizer,
            augment,
            mixing=mixing,
            positive_weight=positive_weights(train_targets, cfg.pos_weight_power)
            if cfg.pos_weight_power > 0
            else None,
        )
        self.train_lengths = [d.n_frames for d in self.train_data]
        # The mean teacher's views of the unlabelled recordings: augmented for the model,
        # clean for the teacher.
        self.unlabelled = (
            UnlabelledBatches(
                self.unlabelled_data,
                self.normalizer,
                augment,
                seq_len=cfg.seq_len,
                batch_size=cfg.batch_size,
                seed=cfg.seed,
                rank=self.dist.rank,
                world_size=self.dist.world_size,
            )
            if self.unlabelled_data
            else None
        )
        self.validation = ValidationSet(self.val_data, self.normalizer, self.classes, fc.hop_s)

    def _batches(self, epoch: int) -> list[list[SeededWindow]]:
        cfg = self.cfg
        windows = train_windows(self.train_lengths, cfg.seq_len, epoch=epoch, seed=cfg.seed)
        if cfg.balance_classes:
            windows = balance_windows(
                windows,
                [d.targets for d in self.train_data],
                cfg.seq_len,
                epoch=epoch,
                seed=cfg.seed,
            )
        batches = epoch_batches(
            windows,
            cfg.batch_size,
            epoch=epoch,
            seed=cfg.seed,
            rank=self.dist.rank,
            world_size=self.dist.world_size,
            max_batches=cfg.max_batches_per_epoch,
        )
        return seed_windows(batches, epoch=epoch, seed=cfg.seed, rank=self.dist.rank)

    def _new_model_config(self) -> CRNNConfig:
        """The model of a new run: the preset's, the config's model overrides, the classes."""
        cfg = self.cfg
        try:
            # A single-label model has the background as class 0.
            n_outputs = len(self.classes) + 1 if cfg.single_label else len(self.classes)
            return config_from_preset(
                cfg.preset,
                cfg.feature_config.n_mels,
                n_outputs,
                **({"task": cfg.task} if cfg.single_label else {}),
                **cfg.model,
            )
        except (TypeError, ValueError) as exc:
            raise TrainError(f"model: {exc}") from None

    def _build(self) -> None:
        cfg = self.cfg
        torch.manual_seed(cfg.seed)  # the same initial weights on every rank
        if self.state_loaded is not None:
            model_config = CRNNConfig.from_dict(self.state_loaded["model_config"])
        else:
            model_config = self._new_model_config()
        if model_config.single_label != cfg.single_label:
            raise TrainError(f"the checkpoint's model is not a {cfg.task} model")
        self.model_config = model_config
        self.model = place_model(CRNN(model_config), self.device)
        if self.state_loaded is None and self.frontend is not None:
            # After the random initialisation, so every other weight is as without it.
            try:
                self.model.cnn.load_state_dict(self.frontend)
            except RuntimeError as exc:  # keys or shapes that do not fit this CNN
                raise TrainError(f"init_cnn: {cfg.init_cnn}: {exc}") from None
            self.frontend = None
        self.net: torch.nn.Module = self.model
        self.teacher: CRNN | None = None
        if self.unlabelled is not None:
            self.teacher = copy.deepcopy(self.model).eval().requires_grad_(False)
        # Polyak averaging: the weights that validation, the checkpoints' detection weights
        # and the tuning use when cfg.average_decay > 0.
        self.averaged: CRNN | None = None
        if cfg.average_decay > 0:
            self.averaged = copy.deepcopy(self.model).eval().requires_grad_(False)
        if cfg.sampled_softmax:
            self._use_sampled_softmax()
        if self.dist.active:
            from torch.nn.parallel import DistributedDataParallel

            self.net = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
        # A sampled softmax leaves sparse gradients on the output weight: LazyAdam updates only
        # their rows (plain Adam on every dense gradient); otherwise torch's Adam as ever.
        optimizer_class = LazyAdam if cfg.sampled_softmax else torch.optim.Adam
        # torch's clip refuses sparse gradients; ours takes both (same 2-norm).
        self._clip = clip_grad_norm_ if cfg.sampled_softmax else torch.nn.utils.clip_grad_norm_
        params: Any = self.model.parameters()
        if cfg.cnn_lr_scale != 1.0:
            # Two groups only then, so checkpoints of other runs keep their one group.
            cnn = list(self.model.cnn.parameters())
            ids = {id(p) for p in cnn}
            params = [
                {"params": cnn, "lr": cfg.lr * cfg.cnn_lr_scale},
                {"params": [p for p in self.model.parameters() if id(p) not in ids]},
            ]
        self.optimizer = optimizer_class(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.lr_decay = (
            torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer, factor=cfg.lr_decay_factor, patience=cfg.lr_decay_patience - 1
            )
            if cfg.lr_decay_patience
            else None
        )
        self.amp = amp_dtype(self.device, cfg.amp)
        # fp16 (a GPU without bf16) needs loss scaling; on the device's own type, so the tests
        # can run this path on a CPU (whose autocast also has fp16).
        self.scaler = torch.amp.GradScaler(self.device.type) if self.amp == torch.float16 else None
        self.batches_per_epoch = len(self._batches(1))
        kwargs: dict[str, Any] = {}
        if cfg.schedule == "drossos" and cfg.gamma is not None:
            kwargs["gamma"] = cfg.gamma
        self.schedule: Schedule = make_schedule(
            cfg.schedule,
            batches_per_epoch=self.batches_per_epoch,
            p_min=cfg.p_min,
            p_max=cfg.p_max,
            unit=cfg.unit,
            steps_per_batch=cfg.seq_len,
            decay_epochs=cfg.decay_epochs,
            **kwargs,
        )
        torch.manual_seed(cfg.seed + self.dist.rank)
        if self.state_loaded is not None:
            self._load_state(self.state_loaded)
            if self.dist.main:
                self._check_best(self.state_loaded)

    def _use_sampled_softmax(self) -> None:
        """The training-only sampled head on the model's softmax output, its candidates drawn
        by the training frames' class counts (background included)."""
        assert self.model is not None
        cfg, n_outputs = self.cfg, self.model_config.n_classes
        if not 0 < cfg.sampled_softmax < n_outputs:  # checked with the project, before the run
            raise TrainError(f"sampled softmax of {cfg.sampled_softmax} for {n_outputs} classes")
        counts = np.zeros(n_outputs, dtype=np.int64)
        for d in self.train_data:
            counts += np.bincount(d.targets, minlength=n_outputs)
        self.class_counts = counts
        self.model.use_sampled_softmax(
            cfg.sampled_softmax, cfg.sampler, torch.from_numpy(counts).double()
        )

    def _load_state(self, state: Mapping[str, Any]) -> None:
        assert self.model is not None
        self.model.load_state_dict(state["model"])
        if self.teacher is not None:
            # A run resumed with new unlabelled recordings starts its teacher from the model.
            self.teacher.load_state_dict(state.get("teacher") or state["model"])
        if self.averaged is not None:
            self.averaged.load_state_dict(state.get("averaged") or state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        if self.lr_decay is not None and state.get("lr_decay"):
            self.lr_decay.load_state_dict(state["lr_decay"])
        for name in (
            "epoch",
            "batch_in_epoch",
            "iteration",
            "epoch_loss_count",
            "best_epoch",
            "bad_epochs",
        ):
            setattr(self, name, int(state[name]))
        self.epoch_loss_sum = float(state["epoch_loss_sum"])
        self.best_val_loss = float(state["best_val_loss"])
        rng = state.get("rng", {})
        if self.dist.world_size == 1 and "torch" in rng:
            torch.set_rng_state(rng["torch"])
            if self.device.type == "cuda" and rng.get("cuda"):
                torch.cuda.set_rng_state(rng["cuda"], self.device)

    def _state(self) -> dict[str, Any]:
        assert self.model is not None
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return {
            "format": CHECKPOINT_FORMAT,
            "run_id": self.run_id,
            "model": self.model.state_dict(),
            "teacher": self.teacher.state_dict() if self.teacher is not None else {},
            # Detection loads these when present (tfstudio.train.detect.load_model).
            "averaged": self.averaged.state_dict() if self.averaged is not None else {},
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "lr_decay": self.lr_decay.state_dict() if self.lr_decay is not None else {},
            "model_config": self.model_config.to_dict(),
            "train_config": self.cfg.to_dict(),
            "feature_config": self.feature_config.to_dict(),
            "classes": list(self.classes),
            "normalizer": self.normalizer.to_tensors(),
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "iteration": self.iteration,
            "batches_per_epoch": self.batches_per_epoch,
            "epoch_loss_sum": self.epoch_loss_sum,
            "epoch_loss_count": self.epoch_loss_count,
            "best_val_loss": self.best_val_loss,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "tf_prob": self.tf_prob,
            "schedule": repr(self.schedule),
            "rng": rng,
            "saved_at": time.time(),
        }

    def _save_last(self) -> CheckpointEvent | None:
        if not self.dist.main or self.model is None or self.last_path is None:
            return None
        write_checkpoint(self.last_path, self._state())
        self.last_checkpoint_time = time.monotonic()
        # Metrics up to the checkpoint must be stored: a resume will not do those batches again.
        self.metrics.flush()
        self.project.update_run(
            self.run_id, last_checkpoint=self.project.relative_path(self.last_path)
        )
        return CheckpointEvent(str(self.last_path), False, self.epoch, self.iteration)

    def _save_best(self) -> CheckpointEvent | None:
        if not self.dist.main or self.best_path is None or self.last_path is None:
            return None
        copy_checkpoint(self.last_path, self.best_path)  # the epoch's end, just saved
        self.best_saved_epoch = self.epoch
        self.project.update_run(
            self.run_id, best_checkpoint=self.project.relative_path(self.best_path)
        )
        return CheckpointEvent(str(self.best_path), True, self.epoch, self.iteration)

    def _check_best(self, state: Mapping[str, Any]) -> None:
        """On resume: the best checkpoint must hold the epoch the last one calls best. A run
        that failed between saving its last checkpoint and copying it to the best one (a
        full disk) left an older best behind while the last one already named its epoch
        best; that last checkpoint is the best epoch's model then, so it is copied now."""
        if not self.best_epoch or self.best_path is None or self.last_path is None:
            return
        held = _checkpoint_epoch(self.best_path)
        if held == self.best_epoch:
            self.best_saved_epoch = held
        elif int(state["epoch"]) == self.best_epoch and int(state["batch_in_epoch"]) == 0:
            copy_checkpoint(self.last_path, self.best_path)
            self.best_saved_epoch = self.best_epoch
            self.project.update_run(
                self.run_id, best_checkpoint=self.project.relative_path(self.best_path)
            )
        else:
            # Not something this loop leaves behind (an older tfstudio's, or a damaged
            # file): what the file holds is what gets reported.
            self.best_saved_epoch = held or 0

    # ---------------------------------------------------------------- training
    def run(self) -> Iterator[TrainEvent]:
        self._resolve_config()
        self.device = resolve_device(self.cfg.device, local_rank=self.dist.local_rank)
        self.dist.init(self.device)
        try:
            self._check_project()
            self._open_run()
            self.metrics = MetricWriter(self.project, self.run_id, self.dist.main)
            yield from self._run_guarded()
        finally:
            self.dist.close()

    def _run_guarded(self) -> Iterator[TrainEvent]:
        status, message = "failed", "internal error"
        try:
            yield from self._prepare()
            self._build()
            if self.dist.main:
                yield StartEvent(
                    run=self.run_id,
                    device=str(self.device),
                    batches_per_epoch=self.batches_per_epoch,
                    epochs=self.cfg.epochs,
                    config=self.cfg.to_dict(),
                    resumed=self.state_loaded is not None,
                    epoch=self.epoch,
                    iteration=self.iteration,
                    amp=None if self.amp is None else str(self.amp).removeprefix("torch."),
                    world_size=self.dist.world_size,
                    train_recordings=len(self.train_data),
                    val_recordings=len(self.val_data),
                    left_out=[message for _, _, message in self.left_out],
                    val_within=self.val_within,
                    parameters=sum(p.numel() for p in self.model.parameters()) if self.model else 0,
                )
            self.state_loaded = None  # free the loaded tensors
            status, message = yield from self._epochs()
            if status == "done" and self.cfg.tune_postprocess and self.dist.main:
                message += self._tune()
            if self.left_out:
                message += (
                    f"; {len(self.left_out)} recording(s) left out, their audio cannot be read: "
                    + ", ".join(name for _, name, _ in self.left_out)
                )
        except (
            TrainError,
            _Diverged,
            AudioError,
            ProjectError,
            OSError,
            torch.OutOfMemoryError,
        ) as exc:
            status, message = "failed", str(exc) or type(exc).__name__
            if isinstance(exc, torch.OutOfMemoryError):
                message = "out of memory; try a smaller --batch-size or --seq-len"
        except _StoppedEarly as exc:
            status, message = "stopped", str(exc)
        except (KeyboardInterrupt, GeneratorExit):
            # The consumer went away (or Ctrl-C outside the CLI): keep what was learnt.
            self._finish("stopped", "interrupted", save=True)
            raise
        except BaseException as exc:
            self._finish("failed", f"internal error: {type(exc).__name__}: {exc}", save=False)
            raise
        self._finish(status, message, save=False)
        yield DoneEvent(
            run=self.run_id,
            status=status,
            # Only a file that is there (a save that failed, e.g. on a full disk, left none),
            # and the epoch it holds (a failed copy leaves the one before).
            best_checkpoint=str(self.best_path)
            if self.best_saved_epoch and self.best_path and self.best_path.exists()
            else None,
            message=message,
            last_checkpoint=str(self.last_path)
            if self.last_path and self.last_path.exists()
            else None,
            epoch=self.epoch,
            iteration=self.iteration,
            best_epoch=self.best_saved_epoch,
        )

    def _finish(self, status: str, message: str, *, save: bool) -> None:
        if not self.dist.main or self.run_id < 0:
            return
        try:
            if save:
                self._save_last()
        except Exception as exc:  # still record how the run ended
            message = f"{message}; saving the last checkpoint failed: {exc}"
        try:
            self.metrics.flush()
        finally:
            self.project.update_run(
                self.run_id, status=status, message=message, finished_at=time.time()
            )

    def _epochs(self) -> Generator[TrainEvent, None, tuple[str, str]]:
        cfg = self.cfg
        assert self.model is not None
        while self.epoch < cfg.epochs:
            epoch = self.epoch + 1
            started = time.perf_counter()
            batches = self._batches(epoch)
            self.model.train()
            loader = make_loader(
                self.dataset,
                batches[self.batch_in_epoch :],
                num_workers=cfg.num_workers,
                pin_memory=self.device.type == "cuda",
                seed=cfg.seed * 100003 + epoch,
            )
            for batch in iterate_batches(loader):
                outcome = self._step(batch, epoch)
                if outcome is not None:
                    status, message = outcome
                    if status == "stopped":
                        event = self._save_last()
                        if event is not None:
                            yield event
                    return status, message
                if self.dist.main:
                    yield BatchEvent(
                        epoch=epoch,
                        iteration=self.iteration - 1,
                        tf_prob=self.tf_prob,
                        loss=self.last_loss,
                        batch=self.batch_in_epoch,
                        batches_per_epoch=len(batches),
                    )
                if time.monotonic() - self.last_checkpoint_time >= cfg.checkpoint_every_s:
                    event = self._save_last()
                    if event is not None:
                        yield event
            # Epoch end: validate, keep the best, decide on early stopping.
            train_loss = self.epoch_loss_sum / max(1, self.epoch_loss_count)
            scores = self._validate() if self.dist.main else None
            scores = self.dist.broadcast(scores)
            if scores is None:
                # Stopped during validation: every batch of this epoch is done, so a resume
                # goes straight to validating it.
                event = self._save_last()
                if event is not None:
                    yield event
                return "stopped", "stopped on request"
            # (val loss, F1, ER), and a single-label run's frame scores.
            val_loss, f1, er, *more = scores
            frame: dict[str, float] = more[0] if more else {}
            if not math.isfinite(val_loss):
                raise _Diverged(
                    f"validation loss became {val_loss} in epoch {epoch}; lower the learning rate"
                )
            # The rate this epoch trained at (the last group: the CNN may have its own first).
            lr = float(self.optimizer.param_groups[-1]["lr"])
            if self.lr_decay is not None:
                self.lr_decay.step(val_loss)
            improved = val_loss < self.best_val_loss
            if improved:
                self.best_val_loss, self.best_epoch, self.bad_epochs = val_loss, epoch, 0
            else:
                self.bad_epochs += 1
            self.epoch, self.batch_in_epoch = epoch, 0
            self.epoch_loss_sum, self.epoch_loss_count = 0.0, 0
            seconds = time.perf_counter() - started
            self.metrics.add(
                {
                    "kind": "epoch",
                    "epoch": epoch,
                    "iteration": self.iteration,
                    "tf_prob": self.tf_prob,
                    "loss": train_loss,
                    "val_loss": val_loss,
                    "f1": f1,
                    "er": er,
                    "seconds": seconds,
                    "best": improved,
                    "lr": lr,
                    **frame,
                }
            )
            if self.dist.main:
                yield EpochEvent(
                    epoch=epoch,
                    train_loss=train_loss,
                    val_loss=val_loss,
                    f1=f1,
                    er=er,
                    tf_prob=self.tf_prob,
                    iteration=self.iteration,
                    seconds=seconds,
                    best=improved,
                    best_epoch=self.best_epoch,
                    lr=lr,
                    **frame,
                )
            for event in (self._save_last(), self._save_best() if improved else None):
                if event is not None:
                    yield event
            if self.bad_epochs >= cfg.patience:
                return "done", (
                    f"early stop after epoch {epoch}: no better validation loss for "
                    f"{cfg.patience} epochs (best epoch {self.best_epoch})"
                )
        return "done", f"trained {self.epoch} epoch(s) (best epoch {self.best_epoch})"

    def _step(self, batch: dict[str, torch.Tensor], epoch: int) -> tuple[str, str] | None:
        """One optimiser step; returns (status, message) when the run must end instead."""
        cfg = self.cfg
        stop = bool(self.stop())
        if stop and not self.dist.active:
            return "stopped", "stopped on request"
        device = self.device
        if cfg.mixup_probability > 0:
            batch = mixup_batch(batch, cfg.mixup_probability, cfg.mixup_alpha)
        features = batch["features"].to(device, non_blocking=True)
        targets = batch["targets"].to(device, non_blocking=True)
        weights = batch["weights"].to(device, non_blocking=True)
        tf_prob = self.schedule.probability(self.iteration)
        if self.teacher is None and cfg.single_label:
            assert self.model is not None
            with autocast(device, cfg.amp):
                hidden = self.net(features, targets, tf_prob, return_hidden=True)
            loss = softmax_loss(self.model.softmax_output, hidden, targets, weights)
            supervised = loss
            consistency = None
        elif self.teacher is None:
            with autocast(device, cfg.amp):
                logits = self.net(features, targets, tf_prob)
            loss = bce_loss(logits.float(), targets, weights)
            supervised = loss
            consistency = None
        else:
            assert self.model is not None and self.teacher is not None
            assert self.unlabelled is not None
            supervised, consistency = mean_teacher_losses(
                self.net,
                self.model,
                self.teacher,
                (features, targets, weights),
                self.unlabelled.pair(epoch, self.batch_in_epoch),
                tf_prob,
                cfg,
                device,
            )
            weight = consistency_weight(cfg, self.iteration, self.batches_per_epoch)
            loss = supervised + weight * consistency
        value = float(supervised.detach())
        total_value = float(loss.detach())
        stop_any, bad_any, total = self.dist.sum(
            [float(stop), float(not math.isfinite(total_value)), value], device
        )
        if bad_any:
            raise _Diverged(
                f"the loss became {'NaN' if math.isnan(total_value) else total_value} at iteration "
                f"{self.iteration} (epoch {epoch}); lower the learning rate (now {cfg.lr:g})"
            )
        if stop_any:
            return "stopped", "stopped on request"
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            self._clip(self.model.parameters(), cfg.grad_clip)  # type: ignore[union-attr]
            # fp16: a step with inf gradients is skipped by the scaler, which then backs off.
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            norm = self._clip(self.model.parameters(), cfg.grad_clip)  # type: ignore[union-attr]
            if not torch.isfinite(norm):
                raise _Diverged(
                    f"the gradient became non-finite at iteration {self.iteration} (epoch {epoch}); "
                    f"lower the learning rate (now {cfg.lr:g})"
                )
            self.optimizer.step()
        if self.teacher is not None:
            moving_average(self.teacher, self.model, self.cfg.ema_decay, self.iteration)
        if self.averaged is not None:
            moving_average(self.averaged, self.model, self.cfg.average_decay, self.iteration)
        self.last_loss = total / self.dist.world_size
        self.tf_prob = tf_prob
        self.epoch_loss_sum += self.last_loss
        self.epoch_loss_count += 1
        row: dict[str, Any] = {
            "kind": "batch",
            "epoch": epoch,
            "iteration": self.iteration,
            "tf_prob": tf_prob,
            "loss": self.last_loss,
        }
        if consistency is not None:
            row["consistency"] = float(consistency.detach())
        self.metrics.add(row)
        self.iteration += 1
        self.batch_in_epoch += 1
        return None

    def _split_hint(self, split: str) -> str:
        """What puts recordings into an empty ``split``: 'tfstudio split' (the Train dialog's
        button) where labelled recordings have no split, else choosing one by hand."""
        labelled = self.project.label_totals()
        unsplit = [r for r in self.project.recordings() if r.split is None and r.id in labelled]
        if len(unsplit) >= 2 or (unsplit and split == "train"):
            return (
                f"'tfstudio split PROJECT' puts the {len(unsplit)} labelled recording(s) "
                "without a split into train and val"
            )
        other = (
            "; or validate on the end of each training recording ('--set val_within=0.2')"
            if split == "val"
            else ""
        )
        return (
            f"give it a recording with labels (the Recordings list's Set split, or 'tfstudio "
            f"import --split {split}'){other}"
        )

    @torch.no_grad()
    def _tune(self) -> str:
        """Choose per-class thresholds and median filters on the val split with the best
        model; store them in the run's configuration and both checkpoints."""
        assert self.model is not None
        if not self.best_epoch or self.best_path is None or self.last_path is None:
            return ""
        cfg = self.cfg
        best = read_checkpoint(self.best_path)
        # The weights detection will use: the averaged ones when the run keeps them.
        self.model.load_state_dict(best.get("averaged") or best["model"])
        tuned = tune(self.model, self.validation, cfg)
        if not tuned.thresholds:
            return ""
        score = _tuning_score(cfg.tune_er_weight)
        if cfg.tune_hysteresis:
            one, each = (
                "threshold, median filter and hysteresis",
                "thresholds, median filters and hysteresis",
            )
        else:
            one, each = "threshold and median filter", "thresholds and median filters"
        if tuned.choice == "defaults":
            # Nothing tuned scored better on val than the run's own threshold and filter.
            return (
                f"; the {one} kept as they were: tuned on the val split "
                f"they scored lower ({score} {tuned.score_before:.3f}; each class's own "
                f"choice {tuned.score_per_class:.3f})"
            )
        self.cfg = cfg.replace(
            class_thresholds=tuned.thresholds,
            class_median_filter_frames=tuned.median_filter_frames,
            class_hysteresis=tuned.hysteresis,
        )
        for path, state in ((self.best_path, best), (self.last_path, None)):
            if state is None:
                state = read_checkpoint(path)
            state["train_config"] = self.cfg.to_dict()
            write_checkpoint(path, state)
        self.project.update_run(self.run_id, config=self.cfg.to_dict())
        if tuned.choice == "one for all":
            return (
                f"; one {one} for all classes chosen on the val split "
                f"({score} {tuned.score_before:.3f} → {tuned.score_after:.3f}; each class's "
                f"own choice {tuned.score_per_class:.3f})"
            )
        return (
            f"; {each} tuned per class on the val split "
            f"({score} {tuned.score_before:.3f} → {tuned.score_after:.3f})"
        )

    def _validate(self) -> Scores | None:
        """The epoch's validation scores (:func:`~tfstudio.train.validation.validate`) with
        the averaged weights when the run keeps them; None when a stop was requested
        meanwhile (checked between recordings)."""
        assert self.model is not None
        model = self.averaged if self.averaged is not None else self.model
        return validate(model, self.validation, self.cfg, self.stop)


def _tuning_score(er_weight: float) -> str:
    """What the tuning's score is, in words: with an ER weight it is no F1 (it goes below 0)."""
    if not er_weight:
        return "mean of segment and event F1"
    weight = "" if er_weight == 1 else f"{er_weight:g} × "
    return f"mean of segment and event F1 less {weight}segment ER"


def _checkpoint_epoch(path: Path) -> int | None:
    """The epoch a checkpoint file was saved at; None when it is missing or unreadable."""
    try:
        return int(read_checkpoint(path)["epoch"]) if path.exists() else None
    except (TrainError, KeyError, TypeError, ValueError):
        return None
