"""Helpers shared by the benchmark scripts (run as ``python bench/<script>.py``: this directory is on sys.path)."""

from __future__ import annotations

import time
from collections.abc import Sequence


def best_seconds(fn, repeat: int) -> float:
    """The shortest wall time of ``repeat`` calls of ``fn()`` (shared machines: the best pass is the stable one)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def print_table(
    title: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str]], sep: str, footer: str
) -> None:
    """Prints ``title`` after a blank line, a header line and a line a row, then ``footer``. The first column,
    "figure", is left-aligned as wide as the longest row name; ``columns`` are the other (header, format spec)
    pairs; ``sep`` stands between the cells."""
    specs = [f"<{max(len(r[0]) for r in rows)}", *(spec for _, spec in columns)]
    print(f"\n{title}")
    for cells in (("figure", *(name for name, _ in columns)), *rows):
        print(sep.join(format(cell, spec) for cell, spec in zip(cells, specs, strict=True)))
    print(footer)
