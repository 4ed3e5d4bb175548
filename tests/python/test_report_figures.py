"""Talk-ready figures and reports (issue 15, items 9-10): the one mplhep style, log colour scales where a density
spans decades, Clopper-Pearson error bars that are hist's, a legend entry for every line and marker, panels
instead of twin axes, texts inside the figure; reports that cite the papers in full, define their
abbreviations and carry a caveat in --quick mode. Every figure is drawn from data the test makes."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("mplhep")
pytest.importorskip("hist")

from matplotlib.colors import LogNorm, Normalize

from tpcml.report import figures
from tpcml.report.markdown import abbreviations, caveat
from tpcml.stats import metrics


def texts_outside(fig) -> list[str]:
    """The titles, labels, annotations and legend texts of ``fig`` that stick out of the figure (a title that does
    not fit). Tick labels are left out: matplotlib keeps labels of ticks outside the view, undrawn."""
    fig.canvas.draw()
    box = fig.bbox
    texts = list(fig.texts) + [t for leg in fig.legends for t in leg.get_texts()]
    if fig._suptitle is not None:
        texts.append(fig._suptitle)
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        if ax.get_legend() is not None:
            texts += list(ax.get_legend().get_texts())
    out = []
    for t in texts:
        if not t.get_visible() or not t.get_text().strip():
            continue
        b = t.get_window_extent()
        if b.x0 < box.x0 - 1 or b.x1 > box.x1 + 1 or b.y0 < box.y0 - 1 or b.y1 > box.y1 + 1:
            out.append(t.get_text())
    return out


def twin_axes(fig) -> list:
    """Pairs of data axes drawn on the same area (a twin axis mixes two quantities on one panel)."""
    boxes = [ax.get_position().bounds for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.axison]
    return [b for i, b in enumerate(boxes) if any(np.allclose(b, c) for c in boxes[:i])]


def check_talk_ready(fig) -> None:
    """The properties every figure must have."""
    assert figures.unlabelled(fig) == []
    assert texts_outside(fig) == []
    assert twin_axes(fig) == []


def errorbar_segments(container) -> np.ndarray:
    """The (low, high) ends of the vertical bars of an errorbar container."""
    vertical = container.lines[2][-1]
    return np.array([(seg[0][1], seg[1][1]) for seg in vertical.get_segments()])


# ---------------------------------------------------------------------------------------------- the style helpers
def test_one_style_and_the_label():
    plt = figures.pyplot()
    import matplotlib as mpl

    assert mpl.rcParams["xtick.direction"] == "in" and mpl.rcParams["ytick.right"]  # mplhep's ROOT style
    assert mpl.rcParams["font.size"] == 13  # tpcml's size on top of it
    fig, ax = plt.subplots()
    figures.label(ax, "a tag")
    texts = [t.get_text() for t in ax.texts]
    assert "tpcml" in texts and "Simulation" in texts and "a tag" in texts
    plt.close(fig)


def test_colour_norm_is_log_where_the_density_spans_decades():
    wide = np.array([[1e-4, 0.0], [0.5, 2.0]])
    norm = figures.colour_norm(wide)
    assert isinstance(norm, LogNorm) and norm.vmin == 1e-4 and norm.vmax == 2.0  # zeros left out
    narrow = np.array([0.5, 1.0, 3.0])
    assert type(figures.colour_norm(narrow)) is Normalize
    assert type(figures.colour_norm(np.zeros(4))) is Normalize
    assert isinstance(figures.colour_norm(np.array([1.0, 50.0])), LogNorm)  # one decade is enough by default
    assert type(figures.colour_norm(np.array([1.0, 50.0]), decades=2)) is Normalize


def test_hist1d_closes_the_last_bin_like_numpy():
    import hist

    x = np.array([0.0, 0.5, 1.0, 1.0])  # scores of exactly 1
    h = figures.hist1d(x, 4, 0.0, 1.0)
    np.testing.assert_array_equal(h.values(), np.histogram(x, bins=4, range=(0, 1))[0])
    assert h.values()[-1] == 2
    tba = np.array([-1.0, -0.3, 0.2, 1.0, 1.0, 1.0])  # S1TBA: both ends reached, a negative lower edge
    np.testing.assert_array_equal(figures.hist1d(tba, 50, -1.0, 1.0).values(), np.histogram(tba, 50, (-1, 1))[0])
    qs2 = np.array([100.0, 300.0, 2000.0])  # a log axis keeps its maximum too
    assert figures.hist1d(qs2, 10, 100.0, 2000.0, transform=hist.axis.transform.log).values().sum() == 3
    assert hist.Hist(hist.axis.Regular(4, 0.0, 1.0)).fill(x).values()[-1] == 0  # what the plain axis loses


def test_unlabelled_finds_every_line_and_marker_without_a_legend_entry():
    plt = figures.pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.scatter([0.5], [0.5], label="dots")
    ax.errorbar([0.2], [0.3], yerr=[0.1], fmt="o", label="points")
    ax.plot([0, 1], [1, 0])  # no label
    assert len(figures.unlabelled(fig)) == 4  # nothing has a legend yet
    ax.legend()
    missing = figures.unlabelled(fig)
    assert len(missing) == 1 and missing[0] is ax.lines[-1]
    plt.close(fig)


# --------------------------------------------------------------------------------------------- efficiencies and Xi
def test_efficiency_errors_are_hists_clopper_pearson_and_drawn():
    from hist.intervals import clopper_pearson_interval

    rng = np.random.default_rng(5)
    q = rng.uniform(3, 45, 400)
    passed = rng.random(400) < np.clip(q / 50, 0, 1)
    edges = np.linspace(3, 45, 8)
    eff = metrics.efficiency_vs(q, passed, edges)
    n = np.histogram(q, edges)[0]
    k = np.histogram(q[passed], edges)[0]
    np.testing.assert_array_equal(eff.n_total, n)
    np.testing.assert_array_equal(eff.n_pass[0], k)
    lo, hi = clopper_pearson_interval(k.astype(float), n.astype(float))
    np.testing.assert_allclose(eff.lower[0], lo, rtol=1e-12)
    np.testing.assert_allclose(eff.upper[0], hi, rtol=1e-12)
    plt = figures.pyplot()
    fig, ax = plt.subplots()
    cont = figures.efficiency_errorbar(ax, eff, label="cut")
    np.testing.assert_allclose(errorbar_segments(cont), np.column_stack([lo, hi]), rtol=1e-12)
    plt.close(fig)
    # an empty bin has no interval (NaN), and a value on the last edge counts in the last bin (numpy's rule)
    e2 = metrics.efficiency_vs(np.array([1.0, 3.0]), np.array([True, False]), [0, 1, 2, 3])
    np.testing.assert_array_equal(e2.n_total, [0, 1, 1])
    assert np.isnan(e2.lower[0, 0]) and np.isnan(e2.upper[0, 0])


def test_roc_auc_and_xi_are_scikit_learns():
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(2)
    s, b = rng.normal(1, 1, 300).round(1), rng.normal(0, 1, 500).round(1)  # rounded: ties
    y = np.r_[np.ones(300), np.zeros(500)]
    scores = np.r_[s, b]
    assert metrics.roc_auc(scores, y) == roc_auc_score(y, scores)
    # Xi from its definition on the distinct thresholds, against the scan
    res = metrics.xi(s, b)
    t = np.unique(scores)
    eps_s = (s[None, :] >= t[:, None]).mean(axis=1)
    eps_b = (b[None, :] >= t[:, None]).mean(axis=1)
    ratio = np.where(eps_b > 0, eps_s / np.sqrt(np.where(eps_b > 0, eps_b, 1)), -np.inf)
    assert res.xi == pytest.approx(ratio.max(), rel=1e-12)
    assert res.threshold == t[np.argmax(ratio)]
    np.testing.assert_allclose(res.eps_s_curve, eps_s)
    fpr, _, _ = roc_curve(y, scores, drop_intermediate=False)
    np.testing.assert_allclose(np.sort(res.eps_b_curve), np.sort(fpr[1:]))
    assert (res.n_signal, res.n_background) == (300, 500)


def test_xi_interval_propagates_the_clopper_pearson_intervals():
    # 8 of 10 signal and 1 of 16 background pass the best cut: Xi = 0.8 / sqrt(1/16) = 3.2
    s = np.r_[np.full(8, 0.9), np.full(2, 0.02)]
    b = np.r_[[0.95], np.full(15, 0.05)]
    res = metrics.xi(s, b)
    assert res.xi == pytest.approx(3.2) and res.n_background_pass == 1
    lo, hi = res.interval()
    s_lo, s_hi = metrics.clopper_pearson(8, 10)
    b_lo, b_hi = metrics.clopper_pearson(1, 16)
    down = math.hypot((0.8 - s_lo) / 0.8, (b_hi - 1 / 16) / (2 / 16))
    up = math.hypot((s_hi - 0.8) / 0.8, (1 / 16 - b_lo) / (2 / 16))
    assert (lo, hi) == (pytest.approx(3.2 * (1 - down)), pytest.approx(3.2 * (1 + up)))
    assert lo < res.xi < hi
    wide = metrics.xi(np.r_[np.full(80, 0.9), np.full(20, 0.1)], np.r_[np.full(10, 0.95), np.full(150, 0.05)])
    assert wide.interval()[1] - wide.interval()[0] < hi - lo  # more events, a narrower interval


# ------------------------------------------------------------------------------------------- the PandaX-II figures
@pytest.fixture(scope="module")
def px2_small(tmp_path_factory):
    """A small simulated PandaX-II data set (no dark-matter-search run). 3000 accidentals below the NR median: with
    the derived isolated-signal origins (issue 17) they spread over the S1 window, so the densest bin of a few
    hundred pairs no longer holds ten times the sparsest."""
    from tpcml.sim import lxe

    out = tmp_path_factory.mktemp("px2fig") / "data"
    sizes = lxe.Sizes(
        nr_after_cuts=600, er_after_cuts=300, accidental_after_cuts=3000, isolated_s1=3000, isolated_s2=3000
    )
    sizes = lxe.Sizes(**{**sizes.__dict__, "dm_search": False})
    lxe.simulate_dataset(out, sizes, seed=3, threads=2, quiet=True)
    return out


def test_fig1_accidental_density_on_a_log_scale(px2_small):
    from tpcml import _core
    from tpcml.core import detectors
    from tpcml.studies.pandax2 import plots

    det = detectors.load("pandax2")
    curve = _core.NRMedianCurve.from_file(str(px2_small / "nr_calibration.root"))
    nr, er, acc = (
        plots.read_events(px2_small / n) for n in ("nr_calibration.root", "er_calibration.root", "accidentals.root")
    )
    fig = plots.band_figure(nr, er, acc, curve, det)
    ax = fig.axes[0]
    mesh = [c for c in ax.collections if c.__class__.__name__ == "QuadMesh"]
    assert len(mesh) == 1
    density = mesh[0].get_array()
    positive = density[np.isfinite(density) & (density > 0)]
    assert positive.max() / positive.min() > 10  # the accidental density spans decades ...
    assert isinstance(mesh[0].norm, LogNorm)  # ... so its colour scale is logarithmic
    assert {"ER calibration", "NR calibration", "NR median (fit)"} <= {t.get_text() for t in ax.get_legend().texts}
    check_talk_ready(fig)
    figures.pyplot().close(fig)
    fig = plots.feature_figure(nr, acc, det, curve)
    drawn = [ax for ax in fig.axes if ax.axison]
    assert len(drawn) == len(plots.FEATURES)
    check_talk_ready(fig)
    figures.pyplot().close(fig)


def test_fig2_and_fig3_are_panels_not_twin_axes():
    from tpcml.studies.pandax2 import study_report

    rng = np.random.default_rng(1)
    sig, bkg = rng.beta(5, 1, 200), rng.beta(1, 5, 800)
    scan = metrics.scan_cut(sig, bkg, thresholds=np.linspace(0, 1, 101))
    fig = study_report.significance_figure(sig, bkg, scan, "4C", 2, scan.threshold, scan.significance)
    assert len(fig.axes) == 2
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), scan.significance_curve)
    check_talk_ready(fig)
    figures.pyplot().close(fig)
    rows = [
        {"label": "4C", "strategy": "below_median", "S_mean": 9.1, "S_std": 0.1, "mean_best_epoch": 80.0},
        {"label": "4Cu", "strategy": "all_nr", "S_mean": 9.2, "S_std": 0.05, "mean_best_epoch": 60.0},
    ]
    fig = study_report.architectures_figure(rows, 9.0)
    left, right = fig.axes
    assert left.get_ylabel().startswith("S") and right.get_ylabel() == "mean stop epoch"
    assert [c.lines[0].get_ydata()[0] for c in left.containers] == [9.1, 9.2]
    check_talk_ready(fig)
    figures.pyplot().close(fig)


def test_fig4_and_fig5_show_clopper_pearson_errors():
    from tpcml.studies.pandax2 import study, study_report

    rng = np.random.default_rng(4)
    qs1 = rng.uniform(3, 45, 600)
    bins = len(study.QS1_EDGES) - 1
    scores = rng.random((3, 600))
    passed = scores >= np.array([0.02, 0.05, 0.1])[:, None]
    eff = metrics.efficiency_vs(qs1, passed, study.QS1_EDGES)
    row = {"er_ok_fraction": 2 / 3}
    model = SimpleNamespace(
        label="4C", strategy="below_median", replicas=3, er_curve=eff.efficiency, selected=1, row=lambda: row
    )
    fig = study_report.er_spread_figure([model], qs1)
    ax = fig.axes[0]
    ok = np.isfinite(eff.efficiency[1])
    np.testing.assert_allclose(
        errorbar_segments(ax.containers[0]), np.column_stack([eff.lower[1][ok], eff.upper[1][ok]]), rtol=1e-9
    )
    assert len(ax.collections[0].get_segments()) == 3  # one line per training
    assert bins == len(eff.centers)
    check_talk_ready(fig)
    figures.pyplot().close(fig)
    panels = [("MLP 4C", [("NR", eff, "tab:red")]), ("MLP 4Cu", [("NR", eff, "tab:red"), ("ER", eff, "tab:blue")])]
    fig = study_report.efficiencies_figure(panels)
    assert len(fig.axes) == 2 and all(len(ax.containers) >= 1 for ax in fig.axes)
    check_talk_ready(fig)
    figures.pyplot().close(fig)


# ------------------------------------------------------------------------------------------ the PandaX-III figures
def _runs():
    rng = np.random.default_rng(7)
    runs = []
    for name in ("EfficientNetB0 n=8", "EfficientNetB0 n=default"):
        for repeat in range(2):
            s, b = rng.beta(3, 1, 100), rng.beta(1, 3, 100)
            runs.append(SimpleNamespace(spec=SimpleNamespace(label=name), repeat=repeat, xi=metrics.xi(s, b)))
    return runs


def test_fig11_and_roc_carry_xi_uncertainties():
    from tpcml.studies.pandax3 import study_report

    runs = _runs()
    fig = study_report.xi_figure(runs)
    ax = fig.axes[0]
    lows = np.concatenate([errorbar_segments(c)[:, 0] for c in ax.containers])
    np.testing.assert_allclose(lows, [r.xi.interval()[0] for r in runs], rtol=1e-9)
    assert "P3-CNN Fig. 11 analogue" in [t.get_text() for t in ax.texts]
    check_talk_ready(fig)
    figures.pyplot().close(fig)
    fig = study_report.roc_figure(runs)
    assert len(fig.axes[0].containers) == len(runs)
    check_talk_ready(fig)
    figures.pyplot().close(fig)


def test_quickstart_drift_profiles():
    from tpcml.studies.quickstart.study import drift_figure

    rng = np.random.default_rng(3)
    t = rng.uniform(20, 300, 2000)
    raw = 2.0 - t / 800 / np.log(10) + rng.normal(0, 0.1, 2000)
    a = {"drift_time": t, "log_s2s1c_raw": raw, "log_s2s1c": raw + t / 800 / np.log(10)}
    fig = drift_figure(a, np.ones(2000, dtype=bool), 800.0)
    ax = fig.axes[0]
    raw_means, corrected_means = (c.lines[0].get_ydata() for c in ax.containers)
    assert raw_means[0] - raw_means[-1] > 0.1  # the raw band falls with drift time ...
    assert abs(corrected_means[0] - corrected_means[-1]) < 0.05  # ... the corrected one does not
    check_talk_ready(fig)
    figures.pyplot().close(fig)


# -------------------------------------------------------------------------------------------------------- reports
def test_markdown_abbreviations_and_caveat():
    assert abbreviations({"ER": "electron recoil", "NR": "nuclear recoil"}) == [
        "Abbreviations: **ER** electron recoil; **NR** nuclear recoil.",
        "",
    ]
    assert caveat("small run.") == ["> **Caveat:** small run.", ""]


def test_pandax2_report_cites_defines_and_warns_in_quick_mode():
    from tpcml.studies.pandax2 import study_report

    results = {
        "config": {"data_dir": None, "quick": True, "replicas": 4},
        "data": {
            "directory": "/d",
            "n_nr": 2000,
            "n_er": 1500,
            "n_acc_below_median": 4000,
            "n_acc_expected_below_median": 2.8,
            "nr_test_below_median": 100,
        },
        "paper": {"n_acc_below_median_before": 2.93},
        "table2": [{"S_max": 9.5}],
        "bdt": {"below_median": {"significance": 9.4}},
    }
    text = "\n".join(study_report._data_section(results, {"fig1": Path("fig1_bands.png")}))
    assert "N. Shaheed, X. Chen and M. Wang" in text and "JINST 18 (2023) T06002" in text
    assert "arXiv:2303.05088" in text and "pandax2-accidental-dnn" not in text
    assert "**Caveat:**" in text and "--quick" in text
    for abbr in ("**ER / NR**", "**MLP**", "**BDT**", "**S**"):  # defined before the data section uses them
        assert text.index(abbr) < text.index("## Data")
    ceiling = "\n".join(study_report._s_ceiling(results))
    assert "sqrt(n_s) = 10.00" in ceiling and "0.950" in ceiling
    results["config"]["quick"] = False
    assert "Caveat" not in "\n".join(study_report._data_section(results, {"fig1": Path("f.png")}))


def test_pandax3_report_in_quick_mode(tmp_path):
    from tpcml.studies.pandax3 import study_report

    runs = _runs()
    rng = np.random.default_rng(0)
    data = {
        "images": rng.random((8, 16, 16, 3)).astype(np.float32),
        "label": np.r_[np.ones(4), np.zeros(4)].astype(int),
        "energy": np.full(8, 2458.0),
    }
    rows = [
        {
            "model": r.spec.label,
            "repeat": r.repeat,
            "xi": r.xi.xi,
            "xi_low": r.xi.interval()[0],
            "xi_high": r.xi.interval()[1],
            "eps_s": r.xi.eps_s,
            "eps_b": r.xi.eps_b,
            "n_background_pass": r.xi.n_background_pass,
            "xi_single_epoch": r.xi.xi,
            "epochs_used": [1],
            "images_per_second": 10.0,
        }
        for r in runs
    ]
    results = {
        "config": {"input_size": 16, "epochs": 2, "batch_size": 8, "quick": True},
        "data": {
            "directory": "/d",
            "events": 200,
            "signal": 100,
            "background": 100,
            "hits_outside": 0,
            "test_signal": 100,
            "test_background": 100,
        },
        "runs": rows,
        "paper_xi": {"EfficientNetB0 (64)": 6.66},
        "export": {
            "path": "m.onnx",
            "model": "EfficientNetB0 n=8",
            "epoch": 2,
            "scored_file": "s.root",
            "max_abs_diff_engine_keras": 1e-7,
            "xi_engine": 1.1,
        },
        "timings_s": {"training": 1.0},
    }
    text = study_report.write_report(tmp_path, results, data, runs, None).read_text()
    assert "S. Xia, S. Huang, K. Xu, T. Li, X. Chen, K. Han and S. Wang" in text
    assert "J. Phys. G 50 (2023) 125103" in text and "doi:10.1088/1361-6471/acfe24" in text
    assert "**Caveat:**" in text and "Xi close to 1" in text
    assert "**Xi**" in text and "**ROI**" in text and "**0vbb**" in text
    assert text.index("**Xi**") < text.index("## Xi per model")
    assert f"[{rows[0]['xi_low']:.2f}, {rows[0]['xi_high']:.2f}]" in text
    assert "sqrt(N_b) = 10.0" in text
    for png in ("fig5_images.png", "fig11_xi.png", "roc.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
