"""DARWIN-VAE models on a small synthetic set: the VAE's -ELBO falls, the classifier beats chance, the exported graphs
have exactly the expected inputs and outputs, and TS computed in C++ inside RDataFrame (AnomalyScore.h on tpcml's ONNX
engine) equals the Keras/NumPy TS."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tf2onnx")

from tpcml.studies.darwin import models, score

L = 48


def synthetic(n: int, nr: bool, seed: int) -> np.ndarray:
    """Vectors with an ER/NR difference the networks can learn: a shared template, NR with a different profile."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, L)
    amp = rng.uniform(1, 5, (n, 1))
    shape = np.exp(-0.5 * ((t - (0.3 if nr else 0.6)) / 0.1) ** 2)
    return (amp * shape + rng.normal(0, 0.2, (n, L))).astype(np.float32)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    er, nr = synthetic(600, False, 1), synthetic(600, True, 2)
    vae = models.train_vae(er[:450], er[450:], epochs=5, batch_size=32, seed=3)
    x = np.concatenate([er[:450], nr[:450]])
    y = np.r_[np.zeros(450), np.ones(450)].astype(np.float32)
    xv = np.concatenate([er[450:], nr[450:]])
    yv = np.r_[np.zeros(150), np.ones(150)].astype(np.float32)
    clf, loss, acc = models.train_classifier(x, y, xv, yv, epochs=3, batch_size=32, seed=3)
    onnx = models.export(vae, clf, tmp_path_factory.mktemp("darwin_onnx"))
    return vae, clf, loss, acc, onnx, np.concatenate([er[450:], nr[450:]])


def test_vae_loss_falls_and_classifier_beats_chance(trained):
    vae, _, loss, acc, _, _ = trained
    assert vae.history[-1] < 0.7 * vae.history[0]  # measured: 82 -> 48 per event in 6 epochs
    assert vae.val_history[-1] < vae.val_history[0]
    assert loss[-1] < loss[0]
    assert acc[-1] > 0.8  # chance: 0.5
    assert vae.log_sigma_d.shape == (L,)


def test_exported_graphs_have_the_expected_inputs_and_outputs(trained):
    import onnx

    shapes = {}
    for key, path in trained[4].items():
        g = onnx.load(path).graph
        init = {i.name for i in g.initializer}
        inputs = [i for i in g.input if i.name not in init]
        dims = lambda v: [d.dim_value for d in v.type.tensor_type.shape.dim][1:]  # noqa: E731
        shapes[key] = ([(i.name, dims(i)) for i in inputs], [dims(o) for o in g.output])
    assert shapes == {
        "encoder": ([("x", [L])], [[models.LATENT], [models.LATENT]]),  # z_mean, z_log_var; no sampling op
        "decoder": ([("z", [models.LATENT])], [[L]]),
        "classifier": ([("features", [L])], [[1]]),
    }
    meta = {p.key: p.value for p in onnx.load(trained[4]["decoder"]).metadata_props}
    assert len(eval(meta["tpcml.log_sigma_d"])) == L and float(meta["tpcml.beta"]) == models.BETA


def test_cpp_ts_in_rdataframe_equals_python_ts(trained, tmp_path):
    from tpcml.core.rootio import write_tree

    vae, clf, _, _, onnx, x = trained
    path = write_tree(tmp_path / "x.root", "events", {"event": np.arange(len(x), dtype=np.uint64), "darwin_x": x})
    ref = models.ts_parts(vae, clf, x)
    ROOT = score.load()
    R = 7.5
    node = score.define_ts(ROOT.RDF.AsRNode(ROOT.RDataFrame("events", str(path))), onnx, R=R)
    node = score.define_ts(node, onnx, parts=True, name="parts")
    cols = node.AsNumpy(["TS", "parts"])
    parts = np.stack([np.asarray(v) for v in cols["parts"]])
    np.testing.assert_allclose(parts, ref, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(cols["TS"], models.ts_from_parts(ref, R), rtol=1e-5, atol=1e-3)
    # NR-like events are more anomalous for the ER-trained VAE and the classifier
    assert np.median(cols["TS"][150:]) > np.median(cols["TS"][:150])
