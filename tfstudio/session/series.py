"""Growing numpy buffers for live curves: append in O(1), hand pyqtgraph a view, no copies."""

from __future__ import annotations

import numpy as np


class Series:
    """x/y pairs appended one by one; ``x``/``y`` are views of the filled part."""

    def __init__(self, capacity: int = 1024) -> None:
        self._x = np.empty(capacity, dtype=float)
        self._y = np.empty(capacity, dtype=float)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, x: float, y: float | None) -> None:
        if self._n == len(self._x):
            # Doubling keeps appends amortised O(1) for runs of any length.
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._x[self._n] = x
        self._y[self._n] = np.nan if y is None else y
        self._n += 1

    def clear(self) -> None:
        self._n = 0

    @property
    def x(self) -> np.ndarray:
        return self._x[: self._n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self._n]

    def last_x(self) -> float | None:
        return float(self._x[self._n - 1]) if self._n else None
