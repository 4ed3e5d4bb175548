"""Report of the PandaX-II accidental study: Figs. 1-5 analogues (PNG) and a Markdown page with the Table 2 and
Table 3 analogues of *Suppression of accidental backgrounds with deep neural networks in the PandaX-II experiment*
(P2-DNN), and ``results.json``: the report of the study (:func:`report`, after the steps of
:mod:`tpcml.studies.pandax2.study`)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tpcml.report.figures import efficiency_errorbar, hist1d, label, pyplot, save
from tpcml.report.markdown import abbreviations, caveat, timings_tail, write_page
from tpcml.report.results import finish
from tpcml.studies.pandax2 import plots, study

__all__ = ["report", "write_report"]


def report(ctx) -> Path:
    """Figures, ``report.md`` and ``results.json`` of one run (``ctx``: the steps' :class:`tpcml.studies.Context`)."""
    s = ctx.state
    ctx.timings["total_before_report"] = time.perf_counter() - ctx.started
    results = study.results_of(ctx)
    t0 = time.perf_counter()
    path = write_report(ctx.out, results, s["data"], s["splits"], s["models"], s["bdts"], s["selected"])
    ctx.timings["report"] = time.perf_counter() - t0
    finish(ctx, results, path)
    return path


def _fig_bands(data, out: Path, simulated: bool) -> Path:
    """Fig. 1 analogue from the full samples (accidental pairs above and below the NR median)."""
    nr, er, acc = (data.raw[k] for k in ("nr", "er", "acc"))  # every event, read through --tree / --column
    return plots.band_plot(nr, er, acc, data.curve, data.detector, out / "fig1_bands.png", simulated=simulated)


def significance_figure(signal, background, scan, model_label: str, replica: int, threshold: float, s_value: float):
    """Fig. 2 analogue in two panels sharing the score axis: the test-split score distributions (``hist``, log
    scale) above, the significance S (Eq. 4.1) of a cut at each score below, the chosen cut marked in both."""
    import mplhep

    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7.5), sharex=True, height_ratios=(3, 2))
    mplhep.histplot(
        hist1d(background, 50, 0.0, 1.0),  # a score of exactly 1 in the last bin
        ax=top,
        histtype="fill",
        alpha=0.5,
        color="black",
        label="accidental (test)",
        flow="none",
        yerr=False,
    )
    mplhep.histplot(
        hist1d(signal, 50, 0.0, 1.0),
        ax=top,
        lw=2,
        color="tab:red",
        label="NR below the NR median (test)",
        flow="none",
        yerr=False,
    )
    top.set_yscale("log")
    top.set_xlabel("")
    top.set_ylabel("events / 0.02")
    bottom.plot(scan.thresholds, scan.significance_curve, color="tab:blue", lw=2, label="S of a cut at this score")
    for ax, where in ((top, "upper center"), (bottom, "lower center")):
        ax.axvline(threshold, color="tab:blue", ls="--", lw=1, label=f"chosen cut {threshold:.3f}: S = {s_value:.2f}")
        ax.legend(loc=where)
    bottom.set_ylim(0, max(scan.significance_curve) * 1.2)
    bottom.set_ylabel("significance S")
    bottom.set_xlabel(f"MLP {model_label} output (replica {replica})")
    label(top, "P2-DNN Fig. 2 analogue")
    fig.tight_layout()
    return fig


def _fig_significance(model, data, splits, out: Path) -> Path:
    """Fig. 2 analogue: test-split score distributions of the selected replica and S vs the cut."""
    from tpcml.stats.metrics import scan_cut

    arr = study.training_arrays(data, splits, model.strategy)
    s = model.ensemble.predict(arr["x_test"], replicas=[model.selected])[0]
    y = arr["y_test"].astype(bool)
    scan = scan_cut(s[y], s[~y], thresholds=np.linspace(0.0, 1.0, 1001))
    fig = significance_figure(
        s[y],
        s[~y],
        scan,
        model.label,
        model.selected,
        float(model.threshold[model.selected]),
        float(model.significance[model.selected]),
    )
    return save(fig, out / "fig2_significance.png")


