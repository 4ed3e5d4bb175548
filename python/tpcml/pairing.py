"""Accidental pairing of isolated-signal files from Python: the public wrapper of the C++ pairing job.

``pair`` reads the ``s1`` and ``s2`` trees of a file (tpcml's simulation or a user's own data:
docs/event-model.md §2) and runs ``tpcml::pairFile`` on them (the job ``tpcml-pair`` and
``macros/pair_accidentals.C`` run), which pairs them with the C++ kernel ``AccidentalPairer`` and
writes an ``events`` tree in the schema of physical events. Rates for the weights (P2-DNN Eq. 2.1) follow
the one rule of ``tpcml::isolatedRates`` (shared with ``tpcml-pair``): a given live time means
N / T; otherwise the file's ``tpcml_isolated_s1_rate`` / ``_s2_rate``, else N / ``tpcml_livetime``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from . import _core
from .core import detectors

#: The events schema of C++ (tpcml/pairing/EventSchema.h): every column of an ``events`` tree in its order,
#: the 13 features of P2-DNN Table 1 in its order, the columns of the isolated-S1 and isolated-S2 trees.
EVENT_COLUMNS: tuple[str, ...] = tuple(_core.EVENT_COLUMNS)
FEATURES: tuple[str, ...] = tuple(_core.FEATURES)
#: numpy dtype of each events column
EVENT_DTYPES: dict = dict(_core.EVENT_DTYPES)
S1_BRANCHES: list[str] = list(_core.S1_COLUMNS)
S2_BRANCHES: list[str] = list(_core.S2_COLUMNS)
S1_OPTIONAL, S2_OPTIONAL = ["s1_id", "run"], ["s2_id", "run"]


#: bytes of memory per pair (measured: 222-243 peak RSS per pair at 2e5-2e6 pairs, output columns and TTree write)
PAIR_BYTES = 2 * 4 * 40
INT_COLUMNS = {c: "int" for c in S1_BRANCHES + S2_BRANCHES if _core.EVENT_DTYPES[c].kind in "iu"}


def read_isolated(path: str | os.PathLike, s1_tree: str = "s1", s2_tree: str = "s2") -> tuple[dict, dict]:
    """(s1 columns, s2 columns) as numpy arrays, from TTrees or RNTuples alike: float or double columns are
    read as float32, integer columns (``S1NPeaks``, ids, run) of any integer type as int64. InputError names
    the file, tree and column (missing: with the nearest names; wrong type: the type and what is accepted)."""
    from .core.rootio import read_columns

    out = []
    for tree, need, optional in ((s1_tree, S1_BRANCHES, S1_OPTIONAL), (s2_tree, S2_BRANCHES, S2_OPTIONAL)):
        cols = read_columns(
            path, tree, {c: INT_COLUMNS.get(c, "float") for c in need}, optional={c: "int" for c in optional}
        )
        out.append(cols)
    return out[0], out[1]


def pair(
    input_path: str | os.PathLike,
    output: str | os.PathLike,
    n: int,
    seed: int = 0,
    detector: str = "pandax2",
    threads: int = 1,
    with_replacement: bool = True,
    nr_median: str | os.PathLike | None = None,
    drift_window: tuple[float, float] | None = None,
    livetime_s: float | None = None,
    efficiency: float | None = None,
    s1_tree: str = "s1",
    s2_tree: str = "s2",
    quiet: bool = False,
    format: str = "ttree",
    allow_detector_mismatch: bool = False,
) -> dict:
    """Pair ``n`` accidental events from ``input_path`` into ``output``; returns a summary.

    ``format``: "ttree" (default) or "rntuple". An input tagged (tpcml_detector) with another detector
    than ``detector`` is refused (InputError naming both) unless ``allow_detector_mismatch``."""
    t0 = time.perf_counter()

    def say(msg):
        if not quiet:
            print(f"[tpcml pair {time.perf_counter() - t0:6.1f} s] {msg}", flush=True)

    from .core.errors import ArgumentError
    from .core.guards import check_memory, parse_int, refuse_overwrite

    n = parse_int(n, "number of pairs (-n)", minimum=1)
    refuse_overwrite(output, [input_path, nr_median, detector if Path(str(detector)).is_file() else None])
    check_memory(float(n) * PAIR_BYTES, f"-n {n}: {n} pairs x {PAIR_BYTES} bytes")
    det = detectors.load(detector)
    t_min, t_max = drift_window or (det.get("fiducial_drift_time_min", "us"), det.get("fiducial_drift_time_max", "us"))
    max_drift = det.get("max_drift_time", "us")
    if not (0 <= t_min < t_max <= max_drift):
        raise ArgumentError(
            f"--drift-window needs 0 <= TMIN < TMAX <= {max_drift:g} us (the maximum drift time of detector "
            f"{det.name}), got {t_min:g} {t_max:g}"
        )
    if livetime_s is not None and not 0 < livetime_s < float("inf"):
        raise ArgumentError(f"--livetime must be finite and > 0 s, got {livetime_s}")
    if efficiency is not None and not 0 <= efficiency <= 1:
        raise ArgumentError(f"--efficiency must be in [0, 1], got {efficiency}")
    if nr_median is not None:
        from .core.rootio import require_file

        require_file(nr_median, "a ROOT file with the NR median TGraph tpcml_nr_median")
    s1, s2 = read_isolated(input_path, s1_tree, s2_tree)
    # the job -- window, rates and live time (P2-DNN Eq. 2.1), weights, pairing, provenance, writing -- is
    # tpcml::pairFile, the function tpcml-pair and macros/pair_accidentals.C run
    summary = _core.pair_file(
        s1,
        s2,
        str(input_path),
        str(output),
        n,
        seed=seed,
        detector=detector,
        threads=threads,
        with_replacement=with_replacement,
        nr_median="" if nr_median is None else str(nr_median),
        drift_window=(t_min, t_max),
        live_time_s=livetime_s or -1.0,
        efficiency=-1.0 if efficiency is None else efficiency,
        log=say,
        format=format,
        allow_detector_mismatch=allow_detector_mismatch,
        command_line=list(sys.argv),
        progress=not quiet,
    )
    n_acc = summary["n_acc"]
    weight = 1.0 if n_acc is None else n_acc / n
    say(f"wrote {n} accidental events to {output}")
    return {"n_pairs": n, "n_acc": n_acc, "weight": weight, "output": str(output)}
