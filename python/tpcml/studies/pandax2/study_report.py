"""Report of the PandaX-II accidental study: Figs. 1-5 analogues (PNG) and a Markdown page with the Table 2 and
Table 3 analogues of *Suppression of accidental backgrounds with deep neural networks in the PandaX-II experiment*
(P2-DNN), and ``results.json``: the report of the study (:func:`report`, after the steps of
:mod:`tpcml.studies.pandax2.study`)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tpcml.report.figures import pyplot, save
from tpcml.report.markdown import timings_tail, write_page
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


def _fig_bands(data, out: Path) -> Path:
    """Fig. 1 analogue from the full samples (accidental pairs above and below the NR median)."""
    nr, er, acc = (data.raw[k] for k in ("nr", "er", "acc"))  # every event, read through --tree / --column
    return plots.band_plot(nr, er, acc, data.curve, data.detector, out / "fig1_bands.png")


def _fig_significance(model, data, splits, out: Path) -> Path:
    """Fig. 2 analogue: test-split score distributions of the selected replica and S vs the cut."""
    from tpcml.stats.metrics import scan_cut

    plt = pyplot()
    arr = study.training_arrays(data, splits, model.strategy)
    s = model.ensemble.predict(arr["x_test"], replicas=[model.selected])[0]
    y = arr["y_test"].astype(bool)
    scan = scan_cut(s[y], s[~y], thresholds=np.linspace(0.0, 1.0, 1001))
    fig, ax = plt.subplots(figsize=(8, 5))
    bins = np.linspace(0, 1, 51)
    ax.hist(s[~y], bins=bins, histtype="stepfilled", alpha=0.5, color="black", label="accidental (test)")
    ax.hist(s[y], bins=bins, histtype="step", lw=2, color="tab:red", label="NR below the NR median (test)")
    ax.set_yscale("log")
    ax.set_xlabel(f"MLP {model.label} output")
    ax.set_ylabel("events / bin")
    ax2 = ax.twinx()
    ax2.plot(scan.thresholds, scan.significance_curve, color="tab:blue", lw=2, label="significance S (Eq. 4.1)")
    thr = float(model.threshold[model.selected])
    ax2.axvline(thr, color="tab:blue", ls="--", lw=1)
    ax2.set_ylabel("S", color="tab:blue")
    ax2.set_ylim(0, max(scan.significance_curve) * 1.15)
    ax.set_title(
        f"P2-DNN Fig. 2 analogue: MLP {model.label} replica {model.selected}, "
        f"S = {model.significance[model.selected]:.2f} at cut {thr:.3f}"
    )
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper center")
    fig.tight_layout()
    return save(fig, out / "fig2_significance.png")


def _fig_architectures(models, bdts, out: Path) -> Path:
    """Fig. 3 analogue: mean S (error bar: std over the replicas) and mean stop epoch per model."""
    plt = pyplot()
    rows = [m.row() for m in models]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(rows) + 2), 4.5))
    colors = ["tab:red" if r["strategy"] == "all_nr" else "tab:blue" for r in rows]
    ax.errorbar(x, [r["S_mean"] for r in rows], yerr=[r["S_std"] for r in rows], fmt="none", ecolor="gray")
    ax.scatter(x, [r["S_mean"] for r in rows], c=colors, zorder=3)
    ax.axhline(bdts["below_median"].significance, color="black", ls="--", label="BDT (same splits)")
    ax.set_xticks(x, [r["label"] for r in rows])
    ax.set_ylabel("mean significance S")
    ax2 = ax.twinx()
    ax2.plot(x, [r["mean_best_epoch"] for r in rows], "s--", color="tab:green", label="mean stop epoch")
    ax2.set_ylabel("mean stop epoch", color="tab:green")
    ax.set_title("P2-DNN Fig. 3 analogue (blue: original strategy, red: u strategy)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="lower right")
    fig.tight_layout()
    return save(fig, out / "fig3_architectures.png")


def _fig_er_spread(models, out: Path) -> Path:
    """Fig. 4 analogue: the ER efficiency vs qS1 of every replica (one curve each) per model."""
    plt = pyplot()
    centers = 0.5 * (study.QS1_EDGES[1:] + study.QS1_EDGES[:-1])
    n = len(models)
    cols = min(n, 3)
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(5 * cols, 3.8 * nrows), squeeze=False)
    for ax, m in zip(axes.flat, models, strict=False):
        for r in range(m.replicas):
            ax.plot(centers, m.er_curve[r], color="tab:red" if m.strategy == "all_nr" else "tab:blue", alpha=0.35)
        ax.plot(centers, m.er_curve[m.selected], color="black", lw=2, label=f"selected (replica {m.selected})")
        ax.set_ylim(0.0, 1.05)
        ax.set_xlabel("qS1 [PE]")
        ax.set_ylabel("ER efficiency")
        ax.set_title(f"{m.label}: {m.replicas} trainings, {m.row()['er_ok_fraction'] * 100:.0f} % near 100 %")
        ax.legend(loc="lower right", fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle("P2-DNN Fig. 4 analogue: ER efficiency of every training")
    fig.tight_layout()
    return save(fig, out / "fig4_er_efficiency.png")


def _fig_efficiencies(selected, data, splits, out: Path) -> Path:
    """Fig. 5 analogue: NR, accidental and ER efficiencies vs qS1 of the selected models (Clopper-Pearson bars)."""
    from tpcml.stats.metrics import efficiency_vs

    plt = pyplot()
    items = list(selected.values())
    fig, axes = plt.subplots(1, len(items), figsize=(6.5 * len(items), 4.5), squeeze=False)
    nr_test = splits.nr[2]
    acc_test = splits.acc[2]
    samples = [
        ("NR (test, all)", study.features(data.nr)[nr_test], data.nr["qS1"][nr_test], "tab:red"),
        ("accidental (test)", study.features(data.acc)[acc_test], data.acc["qS1"][acc_test], "black"),
        ("ER calibration", study.features(data.er), data.er["qS1"], "tab:blue"),
    ]
    for ax, m in zip(axes.flat, items, strict=True):
        thr = float(m.threshold[m.selected])
        for name, x, q, color in samples:
            passed = m.ensemble.predict(x, replicas=[m.selected])[0] >= thr
            e = efficiency_vs(q, passed, study.QS1_EDGES)
            c = e.centers
            ax.errorbar(
                c,
                e.efficiency[0],
                yerr=[e.efficiency[0] - e.lower[0], e.upper[0] - e.efficiency[0]],
                fmt="o",
                ms=4,
                color=color,
                label=name,
            )
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("qS1 [PE]")
        ax.set_ylabel("efficiency")
        ax.set_title(f"MLP {m.label} (replica {m.selected}, cut {thr:.3f})")
        ax.legend(loc="center right", fontsize=8)
    fig.suptitle("P2-DNN Fig. 5 analogue: efficiencies of the selected models")
    fig.tight_layout()
    return save(fig, out / "fig5_efficiencies.png")


def _fmt(v, nd=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def write_report(out: Path, results: dict, data, splits, models, bdts, selected) -> Path:
    """All figures and ``report.md`` in ``out``; returns the report's path."""
    figs = _figures(out, data, splits, models, bdts, selected)
    lines = _data_section(results, figs) + _table2_section(results, figs) + _table3_section(results)
    lines += _models_section(results)
    lines += timings_tail(results["timings_s"], underscores_as_spaces=True)
    return write_page(out / "report.md", lines)


