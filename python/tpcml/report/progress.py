"""Progress for long jobs: lines and bars, on one convention.

* :func:`printer`: ``[tpcml <job>  12.3 s] message`` lines on stdout, flushed -- one printer for every long job
  (simulation, studies, quickstart), so that a batch log reads the same whichever step wrote it.
* :func:`bar`: a tqdm progress bar on stderr for a loop (simulation batches, training epochs, the batches of a
  long epoch). It appears only on a terminal and only once the loop has run for ``delay`` seconds, so short
  loops and batch logs stay clean; ``quiet`` (``-q/--quiet`` of every long-running command) turns it off.

The C++ jobs (tpcml-pair, tpcml-infer, tpcml-raster and their Python doors) draw ROOT's RDataFrame progress bar
instead, switched off by the same ``--quiet`` (their job field ``progress``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import IO, Any

__all__ = ["DELAY_S", "bar", "printer"]

#: seconds a loop runs before its bar appears ("an epoch longer than a few seconds")
DELAY_S = 2.0


def printer(job: str, quiet: bool = False) -> Callable[[str], None]:
    """A function ``say(msg)`` that prints ``[tpcml <job> <elapsed> s] msg`` unless ``quiet``.

    The elapsed time counts from this call, so each job's log shows its own clock."""
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        if not quiet:
            print(f"[tpcml {job} {time.perf_counter() - t0:6.1f} s] {msg}", flush=True)

    return say


def bar(
    total: int | None,
    desc: str,
    *,
    unit: str = "it",
    quiet: bool = False,
    file: IO[str] | None = None,
    delay: float = DELAY_S,
    **kwargs: Any,
):
    """A tqdm bar over ``total`` steps named ``desc`` (use as a context manager; ``update(n)``, ``set_postfix``).

    Drawn on ``file`` (default: stderr, and then only when stderr is a terminal), after ``delay`` seconds;
    ``quiet`` disables it. The bar is removed when done (``leave=False``): the job's own summary line stays."""
    from tqdm.auto import tqdm

    out = sys.stderr if file is None else file
    disable = quiet or (file is None and not _is_terminal(out))
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=out,
        disable=disable,
        delay=delay,
        leave=False,
        dynamic_ncols=True,
        **kwargs,
    )


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False
