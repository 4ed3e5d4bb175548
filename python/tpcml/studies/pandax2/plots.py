"""Plots of the PandaX-II samples: the Fig. 1 analogue and the Table 1 feature distributions."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tpcml import _core
from tpcml.core import detectors
from tpcml.core.errors import InputError
from tpcml.report.figures import colour_norm, hist1d, label, legend, pyplot, save
from tpcml.studies.pandax2 import selection

#: P2-DNN Table 1, in its order (the default model inputs, docs/event-model.md §3; from the C++ events schema)
FEATURES = list(_core.FEATURES)
UNITS = {"qS1": "PE", "qS2": "PE", "qS1c": "PE", "qS2c": "PE", "wS1": "ns", "wS2": "ns", "wtenS2": "ns"}
LOG_X = {"qS2", "qS2c"}


PLOTS = ("fig1_bands.png", "features.png")  # what plot_dataset writes


def read_events(path, columns=None):
    """Float columns of the events tree (TTree or RNTuple; float or double, read as float32)."""
    from tpcml.core.rootio import FLOAT_TYPES, INT_TYPES, open_events, read_columns

    if columns is None:
        f, t = open_events(path, "events")
        with f:
            columns = [k for k in t.keys() if str(getattr(t[k], "typename", "")) in FLOAT_TYPES + INT_TYPES]  # noqa: SIM118
    return read_columns(
        path, "events", {c: "float" if c in FEATURES and c != "S1NPeaks" else "number" for c in columns}
    )


def band_figure(nr, er, acc, curve, det, title: str = "", simulated: bool = True):
    """P2-DNN Fig. 1 analogue: log10(qS2c/qS1c) vs qS1c; NR and ER points over the expected accidental
    background (a ``hist`` histogram of the pairs weighted by n_acc / N, log colour scale: its density spans
    decades), NR median line and the points it was fitted to. Returns the figure."""
    import hist
    import mplhep

    plt = pyplot()
    s1lo, s1hi = det.get("s1_threshold_pe"), det.get("s1_max_pe")
    fig, ax = plt.subplots(figsize=(8.5, 6))
    ms = selection.mask(acc, det)
    h = hist.Hist(
        hist.axis.Regular(50, 0, 50, label="qS1c [PE]"),
        hist.axis.Regular(50, 0.5, 3.0, label=r"$\log_{10}$(qS2c / qS1c)"),
        storage=hist.storage.Weight(),
    ).fill(acc["qS1c"][ms], np.log10(acc["qS2c"][ms] / acc["qS1c"][ms]), weight=acc["weight"][ms])
    values = h.values()
    mplhep.hist2dplot(
        np.where(values > 0, values, np.nan),
        h.axes[0].edges,
        h.axes[1].edges,
        ax=ax,
        cmap="Greys",
        norm=colour_norm(values),
        flow="none",
        cbarpad=0.1,
    )
    ax.figure.axes[-1].set_ylabel("expected accidental events / bin", fontsize="small")
    for cols, color, name in ((er, "tab:blue", "ER calibration"), (nr, "tab:red", "NR calibration")):
        m = selection.mask(cols, det)
        k = np.flatnonzero(m)[:4000]
        ax.scatter(
            cols["qS1c"][k], np.log10(cols["qS2c"][k] / cols["qS1c"][k]), s=2, alpha=0.5, color=color, label=name
        )
    xs = np.linspace(s1lo, s1hi, 200)
    ax.plot(xs, curve(xs), color="magenta", lw=2, label="NR median (fit)")
    ax.plot(curve.bin_x, curve.bin_y, "o", color="magenta", ms=3, label="NR median per qS1c bin")
    ax.set_xlim(0, 50)
    ax.set_ylim(0.5, 3.0)
    ax.set_xlabel("qS1c [PE]")
    ax.set_ylabel(r"$\log_{10}$(qS2c / qS1c)")
    label(ax, title or f"{det.name}, P2-DNN Fig. 1 analogue", "Simulation" if simulated else "")
    legend(ax, loc="upper right", title="grey: accidental pairs", title_fontsize="small")
    fig.tight_layout()
    return fig


def band_plot(nr, er, acc, curve, det, path: Path, title: str = "", simulated: bool = True) -> Path:
    """:func:`band_figure` written to ``path``."""
    return save(band_figure(nr, er, acc, curve, det, title, simulated), path)


def feature_figure(nr, acc, det, curve, simulated: bool = True):
    """The 13 Table 1 features: accidentals below the NR median vs NR calibration (selected), each a ``hist``
    histogram normalised to unit area (the two samples' sizes differ by orders of magnitude)."""
    import hist
    import mplhep
    from matplotlib.ticker import MaxNLocator

    plt = pyplot()
    mn = selection.mask(nr, det)
    ma = selection.mask(acc, det) & curve.below(acc["qS1c"], acc["qS2c"])
    fig, axes = plt.subplots(4, 4, figsize=(16, 13))
    for ax, name in zip(axes.flat, FEATURES, strict=False):
        a, b = acc[name][ma].astype(float), nr[name][mn].astype(float)
        both = np.concatenate([a, b])
        if len(both) == 0:  # nothing passes the selection (a tiny or unusual user file)
            ax.text(0.5, 0.5, f"{name}: no events", ha="center", va="center", transform=ax.transAxes)
            continue
        if name == "S1NPeaks":
            top = int(np.clip(both.max(), 1, 40))  # at least one bin: a file where every S1 has 0 or 1 peaks
            binning = (top, 0.5, top + 0.5)
            kwargs = {}
        elif name in LOG_X:
            lo = max(both.min(), 1.0)
            binning = (50, lo, max(both.max(), 10.0 * lo))  # a decade at least: one value gives no width
            kwargs = {"transform": hist.axis.transform.log}
            ax.set_xscale("log")
        else:
            lo, hi = np.percentile(both, [0.5, 99.5])
            binning = (50, lo, hi if hi > lo else lo + 1)
            kwargs = {}
        for values, kw in (
            (a, {"color": "black", "histtype": "step", "lw": 1.5, "label": "accidental, below NR median"}),
            (b, {"color": "tab:red", "histtype": "fill", "alpha": 0.4, "label": "NR calibration"}),
        ):
            h = hist1d(values, *binning, **kwargs)
            mplhep.histplot(h, ax=ax, density=True, flow="none", yerr=False, **kw)
        unit = UNITS.get(name)
        ax.set_xlabel(f"{name} [{unit}]" if unit else name)
        if name == "S1NPeaks":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("normalised")
        ax.set_yticks([])
    for ax in list(axes.flat)[len(FEATURES) :]:
        ax.axis("off")
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="center", bbox_to_anchor=(0.62, 0.14), fontsize="large")
    label(axes.flat[0], "", "Simulation" if simulated else "")
    fig.suptitle(f"{det.name}: P2-DNN Table 1 features, accidental vs NR (unit area)")
    fig.tight_layout()
    return fig


