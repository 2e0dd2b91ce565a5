"""Process settings for the commands that compute with torch (train, detect, evaluate and
the benches that time them): made before the work starts, in their own process; never in the
GUI's, which runs training and detection as child processes of these commands."""

from __future__ import annotations

import ctypes
import os

__all__ = ["claim_process", "prepare_compute_process", "reuse_freed_memory"]

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
# What a user (or a preloaded jemalloc / tcmalloc) already decided about the allocator.
_ALLOCATOR_SETTINGS = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


_own_process = False


def claim_process() -> None:
    """Called by the program's entry point (``tfstudio``, ``python -m tfstudio``): the process
    is tfstudio's own, so its allocator may be set. A caller of ``tfstudio.cli.main`` as a
    library (the tests) keeps its process as it was."""
    global _own_process
    _own_process = True


def prepare_compute_process(*, wait_policy: bool = True) -> None:
    """Call first thing in a computing command, before torch is imported. ``wait_policy``
    False: the allocator only (the benches, see ``tfstudio.cli.bench_cmds``)."""
    if wait_policy:
        # Idle OpenMP threads sleep instead of spinning: with spinning threads, training on a
        # CPU that is also doing other work (the GUI, another process) ran ten times slower
        # or worse on two shared cores; the cost on an otherwise idle machine is small. An
        # explicit OMP_WAIT_POLICY is respected.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if _own_process:
        reuse_freed_memory()


def reuse_freed_memory() -> bool:
    """Keep the memory torch frees for its next allocation rather than hand it back to the
    system; whether that was done (glibc only, and not where the allocator is already set).

    glibc serves an allocation over 32 MiB with a fresh ``mmap`` and unmaps it when freed, so
    each training step of the paper preset faulted in its large activations and gradients
    page by page again: 132 000-146 000 page faults a step. With chunks taken from the heap
    and the heap not trimmed, 2 000-3 500, and the step (B 8, T 512, 2 threads, quiet)
    1 193 / 1 205 ms -> 1 019 / 1 030 ms, for +225 MiB of peak RSS (1 280 -> 1 505 MiB).
    The usual fix, preloading jemalloc or tcmalloc, needs a library and a restart; mallopt
    is glibc's own and takes effect at once.
    """
    if any(name in os.environ for name in _ALLOCATOR_SETTINGS):
        return False
    if "malloc" in os.environ.get("LD_PRELOAD", ""):  # jemalloc, tcmalloc, mimalloc
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return False
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (ValueError, OSError, AttributeError):  # not glibc, or no such call
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
