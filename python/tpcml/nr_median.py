"""The NR median of the user's own data: fit it, store it, and the one policy that says which curve a command uses.

The NR median (P2-DNN §2, Fig. 1) is the median of log10(qS2c/qS1c) of selected NR calibration events against
qS1c, fitted by :meth:`tpcml.corrections.NRMedianCurve.fit` (equal-count qS1c bins, a weighted cubic in ln qS1c;
docs/event-model.md §3) and carried in ROOT files as the ``TGraph`` ``tpcml_nr_median``.

``tpcml nr-median fit NR.root --out median.root`` fits it on the user's NR calibration (:func:`fit_file`).
``tpcml select``, ``tpcml plot pandax2`` and ``tpcml run accidental`` take ``--nr-median FILE`` and choose their
curve with :func:`resolve`, in this order:

1. the file given explicitly (``--nr-median FILE``; an error when it holds no ``tpcml_nr_median``);
2. the curve carried in the input (the first input file that holds ``tpcml_nr_median``);
3. where the command has the NR calibration (``plot pandax2 DIR``, ``run accidental --data DIR``), the curve
   fitted on it;
4. the detector default: the curve fitted on :data:`DEFAULT_EVENTS` NR calibration events simulated by tpcml for
   the detector (seed :data:`DEFAULT_SEED`; a few seconds, once per process).
"""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tpcml.core.errors import ArgumentError, InputError

__all__ = ["DEFAULT_EVENTS", "DEFAULT_SEED", "KEY", "NRMedian", "carries", "detector_default", "fit_file", "resolve"]

#: the name of the TGraph that carries the curve (docs/event-model.md §3-4)
KEY = "tpcml_nr_median"
#: selected NR calibration events simulated for the detector default (tpcml's choice: bin medians of 200 events,
#: statistical error ~0.01 in log10(qS2c/qS1c) per bin; about 2 s on 2 cores)
DEFAULT_EVENTS = 4000
DEFAULT_SEED = 1
#: the columns of the NR calibration the fit reads: the P2-DNN §3 selection's and the curve's (qS1c, qS2c)
SELECTION_COLUMNS = ("qS1", "qS2", "qS2c", "drift_time", "x", "y")
CURVE_COLUMNS = ("qS1c", "qS2c")


@dataclass(frozen=True)
class NRMedian:
    """The curve a command uses and where it came from (``source``: file, input, calibration or detector)."""

    curve: object  # tpcml.corrections.NRMedianCurve
    source: str
    origin: str  # the file, or the detector name

    def describe(self) -> str:
        return {
            "file": f"NR median from {self.origin} (--nr-median)",
            "input": f"NR median carried in {self.origin}",
            "calibration": f"NR median fitted on the NR calibration {self.origin}",
            "detector": f"NR median: the {self.origin} detector default (fitted on {DEFAULT_EVENTS} NR calibration "
            "events simulated by tpcml); fit yours with `tpcml nr-median fit NR.root --out median.root` and pass "
            "--nr-median median.root",
        }[self.source]


def carries(path: str | os.PathLike) -> bool:
    """True when ``path`` is a ROOT file holding the TGraph ``tpcml_nr_median``."""
    import uproot

    try:
        with uproot.open(path) as f:
            return any(k.split(";")[0] == KEY and c == "TGraph" for k, c in f.classnames().items())
    except Exception:  # unreadable or not ROOT: the command's own checks name it
        return False


def resolve(
    explicit: str | os.PathLike | None = None,
    inputs: Sequence[str | os.PathLike] = (),
    detector="pandax2",
    calibration: tuple[str, Mapping[str, np.ndarray]] | None = None,
) -> NRMedian:
    """The NR median a command uses (the policy of this module's docstring): ``explicit`` file > the first of
    ``inputs`` carrying the curve > ``calibration`` (name, NR calibration columns) fitted > the detector default.
    ``detector``: a name, TOML file or DetectorConfig."""
    from tpcml import _core
    from tpcml.core import detectors
    from tpcml.core.rootio import require_file

    if explicit is not None:
        require_file(explicit, f"a ROOT file with the NR median TGraph {KEY} (`tpcml nr-median fit` writes one)")
        return NRMedian(_core.NRMedianCurve.from_file(str(explicit), KEY), "file", str(explicit))
    for path in inputs:
        if carries(path):
            return NRMedian(_core.NRMedianCurve.from_file(str(path), KEY), "input", str(path))
    det = detectors.resolve(detector)
    if calibration is not None:
        from tpcml.studies.pandax2.selection import fit_nr_median

        name, cols = calibration
        try:
            return NRMedian(fit_nr_median(cols, det), "calibration", str(name))
        except ValueError as err:
            raise InputError(f"{name}: cannot fit the NR median on it ({err})") from None
    return NRMedian(detector_default(det), "detector", det.name)


