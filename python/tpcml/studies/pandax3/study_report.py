"""Report of the PandaX-III track study: example images (P3-CNN Fig. 5), Xi vs the top-convolution channel count
(Fig. 11), eps_s vs eps_b curves and a table of Xi per model against the paper (Tables 1, 3; Sec. 4.3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tpcml.report.figures import label, pyplot, save
from tpcml.report.markdown import abbreviations, caveat, timings_tail, write_page
from tpcml.report.results import finish

__all__ = ["report", "write_report"]


def report(ctx) -> Path:
    """Figures, ``report.md`` and ``results.json`` of one run (``ctx``: the steps' :class:`tpcml.studies.Context`)."""
    from tpcml.studies.pandax3 import study

    results = study.results_of(ctx)
    path = write_report(ctx.out, results, ctx.state["data"], ctx.state["runs"], ctx.state["split"][2])
    finish(ctx, results, path)
    return path


def _fig_examples(data: dict, out: Path) -> Path:
    """Fig. 5 analogue: RGB images (XZ red, YZ green) of signal and background events, each channel scaled to its
    maximum for display (as the paper's figure)."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 4, figsize=(12, 7.0))
    names = {0: "0vbb", 1: "214Bi", 2: "208Tl"}
    for row, cls in enumerate((1, 0)):
        idx = np.flatnonzero(data["label"] == cls)[:4]
        for ax, i in zip(axes[row], idx, strict=False):
            img = data["images"][i].astype(np.float64)
            peak = img.reshape(-1, 3).max(axis=0)
            rgb = np.where(peak > 0, img / np.where(peak > 0, peak, 1.0), 0.0)
            ax.imshow(np.clip(rgb, 0, 1), origin="lower", interpolation="nearest")
            src = names.get(int(data["source"][i]), "?") if "source" in data else ("signal" if cls else "background")
            ax.set_title(f"{src}, E = {data['energy'][i]:.0f} keV" if "energy" in data else src, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.minorticks_off()
    axes[0, 0].set_ylabel("0vbb (signal)")
    axes[1, 0].set_ylabel("gamma (background)")
    fig.suptitle("P3-CNN Fig. 5 analogue: XZ (red) and YZ (green) projections, 3 mm pixels", y=0.99)
    fig.tight_layout(h_pad=2.0)  # room for the second row's titles
    return save(fig, out / "fig5_images.png")


def xi_figure(runs):
    """Fig. 11 analogue: Xi of every training per model with its statistical interval (:meth:`XiResult.interval`),
    the mean of the trainings marked."""
    plt = pyplot()
    names = list(dict.fromkeys(r.spec.label for r in runs))
    fig, ax = plt.subplots(figsize=(max(6, 1.8 * len(names) + 3), 5))
    for k, name in enumerate(names):
        res = [r.xi for r in runs if r.spec.label == name]
        vals = np.array([x.xi for x in res])
        lo, hi = np.array([x.interval() for x in res]).T
        xs = k + np.linspace(-0.1, 0.1, len(vals)) if len(vals) > 1 else np.array([k])
        one = "one training (68 % interval from eps_s, eps_b)"
        ax.errorbar(xs, vals, yerr=[vals - lo, hi - vals], fmt="o", color="tab:blue", capsize=3, label=one)
        ax.plot([k - 0.25, k + 0.25], [vals.mean()] * 2, color="black", lw=2, label="mean of the trainings")
    ax.set_xticks(range(len(names)), names)
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_ylabel(r"$\Xi = \max\ \epsilon_s / \sqrt{\epsilon_b}$")
    ax.set_xlabel("model")
    label(ax, "P3-CNN Fig. 11 analogue")
    _legend_unique(ax, loc="best")
    fig.tight_layout()
    return fig


def _legend_unique(ax, **kwargs):
    """A legend with one entry per distinct label (the artists that share it are drawn alike)."""
    handles, names = ax.get_legend_handles_labels()
    seen = dict(zip(names, handles, strict=True))
    return ax.legend(list(seen.values()), list(seen.keys()), **kwargs)


def _fig_xi(runs, out: Path) -> Path:
    """Fig. 11 analogue: Xi per model (one point per training, the mean marked)."""
    return save(xi_figure(runs), out / "fig11_xi.png")


def roc_figure(runs):
    """eps_s vs eps_b of every training (paper-protocol scores), log eps_b, the Xi cut marked on each curve with
    the Clopper-Pearson intervals of its eps_s and eps_b."""
    from tpcml.stats.metrics import clopper_pearson

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 6))
    for r in runs:
        x = r.xi
        ok = x.eps_b_curve > 0
        (line,) = ax.plot(x.eps_b_curve[ok], x.eps_s_curve[ok], label=f"{r.spec.label} #{r.repeat + 1}")
        s_lo, s_hi = clopper_pearson(round(x.eps_s * x.n_signal), x.n_signal)
        b_lo, b_hi = clopper_pearson(x.n_background_pass, x.n_background)
        ax.errorbar(
            [x.eps_b],
            [x.eps_s],
            xerr=[[x.eps_b - b_lo], [b_hi - x.eps_b]],
            yerr=[[x.eps_s - s_lo], [s_hi - x.eps_s]],
            fmt="o",
            color=line.get_color(),
            label=f"{r.spec.label} #{r.repeat + 1}: Xi = {x.xi:.2f} here",
        )
    ax.set_xscale("log")
    ax.set_xlabel(r"background efficiency $\epsilon_b$")
    ax.set_ylabel(r"signal efficiency $\epsilon_s$")
    ax.set_ylim(0, 1.25)
    label(ax, "test split, paper-protocol scores")
    ax.legend(loc="upper left", ncol=2, fontsize="x-small")
    fig.tight_layout()
    return fig


def _fig_roc(runs, out: Path) -> Path:
    """eps_s vs eps_b of every training (paper-protocol scores), log eps_b, with the Xi point."""
    return save(roc_figure(runs), out / "roc.png")


#: every abbreviation of the report, defined at its top
ABBREVIATIONS = {
    "0vbb": "neutrinoless double beta decay of 136Xe (the signal)",
    "gamma": "the 214Bi and 208Tl gamma-ray background",
    "ROI": "region of interest (the energy window around the Q-value)",
    "CNN": "convolutional neural network (EfficientNetB0 / B4 are the paper's CNNs, n the channel count of their "
    "top convolution, 'default' the network's own)",
    "eps_s, eps_b": "the fractions of signal and background test events passing a cut on the score",
    "Xi": "max over cuts of eps_s / sqrt(eps_b), the paper's figure of merit (Sec. 4.1); its interval here is the "
    "68 % Clopper-Pearson interval of eps_s and eps_b at the chosen cut, propagated",
    "ONNX": "Open Neural Network Exchange, the exported model format",
}


def _caveats(results: dict) -> list[str]:
    """The quick-run caveat, and the one of a run whose best Xi is compatible with no separation."""
    runs = results["runs"]
    best = max((r["xi"] for r in runs), default=float("nan"))
    lines = []
    if results["config"].get("quick"):
        lines += caveat(
            f"this is a `--quick` smoke run ({results['data']['events']} events, {results['config']['epochs']} "
            "epochs): the networks barely train, so it checks that the chain runs end to end and reaches little or "
            f"no separation (best Xi = {best:.2f}; a score that does not separate the classes gives Xi close to "
            "1). Run without `--quick` (or with `--full`, the paper's scale) for results."
        )
    elif any(r["xi_low"] <= 1.0 for r in runs):
        lines += caveat("at least one training's Xi interval reaches 1: it does not separate signal from background.")
    return lines


def write_report(out: Path, results: dict, data: dict, runs, test) -> Path:
    from tpcml.studies import get

    figs = {"fig5": _fig_examples(data, out), "fig11": _fig_xi(runs, out), "roc": _fig_roc(runs, out)}
    d, cfg = results["data"], results["config"]
    n_b = d["test_background"]
    lines = [
        "# PandaX-III: 0vbb vs gamma background from track images (tpcml)",
        "",
        f"Reproduction of {get('pandax3').paper.markdown()} on tpcml's simulated tracks (`{d['directory']}`).",
        "",
        *abbreviations(ABBREVIATIONS),
        *_caveats(results),
        f"* {d['events']} events in the ROI 2395-2520 keV ({d['signal']} 0vbb, {d['background']} gamma: half 214Bi, "
        f"half 208Tl); images {cfg['input_size']} x {cfg['input_size']} x 3 made in RDataFrame by the C++ "
        f"rasteriser ({d['hits_outside']} hits outside the windows);",
        f"* split 70/20/10 (P3-CNN Sec. 3.2); test: {d['test_signal']} signal, {n_b} background "
        f"events (eps_b is resolved down to 1/{n_b} = {1 / max(n_b, 1):.1e}: "
        "Xi counts only cuts passing at least one background event);",
        f"* {cfg['epochs']} epochs, batch {cfg['batch_size']}, Adam 1e-3, random flips; score: the paper's protocol "
        "(epochs within 0.001 of the best validation accuracy, the three with the smallest validation loss, "
        "predictions averaged).",
        "",
        f"![Fig. 5 analogue]({figs['fig5'].name})",
        "",
        "## Xi per model",
        "",
        "| model | training | Xi (paper protocol), 68 % interval | eps_s | eps_b | background events passing "
        "| Xi (best epoch alone) | epochs averaged | images/s (training) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        lines.append(
            f"| {r['model']} | {r['repeat'] + 1} | {r['xi']:.2f} [{r['xi_low']:.2f}, {r['xi_high']:.2f}] | "
            f"{r['eps_s']:.3f} | {r['eps_b']:.2e} | {r['n_background_pass']} | {r['xi_single_epoch']:.2f} | "
            f"{r['epochs_used']} | {r['images_per_second']:.0f} |"
        )
    lines += [
        "",
        "Paper (Geant4/REST simulation, 640,000 events, two V100 GPUs): "
        + ", ".join(f"{k} {v}" for k, v in results["paper_xi"].items())
        + ".",
        "",
        f"Xi here is lower than the paper's because these networks trained on a part of {d['events']} events for "
        f"{cfg['epochs']} epochs, not on 448,000 images for about 9 hours (P3-CNN Secs. 3.2, 4.3); it also cannot "
        "exceed sqrt(N_b) = "
        f"{max(n_b, 1) ** 0.5:.1f} with the N_b = {n_b} test background events here (all signal kept, one "
        "background event passing).",
        "",
        f"![Fig. 11 analogue]({figs['fig11'].name})",
        "",
        f"![efficiency curves]({figs['roc'].name})",
        "",
        "## Model and inference",
        "",
    ]
    e = results["export"]
    lines += [
        f"* `{Path(e['path']).name}`: {e['model']}, epoch {e['epoch']}, exported by tf2onnx; the test events scored "
        f"in RDataFrame by tpcml's C++ engine (`{Path(e['scored_file']).name}`): max |C++ - Keras| = "
        f"{e['max_abs_diff_engine_keras']:.2g}, Xi = {e['xi_engine']:.2f}.",
    ]
    lines += timings_tail(results["timings_s"])
    return write_page(out / "report.md", lines)
