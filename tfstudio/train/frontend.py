"""Pretrained CNN front ends: the CRNN's convolutional part trained elsewhere, loaded into a
new run's model before training (``TrainConfig.init_cnn``).

A front end fits only the model and features it was trained with: the CNN's sizes, every
feature parameter and the per-window front (background subtraction, PCEN). The file says which
(``frontend_fields``) and :func:`load_frontend` refuses a mismatch by name, so a run never
starts from weights that expect other inputs. ``benchmarks/frontend.py`` makes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from tfstudio.features.config import FeatureConfig
from tfstudio.model.crnn import CRNN, CRNNConfig

__all__ = ["FRONTEND_FORMAT", "FrontendError", "frontend_fields", "load_frontend"]

FRONTEND_FORMAT = "tfstudio-frontend/1"


class FrontendError(ValueError):
    """A front-end file that cannot be used for this run; the message names the file."""


def frontend_fields(
    model: CRNNConfig,
    features: FeatureConfig,
    background_percentile: float,
    pcen_time_constant: float = 0.0,
) -> dict[str, dict[str, Any]]:
    """What a CNN's weights depend on, as plain JSON: stored in a front-end file and compared
    with a run's when it is loaded."""
    return {
        "model": {
            "n_mels": model.n_mels,
            "channels": model.channels,
            "kernel": model.kernel,
            "pools": list(model.pools),
        },
        "features": features.to_dict(),
        "front": {
            "background_percentile": float(background_percentile),
            "pcen_time_constant": float(pcen_time_constant),
        },
    }


def load_frontend(
    path: Path | str,
    model: CRNNConfig,
    features: FeatureConfig,
    background_percentile: float,
    pcen_time_constant: float = 0.0,
) -> dict[str, Tensor]:
    """The CNN state dict in the front-end file at ``path``, after checking that it was made
    for this model, these features and this front; :class:`FrontendError` otherwise."""
    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FrontendError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FrontendError(f"{path}: is a folder, not a front-end file") from None
    except Exception as exc:  # torch raises many kinds for a file that is not its own
        raise FrontendError(f"{path}: not a front-end file ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or data.get("format") != FRONTEND_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise FrontendError(
            f"{path}: not a front-end file (format {found!r}, want {FRONTEND_FORMAT!r})"
        )
    want = frontend_fields(model, features, background_percentile, pcen_time_constant)
    for section, fields in want.items():
        stored = data.get(section)
        if not isinstance(stored, dict):
            raise FrontendError(f"{path}: no {section!r} section")
        if section == "features":
            # A file made before a feature field existed (mel_scale) was made with its default.
            stored = {**FeatureConfig().to_dict(), **stored}
        for key, value in fields.items():
            have = stored.get(key)
            if isinstance(value, float) and isinstance(have, (int, float)):
                same = abs(float(have) - value) < 1e-9
            else:
                same = have == value
            if not same:
                raise FrontendError(
                    f"{path}: made for {section}.{key} = {have!r}, but this run has {value!r}"
                )
    state = data.get("cnn")
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise FrontendError(f"{path}: no CNN weights ('cnn')")
    # The header can fit while the weights do not (a file made by hand, or by other code):
    # compare them with the CNN this run will build, made on the meta device (no memory, no
    # random draws), so that the mismatch too is refused before a run exists.
    with torch.device("meta"):
        expected = CRNN(model).cnn.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = [
            f"missing {', '.join(missing[:3])}" if missing else "",
            f"unexpected {', '.join(unexpected[:3])}" if unexpected else "",
        ]
        raise FrontendError(
            f"{path}: its CNN weights do not fit this model ({'; '.join(p for p in parts if p)})"
        )
    for key, want_tensor in expected.items():
        if tuple(state[key].shape) != tuple(want_tensor.shape):
            raise FrontendError(
                f"{path}: CNN weight {key} has shape {tuple(state[key].shape)}, this model's "
                f"is {tuple(want_tensor.shape)}"
            )
    return state
