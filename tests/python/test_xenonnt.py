"""The XENONnT nT-CVAE study (tpcml.studies.xenonnt): TS definition, the chi2 statistic through the study's
binning, the CVAE and CNN on small synthetic images, TS from tpcml's C++ engine against Keras, and the quick run
end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tpcml.studies.xenonnt import analysis, models


def test_ts_is_eq10_and_monotone_in_R():
    terms = np.array([[170.0, 50.0, 0.1], [340.0, 80.0, 0.9], [85.0, 10.0, 1.0]])  # (SSE, KL, p)
    R = np.array([0.0, 1.0, 170.0, 1e4])
    ts = models.ts_from_terms(terms, R)
    assert ts.shape == (4, 3)
    vae = terms[:, 0] + 0.5 * terms[:, 1]  # SSE over one image's pixel values + beta KL (module docstring)
    np.testing.assert_allclose(ts[0], vae)  # R = 0: the CVAE loss of Eq. 8 alone
    hb = -np.log(1.0 - np.minimum(terms[:, 2], 1 - 1e-7))  # Eq. 11 for one event, p clipped like Keras' BCE
    np.testing.assert_allclose(ts[2], vae + 170.0 * hb)
    assert np.all(np.diff(ts, axis=0) > 0)  # H_B > 0 for p > 0: TS rises with R
    assert np.isfinite(ts).all()  # p = 1 clipped
    with pytest.raises(ValueError, match="R must be"):
        models.ts_from_terms(terms, -1.0)
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        models.ts_from_terms(terms[:, :2], 1.0)


def test_binning_and_asimov_chi2_by_hand():
    from scipy.stats import chi2

    ts_er = np.arange(100, dtype=float)  # 0..99
    ts_nr = np.array([10.0, 95.0, 120.0, 130.0])
    e = analysis.edges(ts_er, ts_nr, n_bins=4)
    # equal ER population: quartiles of 0..99, the last edge the largest TS of ER and NR
    np.testing.assert_allclose(e, [0.0, 24.75, 49.5, 74.25, 130.0])
    np.testing.assert_allclose(analysis.fractions(ts_er, e), [0.25, 0.25, 0.25, 0.25])
    np.testing.assert_allclose(analysis.fractions(ts_nr, e), [0.25, 0.0, 0.0, 0.75])
    B, S = 400.0, 40.0
    a = np.array([100.0, 100.0, 100.0, 100.0])
    b = a + np.array([10.0, 0.0, 0.0, 30.0])
    by_hand = 10.0**2 / 210.0 + 30.0**2 / 230.0  # Eq. 12
    assert np.sum((a - b) ** 2 / (a + b)) == pytest.approx(by_hand)
    chi, p = analysis.asimov_chi2(ts_er, ts_nr, B, S, n_bins=4)
    assert chi == pytest.approx(by_hand)
    assert p == pytest.approx(chi2.sf(by_hand, 1))  # Eq. 13
    assert analysis.chi2_of(*analysis.asimov_chi2_unit(ts_er, ts_nr, B, S, 4)) == pytest.approx(by_hand)
    # linear in the exposure at fixed cross-section
    bb, ss = analysis.asimov_chi2_unit(ts_er, ts_nr, B, S, 4)
    assert analysis.chi2_of(bb, ss, 3.0, 3.0) == pytest.approx(3 * by_hand)
    with pytest.raises(ValueError, match="at least 2"):
        analysis.edges([1.0], ts_nr)


def test_five_sigma_cross_section_solves_the_wilks_threshold():
    from scipy.stats import chi2

    bb = np.array([100.0, 100.0])
    ss = np.array([0.0, 20.0])  # at sigma_ref
    xs = analysis.five_sigma_cross_section(bb, ss, 1.0)
    y = xs / 1e-45
    assert analysis.chi2_of(bb, ss, 1.0, y) == pytest.approx(chi2.isf(analysis.FIVE_SIGMA_P, 1), rel=1e-3)
    assert analysis.five_sigma_cross_section(bb, ss, 10.0) < xs  # more exposure, smaller 5 sigma cross-section


def _synthetic(n, rng):
    """ER-like: one bright blob top-left; NR-like: a bar at the bottom (what a CVAE trained on ER has not seen)."""
    x = rng.uniform(0.0, 0.05, (n, 75, 75, 3)).astype(np.float32)
    er = x[: n // 2]
    nr = x[n // 2 :]
    er[:, 10:30, 10:30, 0] += 0.8
    nr[:, 55:70, 5:70, 1] += 0.8
    return np.clip(er, 0, 1), np.clip(nr, 0, 1)


@pytest.fixture(scope="module")
def trained():
    pytest.importorskip("tensorflow")
    rng = np.random.default_rng(3)
    er, nr = _synthetic(400, rng)
    enc, dec, hist = models.train_cvae(er[:160], er[160:], epochs=4, seed=1, batch_size=20)
    x = np.concatenate([er[:100], nr[:100]])
    y = np.r_[np.zeros(100), np.ones(100)].astype(np.float32)
    xt = np.concatenate([er[100:200], nr[100:200]])
    cnn, _, acc = models.train_cnn(x, y, xt, y, epochs=3, seed=1, batch_size=20)
    return enc, dec, cnn, hist, acc, er[160:], nr[100:]


def test_cvae_trains_and_reconstructs_er_better_than_nr(trained):
    enc, dec, cnn, hist, _, er_test, nr_test = trained
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    terms_er = models.score_model(enc, dec, cnn).predict(er_test, verbose=0)
    terms_nr = models.score_model(enc, dec, cnn).predict(nr_test, verbose=0)
    assert terms_er[:, 0].mean() < terms_nr[:, 0].mean()  # CVAE trained on ER only
    # the first term is Eq. 10's (x_i - y_i)^2 for one image: summed over its pixel values, from the mean latent
    mu, _ = enc.predict(er_test[:4], verbose=0)
    sse = np.sum((er_test[:4] - dec.predict(mu, verbose=0)) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(terms_er[:4, 0], sse, rtol=1e-4)


def test_cnn_beats_chance(trained):
    assert trained[4] > 0.8


def test_paper_cvae_layout():
    pytest.importorskip("tensorflow")
    enc, dec, _ = models.paper_cvae(seed=0)
    convs = [lay for lay in enc.layers if lay.__class__.__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size, c.strides) for c in convs] == [(128, (3, 3), (3, 3))] * 3  # Sec. VI A
    assert [o.shape[-1] for o in enc.outputs] == [256, 256]
    assert tuple(dec.output.shape[1:]) == (75, 75, 3)
    assert sum(lay.__class__.__name__ == "Conv2DTranspose" for lay in dec.layers) == 3


def test_ts_from_cpp_engine_equals_keras(trained, tmp_path):
    pytest.importorskip("tf2onnx")
    from tpcml.inference import Model
    from tpcml.ml.export import to_onnx

    enc, dec, cnn, _, _, er_test, nr_test = trained
    sm = models.score_model(enc, dec, cnn)
    path = to_onnx(sm, tmp_path / "ts.onnx")
    x = np.concatenate([er_test[:20], nr_test[:20]])
    py = sm.predict(x, verbose=0)
    cpp = Model(path).run(x)[0].reshape(len(x), 3)
    np.testing.assert_allclose(cpp, py, rtol=1e-4, atol=1e-5)
    for R in (0.0, 170.0):
        np.testing.assert_allclose(models.ts_from_terms(cpp, R), models.ts_from_terms(py, R), rtol=1e-4)
    # TS per event in RDataFrame: define_score (the engine) + Define(ts_expression)
    from tpcml.studies.xenonnt.study import rdataframe_ts

    rdf = rdataframe_ts(tmp_path / "images.root", x, path, 170.0)
    np.testing.assert_allclose(rdf, models.ts_from_terms(py, 170.0), rtol=1e-4)


def test_quick_run_end_to_end(tmp_path):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    from tpcml import cli

    out = tmp_path / "nt"
    argv = ["run", "xenonnt", "--quick", "--out", str(out), "-n", "80", "--masses", "50,500", "--epochs-cvae", "1"]
    assert cli.main([*argv, "--epochs-cnn", "1", "--experiments", "50", "-q"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["data"]["er"]["kept"] > 40
    assert set(res["anomaly"]["p_at_5ty"]) == {"50", "500"}
    assert 0 <= res["cnn"]["accuracy"] <= 1
    assert res["export"]["max_rel_diff_ts_R170"] < 1e-3
    assert res["export"]["max_rel_diff_ts_R170_rdataframe"] < 1e-3
    assert "contour_50GeV" in res["anomaly"]
    assert 0 <= res["anomaly"]["R_cvae_plateau"] <= res["anomaly"]["R_plateau"]  # Fig. 7: CVAE plateau, then CNN
    for f in ("report.md", "fig3_cvae_loss.png", "fig5_ts_er_nr.png", "fig7_p_vs_R.png", "xenonnt_ts_terms.onnx"):
        assert (out / f).is_file(), f


def test_bad_masses_are_refused_before_any_work(tmp_path, capsys):
    from tpcml import cli

    for bad, why in (("50,abc", "'abc'"), ("2", "outside 5-10000 GeV")):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["run", "xenonnt", "--out", str(tmp_path / "o"), "--masses", bad, "-q"])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert "--masses" in err and why in err, err
    assert not (tmp_path / "o" / "results.json").exists()


def test_full_is_the_papers_scale(tmp_path):
    """--full configures nT-CVAE's scale (Sec. IV A, VI B) without running it (about 9 h of CVAE training on
    2 CPU cores, docs/studies.md); an option given beside it still wins."""
    from tpcml import cli
    from tpcml.core import options as a
    from tpcml.studies.xenonnt.cli import configure

    def config(*extra):
        args = cli.build_parser().parse_args(["run", "xenonnt", "--full", "--out", str(tmp_path / "o"), *extra])
        return configure(args, a.profile_of(args))

    c = config()
    assert (c.events, c.epochs_cvae, c.quick) == (20000, 200, False)  # 20,000 ER + 20,000 NR, 200 epochs
    assert {10.0, 500.0, 1000.0, 50.0} <= set(c.masses)  # Figs. 6, 8 and 9
    assert config("--epochs-cvae", "3").epochs_cvae == 3
    assert not (tmp_path / "o" / "results.json").exists()  # configuring does no work
