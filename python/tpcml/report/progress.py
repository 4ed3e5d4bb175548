"""Progress lines for long jobs: ``[tpcml <job>  12.3 s] message`` on stdout, flushed.

One printer for every long job (simulation, studies, quickstart), so that a batch log
reads the same whichever step wrote it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["printer"]


def printer(job: str, quiet: bool = False) -> Callable[[str], None]:
    """A function ``say(msg)`` that prints ``[tpcml <job> <elapsed> s] msg`` unless ``quiet``.

    The elapsed time counts from this call, so each job's log shows its own clock."""
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        if not quiet:
            print(f"[tpcml {job} {time.perf_counter() - t0:6.1f} s] {msg}", flush=True)

    return say
