"""Helpers shared by the benchmark scripts (run as ``python bench/<script>.py``: this directory is on sys.path)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence


def parse_options(
    argv: list[str] | None, description: str, quick_help: str, options: Mapping[str, tuple]
) -> argparse.Namespace:
    """Parses ``--quick`` (help ``quick_help``) and ``options``: flag -> (default, value under --quick, help). An
    int default makes an int option that ``--quick`` sets to its quick value (the smaller workload); a None
    default, a switch."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help=quick_help)
    quick_values = {}
    for flag, (default, quick, help_) in options.items():
        if default is None:
            ap.add_argument(flag, action="store_true", help=help_)
        else:
            action = ap.add_argument(flag, type=int, default=default, help=help_)
            quick_values[action.dest] = quick
    args = ap.parse_args(argv)
    if args.quick:
        vars(args).update(quick_values)
    return args


def best_seconds(fn, repeat: int) -> float:
    """The shortest wall time of ``repeat`` calls of ``fn()`` (shared machines: the best pass is the stable one)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def best_wall_and_cpu(fn, repeat: int) -> tuple[float, float]:
    """The shortest wall time and the shortest process CPU time of ``repeat`` calls of ``fn()``. On 1 thread the
    CPU time is the per-core cost even when other jobs share the cores (the wall time then overstates it)."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - w0), min(cpu, time.process_time() - c0)
    return wall, cpu


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


def rdf_seconds(make_result, threads: int) -> float:
    """Seconds of one RDataFrame event loop: ``make_result(ROOT)`` books the loop and returns a lazy result, which
    is then computed with ImplicitMT on ``threads`` threads (off for 1; ``tpcml.core.root.implicit_mt``)."""
    from tpcml.core.root import implicit_mt

    with implicit_mt(threads) as ROOT:
        result = make_result(ROOT)
        t0 = time.perf_counter()
        result.GetValue()
        return time.perf_counter() - t0


def rdf_scaling_rows(make_result, repeat: int, n: int, unit: str, what: str, target: float) -> list[tuple]:
    """The two table rows of an RDataFrame job on 1 and 2 threads (best of ``repeat`` loops after one warm-up
    loop): ``n / seconds`` in ``unit`` per second for 1 thread (``what``), and the 2-thread speed-up against
    ``target``."""
    rdf_seconds(make_result, 1)
    one = min(rdf_seconds(make_result, 1) for _ in range(repeat))
    two = min(rdf_seconds(make_result, 2) for _ in range(repeat))
    return [
        (f"RDataFrame: {what}, 1 thread", f"{n / one:,.0f} {unit}/s", "", ""),
        (
            "RDataFrame: 2 threads vs 1 (speed-up)",
            f"{n / two:,.0f} {unit}/s",
            f">= {target}x (got {one / two:.2f}x)",
            f"{one / two / target:.2f}",
        ),
    ]
