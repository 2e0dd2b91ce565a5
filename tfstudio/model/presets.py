"""The CRNN's named sizes (plain data, no torch: the app and the config validation read them)."""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS"]

PRESETS: dict[str, dict[str, Any]] = {
    # Drossos et al. 2019, as in dr-costas/SEDLM.
    "paper": dict(channels=256, gru_hidden=256, dropout=0.25, pools=(5, 4, 2)),
    # About 1/50 of the paper's parameters (73 k vs 3.7 M with 6 classes); a forward and
    # backward pass of 8 × 256 frames takes ~0.12 s on two CPU cores.
    "fast": dict(channels=32, gru_hidden=64, dropout=0.25, pools=(5, 4, 2)),
}