#: colour and legend name of the two training strategies (P2-DNN Sec. 4)
STRATEGY_STYLE = {
    "below_median": ("tab:blue", "original strategy (NR below the median)"),
    "all_nr": ("tab:red", "u strategy (all NR)"),
}


def architectures_figure(rows: list[dict], bdt_significance: float):
    """Fig. 3 analogue in two panels (no twin axis): the mean S per model with the spread of its trainings
    (error bar: standard deviation), the BDT's S as a line; the mean stop epoch per model."""
    plt = pyplot()
    x = np.arange(len(rows))
    names = [r["label"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(max(9, 1.4 * len(rows) + 6), 4.8))
    for strategy, (color, name) in STRATEGY_STYLE.items():
        k = [i for i, r in enumerate(rows) if r["strategy"] == strategy]
        if not k:
            continue
        left.errorbar(
            x[k],
            [rows[i]["S_mean"] for i in k],
            yerr=[rows[i]["S_std"] for i in k],
            fmt="o",
            color=color,
            capsize=3,
            label=name,
        )
        right.plot(x[k], [rows[i]["mean_best_epoch"] for i in k], "s", color=color, label=name)
    left.axhline(bdt_significance, color="black", ls="--", label="BDT (same splits)")
    left.set_ylabel("S (mean, std of the trainings)")
    right.set_ylabel("mean stop epoch")
    for ax in (left, right):
        ax.set_xticks(x, names)
        ax.set_xlim(-0.5, len(rows) - 0.5)
        ax.set_xlabel("model (P2-DNN Table 2)")
    label(left, "P2-DNN Fig. 3 analogue")
    handles, names = left.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=3)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return fig


def _fig_architectures(models, bdts, out: Path) -> Path:
    """Fig. 3 analogue: mean S (error bar: std over the replicas) and mean stop epoch per model."""
    fig = architectures_figure([m.row() for m in models], bdts["below_median"].significance)
    return save(fig, out / "fig3_architectures.png")


def er_spread_figure(models, er_qs1):
    """Fig. 4 analogue: the ER efficiency vs qS1 of every training of each model (one line each, as the paper),
    the selected training with its Clopper-Pearson intervals (from the ER events per bin, ``er_qs1``)."""
    from matplotlib.collections import LineCollection

    from tpcml.stats.metrics import Efficiency, clopper_pearson, efficiency_vs

    plt = pyplot()
    edges = study.QS1_EDGES
    n_total = efficiency_vs(er_qs1, np.ones(len(er_qs1), dtype=bool), edges).n_total
    centers = 0.5 * (edges[1:] + edges[:-1])
    n = len(models)
    cols = min(n, 3)
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(5.5 * cols, 4.6 * nrows), squeeze=False)
    for ax, m in zip(axes.flat, models, strict=False):
        color = STRATEGY_STYLE.get(m.strategy, ("tab:blue", ""))[0]
        lines = [np.column_stack([centers, m.er_curve[r]]) for r in range(m.replicas)]
        ax.add_collection(LineCollection(lines, colors=color, alpha=0.35, label=f"each of {m.replicas} trainings"))
        k = np.rint(np.nan_to_num(m.er_curve[m.selected]) * n_total)
        lo, hi = clopper_pearson(np.minimum(k, n_total), n_total)
        sel = Efficiency(edges, n_total, k[None], m.er_curve[m.selected][None], lo[None], hi[None], 0.0)
        efficiency_errorbar(ax, sel, color="black", label=f"selected (training {m.selected})")
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylim(0.0, 1.1)
        ax.set_xlabel("qS1 [PE]")
        ax.set_ylabel("ER efficiency")
        label(ax, f"{m.label}: {m.row()['er_ok_fraction'] * 100:.0f} % near 100 %")
        ax.legend(loc="lower right")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("P2-DNN Fig. 4 analogue: ER efficiency of every training", y=0.995)
    fig.tight_layout()
    return fig


