"""XENON1T CNN study (X1T-CNN, issue 18): metrics on hand-made cases against scikit-learn and by hand, the SR0
selection, the paper's CNN learning a small simulated set, ONNX parity (Keras, onnxruntime, tpcml's C++ engine in
RDataFrame with the images drawn there), and ``tpcml run xenon1t --quick`` end to end."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from tpcml.studies.xenon1t import study

from .conftest import run


def test_metrics_on_a_hand_made_case():
    # 4 WIMP (1), 4 ER (0); threshold 0.5: TP = 3 (0.9, 0.8, 0.6), FN = 1 (0.3), FP = 1 (0.7), TN = 3
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.6, 0.3, 0.7, 0.4, 0.2, 0.1])
    m = study.classification_metrics(y, s)
    assert m["confusion"] == [[3, 1], [1, 3]]
    assert (m["accuracy"], m["recall"], m["precision"]) == (pytest.approx(0.75), pytest.approx(0.75), 0.75)
    # AUC: of the 16 (WIMP, ER) pairs, the WIMP scores higher in 13 (0.6 loses to 0.7; 0.3 to 0.7 and 0.4)
    assert m["auc"] == pytest.approx(13 / 16)
    # AP = sum over the WIMPs of precision at their rank: ranks 1, 2, 4 (after 0.7), 6 -> (1 + 1 + 3/4 + 4/6) / 4
    assert m["average_precision"] == pytest.approx((1 + 1 + 0.75 + 4 / 6) / 4)
    # 50 % WIMP acceptance: the cut at the 2nd highest WIMP score (0.8) keeps 0.9 and 0.8 and no ER
    assert m["threshold_at_50"] == pytest.approx(0.8)
    assert (m["signal_acceptance_at_50"], m["er_rejection_at_50"], m["er_passing_at_50"]) == (0.5, 1.0, 0)


def test_er_rejection_counts_the_ER_above_the_cut():
    # 10 WIMP scores 0.1 ... 1.0: 50 % acceptance cuts at 0.6 (0.6 ... 1.0 pass); ER: 0.65 and 0.95 pass of 10
    y = np.r_[np.ones(10), np.zeros(10)]
    s = np.r_[np.linspace(0.1, 1.0, 10), [0.0] * 8 + [0.65, 0.95]]
    r = study.er_rejection(y, s)
    assert r["threshold"] == pytest.approx(0.6)
    assert (r["signal_acceptance"], r["er_rejection"], r["er_passing"]) == (0.5, 0.8, 2)
    # another acceptance
    assert study.er_rejection(y, s, acceptance=0.9)["er_passing"] == 2  # cut at 0.2: the same two ER pass


def test_sr0_selection_on_hand_made_events():
    from tpcml.core import detectors

    cuts = study.selection_cuts(detectors.load(study.DETECTOR))
    assert (cuts["cs1_min_pe"], cuts["cs1_max_pe"], cuts["s2_min_pe"]) == (3.0, 70.0, 200.0)
    ev = {
        "cS1": np.array([2.9, 3.0, 50.0, 70.0, 70.1, 20.0, np.nan]),
        "cS2": np.array([1e3] * 7),
        "s2_area": np.array([500.0, 500.0, 199.0, 200.0, 500.0, 500.0, 500.0]),
    }
    np.testing.assert_array_equal(study.select(ev, cuts), [False, True, False, True, False, True, False])


def test_list_options_are_checked():
    from tpcml.core.options import CommandLineError
    from tpcml.studies.xenon1t.cli import parse_list

    assert parse_list("3, 1,1", "--conv", int, lambda v: 1 <= v <= 3, "integers in 1-3") == [1, 3]
    with pytest.raises(CommandLineError, match=r"--conv: expected comma-separated integers in 1-3, got '4'"):
        parse_list("1,4", "--conv", int, lambda v: 1 <= v <= 3, "integers in 1-3")
    with pytest.raises(CommandLineError, match=r"--alphas: .* got 'x'"):
        parse_list("0.1,x", "--alphas", float, lambda v: 0 <= v < 1, "numbers in [0, 1)")


@pytest.fixture(scope="module")
def small_set():
    """200 WIMP and 200 ER events after the SR0 selection, with HitPeak images (seconds)."""
    from tpcml.core import detectors
    from tpcml.sim import lxe

    det = detectors.load(study.DETECTOR)
    cuts = study.selection_cuts(det)
    sim = lxe.Simulator(det, threads=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wimp, er = study._sources(det)
        w, _ = study._selected(sim, wimp, 200, 11, cuts, say=lambda m: None)
        e, _ = study._selected(sim, er, 200, 12, cuts, say=lambda m: None)
    data = {c: np.concatenate([w[c], e[c]]) for c in w}
    data["label"] = np.r_[np.ones(200, np.int32), np.zeros(200, np.int32)]
    return det, data, study.images(det, data, "hitpeak", threads=2)


def test_the_cnn_learns_a_small_simulated_set(small_set):
    pytest.importorskip("tensorflow")
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from tpcml.ml.backend import configure_tensorflow
    from tpcml.ml.training import train_classifier

    configure_tensorflow(2)
    _, data, x = small_set
    y = data["label"]
    assert x.shape == (400, 75, 75, 3) and x.min() >= 0.0 and x.max() <= 1.0
    tr, te = train_test_split(np.arange(400), test_size=0.3, stratify=y, random_state=0)
    res = train_classifier(
        study._build(x.shape[1:], 1, 0.05), x[tr], y[tr], x[te], y[te], x[te],
        epochs=6, batch_size=50, flips=False, seed=3, quiet=True,
    )  # fmt: skip
    auc = roc_auc_score(y[te], res.test_predictions[-1])
    assert auc > 0.8, f"AUC {auc:.3f}: the CNN does not beat chance clearly"


def test_onnx_parity_keras_onnxruntime_and_the_engine_in_rdataframe(small_set, tmp_path):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    from tpcml.ml.export import keras_onnx_max_diff, onnx_predict, to_onnx

    det, data, _ = small_set
    keep = np.r_[0:20, 200:220]  # 20 WIMP, 20 ER
    sub = {c: v[keep] for c, v in data.items()}
    for kind, n_conv in (("hitpeak", 2), ("peak", 1)):
        xs = study.images(det, sub, kind, threads=1)
        model = study._build(xs.shape[1:], n_conv, 0.05)()  # random weights: parity, not learning
        path = to_onnx(model, tmp_path / f"{kind}.onnx", metadata={"tpcml.inputs": ["image"]})
        keras_scores = model.predict(xs, verbose=0).ravel()
        assert keras_onnx_max_diff(model, path, xs) < 1e-5
        np.testing.assert_allclose(onnx_predict(path, xs)[0].ravel(), keras_scores, atol=1e-5)
        events = tmp_path / f"events_{kind}.root"
        study.write_test_events(events, sub, det, say=lambda m: None)
        engine = study.score_in_rdataframe(events, path, kind, study.DETECTOR, threads=2)
        assert engine.shape == (40,)
        np.testing.assert_allclose(engine, keras_scores, atol=1e-5)


@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path):
    for module in ("tensorflow", "tf2onnx"):
        pytest.importorskip(module)
    out = tmp_path / "x1t"
    res = run(["tpcml", "run", "xenon1t", "--quick", "--out", str(out), "-q"], timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    r = json.loads((out / "results.json").read_text())
    for key in ("table1", "grid", "grid_best", "table2", "table3", "table4", "er_rejection_at_50", "baseline", "cnn"):
        assert key in r, key
    assert set(r["table4"]["accuracy"]) == {"hit", "peak", "hitpeak"}
    for kind in ("hit", "peak", "hitpeak"):
        assert r["cnn"][kind]["max_abs_diff_engine_keras"] < 1e-4
        assert 0.0 <= r["er_rejection_at_50"][kind] <= 1.0
        assert (out / f"xenon1t_cnn_{kind}.onnx").is_file()
        assert (out / "png" / f"{kind}_wimp_0.png").is_file()
    assert r["data"]["train"]["events"] == 300 and r["data"]["test"]["events"] == 200
    assert r["table1"]["expected"]["er-background"] > 0
    text = (out / "report.md").read_text()
    assert "Table IV analogue" in text and "0.904" in text and "Caveat" in text
    assert "BDT on (cS1, log10 cS2_b/cS1)" in text and "NR-median cut" in text
