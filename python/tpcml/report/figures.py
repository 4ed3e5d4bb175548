"""Figures in one style: every study draws with :func:`pyplot` (which applies :func:`style`, mplhep's ROOT style
with tpcml's sizes), labels each panel with :func:`label` (mplhep's experiment label), bins with ``hist`` and
writes with :func:`save` (PNG, 110 dpi, atomically), so that every report's figures look alike and no
half-written PNG is ever left behind.

The helpers here are the rules every figure follows: a colour scale spanning decades is logarithmic
(:func:`colour_norm`), an efficiency point carries its Clopper-Pearson interval (:func:`efficiency_errorbar`), and
every line and marker has a legend entry (:func:`unlabelled`, checked by the tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "DPI",
    "EXPERIMENT",
    "colour_norm",
    "efficiency_errorbar",
    "hist1d",
    "label",
    "legend",
    "pyplot",
    "save",
    "style",
    "unlabelled",
]

DPI = 110
#: The bold word of every figure's mplhep label: these are tpcml's results, not an experiment's.
EXPERIMENT = "tpcml"
#: tpcml's sizes on top of mplhep's ROOT style (whose 26 pt text is made for one 10 x 10 inch panel; our figures
#: have several panels of 5-8 inches).
_OVERRIDES = {
    "font.size": 13,
    "axes.titlesize": "medium",
    "legend.fontsize": "small",
    "legend.frameon": True,
    "legend.framealpha": 0.85,
    "legend.edgecolor": "none",
    "xtick.major.size": 6,
    "xtick.minor.size": 3,
    "ytick.major.size": 6,
    "ytick.minor.size": 3,
    "axes.linewidth": 1.2,
    "figure.figsize": (8.0, 5.5),
}


def style() -> None:
    """Apply tpcml's one figure style: ``mplhep.style.ROOT`` with the sizes of :data:`_OVERRIDES`."""
    import mplhep

    mplhep.style.use([mplhep.style.ROOT, _OVERRIDES])


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed), with :func:`style` applied."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    style()
    return plt


def label(ax, rlabel: str = "", text: str = "Simulation") -> None:
    """mplhep's label above ``ax``: **tpcml** ``text`` on the left (``"Simulation"`` for tpcml's simulated data,
    ``""`` for the user's files), ``rlabel`` (a short tag such as ``"P2-DNN Fig. 1 analogue"``) on the right."""
    import mplhep

    mplhep.label.exp_label(exp=EXPERIMENT, text=text, data=True, rlabel=rlabel, loc=0, ax=ax, fontsize=11)


def hist1d(values, bins: int, lo: float, hi: float, **kwargs):
    """A ``hist`` histogram of ``values`` on ``Regular(bins, lo, hi, **kwargs)`` with the last bin closed on the
    right, as in ``numpy.histogram``: hist's bins are [a, b), so a value equal to ``hi`` (a score of exactly 1,
    S1TBA = 1, the largest value of a sample) would otherwise go to the overflow and out of the figure."""
    import hist

    v = np.asarray(values, dtype=np.float64)
    # a relative step, not nextafter: hist computes (x - lo) / (hi - lo), which rounds 1 - 1e-16 + 1 up to 2
    v = np.where(v == hi, hi - 1e-9 * (hi - lo), v)
    return hist.Hist(hist.axis.Regular(bins, lo, hi, **kwargs)).fill(v)


def colour_norm(values, decades: float = 1.0):
    """The colour norm of a density: ``LogNorm`` when its positive values span at least ``decades`` decades (so
    that a faint population stays visible beside a dense one), else a linear ``Normalize``."""
    from matplotlib.colors import LogNorm, Normalize

    v = np.asarray(values, dtype=np.float64)
    pos = v[np.isfinite(v) & (v > 0)]
    if len(pos) == 0:
        return Normalize()
    lo, hi = float(pos.min()), float(pos.max())
    if hi / lo >= 10.0**decades:
        return LogNorm(vmin=lo, vmax=hi)
    return Normalize(vmin=0.0, vmax=hi)


def efficiency_errorbar(ax, eff, replica: int = 0, **kwargs):
    """Draw the efficiency points of ``eff`` (a :class:`tpcml.stats.metrics.Efficiency`) for one replica with their
    Clopper-Pearson intervals as vertical bars and the bin widths as horizontal bars; empty bins are left out.
    Returns the errorbar container (give ``label=`` for its legend entry)."""
    e, lo, hi = eff.efficiency[replica], eff.lower[replica], eff.upper[replica]
    ok = np.isfinite(e)
    c, half = eff.centers, 0.5 * np.diff(eff.edges)
    kwargs.setdefault("fmt", "o")
    kwargs.setdefault("ms", 4)
    return ax.errorbar(c[ok], e[ok], yerr=[e[ok] - lo[ok], hi[ok] - e[ok]], xerr=half[ok], **kwargs)


def legend(ax, marker_size: float = 20.0, **kwargs):
    """``ax.legend(**kwargs)`` with the scatter markers' legend entries drawn at ``marker_size`` (points^2), so that
    small plotted dots stay visible in the legend without enlarging the line markers."""
    from matplotlib.collections import PathCollection

    leg = ax.legend(**kwargs)
    for handle in leg.legend_handles:
        if isinstance(handle, PathCollection):
            handle.set_sizes([marker_size])
            handle.set_alpha(1.0)
    return leg


def unlabelled(fig) -> list:
    """The lines, markers, filled areas and error bars of ``fig`` that no legend of their axes (or of the figure)
    names: a
    talk-ready figure has none. Artists whose label starts with ``_`` (matplotlib's "no legend" convention, e.g.
    reference lines explained in the axis label) count as unlabelled; images and colour meshes (read through their
    colour bar) are not checked."""
    from matplotlib.collections import PathCollection, PolyCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    missing = []
    in_figure = {t.get_text() for leg in fig.legends for t in leg.get_texts()}
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        leg = ax.get_legend()
        names = in_figure | ({t.get_text() for t in leg.get_texts()} if leg is not None else set())
        inside = {id(a) for c in ax.containers for a in _children(c)}
        drawn = [a for a in ax.lines if isinstance(a, Line2D) and id(a) not in inside]
        drawn += [a for a in ax.collections if isinstance(a, PathCollection | PolyCollection) and id(a) not in inside]
        drawn += [p for p in ax.patches if isinstance(p, Patch) and id(p) not in inside]
        drawn += list(ax.containers)
        for a in drawn:
            name = a.get_label()
            if not name or name.startswith("_") or name not in names:
                missing.append(a)
    return missing


def _children(container) -> list:
    out = []
    for item in container:
        if isinstance(item, list | tuple):
            out.extend(_children(item))
        elif item is not None:
            out.append(item)
    return out


def save(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` as PNG (atomically), close it and return ``path``."""
    from tpcml.core.rootio import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return Path(path)