def _fig_er_spread(models, data, out: Path) -> Path:
    """Fig. 4 analogue: the ER efficiency vs qS1 of every replica (one curve each) per model."""
    return save(er_spread_figure(models, data.er["qS1"]), out / "fig4_er_efficiency.png")


def efficiencies_figure(panels):
    """Fig. 5 analogue: one panel per selected model, ``panels`` a list of (title, [(sample name, Efficiency,
    colour), ...]); every point with its Clopper-Pearson interval."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(6.8 * len(panels), 5), squeeze=False)
    for ax, (title, curves) in zip(axes.flat, panels, strict=True):
        for name, eff, color in curves:
            efficiency_errorbar(ax, eff, color=color, label=name)
        ax.set_ylim(-0.02, 1.3)
        ax.set_xlabel("qS1 [PE]")
        ax.set_ylabel("efficiency of the cut")
        label(ax, title)
        ax.legend(loc="upper center", ncol=3)
    fig.suptitle("P2-DNN Fig. 5 analogue: efficiencies of the selected models (68 % Clopper-Pearson)", y=0.995)
    fig.tight_layout()
    return fig


def _fig_efficiencies(selected, data, splits, out: Path) -> Path:
    """Fig. 5 analogue: NR, accidental and ER efficiencies vs qS1 of the selected models (Clopper-Pearson bars)."""
    from tpcml.stats.metrics import efficiency_vs

    nr_test = splits.nr[2]
    acc_test = splits.acc[2]
    samples = [
        ("NR (test, all)", study.features(data.nr)[nr_test], data.nr["qS1"][nr_test], "tab:red"),
        ("accidental (test)", study.features(data.acc)[acc_test], data.acc["qS1"][acc_test], "black"),
        ("ER calibration", study.features(data.er), data.er["qS1"], "tab:blue"),
    ]
    panels = []
    for m in selected.values():
        thr = float(m.threshold[m.selected])
        curves = []
        for name, x, q, color in samples:
            passed = m.ensemble.predict(x, replicas=[m.selected])[0] >= thr
            curves.append((name, efficiency_vs(q, passed, study.QS1_EDGES), color))
        panels.append((f"MLP {m.label}, training {m.selected}, cut {thr:.3f}", curves))
    return save(efficiencies_figure(panels), out / "fig5_efficiencies.png")


def _fmt(v, nd=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def write_report(out: Path, results: dict, data, splits, models, bdts, selected) -> Path:
    """All figures and ``report.md`` in ``out``; returns the report's path."""
    figs = _figures(out, data, splits, models, bdts, selected, _simulated(results))
    lines = _data_section(results, figs) + _table2_section(results, figs) + _table3_section(results)
    if results.get("separability"):
        from tpcml.studies.pandax2.separability import markdown

        lines += markdown(results["separability"])
    lines += _models_section(results)
    lines += timings_tail(results["timings_s"], underscores_as_spaces=True)
    return write_page(out / "report.md", lines)


def _simulated(results: dict) -> bool:
    """Whether the run simulated its samples (else it read the user's files, ``--data``)."""
    return results["config"].get("data_dir") in (None, "None")


def _figures(out: Path, data, splits, models, bdts, selected, simulated: bool) -> dict[str, Path]:
    """The Figs. 1-5 analogues (Figs. 2 and 5 only with a selected model), by ``figN``."""
    figs = {
        "fig1": _fig_bands(data, out, simulated),
        "fig3": _fig_architectures(models, bdts, out),
        "fig4": _fig_er_spread(models, data, out),
    }
    if "below_median" in selected:
        figs["fig2"] = _fig_significance(selected["below_median"], data, splits, out)
    if selected:
        figs["fig5"] = _fig_efficiencies(selected, data, splits, out)
    return figs


