"""How many threads this process may run work on."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one, as a
    container's CPU set limits it), at least 1.

    >>> usable_cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def worker_threads() -> int:
    """Threads one piece of work may spread over: the usable cores, or 1 in a child process
    (a batch extraction's or a server's worker: its pool already runs one per core).

    >>> 1 <= worker_threads() <= usable_cores()
    True
    """
    import multiprocessing

    return 1 if multiprocessing.parent_process() is not None else usable_cores()
