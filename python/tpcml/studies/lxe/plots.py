"""Plots of a ``tpcml simulate xenon1t|xenonnt|darwin`` file: the event display (the analogue of X1T-CNN Fig. 3:
S1 and S2 hit patterns of both PMT arrays on the detector's real PMT positions, and the S1 and S2 peak
waveforms) and the ER/NR bands in (cS1, log10 cS2_bottom).

Both read the file with :func:`tpcml.core.rootio.read_columns` (TTree or RNTuple alike; the per-PMT areas and
waveforms are fixed-length array columns), and take the PMT table from the detector the file is tagged with
(``tpcml_detector``, e.g. ``xenon1t:sr0``) through ``tpcml._core.LXeOptics``, the engine's own optics.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["bands", "event_display", "output_name"]

#: the per-event columns the event display reads (float scalars), and its arrays
DISPLAY_SCALARS = (
    "s1_area", "s2_area", "cS1", "cS2", "x", "y", "drift_time", "energy_true", "x_true", "y_true",
    "s1_waveform_dt", "s1_waveform_t0", "s2_waveform_dt", "s2_waveform_t0",
)  # fmt: skip
DISPLAY_ARRAYS = (
    "s1_pmt_area", "s2_pmt_area", "s1_waveform", "s1_waveform_top", "s1_waveform_bottom", "s2_waveform",
    "s2_waveform_top", "s2_waveform_bottom",
)  # fmt: skip
RECOIL_NAMES = {0: "ER", 1: "NR"}


def output_name(what: str, file: str | os.PathLike, event: int = 0) -> str:
    """``event_display_<file stem>_<event>.png`` or ``bands_<file stem>.png``."""
    stem = Path(file).name.removesuffix(".root")
    return f"event_display_{stem}_{event}.png" if what == "event-display" else f"bands_{stem}.png"


def _detector(file, fallback: str):
    """The detector the file is tagged with (``tpcml_detector``; ``fallback`` when untagged), loaded."""
    from tpcml.core import detectors, rootio

    tag, _ = rootio.read_provenance(file)
    return detectors.load(tag or fallback)


def _pmt_table(det):
    """(top x-y (2, n_top), bottom x-y (2, n_bottom), PMT radius, TPC radius) in mm from the engine's optics."""
    from tpcml import _core

    optics = _core.LXeOptics(det)
    top, bottom = np.asarray(optics.top_xy, float), np.asarray(optics.bottom_xy, float)
    return top, bottom, 0.5 * det.get("pmt_diameter", "mm"), det.get("tpc_radius", "mm")


def _hit_pattern(fig, ax, xy, area, pmt_radius, tpc_radius, title, cmap, rows: dict | None = None):
    """One PMT array: a circle per PMT at its position coloured by its area (log scale; PMTs without light in the
    cmap's 'under' colour), the TPC wall, a colour bar in PE; ``rows`` adds markers (label: (x, y))."""
    from matplotlib.collections import PatchCollection
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Circle

    area = np.asarray(area, float)
    lit = area[area > 0]
    lo = max(lit.min() if lit.size else 0.1, 0.1)
    hi = max(lit.max() if lit.size else 1.0, lo * 10)
    cmap = cmap.with_extremes(under="#e8e8e8", bad="#e8e8e8")
    patches = PatchCollection(
        [Circle((x, y), pmt_radius) for x, y in xy.T], cmap=cmap, norm=LogNorm(lo, hi), edgecolor="0.45", lw=0.4
    )
    patches.set_array(np.where(area > 0, area, lo * 1e-3))  # no light: below the norm, the 'under' colour
    ax.add_collection(patches)
    wall = plt_circle(tpc_radius)
    ax.add_patch(wall)
    for label, (x, y, marker, colour) in (rows or {}).items():
        ax.plot([x], [y], marker, color=colour, ms=11, mew=2.2, label=label)
    lim = 1.06 * tpc_radius
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel="x [mm]", ylabel="y [mm]")
    ax.set_title(title, fontsize=12)
    bar = fig.colorbar(patches, ax=ax, label="area per PMT [PE]", extend="min", fraction=0.046, pad=0.03)
    _plain_log_ticks(bar.ax.yaxis)
    ax.legend(handles=[wall, *ax.lines], loc="upper right", fontsize=8)


