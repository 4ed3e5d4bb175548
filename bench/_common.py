"""Helpers shared by the benchmark scripts (run as ``python bench/<script>.py``: this directory is on sys.path)."""

from __future__ import annotations

import time


def best_seconds(fn, repeat: int) -> float:
    """The shortest wall time of ``repeat`` calls of ``fn()`` (shared machines: the best pass is the stable one)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