def feature_plot(nr, acc, det, curve, path: Path, simulated: bool = True) -> Path:
    """:func:`feature_figure` written to ``path``."""
    return save(feature_figure(nr, acc, det, curve, simulated), path)


def plot_dataset(
    directory: str | os.PathLike, out: str | os.PathLike | None = None, nr_median=None, say=None
) -> list[Path]:
    """Both plots from a directory written by ``tpcml simulate pandax2``. ``nr_median``: a file with the NR median
    TGraph (else :func:`tpcml.nr_median.resolve`'s policy); ``say`` is told which curve is used."""
    directory = Path(directory)
    out = Path(out) if out else directory
    out.mkdir(parents=True, exist_ok=True)
    need = ["nr_calibration.root", "er_calibration.root", "accidentals.root"]
    missing = [n for n in need if not (directory / n).exists()]
    if missing:
        raise InputError(
            f"{directory}: missing {', '.join(missing)}; "
            f"expected the output of `tpcml simulate pandax2 --out {directory}`"
        )
    from tpcml.core.rootio import read_provenance

    det_name, _ = read_provenance(directory / "nr_calibration.root")
    det = detectors.load(det_name or "pandax2")
    from tpcml.nr_median import resolve

    nr, er, acc = (read_events(directory / n) for n in need)
    choice = resolve(nr_median, [directory / need[0]], det, calibration=(str(directory / need[0]), nr))
    curve = choice.curve
    if say is not None:
        say(choice.describe())
    return [
        band_plot(nr, er, acc, curve, det, out / "fig1_bands.png"),
        feature_plot(nr, acc, det, curve, out / "features.png"),
    ]