def _plain_log_ticks(axis) -> None:
    """Log-axis tick labels as plain numbers (0.3, 2, 50, 1000): every decade, and 2 and 5 times it."""
    from matplotlib.ticker import FuncFormatter

    def text(v, _pos) -> str:
        if v <= 0:
            return ""
        mantissa = round(v / 10 ** np.floor(np.log10(v)), 6)
        return f"{v:g}" if mantissa in (1.0, 2.0, 5.0) else ""

    axis.set_major_formatter(FuncFormatter(text))
    axis.set_minor_formatter(FuncFormatter(text))


def plt_circle(radius: float):
    """The TPC wall: a circle of ``radius`` mm (legend entry "TPC wall")."""
    from matplotlib.patches import Circle

    return Circle((0, 0), radius, fill=False, ec="k", lw=1.3, ls="--", label="TPC wall")


def _waveform(ax, t, wf, title: str, unit: str):
    """The summed, top and bottom peak waveforms (PE per sample) against time."""
    for key, label, colour in (("", "summed", "k"), ("_top", "top array", "C0"), ("_bottom", "bottom array", "C3")):
        ax.step(t, wf[key], where="post", color=colour, lw=1.6 if key == "" else 1.1, label=label)
    total = np.asarray(wf[""], float)
    lit = np.flatnonzero(total > 0.01 * total.max()) if total.max() > 0 else np.arange(len(t))
    step = t[1] - t[0] if len(t) > 1 else 1.0
    lo, hi = t[lit[0]], t[lit[-1]] + step  # the peak, not the empty end of its 200 samples
    ax.set_xlim(lo - 0.15 * (hi - lo), hi + 0.15 * (hi - lo))
    ax.set(xlabel=f"time since the S1 start [{unit}]", ylabel="PE per sample")
    ax.set_ylim(bottom=0, top=1.2 * max(float(np.max(wf[""])), 1e-3))
    ax.legend(loc="upper right", title=title, title_fontsize=11)


def event_display(file: str | os.PathLike, event: int, path: Path, study: str = "xenon1t") -> Path:
    """The X1T-CNN Fig. 3 analogue of entry ``event`` of ``file``: top/bottom hit patterns of S1 and S2 on the PMT
    positions and the S1/S2 peak waveforms (summed, top, bottom), written to ``path`` (PNG)."""
    from tpcml.core import rootio
    from tpcml.core.errors import InputError
    from tpcml.report import figures

    det = _detector(file, study)
    top, bottom, pmt_r, tpc_r = _pmt_table(det)
    n_top = top.shape[1]
    columns = {c: "float" for c in DISPLAY_SCALARS} | {c: "floats[]" for c in DISPLAY_ARRAYS} | {"recoil_type": "int"}
    cols = rootio.read_columns(file, "events", columns, entry_stop=event + 1)
    n = len(cols["s1_area"])
    if event >= n:
        raise InputError(f"{file}: --event {event}: the events tree has {n} entries (0 to {n - 1})")
    row = {k: v[event] for k, v in cols.items()}
    n_pmt = len(row["s1_pmt_area"])
    if n_pmt != n_top + bottom.shape[1]:
        raise InputError(
            f"{file}: s1_pmt_area has {n_pmt} PMTs per event, the detector {det.name} has {n_top} + {bottom.shape[1]}"
        )
    plt = figures.pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(19, 11), gridspec_kw={"width_ratios": [1, 1, 1.25]})
    recoil = RECOIL_NAMES.get(int(row["recoil_type"]), str(row["recoil_type"]))
    where = {
        "reconstructed (x, y)": (row["x"], row["y"], "x", "deepskyblue"),
        "true (x, y)": (row["x_true"], row["y_true"], "+", "magenta"),
    }
    for r, (signal, cmap) in enumerate((("s1", plt.cm.viridis), ("s2", plt.cm.inferno))):
        area = row[f"{signal}_pmt_area"]
        total = row[f"{signal}_area"]
        for c, (array, xy, part) in enumerate((("top", top, area[:n_top]), ("bottom", bottom, area[n_top:]))):
            title = f"{signal.upper()} {array} array: {part.sum():.4g} of {total:.4g} PE"
            _hit_pattern(fig, axes[r, c], xy, part, pmt_r, tpc_r, title, cmap, where if signal == "s2" else None)
        dt, t0 = row[f"{signal}_waveform_dt"], row[f"{signal}_waveform_t0"]
        wf = {k: row[f"{signal}_waveform{k}"] for k in ("", "_top", "_bottom")}
        scale, unit = (1.0, "ns") if signal == "s1" else (1e-3, "us")
        t = (t0 + dt * np.arange(len(wf[""]))) * scale
        _waveform(axes[r, 2], t, wf, f"{signal.upper()} peak ({dt:g} ns per sample)", unit)
    figures.label(axes[0, 2], rlabel="X1T-CNN Fig. 3 analogue")
    fig.suptitle(
        f"{det.name}{':' + det.run if det.run else ''}  event {event}: {recoil}, {row['energy_true']:.3g} keV, "
        f"cS1 = {row['cS1']:.4g} PE, cS2 = {row['cS2']:.4g} PE, drift time {row['drift_time']:.4g} us",
        fontsize=14,
    )
    fig.tight_layout()
    return figures.save(fig, path)