def detector_default(detector="pandax2"):
    """The detector's default NR median: fitted on :data:`DEFAULT_EVENTS` selected NR calibration events that
    tpcml simulates for it (NEST quanta and the LXe response, seed :data:`DEFAULT_SEED`); computed once per
    process and detector file."""
    from tpcml.core import detectors

    det = detectors.resolve(detector)
    if det.kind != "lxe_dual_phase":
        raise InputError(f"detector {det.name} is a {det.kind}: it has no NR median (a dual-phase LXe TPC has)")
    file = Path(str(det.file))
    return _simulated_default(det.name, str(file), file.stat().st_mtime_ns if file.is_file() else 0)


@functools.lru_cache(maxsize=8)
def _simulated_default(name: str, file: str, _mtime: int):
    from tpcml.core import detectors
    from tpcml.sim.lxe import SAMPLE_NR, Simulator
    from tpcml.sim.quanta import NR, NR_CALIBRATION
    from tpcml.studies.pandax2.selection import fit_nr_median, mask

    sim = Simulator(detectors.load(file if Path(file).is_file() else name), threads=0)
    cols, _ = sim.generate_until(
        lambda n, s: sim.physical(NR, NR_CALIBRATION, n, s, SAMPLE_NR),
        lambda c: mask(c, sim.det),
        DEFAULT_EVENTS,
        DEFAULT_SEED,
        lambda _: None,
    )
    return fit_nr_median(cols, sim.det)


# ------------------------------------------------------------------------------------------------ the fit
#: Upper bound of --bins: equal-count bins of a calibration (P2-DNN Fig. 1 uses O(10) bins); more only measures noise
MAX_BINS = 1000


def fit_file(
    path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    tree: str = "events",
    columns: Mapping[str, str] | None = None,
    bins: int = 20,
    s1_range: tuple[float, float] | None = None,
    detector="pandax2",
    select: bool = True,
) -> dict:
    """Fit the NR median on the NR calibration ``path`` (tree ``tree``; ``columns`` maps tpcml names to the
    file's branches) and write it to ``out`` as the TGraph ``tpcml_nr_median`` (with ``tpcml_detector`` and
    ``tpcml_provenance``; written to a temporary name, then renamed). ``select``: apply the detector's P2-DNN §3
    selection first (False: the file is already selected; only qS1c and qS2c are read). ``s1_range``: the qS1c
    range fitted (default: the detector's S1 window). Returns a summary (events read, used, the bin medians)."""
    from tpcml.core import detectors
    from tpcml.core.columns import read_aliased
    from tpcml.core.guards import refuse_overwrite
    from tpcml.core.rootio import atomic_path, write_metadata
    from tpcml.studies.pandax2.selection import fit_nr_median, mask

    det = detectors.resolve(detector)
    lo, hi = s1_range or (det.get("s1_threshold_pe"), det.get("s1_max_pe"))
    if not 0 < lo < hi:
        raise ArgumentError(f"--s1-range {lo:g} {hi:g}: expected 0 < MIN < MAX (PE)")
    if not 4 <= bins <= MAX_BINS:
        raise ArgumentError(
            f"--bins {bins}: expected at least 4 bins (the cubic fit to the bin medians) and at most {MAX_BINS}"
        )
    refuse_overwrite(out, [path, getattr(det, "file", None)])
    needed = [*CURVE_COLUMNS, *(SELECTION_COLUMNS if select else ())]
    cols = read_aliased(path, tree, {c: "float" for c in needed}, columns)
    selected = mask(cols, det) if select else np.ones(len(cols["qS1c"]), bool)
    used = int(np.sum(selected & (cols["qS1c"] >= lo) & (cols["qS1c"] <= hi)))
    try:
        curve = fit_nr_median(cols, det, n_bins=bins, s1_range=(lo, hi), select=select)
    except ValueError as err:
        raise InputError(
            f"{path}: cannot fit the NR median on its {used} events in qS1c [{lo:g}, {hi:g}] PE "
            f"({'after the selection; ' if select else ''}{err})"
        ) from None
    with atomic_path(out) as tmp:  # the curve, then the file contract's objects (tpcml::writeOutputMetadata)
        curve.write_to(str(tmp), KEY)
        write_metadata(tmp, det.name, [path], nr_median={"tree": tree, "bins": bins, "s1_range": [lo, hi]})
    return {"events": len(cols["qS1c"]), "used": used, "bin_x": list(curve.bin_x), "bin_y": list(curve.bin_y)}


