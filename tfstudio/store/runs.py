"""Is a run's process still alive? A pid alone can be reused, so a run also records the
host it runs on and its process's start time; a run whose process is gone was killed."""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass

# Start times come from the kernel in clock ticks: allow for rounding.
START_TOLERANCE_S = 1.0

DEAD_RUN_MESSAGE = "process ended unexpectedly"


def this_host() -> str:
    return socket.gethostname()


def _linux_stat(pid: int) -> tuple[str, float] | None:
    """(state letter, start time) of a process from /proc, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
        with open("/proc/stat", "rb") as handle:
            boot = next(
                float(line.split()[1])
                for line in handle.read().decode("ascii", "replace").splitlines()
                if line.startswith("btime ")
            )
        # The command name (field 2) may hold spaces and ')': count fields after its end.
        fields = stat[stat.rfind(")") + 2 :].split()
        ticks = int(fields[19])  # field 22: starttime, in clock ticks after boot
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return fields[0], boot + ticks / os.sysconf("SC_CLK_TCK")


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None where unknown."""
    if not sys.platform.startswith("linux"):
        return None
    stat = _linux_stat(pid)
    return None if stat is None else stat[1]


def pid_exists(pid: int) -> bool:
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.GetLastError() == 5  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    if sys.platform.startswith("linux"):
        stat = _linux_stat(pid)
        if stat is not None:
            return stat[0] not in ("Z", "X")  # a killed child its parent has not reaped yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: another user's process
        return True
    return True


@dataclass(frozen=True)
class ProcessStamp:
    """Which process a run belongs to: pid, host and start time (None where unknown)."""

    pid: int
    host: str
    started: float | None

    @classmethod
    def of(cls, pid: int) -> ProcessStamp:
        return cls(pid, this_host(), process_start_time(pid))


def process_gone(pid: int | None, host: str | None, started: float | None) -> bool:
    """True when the run's process has certainly ended; False when it lives or we cannot
    tell (another host, no pid recorded)."""
    if not pid:
        return False
    if host and host != this_host():
        return False
    if pid == os.getpid():
        return False
    if not pid_exists(pid):
        return True
    if started is None:
        return False
    now_started = process_start_time(pid)
    # The pid exists but belongs to a younger process: ours was killed and the pid reused.
    return now_started is not None and abs(now_started - started) > START_TOLERANCE_S
