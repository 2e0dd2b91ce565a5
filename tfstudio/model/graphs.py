"""Training's first pass (the no-grad stepped pass that decides the feedback) as one CUDA graph.

On a GPU that pass is launch-bound: ~17 small kernels a frame, 8 700 launches for a batch of
512 frames, against one or two for the CNN's layers. Captured once per batch shape and
replayed, it is one launch. The captured code is :meth:`CRNN._stepped` itself, run on static
copies of the pass's inputs (CNN features, truth, mask); the weights are read where they live,
so an optimiser that updates them in place (Adam, SGD, ``load_state_dict``) needs no new
capture, while moving the model (new storage) makes one.

A single-label model's pass (:meth:`CRNN._stepped_labels`: argmax, then the embedding of
the id fed back, all on the device) is captured alike; it hands back the GRU states and the
ids fed.

Off by default (:attr:`CRNN.cuda_graphs`): no GPU has run it yet. ``benchmarks/gpu_check.py``
checks its outputs against the eager pass on CUDA and ``bench train`` times both
(``recurrent_graphed_ms``); whoever first measures it faster there should turn it on.
"""

from __future__ import annotations

import warnings
import weakref
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:
    from tfstudio.model.crnn import CRNN

__all__ = ["SteppedPassGraph", "graph_key", "stepped_labels_pass", "stepped_pass"]

# At most this many captured shapes per model (training has one or two: full batches and the
# last, shorter one; each graph keeps its own memory pool).
MAX_GRAPHS = 4

# Each model's captured passes, kept beside the model rather than in it (a deepcopy of the
# model, as the mean teacher and averaging make, must not copy CUDA graphs), and gone with it.
_GRAPHS: weakref.WeakKeyDictionary[CRNN, dict[tuple[Any, ...], SteppedPassGraph]] = (
    weakref.WeakKeyDictionary()
)


def graph_key(
    model: CRNN, encoded: Tensor, truth: Tensor | None, masked: bool, keep_states: bool
) -> tuple[Any, ...]:
    """What a captured pass depends on besides its inputs' values: shapes, dtypes, the
    device, what is fed back, and where every weight lives."""
    return (
        model.config.single_label,
        tuple(encoded.shape),
        encoded.dtype,
        encoded.device,
        truth is None,
        masked,
        keep_states,
        tuple(p.data_ptr() for p in model.parameters()),
    )


class SteppedPassGraph:
    """One batch shape's first pass: ``graph(model, encoded, truth, mask)`` gives what
    ``model._stepped(encoded, truth, mask.unbind(1), keep_states=...)`` gives (fresh tensors,
    not the graph's buffers); for a single-label model, ``model._stepped_labels``'s (GRU
    states, ids fed). The graph keeps no reference to the model (it is cached beside it, in
    a weak mapping).

    ``capture=False`` runs the same body eagerly on the static buffers (what the capture
    records; the tests check it on a CPU)."""

    def __init__(
        self,
        model: CRNN,
        encoded: Tensor,
        truth: Tensor | None,
        mask: Tensor | None,
        *,
        keep_states: bool,
        capture: bool = True,
    ) -> None:
        self.keep_states = keep_states
        self.encoded = encoded.detach().clone()
        self.truth = None if truth is None else truth.detach().clone()
        self.mask = None if mask is None else mask.detach().clone()
        self.graph: torch.cuda.CUDAGraph | None = None
        self.outputs: tuple[Tensor | None, ...] | None = None
        if capture:
            self._capture(model)

    def _body(self, model: CRNN) -> tuple[Tensor | None, ...]:
        masks = None if self.mask is None else self.mask.unbind(1)
        with torch.no_grad():
            if model.config.single_label:
                steps = model._stepped_labels(self.encoded, self.truth, masks)
                return steps.hidden, steps.fed
            return model._stepped(self.encoded, self.truth, masks, keep_states=self.keep_states)

    def _capture(self, model: CRNN) -> None:
        # Warm up on a side stream (as torch.cuda.graphs asks: lazy initialisations and
        # cuBLAS workspaces happen outside the capture), then record one pass.
        side = torch.cuda.Stream(self.encoded.device)
        side.wait_stream(torch.cuda.current_stream(self.encoded.device))
        with torch.cuda.stream(side):
            for _ in range(2):
                self._body(model)
        torch.cuda.current_stream(self.encoded.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.outputs = self._body(model)
        self.graph = graph

    def __call__(
        self, model: CRNN, encoded: Tensor, truth: Tensor | None, mask: Tensor | None
    ) -> tuple[Tensor | None, ...]:
        self.encoded.copy_(encoded.detach())
        if self.truth is not None and truth is not None:
            self.truth.copy_(truth.detach())
        if self.mask is not None and mask is not None:
            self.mask.copy_(mask)
        if self.graph is None:
            return self._body(model)
        self.graph.replay()
        assert self.outputs is not None
        # The graph overwrites its outputs at the next replay: hand out copies.
        return tuple(None if out is None else out.clone() for out in self.outputs)


def stepped_pass(
    model: CRNN,
    encoded: Tensor,
    truth: Tensor | None,
    mask_steps: tuple[Tensor, ...] | None,
    *,
    keep_states: bool,
) -> tuple[Tensor, Tensor, Tensor | None]:
    """A multi-label model's first pass, ``model._stepped``'s (logits, fed, states), through
    its cached CUDA graph for this shape (captured on first use); falls back to the eager
    pass, once and for all on this model, if capturing fails."""
    logits, fed, states = _replayed(model, encoded, truth, mask_steps, keep_states=keep_states)
    assert logits is not None and fed is not None
    return logits, fed, states


def stepped_labels_pass(
    model: CRNN, encoded: Tensor, truth: Tensor | None, mask_steps: tuple[Tensor, ...] | None
) -> tuple[Tensor, Tensor]:
    """A single-label model's first pass through its cached CUDA graph, as
    :func:`stepped_pass`: (GRU states (B, T, H), the ids fed (B, T))."""
    hidden, fed = _replayed(model, encoded, truth, mask_steps, keep_states=True)
    assert hidden is not None and fed is not None
    return hidden, fed


def _replayed(
    model: CRNN,
    encoded: Tensor,
    truth: Tensor | None,
    mask_steps: tuple[Tensor, ...] | None,
    *,
    keep_states: bool,
) -> tuple[Tensor | None, ...]:
    mask = None if mask_steps is None else torch.stack(mask_steps, dim=1)
    key = graph_key(model, encoded, truth, mask is not None, keep_states)
    graphs = _GRAPHS.setdefault(model, {})
    graph = graphs.get(key)
    if graph is None:
        if len(graphs) >= MAX_GRAPHS:
            graphs.clear()
        try:
            graph = SteppedPassGraph(model, encoded, truth, mask, keep_states=keep_states)
        except RuntimeError as exc:
            warnings.warn(
                f"capturing the first pass as a CUDA graph failed ({exc}); stepping it "
                "eagerly from now on",
                RuntimeWarning,
                stacklevel=3,
            )
            model.cuda_graphs = False
            graphs.clear()
            graph = SteppedPassGraph(
                model, encoded, truth, mask, keep_states=keep_states, capture=False
            )
            return graph(model, encoded, truth, mask)
        graphs[key] = graph
    return graph(model, encoded, truth, mask)
