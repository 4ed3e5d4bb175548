"""The DARWIN-VAE anomaly score TS in libtpcml (tpcml::AnomalyScore) through its three doors -- pybind11
(_core.AnomalyScore), RDataFrame (tpcml::defineAnomalyScore) and the tpcml-vector executable -- against the Python TS
(NumPy, the formula of tpcml.studies.darwin.models) on linear graphs of the full 2310-entry DARWIN vector, on 1 and 2
threads; and tpcml-vector's vectors, help and bad-input errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tpcml import _core
from tpcml.core import detectors
from tpcml.core.root import implicit_mt
from tpcml.studies.darwin import models

from .conftest import run
from .test_darwin_vector import random_events

onnx = pytest.importorskip("onnx")
uproot = pytest.importorskip("uproot")

L, LATENT, N, R = 2310, 4, 240, 2.5


def _graph(name, nodes, inputs, outputs, weights, metadata=None):
    from onnx import TensorProto, helper, numpy_helper

    inits = [numpy_helper.from_array(w.astype(np.float32), k) for k, w in weights.items()]
    vi = lambda n, w: helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", w])  # noqa: E731
    g = helper.make_graph(nodes, name, [vi(*i) for i in inputs], [vi(*o) for o in outputs], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    for k, v in (metadata or {}).items():
        m.metadata_props.add(key=k, value=v)
    return m


@pytest.fixture(scope="module")
def graphs(tmp_path_factory):
    """Linear encoder / decoder and a logistic classifier with random weights, and their NumPy TS parts."""
    from onnx import helper

    rng = np.random.default_rng(11)
    w = {
        "Wm": rng.normal(0, 0.02, (L, LATENT)),
        "Wv": rng.normal(0, 0.005, (L, LATENT)),
        "Wd": rng.normal(0, 0.3, (LATENT, L)),
        "Wc": rng.normal(0, 0.01, (L, 1)),
    }
    log_sigma_d = rng.normal(0.2, 0.1, L)
    beta = 0.5
    d = tmp_path_factory.mktemp("ts_graphs")
    mm = helper.make_node
    enc = _graph(
        "enc",
        [mm("MatMul", ["x", "Wm"], ["z_mean"]), mm("MatMul", ["x", "Wv"], ["z_log_var"])],
        [("x", L)],
        [("z_mean", LATENT), ("z_log_var", LATENT)],
        {k: w[k] for k in ("Wm", "Wv")},
    )
    meta = {"tpcml.log_sigma_d": "[" + ", ".join(map(repr, log_sigma_d.tolist())) + "]", "tpcml.beta": str(beta)}
    dec = _graph("dec", [mm("MatMul", ["z", "Wd"], ["x_d"])], [("z", LATENT)], [("x_d", L)], {"Wd": w["Wd"]}, meta)
    cls = _graph(
        "cls",
        [mm("MatMul", ["x", "Wc"], ["logit"]), mm("Sigmoid", ["logit"], ["p"])],
        [("x", L)],
        [("p", 1)],
        {"Wc": w["Wc"]},
    )
    paths = {}
    for key, m in (("encoder", enc), ("decoder", dec), ("classifier", cls)):
        paths[key] = str(d / f"{key}.onnx")
        onnx.save(m, paths[key])

    def numpy_parts(x):
        x = x.astype(np.float64)
        mu, lv = x @ w["Wm"], x @ w["Wv"]
        kl = 0.5 * np.sum(mu**2 + np.exp(lv) - 1 - lv, axis=1)
        r = (x - mu @ w["Wd"]) * np.exp(-log_sigma_d)
        nll = np.sum(0.5 * r * r + log_sigma_d + models.HALF_LOG_2PI, axis=1)
        p = np.clip(1 / (1 + np.exp(-(x @ w["Wc"])[:, 0])), 0, models.P_MAX)
        return np.stack([kl, nll, -np.log1p(-p)], axis=1)

    return paths, numpy_parts, beta


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    from tpcml.core.rootio import write_tree

    ev = random_events(1910, N, seed=9)
    cols = dict(zip(_core.EVENT_VECTOR_COLUMNS, ev, strict=True)) | {
        "event": np.arange(N, dtype=np.uint64),
        "cS1": np.linspace(1, 20, N).astype(np.float32),
    }
    path = write_tree(tmp_path_factory.mktemp("ts_events") / "ev.root", "events", cols, "darwin", auto_flush=80)
    x = _core.EventVector(detectors.resolve("darwin")).batch(*ev)
    return path, x


def test_pybind_door_equals_python_ts(graphs, events):
    paths, numpy_parts, beta = graphs
    x = events[1]
    a = _core.AnomalyScore(paths["encoder"], paths["decoder"], paths["classifier"], R)
    assert (a.event_size, a.latent_size, a.beta, a.R) == (L, LATENT, beta, R)
    ref = numpy_parts(x)
    parts = a.score(x, threads=1, parts=True)
    np.testing.assert_allclose(parts, ref, rtol=2e-5, atol=1e-4)
    ts = a.score(x, threads=1)
    np.testing.assert_allclose(ts, models.ts_from_parts(ref, R, beta), rtol=2e-5)
    np.testing.assert_array_equal(a.score(x, threads=2), ts)  # thread count does not change TS
    np.testing.assert_array_equal(a.with_R(0.0).score(x), models.ts_from_parts(parts, 0.0, beta))
    with pytest.raises(ValueError, match=r"x must be a 2-D array \(n_events, 2310\).*\(240, 48\)"):
        a.score(x[:, :48])


def test_rdataframe_door_equals_python_ts(graphs, events):
    from tpcml.studies.darwin import score

    paths, numpy_parts, beta = graphs
    path, x = events
    ref = models.ts_from_parts(numpy_parts(x), R, beta)
    for threads in (1, 2):
        with implicit_mt(threads) as ROOT:
            node = score.define_ts(score.define_vector(ROOT.RDataFrame("events", str(path))), paths, R=R)
            cols = node.AsNumpy(["event", "TS"])
        np.testing.assert_allclose(cols["TS"][np.argsort(cols["event"])], ref, rtol=2e-5)


def graph_args(paths) -> list[str]:
    return [a for k in ("encoder", "decoder", "classifier") for a in (f"--{k}", paths[k])]


def _read(path, columns):
    with uproot.open(path) as f:
        return f["events"].arrays(columns, library="np")


@pytest.mark.parametrize("threads", [1, 2])
def test_executable_equals_python_ts_and_batch_vectors(graphs, events, tmp_path, threads):
    paths, numpy_parts, beta = graphs
    path, x = events
    out = tmp_path / "ts.root"
    res = run(
        ["tpcml-vector", str(path), "--output", str(out), "--threads", str(threads), "--r", str(R), *graph_args(paths)]
    )
    assert res.returncode == 0, res.stderr
    assert "anomaly score TS (R = 2.5, beta = 0.5)" in res.stderr and f"wrote {N} entries" in res.stderr
    cols = _read(out, ["event", "cS1", "TS", "darwin_x", "s2_pmt_area"])
    np.testing.assert_array_equal(cols["event"], np.arange(N))  # entry order kept
    np.testing.assert_allclose(cols["TS"], models.ts_from_parts(numpy_parts(x), R, beta), rtol=2e-5)
    np.testing.assert_array_equal(np.stack(cols["darwin_x"]), x)  # the batch door's vectors
    assert [p.name for p in tmp_path.iterdir()] == ["ts.root"]  # no temporary file left
    # TS only: no vector, no arrays
    out2 = tmp_path / "ts_only.root"
    res = run(
        ["tpcml-vector", str(path), "--output", str(out2), "--drop-vector", "--drop-arrays", "-q", *graph_args(paths)]
    )
    assert res.returncode == 0, res.stderr
    with uproot.open(out2) as f:
        assert set(f["events"].keys()) == {"event", "cS1", "TS"}


def test_executable_bad_input_is_named(graphs, events, tmp_path):
    from tpcml.core.rootio import write_tree

    paths, _, _ = graphs
    path, _ = events
    out = str(tmp_path / "o.root")
    models_args = graph_args(paths)
    cases = [
        (
            ["tpcml-vector", str(tmp_path / "missing.root"), "--output", out],
            1,
            r"cannot open .*missing\.root.*no such file",
        ),
        (["tpcml-vector", str(path), "--output", str(path)], 2, r"is the input .*\(the same file\)"),
        (["tpcml-vector", str(path), "--output", paths["encoder"], *models_args], 2, r"encoder\.onnx"),
        (["tpcml-vector", str(path), "--output", out, "--r", "3"], 2, r"--r .* give --encoder"),
        (["tpcml-vector", str(path), "--output", out, "--norm", "log"], 2, r"normalisation 'log'.*log1p"),
        (["tpcml-vector", str(path), "--output", out, "--drop-vector"], 2, r"nothing to write"),
        (["tpcml-vector", str(path), "--output", out, "--encoder", paths["encoder"]], 2, r"all three graphs"),
        (["tpcml-vector", str(path), "--output", out, "--tree", "evnts"], 1, r"no tree 'evnts'.*did you mean: events"),
        (
            ["tpcml-vector", str(path), "--output", out, "--r", "-1", *models_args],
            2,
            r"option '--r' must be in \[0, 1e\+12\], got -1",
        ),
        (
            [
                "tpcml-vector",
                str(path),
                "--output",
                out,
                *models_args[:2],
                "--decoder",
                paths["encoder"],
                *models_args[4:],
            ],
            1,
            r"tpcml.log_sigma_d",
        ),
    ]
    # a tree whose S2 waveform branch is misnamed: the nearest names are given
    ev = random_events(1910, 4)
    renamed = dict(zip(("s1_waveform", "s2_waveforms", "s2_pmt_area"), ev, strict=True))
    bad = write_tree(tmp_path / "renamed.root", "events", renamed, "darwin")
    cases.append(
        (
            ["tpcml-vector", str(bad), "--output", out],
            1,
            r"lacks column 's2_waveform' \(did you mean: s1_waveform, s2_waveforms\?\)",
        )
    )
    for cmd, code, pattern in cases:
        res = run(cmd)
        assert res.returncode == code, (cmd, res.stderr)
        assert re.search(pattern, res.stderr, re.S), (cmd, res.stderr)
    assert not (tmp_path / "o.root").exists()
    # another detector's layout: the graphs take 2310 values, xenon1t's vector has 2 x 200 + 248
    res = run(["tpcml-vector", str(path), "--output", out, "--detector", "xenon1t", *models_args])
    assert res.returncode == 1 and "graphs take vectors of 2310 values; xenon1t's event vector has 648" in res.stderr