def _figures(out: Path, data, splits, models, bdts, selected) -> dict[str, Path]:
    """The Figs. 1-5 analogues (Figs. 2 and 5 only with a selected model), by ``figN``."""
    figs = {
        "fig1": _fig_bands(data, out),
        "fig3": _fig_architectures(models, bdts, out),
        "fig4": _fig_er_spread(models, out),
    }
    if "below_median" in selected:
        figs["fig2"] = _fig_significance(selected["below_median"], data, splits, out)
    if selected:
        figs["fig5"] = _fig_efficiencies(selected, data, splits, out)
    return figs


def _data_section(results: dict, figs: dict[str, Path]) -> list[str]:
    """The title, the data section with Fig. 1 and the head of the Table 2 analogue."""
    d = results["data"]
    paper = results["paper"]
    return [
        "# PandaX-II accidental background: MLPs vs BDT (tpcml)",
        "",
        "Reproduction of *Suppression of accidental backgrounds with deep neural networks in the PandaX-II "
        "experiment* (P2-DNN Sec. 4) on "
        + (
            "tpcml's simulated PandaX-II data"
            if results["config"].get("data_dir") in (None, "None")
            else "the user's files"
        )
        + f" (`{d['directory']}`).",
        "",
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
        f"{paper['candidates_after_4cu']} (4Cu).",
        "",
    ]
    return lines


def _models_section(results: dict) -> list[str]:
    """The models' heading and one line per exported model: its ONNX check and, where scored, the C++ engine's
    check in RDataFrame."""
    lines = ["## Models and inference", ""]
    for label, e in results["exports"].items():
        check = results["engine_checks"].get(label)
        lines.append(
            f"* `{Path(e['path']).name}`: MLP {label} exported by tf2onnx (max |ONNX - Keras| = "
            f"{e['max_abs_diff_onnx_keras']:.2g})"
            + (
                f"; the search run scored in RDataFrame by tpcml's C++ engine into `{Path(e['scored_file']).name}` "
                f"({check['events']} selected events, max |C++ - NumPy| = {check['max_abs_diff']:.2g})"
                if check
                else ""
            )
        )
    return lines