#: every abbreviation of the report, defined at its top
ABBREVIATIONS = {
    "ER / NR": "electron / nuclear recoil",
    "S1 / S2": "the prompt scintillation / the delayed electroluminescence signal; qS1, qS2 their charges in "
    "photoelectrons (PE), qS1c, qS2c corrected for position and electron lifetime",
    "MLP": "multilayer perceptron (a fully connected neural network; 4C, 4Cu ... are the paper's Table 2 labels, "
    "u the strategy trained on all NR events)",
    "BDT": "boosted decision trees (here xgboost), the paper's baseline",
    "S": "the significance of Eq. (4.1), S = eps_s n_s / sqrt(eps_s n_s + eps_b n_b), eps_s and eps_b the fractions "
    "of NR (signal) and accidental (background) test events passing the cut, n_s = n_b the NR test events below "
    "the NR median",
    "ONNX": "Open Neural Network Exchange, the exported model format",
}


def _quick_caveat(results: dict) -> list[str]:
    """The caveat of a ``--quick`` run: small samples and few trainings, a smoke test of the chain."""
    if not results["config"].get("quick"):
        return []
    d = results["data"]
    return caveat(
        f"this is a `--quick` smoke run ({d['n_nr']} NR, {d['n_acc_below_median']} accidentals, "
        f"{results['config'].get('replicas')} trainings per model): it shows that the chain runs end to end; its "
        "numbers have large statistical errors and are no measurement. Run without `--quick` (or with `--full`, "
        "the paper's protocol) for results."
    )


def _s_ceiling(results: dict) -> list[str]:
    """Why S differs from the paper's: its ceiling sqrt(n_s) depends on the test-set size."""
    n_s = results["data"]["nr_test_below_median"]
    best = max([r["S_max"] for r in results["table2"]] + [b["significance"] for b in results["bdt"].values()])
    return [
        f"S cannot exceed sqrt(n_s) = {n_s**0.5:.2f} (every NR kept, no accidental passing) with the n_s = {n_s} NR "
        f"test events here, so its absolute value differs from the paper's (whose test set is larger) by "
        f"construction; compare the models' order and S / sqrt(n_s) (best here: {best / n_s**0.5:.3f}).",
        "",
    ]


