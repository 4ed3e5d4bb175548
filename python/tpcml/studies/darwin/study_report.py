"""The report of ``tpcml run darwin``: figures (DARWIN-VAE Figs. 2, 3, 4 and the R scan), the rates per component
(its Fig. 5 analogue), the binned-likelihood comparison and the paper's numbers beside tpcml's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tpcml.report import figures, markdown, results

from .study import EXPOSURE, PAPER, WIMP_MASS, WIMP_SIGMA, results_of


def _interval(iv) -> str:
    return f"{iv[0]:.2f}-{iv[1]:.2f}" if iv[1] is not None else f">= {iv[0]:.2f}"


def _finish(fig, ax, path: Path, xlabel: str, ylabel: str) -> Path:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    figures.legend(ax, fontsize=8)
    return figures.save(fig, path)


def _fig2(st, path: Path) -> Path:
    plt = figures.pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    fig2 = st["fig2"]
    all_ts = np.concatenate([t for t, _ in fig2["background"].values()])
    bins = np.linspace(*np.percentile(all_ts, [0.5, 99.5]), 50)
    (t_er, w_er), (t_nr, w_nr) = fig2["background"]["ER"], fig2["background"]["NR"]
    ax.hist([t_er, t_nr], bins=bins, weights=[w_er, w_nr], stacked=True, color=["0.75", "0.4"], label=["ER", "NR"])
    for (name, (t, w)), c in zip(fig2["wimps"].items(), ("tab:blue", "tab:red"), strict=False):
        ax.hist(t, bins=bins, weights=w, histtype="step", color=c, lw=1.5, label=f"WIMP {name}")
    f0 = st["main"]["f0"]
    xs = np.linspace(bins[0], bins[-1], 400)
    ax.plot(xs, f0.pdf(xs) * st["main"]["B"] * (bins[1] - bins[0]), "k-", lw=1, label="$f_0$ (KDE) x B")
    ax.set_yscale("log")
    ax.set_ylim(bottom=1e-3)  # f0's Gaussian tails fall far below any bin content
    ax.set_xlabel(f"TS (R = {fig2['R']:g})")
    ax.set_ylabel(f"events / bin at {EXPOSURE:g} t y")
    figures.legend(ax, fontsize=8)
    return figures.save(fig, path)


def _fig3(st, path: Path) -> Path:
    plt = figures.pyplot()
    main = st["main"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    q0, q1 = main["q0"], main["q1"]
    bins = np.linspace(min(q0.min(), q1.min()), max(q0.max(), q1.max()), 60)
    ax.hist(q0, bins=bins, density=True, alpha=0.6, color="tab:blue", label="$H_0$")
    ax.hist(
        q1,
        bins=bins,
        density=True,
        alpha=0.6,
        color="tab:pink",
        label=f"$H_1$: {WIMP_MASS:g} GeV, {WIMP_SIGMA:g} cm$^2$",
    )
    from scipy.stats import gaussian_kde

    xs = np.linspace(bins[0], bins[-1], 300)
    ax.plot(xs, gaussian_kde(q0)(xs), "b-", lw=1, label="KDE of $g_0(q)$")
    ax.axvline(main["sens"].q_med, color="red", label=f"$q_{{med}}$: {main['sigma']:.2f} $\\sigma$")
    return _finish(fig, ax, path, "q = -2 ln L", "density")


def _fig4(st, path: Path) -> Path:
    plt = figures.pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    xs = [r["exposure_t_y"] for r in st["vs_exposure"]]
    ys = np.array([r["sigma"] for r in st["vs_exposure"]])
    lo = np.array([r["sigma_interval"][0] for r in st["vs_exposure"]])
    hi = np.array([np.nan if r["sigma_interval"][1] is None else r["sigma_interval"][1] for r in st["vs_exposure"]])
    yerr = np.nan_to_num(np.clip(np.stack([ys - lo, hi - ys]), 0, None))  # no upper bar where p_med has no bound
    ax.errorbar(xs, ys, yerr=yerr, fmt="o-", color="tab:red", label="tpcml (anomaly score)")
    ax.plot([EXPOSURE], [PAPER["sigma_200ty"]], "k*", ms=12, label="DARWIN-VAE: ~3 $\\sigma$ at ~200 t y")
    for s in (1, 2, 3):
        ax.axhline(s, color="k", ls="--", lw=0.8, label=f"{s} $\\sigma$")
    return _finish(fig, ax, path, "exposure [t y]", "median sensitivity [$\\sigma$]")


def _r_scan(st, path: Path) -> Path:
    plt = figures.pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    R = np.array([s["R"] for s in st["r_scan"]])
    ax.plot(np.maximum(R, 0.3), [s["sigma"] for s in st["r_scan"]], "o-", label="median sensitivity (empirical p)")
    ax.plot(np.maximum(R, 0.3), [s["z_gauss"] for s in st["r_scan"]], "s--", label="(q_med - <q0>) / sd(q0): criterion")
    ax.set_xscale("log")
    return _finish(fig, ax, path, "R (R = 0 drawn at 0.3)", f"at {EXPOSURE:g} t y [$\\sigma$]")


def _grid(st, path: Path) -> Path:
    plt = figures.pyplot()
    g = st["grid"]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    m, s, z = np.array(g["masses"]), np.array(g["sigmas"]), np.array(g["sigma_med"])
    pc = ax.pcolormesh(m, s, np.minimum(z, 5.0), shading="nearest", cmap="viridis", vmin=0, vmax=5)  # >= 5: one colour
    ax.contour(m, s, z, levels=[1, 2, 3], colors="w")
    fig.colorbar(pc, ax=ax, label="median sensitivity [$\\sigma$]")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("$m_\\chi$ [GeV]")
    ax.set_ylabel("$\\sigma_{SI}$ [cm$^2$]")
    return figures.save(fig, path)


def _binned_section(b: dict) -> list[str]:
    """What the model-dependent binned Z rests on: the bins carrying most of q, the ER leakage and its bound."""
    leak = b["er_leakage"]
    lines = [
        "",
        "## The binned (cS1, log10 cS2) likelihood: what its Z rests on",
        "",
        f"{b['bins'][0]} x {b['bins'][1]} bins; median Z {b['median_z']:.2f}, Asimov {b['z_asimov']:.2f} (Cowan et al. "
        f"Eq. 97). The signal sits below the ER band, where the background is the NR one (CEvNS, neutrons) plus the ER "
        f"leakage: {leak['mc_events_below']} of {leak['mc_events']} simulated ER events in the signal region lie below "
        f"the WIMP median of log10 cS2 (weighted fraction {leak['fraction']:.1e}; 90 % upper bound "
        f"{leak['upper_90']:.1e}; DARWIN's 2016 sensitivity study assumes 99.98 % ER rejection at 30 % NR acceptance, "
        "JCAP 11 (2016) 017, not among the texts tpcml has). One simulated ER event weighs "
        f"{b['er_event_weight']:.1f} background events at 200 t y; with one more in every bin with signal, the "
        "Asimov Z "
        f"is {b['z_asimov_one_more_er_event']:.2f}.",
        "",
        "| cS1 [PE] | log10 cS2 | s | b | b ER | b NR | simulated ER events | share of q |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {t['cS1'][0]:.1f}-{t['cS1'][1]:.1f} | {t['log10_cS2'][0]:.2f}-{t['log10_cS2'][1]:.2f} | {t['s']:.1f} | "
        f"{t['b']:.2f} | {t['b_er']:.2f} | {t['b_nr']:.2f} | {t['er_mc_events']} | {t['share_of_q']:.2f} |"
        for t in b["top_bins"]
    ]
    return lines


def report(ctx) -> Path:
    st, out = ctx.state, ctx.out
    res = results_of(ctx)
    figs = {
        "fig2_ts.png": _fig2(st, out / "fig2_ts.png"),
        "fig3_q.png": _fig3(st, out / "fig3_q.png"),
        "fig4_exposure.png": _fig4(st, out / "fig4_exposure.png"),
        "r_scan.png": _r_scan(st, out / "r_scan.png"),
    }
    if "grid" in st:
        figs["fig4_grid.png"] = _grid(st, out / "fig4_grid.png")
    s200, tr = res["sensitivity_200ty"], res["training"]
    lines = [
        "# DARWIN: model-independent anomaly search (DARWIN-VAE)",
        "",
        f"Vector: {res['vector_size']} entries per event (S1 and S2 total waveforms of 200 samples, S2 hit patterns "
        "of 955 + 955 PMTs; the paper's 3835 reflects its own waveform lengths and photosensors), log1p-normalised "
        "in C++ (tpcml::EventVectorBuilder).",
        "",
        "| quantity | DARWIN-VAE | tpcml |",
        "|---|---|---|",
        f"| training events per class | 2 x 10^4 (70/30) | {ctx.config.train_events} (70/30) |",
        f"| B at 200 t y | ~6.5 x 10^3 | {s200['B']:.0f} |",
        f"| S (WIMP {WIMP_MASS:g} GeV, {WIMP_SIGMA:g} cm2) at 200 t y | not given | {s200['S']:.1f} |",
        f"| median sensitivity at 200 t y | ~3 sigma | {s200['sigma']:.2f} sigma (p_med {s200['p_med']:.2g}; "
        "68 % interval "
        f"{_interval(s200['sigma_interval'])} sigma from the null tail) |",
        f"| counting only, S / sqrt(B) | (S / sqrt(6.5e3) = {s200['counting_z_paper_B']:.2f}, tpcml's S) | "
        f"{s200['counting_z']:.2f} |",
        f"| pseudo-experiments per hypothesis | 10^4 | {ctx.config.experiments} |",
        f"| R | chosen by App. C | {res['R']:g} (scan: r_scan.png) |",
        f"| binned (cS1, log10 cS2) likelihood, median Z | not done | {res['binned']['median_z']:.2f} "
        f"(Asimov {res['binned']['z_asimov']:.2f}; {res['binned']['floored_bins_with_signal']} bins with signal but no "
        f"simulated background, floored at 1e-3, hold {res['binned']['signal_in_floored_bins']:.1f} signal events) |",
        "",
        f"VAE -ELBO per event (training): {tr['vae_loss'][0]:.0f} -> {tr['vae_loss'][-1]:.0f}; classifier validation "
        f"accuracy {tr['classifier_val_accuracy'][-1]:.3f}. C++ TS (RDataFrame, tpcml ONNX engine) vs Keras TS on "
        f"{res['parity']['events']} events: max relative difference {res['parity']['max_rel_diff_ts_R10']:.1e}.",
        "",
        f"## Expected events at {EXPOSURE:g} t y (Fig. 5 analogue; signal region cS1 in [{ctx.config.cs1_window[0]:g}, "
        f"{ctx.config.cs1_window[1]:g}] PE, an assumption: the paper's cuts are in its App. A, not available)",
        "",
        f"| component | recoil | 1-100 keV | after trigger + FV (ER: of {res['energy_windows_keV']['eval_er'][0]:g}-"
        f"{res['energy_windows_keV']['eval_er'][1]:g} keV, simulated) | after signal region |",
        "|---|---|---|---|---|",
    ]
    for r in res["rates_200ty"]:
        name = f"  part: {r['component']}" if r["part_of_total"] else r["component"]
        lines.append(
            f"| {name} | {r['recoil']} | {r['before_cuts']:.4g} | {r['trigger_fv']:.4g} | {r['signal_region']:.4g} |"
        )
    lines += [
        "",
        "## Sensitivity vs exposure",
        "",
        "| exposure [t y] | B | S | median sigma (68 % interval) |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['exposure_t_y']:g} | {r['B']:.0f} | {r['S']:.1f} | {r['sigma']:.2f} ({_interval(r['sigma_interval'])}) |"
        for r in res["vs_exposure"]
    ]
    lines += _binned_section(res["binned"])
    lines += ["", "## Figures", ""] + [f"![{k}]({k})" for k in figs]
    lines += markdown.timings_tail(ctx.timings)
    path = markdown.write_page(out / "report.md", lines)
    results.finish(ctx, res, path)
    return path
