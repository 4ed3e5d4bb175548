"""``results.json``: every number of a study run, written atomically (NumPy scalars and arrays as JSON)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["finish", "json_default", "write_json"]


def json_default(v: Any):
    """JSON for what ``json`` cannot write: NumPy integers, floats and arrays; anything else as ``str``."""
    import numpy as np

    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` to ``path`` (indent 2, trailing newline) atomically; returns ``path``."""
    from tpcml.core.rootio import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=json_default) + "\n")
    return Path(path)


def finish(ctx, results: dict, report: Path) -> dict:
    """The tail of every study run: total time, the report's path in ``results``, ``results.json`` written,
    one progress line; ``ctx.results`` becomes ``results`` (``ctx``: a :class:`tpcml.studies.Context`)."""
    import time

    ctx.timings["total"] = time.perf_counter() - ctx.started
    results["report"] = str(report)
    write_json(ctx.out / "results.json", results)
    ctx.say(f"report: {report} ({ctx.timings['total']:.0f} s in all)")
    ctx.results = results
    return results