def _data_section(results: dict, figs: dict[str, Path]) -> list[str]:
    """The title, the citation, the abbreviations, the caveat of a quick run, the data section with Fig. 1 and the
    head of the Table 2 analogue."""
    from tpcml.studies import get

    d = results["data"]
    paper = results["paper"]
    return [
        "# PandaX-II accidental background: MLPs vs BDT (tpcml)",
        "",
        f"Reproduction of {get('pandax2').paper.markdown()}, Sec. 4, on "
        + ("tpcml's simulated PandaX-II data" if _simulated(results) else "the user's files")
        + f" (`{d['directory']}`).",
        "",
        *abbreviations(ABBREVIATIONS),
        *_quick_caveat(results),
        "## Data",
        "",
        f"* selected (P2-DNN Sec. 3): {d['n_nr']} NR calibration, {d['n_er']} ER calibration, "
        f"{d['n_acc_below_median']} accidental pairs below the NR median (paper: 10,881 NR, 43,719 accidentals);",
        f"* expected accidentals below the NR median in the run, before any ML cut: "
        f"{d['n_acc_expected_below_median']:.2f} (paper: {paper['n_acc_below_median_before']});",
        f"* test split: {d['nr_test_below_median']} NR events below the NR median (n_s = n_b of Eq. 4.1) against "
        "the held-out accidentals; 80/10/10 splits drawn once per population.",
        "",
        f"![Fig. 1 analogue]({figs['fig1'].name})",
        "",
        "## Table 2 analogue",
        "",
        "| model | hidden layers | strategy | trainings | S (mean +- std) | S max | mean stop epoch | "
        "ER eff. (mean) | ER eff. near 100 % | selected: S, ER eff. |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]


def _table2_section(results: dict, figs: dict[str, Path]) -> list[str]:
    """The rows of the Table 2 analogue (MLPs, then the BDTs), the paper's figures, Figs. 3, 2, 4 and 5."""
    paper = results["paper"]
    lines = []
    for r in results["table2"]:
        lines.append(
            f"| {r['label']} | {r['hidden']} | {r['strategy']} | {r['replicas']} | {r['S_mean']:.2f} +- "
            f"{r['S_std']:.2f} | {r['S_max']:.2f} | {r['mean_best_epoch']:.1f} | {r['er_eff_mean']:.3f} | "
            f"{r['er_ok_fraction'] * 100:.0f} % | {r['selected_S']:.2f}, {r['selected_er_eff']:.3f} |"
        )
    for s, b in results["bdt"].items():
        lines.append(
            f"| BDT (xgboost) | {b['n_trees']} trees | {s} | 1 | {b['significance']:.2f} | - | - | "
            f"{b['er_efficiency']:.3f} | - | - |"
        )
    lines += [
        "",
        f"Paper (PandaX-II data): BDT S = {paper['bdt_significance']}, 4C S = {paper['4C_significance']} "
        f"(stop epoch {paper['4C_stop_epoch']}), 4Cu S = {paper['4Cu_significance']}; all MLPs above the BDT; most "
        "original-strategy trainings with a low ER efficiency, all u trainings near 100 %.",
        "",
        *_s_ceiling(results),
        f"![Fig. 3 analogue]({figs['fig3'].name})",
        "",
    ]
    if "fig2" in figs:
        lines += [f"![Fig. 2 analogue]({figs['fig2'].name})", ""]
    lines += [f"![Fig. 4 analogue]({figs['fig4'].name})", ""]
    if "fig5" in figs:
        lines += [f"![Fig. 5 analogue]({figs['fig5'].name})", ""]
    return lines


def _table3_section(results: dict) -> list[str]:
    """The Table 3 analogue (the dark-matter-search run) and the paper's figures."""
    paper = results["paper"]
    lines = [
        "## Table 3 analogue: the dark-matter-search run",
        "",
        "| method | S | cut | candidates | surviving | below NR median: candidates -> surviving | "
        "expected accidentals below NR median: before -> after | NR efficiency below NR median |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["table3"]:
        lines.append(
            f"| {r['method']} | {r['significance']:.2f} | {r['threshold']:.3f} | {_fmt(r.get('candidates'))} | "
            f"{_fmt(r.get('candidates_after'))} | {_fmt(r.get('candidates_below_median'))} -> "
            f"{_fmt(r.get('candidates_below_median_after'))} | {r['n_acc_below_median_before']:.2f} -> "
            f"{r['n_acc_below_median_after']:.2f} | {r['nr_efficiency_below_median'] * 100:.1f} % |"
        )
    lines += [
        "",
        f"Paper (Run 11): BDT {paper['n_acc_below_median_before']} -> {paper['n_acc_below_median_after_bdt']} "
        f"accidentals at {paper['nr_efficiency_bdt'] * 100:.1f} % NR efficiency; candidates "
        f"{paper['candidates']} -> {paper['candidates_after_bdt']} (BDT), {paper['candidates_after_4c']} (4C), "
        f"{paper['candidates_after_4cu']} (4Cu). The counts differ from the paper's because the search run here is "
        + ("tpcml's simulation, not PandaX-II's Run 11 data." if _simulated(results) else "the user's data."),
        "",
    ]
    return lines


def _models_section(results: dict) -> list[str]:
    """The models' heading and one line per exported model: its ONNX check and, where scored, the C++ engine's
    check in RDataFrame."""
    lines = ["## Models and inference", ""]
    for name, e in results["exports"].items():
        check = results["engine_checks"].get(name)
        lines.append(
            f"* `{Path(e['path']).name}`: MLP {name} exported by tf2onnx (max |ONNX - Keras| = "
            f"{e['max_abs_diff_onnx_keras']:.2g})"
            + (
                f"; the search run scored in RDataFrame by tpcml's C++ engine into `{Path(e['scored_file']).name}` "
                f"({check['events']} selected events, max |C++ - NumPy| = {check['max_abs_diff']:.2g})"
                if check
                else ""
            )
        )
    return lines
