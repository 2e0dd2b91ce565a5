"""The training configuration: one JSON-able dataclass, stored with the run and its checkpoints."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tfstudio.features.config import FEATURE_PRESETS, FeatureConfig
from tfstudio.model.presets import PRESETS
from tfstudio.model.schedules import SCHEDULE_NAMES

__all__ = [
    "DEVICES",
    "RECIPE_OFF",
    "RUNTIME_FIELDS",
    "SAMPLERS",
    "SINGLE_LABEL_DEFAULTS",
    "TASKS",
    "TRAIN_PRESETS",
    "TrainConfig",
    "TrainError",
    "loss_name",
]

DEVICES = ("auto", "cpu", "cuda", "mps")
# multi-label: any number of classes per frame (sigmoid outputs, the paper's task);
# single-label: exactly one class per frame, background included (softmax output).
TASKS = ("multi-label", "single-label")


def loss_name(tasks: Iterable[object]) -> str:
    """What the training loss of runs of these tasks is called on a plot's axis: a
    multi-label run's is binary cross-entropy (a sigmoid per class), a single-label run's
    cross-entropy (a softmax over the classes and background); a run stored without a task
    is multi-label."""
    names = {"CE" if task == "single-label" else "BCE" for task in tasks}
    return f"{' / '.join(sorted(names)) or 'BCE'} loss"


# The sampled softmax's candidate distributions (tfstudio.model.sampled_softmax.SAMPLERS, kept
# here too so the command line's parser needs no torch; a test holds the two equal).
SAMPLERS = ("log-uniform", "frequency")

# What may change when a run is resumed; everything else comes from the stored run.
RUNTIME_FIELDS = frozenset(
    {
        "epochs",
        "patience",
        "device",
        "amp",
        "num_workers",
        "checkpoint_every_s",
        "max_batches_per_epoch",
    }
)


class TrainError(Exception):
    """A training problem the user can act on (no data, no device, bad setting...)."""


# The generalisation recipe switched off: the paper preset trains as Drossos et al. did, and a
# run stored before the recipe existed resumes as it started.
RECIPE_OFF: dict[str, Any] = dict(
    mix_probability=0.0,
    mix_filter_db=0.0,
    mix_shift_bands=0,
    mix_stretch=0.0,
    background_percentile=0.0,
    pcen_time_constant=0.0,
    freq_mask_bands=0,
    time_mask_frames=0,
    gain_db=0.0,
    freq_shift_bands=0,
    mixup_probability=0.0,
    balance_classes=False,
    pos_weight_power=0.0,
    rejected_weight=1.0,
    consistency_weight=0.0,
    average_decay=0.0,
    tune_postprocess=False,
    tune_er_weight=0.0,
    weight_decay=0.0,
)

# What a single-label run changes in a preset, unless the option is given: event mixing and
# mixup add one sound onto another, which no single label can describe; per-class threshold
# tuning is for independent sigmoid outputs, while a single-label run decodes the most probable
# class of each frame (threshold 0: every frame whose winner is not the background counts).
SINGLE_LABEL_DEFAULTS: dict[str, Any] = dict(
    mix_probability=0.0,
    mixup_probability=0.0,
    balance_classes=False,
    pos_weight_power=0.0,
    tune_postprocess=False,
    threshold=0.0,
)


def _fast_model() -> dict[str, Any]:
    """The fast preset's CRNN parameters over the model preset's (a new dict each call)."""
    return {"pools": [2, 2, 2], "context_hidden": 32}


# Each preset names every value it depends on; the dataclass defaults are the fast preset.
TRAIN_PRESETS: dict[str, dict[str, Any]] = {
    # Drossos et al. 2019: Adam at a constant learning rate, batch 8, 1024-frame sequences, up
    # to 300 epochs with patience 50, 44.1 kHz features, the 256-channel CNN pooling
    # frequency by 5, 4, 2 and a 256 GRU; drossos schedule with their gamma 0.125.
    "paper": dict(
        epochs=300,
        lr=1e-4,
        batch_size=8,
        seq_len=1024,
        patience=50,
        lr_decay_patience=0,
        gamma=None,
        decay_epochs=50.0,
        model={},
        features=FEATURE_PRESETS["paper"].to_dict(),
        **{**RECIPE_OFF, "tune_postprocess": True, "rejected_weight": 2.0},
    ),
    # Trains the demo project to a test segment F1 of about 0.9 in about 5 minutes on two
    # CPU cores: the model preset's small CRNN (32 channels, GRU 64) with frequency pooled
    # 2, 2, 2 so the GRU still sees 5 bands (pooling to 1 band lost about 0.03 F1 on the
    # demo), 5 s sequences, a faster drossos decay (p_tf near p_min after 4 epochs) and a
    # halved learning rate after 4 epochs without progress. A bidirectional context GRU (32
    # each way) between the CNN and the fed-back GRU lets a frame see the whole window: on
    # benchmarks/real_sounds.py's never-heard sounds, three seeds each, it raised event F1
    # from 0.119 to 0.126 with a random CNN and from 0.147 to 0.195 with a pretrained front
    # end (at every seed), the causal GRU's late onsets being the main event-F1 loss there.
    "fast": dict(
        epochs=40,
        lr=2e-3,
        batch_size=8,
        seq_len=256,
        patience=15,
        lr_decay_patience=4,
        gamma=1.0,
        decay_epochs=20.0,
        model=_fast_model(),
        features=FEATURE_PRESETS["fast"].to_dict(),
        # The generalisation recipe, measured on benchmarks/real_sounds.py (test sources
        # never heard in training): event mixing and background subtraction help; class
        # balancing and positive weights were switched off because with the fed-back
        # binarised predictions they turned into runs of insertions (ER 1.45 vs 0.85).
        # Mixing 1-3 events into 70 % of the sequences (was 1-2 into 50 %): three seeds,
        # 0.588 / 0.632 / 0.269 against 0.562 / 0.667 / 0.228, better at every seed on all
        # three scores but one equal; 90 % was worse at seed 1 (seeds 0-1: 0.560 / 0.669 /
        # 0.233 against 0.585 / 0.617 / 0.251 at 70 %).
        mix_probability=0.7,
        mix_max_events=3,
        mix_gain_db=[-12.0, 3.0],
        # Each window less its per-band median (the 50th percentile), not its quiet level (the
        # 10th): on benchmarks/real_sounds.py, three seeds, the never-heard test clips scored
        # 0.562 / 0.667 / 0.228 against 0.523 / 0.764 / 0.201, better at every seed (25th:
        # 0.524 / 0.733 / 0.197; 70th: 0.573 / 0.645 / 0.222). The median attenuates a sound
        # that fills more than half of a window (over 2.5 s at 5 s windows) in its bands; the
        # 10th percentile only one that fills nine tenths of it.
        background_percentile=50.0,
        # SpecAugment is off: on benchmarks/real_sounds.py, three seeds, it changed nothing
        # on the never-heard sounds (0.512 / 0.740 / 0.169 with it, 0.512 / 0.729 / 0.165
        # without), lowered the best val F1 on the heard ones (0.685 → 0.574), and after one
        # review round of 60 clips (two seeds) the run without it scored 0.765 / 0.386 / 0.453
        # against 0.641 / 0.520 / 0.350. The demo: 0.925 / 0.143 / 0.818 without, 0.949 /
        # 0.089 / 0.831 with (one thread).
        freq_mask_bands=0,
        time_mask_frames=0,
        gain_db=0.0,
        freq_shift_bands=0,
        mixup_probability=0.0,
        balance_classes=False,
        pos_weight_power=0.0,
        rejected_weight=2.0,
        # The mean teacher is off: on benchmarks/real_sounds.py with 120 unlabelled clips of
        # the test side's sources in the project (what a user's unlabelled hours hold), three
        # seeds, it lowered segment F1 at every seed (0.512 → 0.476 in the mean) and raised
        # the error rate (0.740 → 0.827), at twice the time per epoch.
        consistency_weight=0.0,
        # Averaged weights (about the last 100 batches) smooth the free-running model's
        # epoch-to-epoch jumps: over two training seeds, segment F1 0.469 → 0.495 and ER
        # 1.02 → 0.92 on the real-sounds benchmark's never-heard clips.
        average_decay=0.99,
        # L2 weight decay (Adam's): over three training seeds on the real-sounds benchmark
        # (bf16 CNN, mean teacher off) event F1 0.138 → 0.169 and best val F1 0.544 → 0.574,
        # both higher at every seed; segment F1 0.500 → 0.512, ER 0.747 → 0.740. 2e-3 gave
        # 0.514 / 0.732 / 0.141.
        weight_decay=5e-4,
        tune_postprocess=True,
        # Tuning maximises F1 less the segment error rate: on two trained benchmark projects
        # (cached posteriors, the same models) ER 0.935 → 0.758 and 1.078 → 0.784, segment
        # F1 0.453 → 0.479 and 0.471 → 0.476, event F1 0.179 → 0.150 and 0.111 → 0.092.
        tune_er_weight=1.0,
    ),
}


@dataclass
class TrainConfig:
    """Everything a run needs besides the project; ``to_dict`` is what the store keeps."""

    preset: str = "fast"
    # "multi-label" (sigmoid per class, the paper's) or "single-label" (one class per frame
    # with an explicit background, softmax; the fed-back label is an embedding lookup).
    task: str = "multi-label"
    # Single-label only: > 0 trains with a sampled softmax of this many candidate classes per
    # batch (sharing the full softmax's weight and bias, which validation, detection and export
    # use); 0 trains with the full softmax. ``sampler`` draws the candidates: "log-uniform"
    # (Zipf over the classes ranked by their training frame counts) or "frequency" (in
    # proportion to those counts, plus one).
    sampled_softmax: int = 0
    sampler: str = "log-uniform"
    epochs: int = 40
    batch_size: int = 8
    lr: float = 2e-3
    weight_decay: float = 5e-4
    grad_clip: float = 0.5
    # Teacher forcing (see tfstudio.model.schedules.make_schedule); gamma is the drossos
    # schedule's slope (None: the paper's 0.125) and is not used by the other schedules.
    schedule: str = "drossos"
    gamma: float | None = 1.0
    p_min: float = 0.05
    p_max: float = 0.9
    unit: str = "batch"
    decay_epochs: float = 20.0
    # Data.
    seq_len: int = 256
    features: dict[str, Any] = field(default_factory=lambda: FEATURE_PRESETS["fast"].to_dict())
    # Extra CRNN parameters over the preset's (channels, gru_hidden, dropout, pools, kernel).
    model: dict[str, Any] = field(default_factory=_fast_model)
    # The generalisation recipe (tfstudio.train.augment); 0 / False switches a part off.
    # Event mixing: with this probability a training sequence gets 1..mix_max_events
    # labelled events cut from other training recordings, at a gain in mix_gain_db.
    mix_probability: float = 0.7
    mix_max_events: int = 3
    mix_gain_db: list[float] = field(default_factory=lambda: [-12.0, 3.0])
    # Each mixed event first becomes another instance of its class (EventVariation): a
    # random equaliser of ± mix_filter_db dB, a shift of ± mix_shift_bands mel bands and a
    # time stretch by up to 1 + mix_stretch. 0 switches a part off.
    mix_filter_db: float = 0.0
    mix_shift_bands: int = 0
    mix_stretch: float = 0.0
    # SpecAugment masks, a random level change (± dB) and a spectral shift (± mel bands); off
    # in the fast preset (see there). They are also the noise the mean teacher's student sees.
    freq_mask_bands: int = 0
    time_mask_frames: int = 0
    gain_db: float = 0.0
    freq_shift_bands: int = 0
    # Subtract each window's per-band percentile (dB) before normalising: the model sees
    # what rises above the background, not the background's level and colour. 0: off.
    background_percentile: float = 50.0
    # Per-channel energy normalisation (PCEN, Wang et al. 2017) of each window before the
    # background subtraction: each band divided by its own smoothed past with this time
    # constant (s; librosa's 0.4 is typical), root-compressed instead of the log. 0: off, as
    # measured on benchmarks/real_sounds.py: computed per 5 s window it fades sustained events
    # (event-vs-other frames d' 0.49 against 1.23 for the log) and at 0.4 s or 2 s the model
    # had not detected anything on validation after 12 epochs (the log: val F1 0.24 at 5).
    pcen_time_constant: float = 0.0
    # Mixup of sequences and their targets, λ ~ Beta(alpha, alpha).
    mixup_probability: float = 0.0
    mixup_alpha: float = 0.4
    # Windows drawn so each class is seen about equally often.
    balance_classes: bool = False
    # Positive frames weigh (negatives / positives) ** pos_weight_power in the BCE (capped at 10).
    pos_weight_power: float = 0.0
    # Frames of rejected detections (class absent there) weigh this much in the loss.
    rejected_weight: float = 2.0
    # A pretrained CNN front end (tfstudio.train.frontend; made by benchmarks/frontend.py) to
    # start a new run's CNN from, instead of random weights: a file path, "" for none. It
    # must have been made for this run's CNN sizes, features and background subtraction.
    init_cnn: str = ""
    # The CNN's learning rate as a share of lr: below 1 a pretrained front end moves less
    # than the layers trained from scratch; 0 keeps it as it is.
    cnn_lr_scale: float = 1.0
    # Mean teacher (Tarvainen & Valpola 2017, as the DCASE task 4 baseline): recordings with
    # no labels and no split join training through a consistency loss between the model on
    # augmented features and an exponential moving average of it on clean ones. The weight
    # ramps up over consistency_rampup_epochs; 0 switches it off.
    consistency_weight: float = 0.0
    consistency_rampup_epochs: float = 5.0
    ema_decay: float = 0.999
    # > 0: validate, keep and detect with an exponential moving average of the weights (Polyak
    # averaging) with this decay per batch, not the last batch's weights: on a few minutes of
    # labels the free-running model's validation scores jump from epoch to epoch. 0: off.
    average_decay: float = 0.99
    # After training, choose each class's threshold and median filter on the val split; the
    # results go to class_thresholds / class_median_filter_frames (and class_hysteresis),
    # which detection then uses.
    tune_postprocess: bool = True
    # What the tuning maximises per class: the mean of segment and event F1 less this much
    # of the segment error rate; > 0 trades a little F1 for fewer insertions.
    tune_er_weight: float = 1.0
    # The tuning also chooses each class's hysteresis (see ``hysteresis``). On the real-sounds
    # benchmark's never-heard test clips, seeds 0-3: event F1 0.254 → 0.284 on average, higher
    # at every seed (0.247 → 0.297, 0.286 → 0.311, 0.268 → 0.299, 0.215 → 0.230), segment F1
    # 0.569 → 0.575, ER 0.662 → 0.649: sounds that fade out keep their detection to their end.
    tune_hysteresis: bool = True
    class_thresholds: dict[str, float] = field(default_factory=dict)
    class_median_filter_frames: dict[str, int] = field(default_factory=dict)
    class_hysteresis: dict[str, float] = field(default_factory=dict)
    patience: int = 15
    # Where the val split is empty (a project of a few long recordings has none to spare):
    # the last this share of every training recording validates instead (early stopping,
    # tuning), and is not trained on; 0 makes an empty val split an error.
    val_within: float = 0.2
    # Learning rate × lr_decay_factor after lr_decay_patience epochs without a better
    # validation loss (0: a constant learning rate, as in the paper).
    lr_decay_patience: int = 4
    lr_decay_factor: float = 0.5
    # Runtime.
    device: str = "auto"
    amp: bool = True
    seed: int = 0
    num_workers: int = 0
    max_batches_per_epoch: int | None = None
    checkpoint_every_s: float = 300.0
    # Detection defaults, used for validation F1/ER and by `tfstudio detect`.
    threshold: float = 0.5
    median_filter_frames: int = 5
    min_event_s: float = 0.0
    min_gap_s: float = 0.0
    # Below 1: an event that passed the threshold goes on while the posterior stays above
    # threshold × hysteresis (1: one threshold). Per class in class_hysteresis when tuned.
    hysteresis: float = 1.0

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_preset(cls, preset: str = "fast", **overrides: Any) -> TrainConfig:
        """The preset's values with ``overrides`` on top (None values are ignored)."""
        if preset not in TRAIN_PRESETS:
            raise TrainError(f"unknown preset {preset!r}; choose one of {', '.join(TRAIN_PRESETS)}")
        values = {**TRAIN_PRESETS[preset], "preset": preset}
        given = {k: v for k, v in overrides.items() if v is not None}
        if "model" in given:  # model overrides add to the preset's, not replace them
            if not isinstance(given["model"], Mapping):
                raise TrainError(
                    f'model must be a mapping such as {{"channels": 64}}, not {given["model"]!r}'
                )
            given["model"] = {**values.get("model", {}), **given["model"]}
        values.update(given)
        if values.get("task") == "single-label":
            defaults = dict(SINGLE_LABEL_DEFAULTS)
            if values.get("sampled_softmax"):
                # The consistency loss compares full distributions over every class: what the
                # sampled softmax is there to avoid.
                defaults["consistency_weight"] = 0.0
            values.update({k: v for k, v in defaults.items() if k not in given})
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise TrainError(f"unknown training option(s): {', '.join(sorted(unknown))}")
        try:
            return cls(**dict(data))
        except (TypeError, ValueError, AttributeError) as exc:
            # A value of the wrong type (a number where a list belongs...) fails in validate.
            raise TrainError(f"bad training option value: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def thresholds_for(self, classes: Sequence[str]) -> list[float]:
        """Each class's detection threshold: its tuned one, else ``threshold``."""
        return [float(self.class_thresholds.get(c, self.threshold)) for c in classes]

    def hysteresis_for(self, classes: Sequence[str]) -> list[float]:
        """Each class's hysteresis (a share of its threshold): its tuned one, else
        ``hysteresis``."""
        return [float(self.class_hysteresis.get(c, self.hysteresis)) for c in classes]

    def median_filters_for(self, classes: Sequence[str]) -> list[int]:
        """Each class's median filter (frames): its tuned one, else ``median_filter_frames``."""
        return [
            int(self.class_median_filter_frames.get(c, self.median_filter_frames)) for c in classes
        ]

    @property
    def single_label(self) -> bool:
        return self.task == "single-label"

    @property
    def feature_config(self) -> FeatureConfig:
        return FeatureConfig.from_dict(self.features)

    def _check_types(self) -> None:
        """Each field holds its declared kind: ``--set`` and hand-edited configs give JSON of
        any shape, and a string "no" must not pass as a true flag."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kind = _FIELD_KINDS.get(f.name)
            name = f.name.replace("_", " ")
            if kind is None or (value is None and f.name in _OPTIONAL):
                continue
            if kind is bool:
                ok = isinstance(value, bool)
                want = "true or false"
            elif kind is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
                want = "a whole number"
            elif kind is float:
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                want = "a number"
            elif kind is str:
                ok = isinstance(value, str)
                want = "text"
            elif kind is list:
                ok = isinstance(value, list | tuple) and all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in value
                )
                want = "a list of numbers"
            else:
                ok = isinstance(value, dict)
                want = "a mapping"
            if not ok:
                raise TrainError(f"{name} must be {want}, not {value!r}")

    def validate(self) -> None:
        """Raise :class:`TrainError` naming the first bad value."""
        self._check_types()

        checks = [
            (self.preset in PRESETS, f"preset must be one of {', '.join(PRESETS)}"),
            (self.epochs >= 1, "epochs must be at least 1"),
            (self.batch_size >= 1, "batch size must be at least 1"),
            (self.lr > 0, "learning rate must be positive"),
            (self.grad_clip > 0, "grad clip must be positive"),
            (
                self.schedule in SCHEDULE_NAMES,
                f"schedule must be one of {', '.join(SCHEDULE_NAMES)}",
            ),
            (0 <= self.p_min <= self.p_max <= 1, "need 0 <= p_min <= p_max <= 1"),
            (self.gamma is None or self.gamma > 0, "gamma must be positive"),
            (self.unit in ("batch", "step"), "unit must be 'batch' or 'step'"),
            (self.seq_len >= 8, "sequence length must be at least 8 frames"),
            (self.patience >= 1, "patience must be at least 1"),
            (0 <= self.val_within < 1, "val_within must be in [0, 1)"),
            (self.lr_decay_patience >= 0, "lr decay patience must not be negative"),
            (0 < self.lr_decay_factor <= 1, "lr decay factor must be in (0, 1]"),
            (
                min(self.freq_mask_bands, self.time_mask_frames, self.gain_db) >= 0
                and self.freq_shift_bands >= 0,
                "augmentation sizes must not be negative",
            ),
            (0 <= self.mix_probability <= 1, "mix probability must be in [0, 1]"),
            (self.mix_max_events >= 1, "mix max events must be at least 1"),
            (
                min(self.mix_filter_db, self.mix_shift_bands, self.mix_stretch) >= 0,
                "event variation sizes must not be negative",
            ),
            (
                len(self.mix_gain_db) == 2 and self.mix_gain_db[0] <= self.mix_gain_db[1],
                "mix gain must be [low, high] dB with low <= high",
            ),
            (0 <= self.mixup_probability <= 1, "mixup probability must be in [0, 1]"),
            (0 <= self.background_percentile < 100, "background percentile must be in [0, 100)"),
            (self.pcen_time_constant >= 0, "PCEN time constant must not be negative"),
            (self.mixup_alpha > 0, "mixup alpha must be positive"),
            (self.pos_weight_power >= 0, "positive weight power must not be negative"),
            (self.rejected_weight >= 0, "rejected weight must not be negative"),
            (0 <= self.cnn_lr_scale <= 1, "cnn lr scale must be in [0, 1]"),
            (self.consistency_weight >= 0, "consistency weight must not be negative"),
            (self.consistency_rampup_epochs >= 0, "consistency ramp-up must not be negative"),
            (0 <= self.ema_decay < 1, "EMA decay must be in [0, 1)"),
            (0 <= self.average_decay < 1, "weight-averaging decay must be in [0, 1)"),
            (self.tune_er_weight >= 0, "tuning error-rate weight must not be negative"),
            (
                all(0 <= v <= 1 for v in self.class_thresholds.values()),
                "class thresholds must be in [0, 1]",
            ),
            (
                all(v >= 1 and v % 2 == 1 for v in self.class_median_filter_frames.values()),
                "class median filter lengths must be odd numbers of frames",
            ),
            (self.device in DEVICES, f"device must be one of {', '.join(DEVICES)}"),
            (self.num_workers >= 0, "workers must not be negative"),
            (
                self.max_batches_per_epoch is None or self.max_batches_per_epoch >= 1,
                "max batches per epoch must be at least 1",
            ),
            (0 <= self.threshold <= 1, "threshold must be in [0, 1]"),
            (0 < self.hysteresis <= 1, "hysteresis must be in (0, 1]: a share of the threshold"),
            (
                all(0 < v <= 1 for v in self.class_hysteresis.values()),
                "class hysteresis values must be in (0, 1]",
            ),
            (
                self.median_filter_frames >= 1 and self.median_filter_frames % 2 == 1,
                "median filter length must be an odd number of frames",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise TrainError(message)
        self._check_task()
        try:
            self.feature_config  # noqa: B018 - validates the feature parameters
        except (TypeError, ValueError) as exc:
            raise TrainError(f"features: {exc}") from None

    def _check_task(self) -> None:
        if self.task not in TASKS:
            raise TrainError(f"task must be one of {', '.join(TASKS)}, not {self.task!r}")
        if self.sampler not in SAMPLERS:
            raise TrainError(f"sampler must be one of {', '.join(SAMPLERS)}, not {self.sampler!r}")
        if self.sampled_softmax < 0:
            raise TrainError("sampled softmax size must not be negative (0: the full softmax)")
        if not self.single_label:
            if self.sampled_softmax:
                raise TrainError("the sampled softmax needs --task single-label")
            return
        clashes = [
            (self.mix_probability > 0, "event mixing (mix_probability)"),
            (self.mixup_probability > 0, "mixup (mixup_probability)"),
            (self.balance_classes, "class balancing (balance_classes)"),
            (self.pos_weight_power > 0, "positive weights (pos_weight_power)"),
            (self.tune_postprocess, "per-class threshold tuning (tune_postprocess)"),
            (
                self.hysteresis < 1 or bool(self.class_hysteresis),
                "hysteresis (it applies to independent posteriors)",
            ),
            (
                self.sampled_softmax > 0 and self.consistency_weight > 0,
                "the consistency loss with a sampled softmax (consistency_weight)",
            ),
        ]
        bad = [name for clash, name in clashes if clash]
        if bad:
            raise TrainError(
                "a single-label run cannot use "
                + ", ".join(bad)
                + ": set them to 0 / false (the presets do when --task single-label is given)"
            )


def _kind(annotation: str) -> type | None:
    base = annotation.split("[", 1)[0].split("|", 1)[0].strip()
    return {"bool": bool, "int": int, "float": float, "str": str, "list": list, "dict": dict}.get(
        base
    )


# The declared kind of each field (annotations are strings under ``from __future__``).
_FIELD_KINDS = {f.name: _kind(str(f.type)) for f in dataclasses.fields(TrainConfig)}
_OPTIONAL = {f.name for f in dataclasses.fields(TrainConfig) if "None" in str(f.type)}
