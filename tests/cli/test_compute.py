"""The computing commands' process settings: freed memory is kept for the next allocation
(glibc), so repeated large tensors stop faulting their pages in again."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

GLIBC = sys.platform == "linux" and bool(os.confstr("CS_GNU_LIBC_VERSION") or "")

# Ten 64 MiB tensors written and freed one after the other, as a training step's activations
# are; prints whether the setting applied and the page faults of the loop.
LOOP = """
import resource, sys
import torch
from tfstudio.cli import compute
applied = None
if sys.argv[1] == "reuse":
    applied = compute.reuse_freed_memory()
elif sys.argv[1] in ("claim", "library"):  # the program's own process, or a caller's
    if sys.argv[1] == "claim":
        compute.claim_process()
    compute.prepare_compute_process()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    buffer = torch.empty(64 << 20, dtype=torch.uint8)
    buffer.fill_(1)
    del buffer
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


# Page faults of the loop with freed memory kept, in 64 MiB buffers at most (10 without).
REUSED_AT_MOST = 4


def _loop(mode: str, **env: str) -> tuple[str, int]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", LOOP, mode],
        capture_output=True,
        text=True,
        check=True,
        env={**environ, **env},
    )
    applied, faults = done.stdout.split()
    return applied, int(faults)


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator")
def test_freed_memory_is_reused_instead_of_faulted_in_again():
    _, plain = _loop("plain")
    applied, reused = _loop("reuse")
    assert applied == "True"
    pages = (64 << 20) // 4096
    assert plain > 8 * pages  # every buffer faulted in afresh
    # The first two only (the next buffer is made before the last one is let go), and what
    # the process faults besides (OpenMP threads starting): 2.0–3.0× measured, 3.002× once
    # beside a training run.
    assert reused < REUSED_AT_MOST * pages


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator")
def test_an_allocator_the_user_chose_is_left_alone():
    applied, _ = _loop("reuse", MALLOC_MMAP_MAX_="65536")
    assert applied == "False"
    applied, _ = _loop("reuse", LD_PRELOAD="libjemalloc.so.2-not-there")
    assert applied == "False"


@pytest.mark.skipif(not GLIBC, reason="glibc's allocator")
def test_a_command_sets_the_allocator_only_in_tfstudios_own_process():
    pages = (64 << 20) // 4096
    _, own = _loop("claim")
    _, library = _loop("library")  # main() called in-process, as the tests do
    assert own < REUSED_AT_MOST * pages < 8 * pages < library