# --------------------------------------------------------------------------------------------------- bands
def _band_columns(file):
    from tpcml.core import rootio

    cols = rootio.read_columns(file, "events", {"cS1": "float", "cS2_bottom": "float"})
    ok = (cols["cS1"] > 0) & (cols["cS2_bottom"] > 0)
    return cols["cS1"][ok], np.log10(cols["cS2_bottom"][ok])


#: up to this many ER events the bands plot draws them as points, above as a 2-d histogram
ER_POINTS_MAX = 3000


def bands(file, file_nr, path: Path, study: str = "xenon1t", cs1_max: float = 100.0, bins: int = 25) -> Path:
    """The ER band of ``file`` (and the NR band of ``file_nr``) in (cS1, log10 cS2_bottom) for cS1 below
    ``cs1_max`` PE: the events (points, or a 2-d histogram for a large ER sample), each band's per-bin median
    (solid) and 15.9/84.1 % quantiles (dashed), :func:`tpcml.sim.bands.band_stats`, in at most ``bins`` cS1 bins
    (fewer for a small sample: about twice ``bands.MIN_BIN_COUNT`` events per bin; emptier bins have no point)."""
    from tpcml.core.errors import InputError
    from tpcml.report import figures
    from tpcml.sim.bands import MIN_BIN_COUNT, band_stats

    det = _detector(file, study)
    er = _band_columns(file)
    nr = _band_columns(file_nr) if file_nr else None
    if len(er[0]) == 0:
        raise InputError(f"{file}: no event with cS1 > 0 and cS2_bottom > 0")
    samples = [er] + ([nr] if nr is not None else [])
    smallest = min(int(np.sum(s[0] < cs1_max)) for s in samples)
    edges = np.linspace(0.0, cs1_max, int(np.clip(smallest // (2 * MIN_BIN_COUNT), 4, bins)) + 1)
    y_all = np.concatenate([s[1][s[0] < cs1_max] for s in samples])
    lo, hi = (np.percentile(y_all, [0.5, 99.5]) if len(y_all) else (2.0, 4.5)) + np.array([-0.15, 0.15])
    plt = figures.pyplot()
    fig, ax = plt.subplots(figsize=(9, 6.5))
    if len(er[0]) > ER_POINTS_MAX:
        h, xe, ye = np.histogram2d(er[0], er[1], bins=[np.linspace(0, cs1_max, 100), np.linspace(lo, hi, 80)])
        mesh = ax.pcolormesh(xe, ye, np.where(h > 0, h, np.nan).T, cmap="Blues", norm=figures.colour_norm(h))
        fig.colorbar(mesh, ax=ax, label="ER events per bin")
    else:
        ax.scatter(er[0], er[1], s=5, color="C0", alpha=0.45, label=f"ER events ({Path(file).name})")
    if nr is not None:
        ax.scatter(nr[0], nr[1], s=5, color="C1", alpha=0.45, label=f"NR events ({Path(file_nr).name})")
    for (cs1, y), name, colour in zip(samples, ("ER", "NR"), ("navy", "darkred"), strict=False):
        band = band_stats(cs1, y, edges)
        ax.plot(band.centers, band.median, "-", color=colour, lw=2, label=f"{name} median")
        gap = [np.nan]  # both quantile lines in one legend entry
        x2, y2 = np.r_[band.centers, gap, band.centers], np.r_[band.lower, gap, band.upper]
        ax.plot(x2, y2, "--", color=colour, lw=1.3, label=f"{name} 15.9 % and 84.1 % quantiles")
    ax.set(xlim=(0, cs1_max), ylim=(lo, hi), xlabel="cS1 [PE]", ylabel=r"$\log_{10}$(cS2$_\mathrm{b}$ / PE)")
    figures.label(ax, rlabel=f"{det.name}{':' + det.run if det.run else ''}, {len(er[0])} ER events")
    figures.legend(ax, loc="lower right")
    fig.tight_layout()
    return figures.save(fig, path)
