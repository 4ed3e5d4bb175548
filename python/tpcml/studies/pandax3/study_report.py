"""Report of the PandaX-III track study: example images (P3-CNN Fig. 5), Xi vs the top-convolution channel count
(Fig. 11), eps_s vs eps_b curves and a table of Xi per model against the paper (Tables 1, 3; Sec. 4.3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tpcml.report.figures import pyplot, save
from tpcml.report.markdown import timings_tail, write_page
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
    for row, label in enumerate((1, 0)):
        idx = np.flatnonzero(data["label"] == label)[:4]
        for ax, i in zip(axes[row], idx, strict=False):
            img = data["images"][i].astype(np.float64)
            peak = img.reshape(-1, 3).max(axis=0)
            rgb = np.where(peak > 0, img / np.where(peak > 0, peak, 1.0), 0.0)
            ax.imshow(np.clip(rgb, 0, 1), origin="lower", interpolation="nearest")
            src = names.get(int(data["source"][i]), "?") if "source" in data else ("signal" if label else "background")
            ax.set_title(f"{src}, E = {data['energy'][i]:.0f} keV" if "energy" in data else src, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("0vbb (signal)")
    axes[1, 0].set_ylabel("gamma (background)")
    fig.suptitle("P3-CNN Fig. 5 analogue: XZ (red) and YZ (green) projections, charge-centre aligned, 3 mm pixels")
    fig.tight_layout(h_pad=2.0)  # room for the second row's titles
    return save(fig, out / "fig5_images.png")


def _fig_xi(runs, out: Path) -> Path:
    """Fig. 11 analogue: Xi per model (one point per training, the mean marked)."""
    plt = pyplot()
    labels = list(dict.fromkeys(r.spec.label for r in runs))
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(labels) + 2), 4.2))
    for k, lab in enumerate(labels):
        vals = [r.xi.xi for r in runs if r.spec.label == lab]
        ax.scatter([k] * len(vals), vals, color="tab:blue", alpha=0.6)
        ax.scatter([k], [np.mean(vals)], color="black", marker="_", s=600)
    ax.set_xticks(range(len(labels)), labels, rotation=15)
    ax.set_ylabel(r"$\Xi = \max\ \epsilon_s / \sqrt{\epsilon_b}$")
    ax.set_title("P3-CNN Fig. 11 analogue (paper, B4 at 128: n = 8 -> 10.32, n = 1792 -> ~9.4)")
    fig.tight_layout()
    return save(fig, out / "fig11_xi.png")


def _fig_roc(runs, out: Path) -> Path:
    """eps_s vs eps_b of every training (paper-protocol scores), log eps_b, with the Xi point."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 5))
    for r in runs:
        x = r.xi
        ok = x.eps_b_curve > 0
        ax.plot(x.eps_b_curve[ok], x.eps_s_curve[ok], label=f"{r.spec.label} #{r.repeat + 1}: Xi {x.xi:.2f}")
        ax.plot([x.eps_b], [x.eps_s], "o", color=ax.lines[-1].get_color())
    ax.set_xscale("log")
    ax.set_xlabel(r"background efficiency $\epsilon_b$")
    ax.set_ylabel(r"signal efficiency $\epsilon_s$")
    ax.set_title("signal vs background efficiency of the score cut (test split)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save(fig, out / "roc.png")


def write_report(out: Path, results: dict, data: dict, runs, test) -> Path:
    figs = {"fig5": _fig_examples(data, out), "fig11": _fig_xi(runs, out), "roc": _fig_roc(runs, out)}
    d, cfg = results["data"], results["config"]
    lines = [
        "# PandaX-III: 0vbb vs gamma background from track images (tpcml)",
        "",
        "Reproduction of *Optimization of convolutional neural networks for background suppression in the "
        "PandaX-III experiment* (P3-CNN) on tpcml's simulated tracks "
        f"(`{d['directory']}`).",
        "",
        f"* {d['events']} events in the ROI 2395-2520 keV ({d['signal']} 0vbb, {d['background']} gamma: half 214Bi, "
        f"half 208Tl); images {cfg['input_size']} x {cfg['input_size']} x 3 made in RDataFrame by the C++ "
        f"rasteriser ({d['hits_outside']} hits outside the windows);",
        f"* split 70/20/10 (P3-CNN Sec. 3.2); test: {d['test_signal']} signal, {d['test_background']} background "
        f"events (eps_b is resolved down to 1/{d['test_background']} = {1 / max(d['test_background'], 1):.1e}: "
        "Xi counts only cuts passing at least one background event);",
        f"* {cfg['epochs']} epochs, batch {cfg['batch_size']}, Adam 1e-3, random flips; score: the paper's protocol "
        "(epochs within 0.001 of the best validation accuracy, the three with the smallest validation loss, "
        "predictions averaged).",
        "",
        f"![Fig. 5 analogue]({figs['fig5'].name})",
        "",
        "## Xi per model",
        "",
        "| model | training | Xi (paper protocol) | eps_s | eps_b | background events passing | Xi (best epoch alone) "
        "| epochs averaged | images/s (training) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        lines.append(
            f"| {r['model']} | {r['repeat'] + 1} | {r['xi']:.2f} | {r['eps_s']:.3f} | {r['eps_b']:.2e} | "
            f"{r['n_background_pass']} | {r['xi_single_epoch']:.2f} | {r['epochs_used']} | "
            f"{r['images_per_second']:.0f} |"
        )
    lines += [
        "",
        "Paper (Geant4/REST simulation, 640,000 events, two V100 GPUs): "
        + ", ".join(f"{k} {v}" for k, v in results["paper_xi"].items())
        + ".",
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
