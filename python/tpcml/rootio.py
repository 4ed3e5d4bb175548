"""Writing and inspecting ROOT files from Python.

Files are written under a hidden temporary name and renamed when complete, so a
failed job never leaves a half-written file. Every file tpcml writes carries two
``TNamed`` objects (docs/event-model.md): ``tpcml_detector`` (the detector name)
and ``tpcml_provenance`` (JSON: tpcml version, command line, seed, ...).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import numpy as np

from . import _core

__all__ = ["atomic_path", "describe_tree", "list_trees", "read_parameter", "read_provenance", "write_tree"]

list_trees = _core.list_trees
describe_tree = _core.describe_tree


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename onto ``final`` only on success.

    Uses the C++ ``tpcml::AtomicOutput`` (the batch executables' mechanism): a missing
    or unwritable directory raises ``tpcml.UsageError`` before any work is done.
    """
    out = _core.AtomicOutput(os.fspath(final))
    try:
        yield Path(out.temp_path)
        out.commit()
    finally:
        if not out.committed:
            out.discard()


def provenance(**extra) -> dict:
    return {"tpcml": _core.version(), "command": " ".join(sys.argv), **extra}


def write_tree(
    path: str | os.PathLike,
    tree: str,
    columns: Mapping[str, np.ndarray],
    detector: str | None = None,
    provenance_info: Mapping | None = None,
    auto_flush: int = 0,
    extra_trees: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    parameters: Mapping[str, float] | None = None,
    finish: Callable[[Path], None] | None = None,
) -> Path:
    """Write numpy columns as TTree ``tree`` in ``path`` (atomically), with provenance.

    ``auto_flush`` > 0 sets the cluster size (entries), so that ImplicitMT can
    parallelise over several clusters when the file is read back. ``extra_trees`` are
    written to the same file; ``parameters`` become ``TParameter<double>`` objects;
    ``finish(tmp_path)`` may add more objects before the file is renamed into place.
    """
    trees = {tree: columns, **(extra_trees or {})}
    for name, cols in trees.items():
        lengths = {k: len(v) for k, v in cols.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns of tree {name!r} differ in length: {lengths}")
    info = dict(provenance_info or provenance())
    named = {"tpcml_detector": detector or "", "tpcml_provenance": json.dumps(info, sort_keys=True)}
    final = Path(path)
    with atomic_path(final) as tmp:
        _core.write_tree_file(
            str(tmp),
            {name: {k: np.asarray(v) for k, v in cols.items()} for name, cols in trees.items()},
            named,
            {k: float(v) for k, v in (parameters or {}).items()},
            int(auto_flush),
        )
        if finish is not None:
            finish(tmp)
    return final


def read_parameter(path: str | os.PathLike, key: str) -> float | None:
    """Value of a ``TParameter<double>`` stored in a tpcml file, or None (C++ ``tpcml::readParameter``)."""
    value = _core.read_parameter(os.fspath(path), key, float("nan"))
    return None if value != value else value


def read_provenance(path: str | os.PathLike) -> tuple[str | None, dict]:
    """(detector name, provenance dict) stored in a tpcml file; (None, {}) when absent."""
    import uproot

    with uproot.open(path) as f:
        det = str(f["tpcml_detector"].member("fTitle")) if "tpcml_detector" in f else None
        prov = json.loads(str(f["tpcml_provenance"].member("fTitle"))) if "tpcml_provenance" in f else {}
    return det or None, prov
