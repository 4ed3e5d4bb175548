"""The PandaX-II event selection of P2-DNN §3, defined once for numpy and RDataFrame.

Every cut is a named pair (numpy mask, C++ expression) built from the detector registry, so the
simulation (numpy), the analysis in RDataFrame (named ``Filter``s, so ``Report()`` prints a
cut-flow) and ROOT macros apply the same numbers:

============== ===================================================== =========================
name           expression                                            source
============== ===================================================== =========================
fiducial       t_min <= drift_time <= t_max && x^2 + y^2 < r_fid^2   PandaX-II FV (registry)
S1 range       3 <= qS1 <= 45 PE (raw)                               P2-DNN §3
S2 threshold   qS2 > 100 PE (raw)                                    P2-DNN §3
S2 upper       qS2c < 10,000 PE (corrected)                          P2-DNN §3
S2 width       wtenS2 consistent with the diffusion at drift_time    quality cut, see below
below NR med.  log10(qS2c/qS1c) < NR median(qS1c)                    P2-DNN §2-3 (accidentals)
============== ===================================================== =========================

The S2 width cut (issue 17) is the width-vs-drift-time consistency cut of LXe TPC analyses (XENON1T, PRD 100 (2019)
052014, Sec. V: the S2 width must agree with the longitudinal diffusion over the drift time): P2-DNN §3 selects
events that "have met all the established criteria during the PandaX-II data analysis process", and its ref. [15]
(CPC 46 (2022) 103001, Sec. 2) requires the isolated signals to "satisfy all the required data quality cuts" of the
full-exposure analysis (Wang et al., CPC 44 (2020) 125001); the form of PandaX-II's own width cut is not in the
texts available to tpcml, so this one is tpcml's, derived from the calibration (:class:`S2WidthBand`). It applies to
every event; for an accidental pair the drift time is the pair's, not its S2's, so an S2 whose width does not fit
the paired drift time is removed before any classifier sees it. A detector without the s2_width_cut_* keys has no
such cut.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from itertools import count

import numpy as np

from tpcml._core import NRMedianCurve
from tpcml.core.detectors import DetectorConfig

__all__ = [
    "S2_WIDTH_KEYS",
    "Cut",
    "S2WidthBand",
    "apply_rdf",
    "cutflow",
    "cuts",
    "declare_nr_median",
    "fit_nr_median",
    "mask",
]

#: registry keys of the S2 width cut (all or none): intercept width (ns), doubling drift time (us), z band
S2_WIDTH_KEYS = ("s2_width_cut_intercept", "s2_width_cut_doubling_time", "s2_width_cut_z_low", "s2_width_cut_z_high")


@dataclass(frozen=True)
class Cut:
    name: str
    cpp: str  # C++ expression over the events-tree branches (RDataFrame::Filter)
    numpy: Callable[[Mapping[str, np.ndarray]], np.ndarray]  # the same cut on numpy columns


@dataclass(frozen=True)
class S2WidthBand:
    """The S2 width band vs drift time: the expected width w(t) = w0 sqrt(1 + t / t2) (diffusion adds in quadrature
    to the electroluminescence width: w^2 = w0^2 + (w0^2 / t2) t), and the normalised deviation
    z = (wtenS2 / w(t) - 1) sqrt(qS2 / G) (the width of an S2 of n = qS2 / G electrons scatters as 1 / sqrt(n); G the
    single-electron gain) kept in [z_low, z_high]."""

    intercept_ns: float  # w0
    doubling_time_us: float  # t2
    z_low: float
    z_high: float
    gain: float  # PE per extracted electron (single_electron_gain)

    column = "wtenS2"  # full width at 1/10 of the maximum of the smeared S2 (docs/event-model.md)

    @classmethod
    def from_detector(cls, det: DetectorConfig) -> S2WidthBand | None:
        """The band of the registry, or None when ``det`` has none of the S2_WIDTH_KEYS (a ValueError names the
        missing ones when only some are there)."""
        have = [det.has(k) for k in S2_WIDTH_KEYS]
        if not any(have):
            return None
        if not all(have):
            missing = [k for k, h in zip(S2_WIDTH_KEYS, have, strict=True) if not h]
            raise ValueError(f"{det.name}: the S2 width cut needs all of {', '.join(S2_WIDTH_KEYS)}; missing {missing}")
        return cls(
            det.get("s2_width_cut_intercept", "ns"),
            det.get("s2_width_cut_doubling_time", "us"),
            det.get("s2_width_cut_z_low"),
            det.get("s2_width_cut_z_high"),
            det.get("single_electron_gain"),
        )

    def expected_width(self, drift_time_us: np.ndarray) -> np.ndarray:
        return self.intercept_ns * np.sqrt(1.0 + np.asarray(drift_time_us, float) / self.doubling_time_us)

    def z(self, cols: Mapping[str, np.ndarray]) -> np.ndarray:
        w = np.asarray(cols[self.column], float)
        n_e = np.maximum(np.asarray(cols["qS2"], float), 1.0) / self.gain
        return (w / self.expected_width(cols["drift_time"]) - 1.0) * np.sqrt(n_e)

    def passes(self, cols: Mapping[str, np.ndarray]) -> np.ndarray:
        z = self.z(cols)
        return (z >= self.z_low) & (z <= self.z_high)

    def cpp(self) -> str:
        w = f"({self.intercept_ns!r} * sqrt(1.0 + drift_time / {self.doubling_time_us!r}))"
        z = f"(({self.column} / {w} - 1.0) * sqrt(std::max((double)qS2, 1.0) / {self.gain!r}))"
        return f"{z} >= {self.z_low!r} && {z} <= {self.z_high!r}"

    @classmethod
    def fit(cls, cols: Mapping[str, np.ndarray], gain: float, acceptance: float = 0.99) -> S2WidthBand:
        """The band of physical events ``cols`` (selected calibration events): w^2 = a + b t by least squares
        (w0 = sqrt(a), t2 = a / b), then the central ``acceptance`` of their z."""
        t = np.asarray(cols["drift_time"], float)
        w = np.asarray(cols[cls.column], float)
        if len(t) < 100:
            raise ValueError(f"the S2 width band needs >= 100 calibration events, got {len(t)}")
        b, a = np.polyfit(t, w * w, 1)
        if not (a > 0 and b > 0):
            raise ValueError(f"S2 width^2 vs drift time has no positive intercept and slope (a = {a:.4g}, b = {b:.4g})")
        band = cls(float(np.sqrt(a)), float(a / b), 0.0, 0.0, gain)
        lo, hi = np.quantile(band.z(cols), [(1 - acceptance) / 2, (1 + acceptance) / 2])
        return cls(band.intercept_ns, band.doubling_time_us, float(lo), float(hi), gain)


def cuts(det: DetectorConfig, columns: Collection[str] | None = None) -> list[Cut]:
    """The P2-DNN §3 selection for detector ``det`` (without the NR-median cut), with the S2 width cut when the
    registry has its band and the data have its width column (``columns``: the data's column names; None: assume
    every column is there). Events files of one's own with only the selection's columns get the §3 cuts alone, and
    :func:`cutflow` says so."""
    t0, t1 = det.get("fiducial_drift_time_min", "us"), det.get("fiducial_drift_time_max", "us")
    r2 = det.get("fiducial_radius", "mm") ** 2
    s1lo, s1hi = det.get("s1_threshold_pe"), det.get("s1_max_pe")
    s2lo, s2hi = det.get("s2_threshold_pe"), det.get("s2_max_pe")
    out = [
        Cut(
            "fiducial volume",
            f"drift_time >= {t0!r} && drift_time <= {t1!r} && x*x + y*y < {r2!r}",
            lambda c: (c["drift_time"] >= t0) & (c["drift_time"] <= t1) & (c["x"] * c["x"] + c["y"] * c["y"] < r2),
        ),
        Cut("S1 range", f"qS1 >= {s1lo!r} && qS1 <= {s1hi!r}", lambda c: (c["qS1"] >= s1lo) & (c["qS1"] <= s1hi)),
        Cut("S2 threshold", f"qS2 > {s2lo!r}", lambda c: c["qS2"] > s2lo),
        Cut("S2 upper", f"qS2c < {s2hi!r}", lambda c: c["qS2c"] < s2hi),
    ]
    band = S2WidthBand.from_detector(det)
    if band is not None and (columns is None or S2WidthBand.column in columns):
        out.append(Cut("S2 width", band.cpp(), band.passes))
    return out


def mask(cols: Mapping[str, np.ndarray], det: DetectorConfig, curve: NRMedianCurve | None = None) -> np.ndarray:
    """Events passing the selection (and below the NR median when ``curve`` is given)."""
    n = len(cols["qS1"])
    m = np.ones(n, dtype=bool)
    for cut in cuts(det, cols.keys()):
        m &= cut.numpy(cols)
    if curve is not None:
        m &= curve.below(cols["qS1c"], cols["qS2c"])
    return m


def fit_nr_median(
    cols: Mapping[str, np.ndarray],
    det: DetectorConfig,
    n_bins: int = 20,
    s1_range: tuple[float, float] | None = None,
    select: bool = True,
) -> NRMedianCurve:
    """NR median of log10(qS2c/qS1c) vs qS1c fitted on selected NR calibration events (``select`` False: on every
    event of ``cols``), over ``s1_range`` (default: the detector's S1 window)."""
    m = mask(cols, det) if select else slice(None)
    lo, hi = s1_range or (det.get("s1_threshold_pe"), det.get("s1_max_pe"))
    return NRMedianCurve.fit(cols["qS1c"][m], cols["qS2c"][m], lo, hi, n_bins=n_bins)


_declared = count()


def declare_nr_median(curve: NRMedianCurve | str) -> str:
    """Declare ``curve`` (or the NR median TGraph of the file ``curve``) in cling from its knots; returns the C++
    variable name."""
    from tpcml.core.root import load_root

    if not isinstance(curve, NRMedianCurve):
        curve = NRMedianCurve.from_file(str(curve))
    ROOT = load_root()
    name = f"tpcml_nr_median_{next(_declared)}"
    x, y = (", ".join(repr(float(v)) for v in k) for k in (curve.knots_x, curve.knots_y))
    if not ROOT.gInterpreter.Declare(f"const tpcml::NRMedianCurve {name}({{{x}}}, {{{y}}});"):
        raise RuntimeError("cling could not declare the NR median curve")
    return name


def apply_rdf(df, det: DetectorConfig, nr_median: NRMedianCurve | str | None = None, below_median: bool = False):
    """Named RDataFrame filters of the selection; ``df.Report()`` then prints the cut flow.

    ``nr_median``: the NR median curve or a ROOT file holding its TGraph; with ``below_median`` the
    events must lie below it (the column ``below_nr_median`` is defined from the curve, so
    the user's own files need not have it).
    """
    for cut in cuts(det, {str(c) for c in df.GetColumnNames()}):
        df = df.Filter(cut.cpp, cut.name)
    if below_median:
        if nr_median is None:
            raise ValueError("below_median=True needs nr_median (a curve or a file with the tpcml_nr_median TGraph)")
        var = declare_nr_median(nr_median)
        cols = set(df.GetColumnNames())
        col = "below_nr_median" if "below_nr_median" not in cols else "tpcml_below_nr_median"
        df = df.Define(col, f"{var}.below(qS1c, qS2c)").Filter(col, "below NR median")
    return df


def cutflow(
    paths: list[str],
    det: DetectorConfig,
    tree: str = "events",
    nr_median: NRMedianCurve | str | None = None,
    below_median: bool = False,
    threads: int = 0,
    output: str | None = None,
    say: Callable[[str], None] | None = None,
    format: str = "ttree",
    allow_detector_mismatch: bool = False,
) -> list[tuple[str, int, int]]:
    """Apply the selection to ROOT files with RDataFrame; returns the cut flow (name, all, pass).

    ``nr_median``: the curve, or a file holding it; None with ``below_median``: the curve of
    :func:`tpcml.nr_median.resolve` (carried in the first input that has one, else the detector default).
    ``output``: Snapshot the selected events there (written to a temporary name, then renamed) as a TTree or,
    with ``format="rntuple"``, an RNTuple; it carries tpcml_detector, tpcml_provenance and the NR median used.
    ``say``: told which NR median curve is used and where it came from.
    Files tagged (tpcml_detector) with another detector than ``det`` are refused unless
    ``allow_detector_mismatch``.
    Missing files, trees or branches raise InputError naming them and the nearest valid names.
    """
    from tpcml import _core
    from tpcml.core.errors import InputError, cpp_message
    from tpcml.core.guards import refuse_overwrite
    from tpcml.core.root import load_root
    from tpcml.core.rootio import atomic_path, check_chain, check_format, snapshot_options, write_metadata

    explicit = nr_median if isinstance(nr_median, str | os.PathLike) else None
    if output is not None:
        refuse_overwrite(output, [*paths, explicit, getattr(det, "file", None)])
    needed = ["qS1", "qS2", "qS2c", "drift_time", "x", "y"] + (["qS1c"] if below_median else [])
    check_format(format)
    check_chain(paths, tree, needed)  # TTrees or RNTuples (not both); float or double scalars
    _core.check_detector([str(p) for p in paths], det.name, "the selection runs with detector", allow_detector_mismatch)
    if below_median and not isinstance(nr_median, NRMedianCurve):
        from tpcml.nr_median import resolve

        choice = resolve(explicit, paths, det)  # InputError names a --nr-median file without the TGraph
        nr_median = choice.curve
        if say is not None:
            say(choice.describe())

    ROOT = load_root()
    # With an output the selection runs in one ordered pass (Snapshot under ImplicitMT does not keep the entry
    # order); without one, ImplicitMT spreads the cut flow over the files' clusters.
    mt = threads > 0 and output is None
    if mt:
        ROOT.EnableImplicitMT(threads)
    elif ROOT.IsImplicitMTEnabled():
        ROOT.DisableImplicitMT()
    try:
        names = ROOT.std.vector["std::string"]([str(p) for p in paths])
        base = ROOT.RDataFrame(tree, names)
        have = {str(c) for c in base.GetColumnNames()}
        if say is not None and S2WidthBand.from_detector(det) is not None and S2WidthBand.column not in have:
            say(f"S2 width cut not applied: the input has no {S2WidthBand.column} column")
        df = apply_rdf(base, det, nr_median, below_median)
        report = df.Report()
        if output is not None:
            with atomic_path(output) as tmp:
                df.Snapshot(tree, str(tmp), "", snapshot_options(format))
                write_metadata(tmp, det.name, paths, carry_from=[explicit, *paths])
                if isinstance(nr_median, NRMedianCurve):  # the curve the selection used (e.g. the detector default)
                    nr_median.write_to(str(tmp))
        return [(c.GetName(), int(c.GetAll()), int(c.GetPass())) for c in report]
    except Exception as err:  # C++ exceptions through PyROOT, e.g. a corrupted basket
        if isinstance(err, _core.Error | OSError):
            raise
        text = cpp_message(err)
        raise InputError(f"{', '.join(str(p) for p in paths)}: cannot read tree '{tree}' ({text})") from None
    finally:
        if mt:
            ROOT.DisableImplicitMT()
