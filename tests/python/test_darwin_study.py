"""``tpcml run darwin``: registered on the lxe darwin registration, and the quick profile end to end (simulation,
C++ vectors, VAE + classifier, ONNX export, C++ TS in RDataFrame, pseudo-experiments, report)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import run


def test_darwin_registration_is_runnable_and_keeps_its_verbs():
    from tpcml import studies

    s = studies.get("darwin")
    assert s.runnable and s.simulate is not None and s.plot is not None
    assert [step.name for step in s.steps] == ["simulation", "vectors", "training", "export", "score", "statistics"]
    assert set(s.profiles) == {"default", "quick", "full"}
    assert s.profiles["full"]["train_events"] == 20000  # DARWIN-VAE Sec. 3.3


def test_bad_exposures_are_named(tmp_path):
    r = run(["tpcml", "run", "darwin", "--quick", "--out", str(tmp_path / "o"), "--exposures", "50,abc"])
    assert r.returncode != 0 and "--exposures" in r.stderr and "'50,abc'" in r.stderr


@pytest.mark.slow
def test_quick_profile_end_to_end(tmp_path):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    out = tmp_path / "darwin"
    r = run(["tpcml", "run", "darwin", "--quick", "--out", str(out), "-q"], timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out / "results.json").read_text())
    assert res["vector_size"] == 2310
    assert res["parity"]["max_rel_diff_ts_R10"] < 1e-4  # C++ (RDataFrame) TS vs Keras TS
    assert res["training"]["classifier_val_accuracy"][-1] > 0.6
    rates = {row["component"]: row for row in res["rates_200ty"]}
    assert {"er-background", "kr85", "pb214", "materials", "cevns", "neutrons"} <= set(rates)
    for row in rates.values():  # cuts only remove events
        assert row["before_cuts"] >= row["trigger_fv"] * 0.999 >= 0 and row["trigger_fv"] >= row["signal_region"]
    s = res["sensitivity_200ty"]
    assert s["B"] > 0 and s["S"] > 0 and np.isfinite(s["sigma"])
    assert res["R"] in [row["R"] for row in res["r_scan"]]
    assert max(row["z_gauss"] for row in res["r_scan"]) == pytest.approx(
        next(row["z_gauss"] for row in res["r_scan"] if row["R"] == res["R"])
    )
    b = res["binned"]  # what the binned Z rests on
    assert b["er_leakage"]["mc_events"] > 0 and 0 <= b["er_leakage"]["fraction"] <= b["er_leakage"]["upper_90"] <= 1
    assert b["z_asimov_one_more_er_event"] <= b["z_asimov"] and b["top_bins"]
    assert "what its Z rests on" in (out / "report.md").read_text()
    for name in ("report.md", "fig2_ts.png", "fig3_q.png", "fig4_exposure.png", "r_scan.png", "models/encoder.onnx"):
        assert (out / name).is_file(), name


def test_bench_darwin_quick_run():
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[2] / "bench" / "bench_darwin.py"
    r = run([sys.executable, str(bench), "--events", "200", "--experiments", "50", "--repeat", "1"], timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    rows = [line for line in r.stdout.splitlines() if "|" in line]
    assert any(line.startswith("TS, tpcml C++ in RDataFrame, 1 thread, 200 ev") and "ev/s" in line for line in rows)
    assert any(line.startswith("q, 50 experiments x B = 6,500") and "exp/s" in line for line in rows)


def test_bad_cs1_window_is_named(tmp_path):
    r = run(["tpcml", "run", "darwin", "--quick", "--out", str(tmp_path / "o"), "--cs1-window", "70,3"])
    assert r.returncode != 0 and "--cs1-window" in r.stderr and "LO < HI" in r.stderr


def test_er_evaluation_window_follows_the_signal_region():
    from tpcml.studies.darwin.study import er_eval_window

    assert er_eval_window((3.0, 20.0)) == (1.0, 10.0)  # at least 10 keV
    assert er_eval_window((3.0, 70.0)) == (1.0, 35.0)  # 0.5 keV per PE
    assert er_eval_window((3.0, 500.0)) == (1.0, 100.0)  # never beyond the spectra's window


def test_binned_diagnostics_on_a_hand_made_case():
    """Two cS1 bins x two log10 cS2 bins; the signal sits in the low-cS2 bins. 100 ER events of weight 2 in the
    upper bins but one in a lower bin; NR background of weight 0.5 in each lower bin."""
    from scipy.stats import beta

    from tpcml.stats.likelihood import asimov_significance
    from tpcml.studies.darwin.study import binned_diagnostics

    edges = [np.array([0.0, 10.0, 20.0]), np.array([2.0, 3.0, 4.0])]
    er = np.array([[5.0, 3.5]] * 50 + [[15.0, 3.5]] * 49 + [[15.0, 2.1]])
    nr = np.array([[5.0, 2.5], [15.0, 2.5]])
    pts_b = np.concatenate([er, nr])
    b_events = np.r_[np.full(100, 2.0), 0.5, 0.5]
    is_er = np.r_[np.ones(100, bool), False, False]
    sig = np.array([[5.0, 2.4], [5.0, 2.6], [15.0, 2.5], [15.0, 2.7]])  # WIMP medians: 2.5 and 2.6
    b_t = np.histogramdd(pts_b, bins=edges, weights=b_events)[0]
    s_t = np.histogramdd(sig, bins=edges, weights=np.full(4, 5.0))[0]
    d = binned_diagnostics(edges, pts_b, b_events, is_er, sig, {"s": s_t.ravel(), "b": b_t.ravel()})  # flat
    assert d["er_event_weight"] == 2.0
    leak = d["er_leakage"]
    assert (leak["mc_events"], leak["mc_events_below"]) == (100, 1)  # the ER event at log10 cS2 2.1 < 2.6
    assert leak["fraction"] == pytest.approx(0.01)
    assert leak["upper_90"] == pytest.approx(beta.ppf(0.9, 2, 99))
    top = d["top_bins"][0]  # the clean low-cS2 bin of cS1 0-10: s = 10, b = 0.5 (NR only)
    assert (top["cS1"], top["log10_cS2"], top["s"], top["b"], top["b_er"], top["er_mc_events"]) == (
        [0.0, 10.0],
        [2.0, 3.0],
        10.0,
        0.5,
        0.0,
        0,
    )
    assert d["top_bins"][1]["b_er"] == 2.0 and d["top_bins"][1]["b_nr"] == 0.5
    assert d["z_asimov_one_more_er_event"] == pytest.approx(asimov_significance(s_t, np.where(s_t > 0, b_t + 2, b_t)))