# ------------------------------------------------------------------------------------------ tpcml nr-median
FIT_HELP = """\
Fit the NR median band centre on your NR calibration: the median of log10(qS2c/qS1c) against qS1c (P2-DNN Sec. 2,
Fig. 1), in BINS equal-count qS1c bins over the S1 window, a cubic in ln(qS1c) fitted to the bin medians weighted by
their uncertainties (tpcml::NRMedianCurve, docs/event-model.md Sec. 3). By default the detector's P2-DNN Sec. 3
selection is applied first, which reads the branches qS1 qS2 qS1c qS2c drift_time x y (float or double scalars;
--no-selection reads only qS1c and qS2c). Branches of other names: --column qS1c=my_s1c (repeatable).

OUT holds the curve as the TGraph tpcml_nr_median (x = qS1c, y = median), with tpcml_detector and
tpcml_provenance. Use it with --nr-median OUT in `tpcml select`, `tpcml plot pandax2` and `tpcml run accidental`.
Which curve a command uses: the --nr-median file, else the one carried in its input file, else (plot and run)
the one fitted on the NR calibration of the data set, else the detector default (fitted on NR calibration
events tpcml simulates for the detector)."""


def add_command(sub) -> None:
    """``tpcml nr-median fit``, registered on the ``tpcml`` subparsers ``sub``."""
    from tpcml.core import options as a
    from tpcml.core.columns import add_options

    p = sub.add_parser(
        "nr-median",
        help="fit the NR median on your NR calibration (used by select, plot, run)",
        description=FIT_HELP.split("\n\n")[0].replace("\n", " "),
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    f = actions.add_parser(
        "fit",
        help="fit the NR median on an NR calibration file and store it",
        description=FIT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_inputs(f, "ROOT file of NR calibration events (TTree or RNTuple)", multiple=False)
    f.add_argument(
        "--out",
        "--output",
        dest="out",
        required=True,
        help="output ROOT file with the TGraph tpcml_nr_median (written atomically; --output is the same option)",
    )
    add_options(f, "tree or RNTuple", "read NAME (one of qS1 qS2 qS1c qS2c drift_time x y) from BRANCH; repeatable")
    f.add_argument("--bins", type=a.count, default=20, help="equal-count qS1c bins (>= 4; default: %(default)s)")
    f.add_argument(
        "--s1-range",
        nargs=2,
        type=a.positive_float,
        metavar=("MIN", "MAX"),
        help="qS1c range fitted, PE (default: the detector's S1 window, 3 45 for pandax2)",
    )
    f.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    f.add_argument("--no-selection", action="store_true", help="the file is already selected: fit every event")
    f.set_defaults(func=_cmd_fit)


def _cmd_fit(args) -> int:
    from tpcml.core import options as a
    from tpcml.core.columns import aliases

    a.check_detector(args.detector, ("lxe_dual_phase",), "nr-median fit")
    known = [*CURVE_COLUMNS, *SELECTION_COLUMNS]
    with a.value_errors_are_input_errors():
        s = fit_file(
            args.inputs[0],
            args.out,
            tree=args.tree,
            columns=aliases(args.column, known),
            bins=args.bins,
            s1_range=tuple(args.s1_range) if args.s1_range else None,
            detector=args.detector,
            select=not args.no_selection,
        )
    print(f"{'qS1c [PE]':>10} {'median log10(qS2c/qS1c)':>24}")
    for x, y in zip(s["bin_x"], s["bin_y"], strict=True):
        print(f"{x:>10.2f} {y:>24.4f}")
    print(
        f"NR median fitted on {s['used']} of {s['events']} events ({len(s['bin_x'])} bins) -> {args.out} "
        f"(TGraph {KEY}); use it with --nr-median {args.out}"
    )
    return 0
