"""``tpcml run quickstart``: the end-to-end chain that exists today.

simulate (the one LXe chain, :class:`tpcml.sim.lxe.Simulator`: NEST quanta + the C++
``LXeResponse`` of a registry detector) -> ROOT file -> C++ electron-lifetime correction inside a
jitted RDataFrame Define -> ER/NR bands, NR median (C++ ``NRMedianCurve``), ER leakage below it
-> plots + Markdown report. Later studies replace it as main job.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tpcml import _core
from tpcml.core import detectors
from tpcml.core.options import all_cores
from tpcml.core.rootio import provenance, write_tree
from tpcml.report.figures import label, legend, pyplot, save
from tpcml.report.markdown import abbreviations, write_page
from tpcml.report.progress import printer
from tpcml.report.results import write_json
from tpcml.sim.lxe import ER, NR, Simulator

#: Bins of the median fits (equal-count qS1 bins of ``NRMedianCurve.fit``) in the PandaX-II signal
#: window in raw S1 ("Suppression of accidental backgrounds with deep neural networks in the PandaX-II
#: experiment", Sec. 3: 3 <= qS1 <= 45 PE and raw S2 > 100 PE; registry keys s1_threshold_pe / s1_max_pe /
#: s2_threshold_pe).
N_S1_BINS = 21


def median_curve(qs1: np.ndarray, qs2c: np.ndarray, s1_min: float, s1_max: float) -> _core.NRMedianCurve:
    """Median line of log10(qS2c / qS1) versus qS1: the C++ ``NRMedianCurve`` fit (equal-count
    bins, cubic in ln qS1; see NRMedian.h) on the events with qS1 in [s1_min, s1_max]."""
    return _core.NRMedianCurve.fit(
        np.asarray(qs1, np.float32), np.asarray(qs2c, np.float32), s1_min, s1_max, n_bins=N_S1_BINS
    )


OUTPUTS = ("events.root", "bands.png", "lifetime_correction.png", "summary.json", "report.md")


def run(
    out: Path,
    detector: str = "pandax2",
    n_er: int = 20000,
    n_nr: int = 10000,
    seed: int = 1,
    threads: int = 0,
    quiet: bool = False,
) -> dict:
    t0 = time.perf_counter()
    threads = all_cores(threads)  # 0: every core, as --threads 0 everywhere
    say = printer("quickstart", quiet)
    out.mkdir(parents=True, exist_ok=True)
    det = detectors.load(detector)
    s1_lo, s1_hi = det.get("s1_threshold_pe"), det.get("s1_max_pe")
    s2_lo = det.get("s2_threshold_pe")

    say(f"simulating {n_er} ER + {n_nr} NR events in {det.name} with NEST and the C++ LXeResponse (seed {seed})")
    sim = Simulator(det, threads)
    er = sim.raw_events(ER, n_er, seed=seed)
    nr = sim.raw_events(NR, n_nr, seed=seed + 1)
    cols = {k: np.concatenate([er[k], nr[k]]) for k in er}
    cols["event"] = np.arange(len(cols["qS1"]), dtype=np.uint64)
    # qS1c: S1 over the detector's relative light collection at the event's position (the depth-dependent S1 map
    # of LXeOptics): without it the band's drift-time slope mixes the S1 collection with the electron lifetime
    cols["qS1c"] = sim.corrections.apply(cols["qS1"], cols["qS2"], cols["drift_time"], cols["x"], cols["y"])["qS1c"]
    events = out / "events.root"
    write_tree(
        events,
        "events",
        cols,
        detector=det.name,
        provenance_info=provenance(seed=seed, n_er=n_er, n_nr=n_nr),
        auto_flush=5000,
    )
    say(f"wrote {events} ({len(cols['qS1'])} events)")

    say("C++ electron-lifetime correction in RDataFrame (jitted tpcml::ElectronLifetimeCorrection)")
    from tpcml.core.root import load_root

    ROOT = load_root()
    if threads > 1:  # --threads 0 (all cores) arrives resolved to the core count; 1: ImplicitMT off
        ROOT.EnableImplicitMT(threads)
    tau = det.get("electron_lifetime", "us")
    df = ROOT.RDataFrame("events", str(events))
    sel = (
        df.Define("qS2c", f"tpcml::ElectronLifetimeCorrection({tau!r})(qS2, drift_time)")
        .Filter(f"qS1 >= {s1_lo} && qS1 <= {s1_hi}", "S1 window")
        .Filter(f"qS2 > {s2_lo}", "S2 threshold")
        .Define("log_s2s1", "std::log10(qS2c / qS1)")
        .Define("log_s2s1c_raw", "std::log10(qS2 / qS1c)")
        .Define("log_s2s1c", "std::log10(qS2c / qS1c)")
    )
    arrays = sel.AsNumpy(["qS1", "qS2", "qS2c", "drift_time", "recoil_type", "log_s2s1", "log_s2s1c_raw", "log_s2s1c"])
    report = sel.Report()
    cutflow = [(c.GetName(), int(c.GetAll()), int(c.GetPass())) for c in report]

    is_er, is_nr = arrays["recoil_type"] == ER, arrays["recoil_type"] == NR
    nr_med = median_curve(arrays["qS1"][is_nr], arrays["qS2c"][is_nr], s1_lo, s1_hi)
    try:  # the ER median is only drawn: too few ER events leave it out of the plot
        er_med = median_curve(arrays["qS1"][is_er], arrays["qS2c"][is_er], s1_lo, s1_hi)
    except _core.UsageError:
        er_med = None
        say(f"ER median not drawn: too few ER events in the S1 window ({int(is_er.sum())}) for its fit")
    below = nr_med.below(np.asarray(arrays["qS1"], np.float32), np.asarray(arrays["qS2c"], np.float32))
    n_er_sel = int(is_er.sum())
    leak = float(below[is_er].mean()) if n_er_sel else float("nan")
    leak_err = float(np.sqrt(leak * (1 - leak) / n_er_sel)) if n_er_sel else float("nan")
    # the correction must remove the drift-time dependence of the ER band (S1 corrected for the light collection)
    t = arrays["drift_time"][is_er]
    slope_raw = float(np.polyfit(t, arrays["log_s2s1c_raw"][is_er], 1)[0]) if n_er_sel > 2 else float("nan")
    slope_corr = float(np.polyfit(t, arrays["log_s2s1c"][is_er], 1)[0]) if n_er_sel > 2 else float("nan")

    summary = {
        "detector": det.name,
        "electron_lifetime_us": tau,
        "n_er_selected": n_er_sel,
        "n_nr_selected": int(is_nr.sum()),
        "er_leakage_below_nr_median": leak,
        "er_leakage_uncertainty": leak_err,
        "er_band_slope_vs_drift_time_raw_per_us": slope_raw,
        "er_band_slope_vs_drift_time_corrected_per_us": slope_corr,
        "cutflow": cutflow,
        "wall_time_s": None,
    }

    say("plotting bands")
    _plot(out / "bands.png", arrays, is_er, is_nr, nr_med, er_med, det.name)
    _plot_drift(out / "lifetime_correction.png", arrays, is_er, tau)
    summary["wall_time_s"] = round(time.perf_counter() - t0, 2)
    _write_report(out, summary, det)
    write_json(out / "summary.json", summary)
    say(
        f"done in {summary['wall_time_s']} s: ER leakage below NR median = "
        f"{100 * leak:.2f} ± {100 * leak_err:.2f} %  -> {out / 'report.md'}"
    )
    return summary


def _plot(path, a, is_er, is_nr, nr_med, er_med, det_name):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.scatter(a["qS1"][is_er], a["log_s2s1"][is_er], s=1, alpha=0.3, color="tab:blue", label="ER (flat beta)")
    ax.scatter(a["qS1"][is_nr], a["log_s2s1"][is_nr], s=1, alpha=0.3, color="tab:red", label="NR (neutron-like)")
    if er_med is not None:
        ax.plot(er_med.knots_x, er_med.knots_y, "b-", lw=2, label="ER median")
    ax.plot(nr_med.knots_x, nr_med.knots_y, "r-", lw=2, label="NR median")
    ax.set_xlabel("qS1 [PE]")
    ax.set_ylabel(r"$\log_{10}$(qS2c / qS1)")
    label(ax, f"{det_name}: NEST, lifetime-corrected S2")
    legend(ax, loc="upper right")
    fig.tight_layout()
    save(fig, path)


def drift_figure(a, is_er, tau):
    """The ER band's log10(qS2/qS1c) against the drift time, raw and corrected: the mean in each drift-time bin
    (``hist`` Mean storage) with its standard error, and the straight-line fit whose slope the report gives."""
    import hist

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 5))
    t = a["drift_time"][is_er]
    axis = hist.axis.Regular(15, float(t.min()), float(t.max()))
    t_fill = np.where(t == t.max(), t.max() - 1e-9 * np.ptp(t), t)  # the last bin closed on the right
    for key, color, name in (("log_s2s1c_raw", "gray", "raw qS2"), ("log_s2s1c", "tab:blue", "qS2c (C++ correction)")):
        y = a[key][is_er]
        h = hist.Hist(axis, storage=hist.storage.Mean()).fill(t_fill, sample=y)
        v = h.view()
        ok = v.count > 1
        err = np.sqrt(v.variance[ok] / v.count[ok])
        ax.errorbar(axis.centers[ok], v.value[ok], yerr=err, fmt="o", color=color, label=f"{name}: mean per bin")
        if len(t) > 2:
            slope, icpt = np.polyfit(t, y, 1)
            ax.plot(
                axis.edges[[0, -1]],
                icpt + slope * axis.edges[[0, -1]],
                color=color,
                ls="--",
                label=f"{name}: fit, slope {slope:.1e} / µs",
            )
    ax.set_xlabel("drift time [µs]")
    ax.set_ylabel(r"$\log_{10}$(qS2 / qS1c), ER")
    label(ax, f"electron lifetime τ = {tau:.0f} µs")
    ax.legend(loc="best", fontsize="x-small")
    fig.tight_layout()
    return fig


def _plot_drift(path, a, is_er, tau):
    save(drift_figure(a, is_er, tau), path)


def _write_report(out: Path, s: dict, det) -> None:
    lines = [
        f"# tpcml quickstart: {det.title}",
        "",
        *abbreviations(
            {
                "ER / NR": "electron / nuclear recoil",
                "S1 / S2": "the prompt scintillation / the delayed electroluminescence signal; qS1, qS2 their "
                "charges in photoelectrons (PE), qS2c corrected for the electron lifetime",
                "NEST": "the Noble Element Simulation Technique (nestpy), which gives the quanta of each recoil",
                "SEG": "single-electron gain",
            }
        ),
        f"NEST quanta (nestpy) at {det.get('drift_field', 'V/cm'):.0f} V/cm; detector response of the C++ "
        f"`tpcml::LXeResponse` (g1 = {det.get('g1')}, extraction {det.get('extraction_efficiency')}, SEG "
        f"{det.get('single_electron_gain')} PE/e, light and S2 maps per PMT); NR and ER medians fitted by the C++ "
        f"`tpcml::NRMedianCurve`; S2 corrected by the C++ kernel `tpcml::ElectronLifetimeCorrection` (τ = "
        f"{s['electron_lifetime_us']:.0f} µs) inside an RDataFrame jitted Define.",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| ER events selected | {s['n_er_selected']} |",
        f"| NR events selected | {s['n_nr_selected']} |",
        f"| ER leakage below NR median | {100 * s['er_leakage_below_nr_median']:.2f} ± "
        f"{100 * s['er_leakage_uncertainty']:.2f} % |",
        f"| ER band slope vs drift time, raw | {s['er_band_slope_vs_drift_time_raw_per_us']:.2e} / µs |",
        f"| ER band slope vs drift time, corrected | {s['er_band_slope_vs_drift_time_corrected_per_us']:.2e} / µs |",
        f"| wall time | {s['wall_time_s']} s |",
        "",
        "## Cut flow",
        "",
        "| cut | in | pass |",
        "|---|---|---|",
        *[f"| {name} | {n_all} | {n_pass} |" for name, n_all, n_pass in s["cutflow"]],
        "",
        "![bands](bands.png)",
        "",
        "![lifetime correction](lifetime_correction.png)",
        "",
    ]
    write_page(out / "report.md", lines)
