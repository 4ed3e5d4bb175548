"""ONNX inference inside RDataFrame and over files: the compiled functor (PyROOT), jitted expressions,
the tpcml-infer executable, tpcml.inference.score_files, the macro and PyROOT script in macros/, and
distributed RDataFrame on a local Dask cluster. All compared with onnxruntime."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
uproot = pytest.importorskip("uproot")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import tpcml  # noqa: E402
from tpcml.inference import Model, define_score, score_distributed, score_files  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FEATURES = [f"x{k}" for k in range(13)]
N = 3000


def _save(graph, path: Path, metadata: dict[str, str] | None = None) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    for k, v in (metadata or {}).items():
        model.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


def _mlp(path: Path, outputs: int = 1, metadata: bool = True) -> Path:
    rng = np.random.default_rng(3)
    w1 = numpy_helper.from_array(rng.normal(0, 0.5, (13, 16)).astype(np.float32), "w1")
    b1 = numpy_helper.from_array(rng.normal(0, 0.1, 16).astype(np.float32), "b1")
    w2 = numpy_helper.from_array(rng.normal(0, 0.5, (16, outputs)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"], name="dense1"),
        helper.make_node("Add", ["h0", "b1"], ["h1"], name="bias1"),
        helper.make_node("Relu", ["h1"], ["h2"], name="relu1"),
        helper.make_node("MatMul", ["h2", "w2"], ["h3"], name="dense2"),
        helper.make_node("Sigmoid", ["h3"], ["y"], name="out"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 13])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", outputs])],
        [w1, b1, w2],
    )
    meta = {"tpcml.inputs": json.dumps(FEATURES), "tpcml.working_point": "0.5"} if metadata else {}
    return _save(graph, path, meta)


def _cnn(path: Path) -> Path:
    rng = np.random.default_rng(4)
    w = numpy_helper.from_array(rng.normal(0, 0.5, (2, 1, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(np.array([0.1, -0.2], np.float32), "b")
    wd = numpy_helper.from_array(rng.normal(0, 0.5, (2, 1)).astype(np.float32), "wd")
    shape = numpy_helper.from_array(np.array([-1, 1, 4, 4], np.int64), "shape")
    nodes = [
        helper.make_node("Reshape", ["image", "shape"], ["img"], name="to_nchw"),
        helper.make_node("Conv", ["img", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flat"),
        helper.make_node("MatMul", ["f", "wd"], ["d"], name="dense"),
        helper.make_node("Sigmoid", ["d"], ["y"], name="out"),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
        [w, b, wd, shape],
    )
    return _save(graph, path, {"tpcml.inputs": '["image"]'})


def _reference(path: Path, x: np.ndarray) -> np.ndarray:
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: x.astype(np.float32)})[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """An events file with several clusters (ImplicitMT only splits clusters), 13 float features,
    one double and one int column, an RVec<float> image column, and an event id."""
    d = tmp_path_factory.mktemp("onnx_rdf")
    ROOT = tpcml.load_root()
    rng = np.random.default_rng(11)
    cols = {f: rng.normal(0, 1, N).astype(np.float32) for f in FEATURES}
    cols["event"] = np.arange(N, dtype=np.int64)
    cols["xd"] = rng.normal(0, 1, N)
    cols["xi"] = rng.integers(-3, 4, N).astype(np.int32)
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fAutoFlush = 500
    df = ROOT.RDF.FromNumpy(cols).Define(
        "image",
        "ROOT::RVecF v(16); for (int k = 0; k < 16; ++k) v[k] = std::sin(0.37f * k + 0.011f * event); return v;",
    )
    events = d / "events.root"
    df.Snapshot("events", str(events), "", opts)
    x = np.stack([cols[f] for f in FEATURES], axis=1)
    image = np.stack([np.sin(0.37 * np.arange(16, dtype=np.float32) + np.float32(0.011) * e) for e in range(N)])
    return {
        "dir": d,
        "events": events,
        "x": x,
        "image": image.astype(np.float32),
        "cols": cols,
        "mlp": _mlp(d / "mlp.onnx"),
        "mlp_nometa": _mlp(d / "mlp_nometa.onnx", metadata=False),
        "mlp2": _mlp(d / "mlp2.onnx", outputs=2),
        "cnn": _cnn(d / "cnn.onnx"),
    }


def _rdf_scores(data, model, columns, threads, extra=("event",)):
    ROOT = tpcml.load_root()
    if threads > 1:
        ROOT.EnableImplicitMT(threads)
    try:
        df = ROOT.RDataFrame("events", str(data["events"]))
        out = define_score(df, "score", model, columns).AsNumpy(["score", *extra])
    finally:
        if ROOT.IsImplicitMTEnabled():
            ROOT.DisableImplicitMT()
    order = np.argsort(out["event"])
    return {k: np.asarray(v)[order] for k, v in out.items()}


def test_define_score_matches_onnxruntime_and_threads(data):
    ref = _reference(data["mlp"], data["x"])[:, 0]
    one = _rdf_scores(data, data["mlp"], None, 1)  # columns from the model's tpcml.inputs
    two = _rdf_scores(data, data["mlp"], FEATURES, 2)
    np.testing.assert_array_equal(one["event"], np.arange(N))
    np.testing.assert_allclose(one["score"], ref, rtol=1e-5, atol=1e-6)
    assert np.array_equal(one["score"], two["score"])  # bit-identical with 1 and 2 threads


def test_define_score_mixed_types_and_image(data):
    """Non-float scalar columns go through a jitted expression over the same compiled scorer; an
    RVec<float> column feeds an image model."""
    cols = ["xd", "xi", *FEATURES[2:]]
    x = data["x"].copy()
    x[:, 0] = data["cols"]["xd"].astype(np.float32)
    x[:, 1] = data["cols"]["xi"].astype(np.float32)
    got = _rdf_scores(data, data["mlp"], cols, 2)["score"]
    np.testing.assert_allclose(got, _reference(data["mlp"], x)[:, 0], rtol=1e-5, atol=1e-6)
    img = _rdf_scores(data, data["cnn"], None, 2)["score"]
    np.testing.assert_allclose(img, _reference(data["cnn"], data["image"])[:, 0], rtol=1e-5, atol=1e-6)


def test_vector_output_and_jitted_scorer_for(data):
    ROOT = tpcml.load_root()
    df = ROOT.RDataFrame("events", str(data["events"]))
    vec = define_score(df, "s", data["mlp2"], None).AsNumpy(["s", "event"])
    both = np.stack([np.asarray(v) for v in vec["s"]])[np.argsort(vec["event"])]
    np.testing.assert_allclose(both, _reference(data["mlp2"], data["x"]), rtol=1e-5, atol=1e-6)
    expr = f'tpcml::onnx::scorerFor("{data["mlp"]}").score(rdfslot_, {", ".join(FEATURES)})'
    jit = df.Define("s1", expr).AsNumpy(["s1", "event"])
    got = np.asarray(jit["s1"])[np.argsort(jit["event"])]
    np.testing.assert_allclose(got, _reference(data["mlp"], data["x"])[:, 0], rtol=1e-5, atol=1e-6)


def test_define_score_errors(data):
    ROOT = tpcml.load_root()
    df = ROOT.RDataFrame("events", str(data["events"]))
    with pytest.raises(Exception, match=r"x13.*not in the dataset.*did you mean"):
        define_score(df, "s", data["mlp"], [*FEATURES[:12], "x13"])
    with pytest.raises(Exception, match="takes 13 values per event; 2 columns"):
        define_score(df, "s", data["mlp"], ["x0", "x1"])
    with pytest.raises(Exception, match=r"no tpcml\.inputs metadata"):
        define_score(df, "s", data["mlp_nometa"], None)


def _infer(*args):
    return subprocess.run(["tpcml-infer", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_tpcml_infer_keeps_order_and_threads(data, tmp_path):
    outs = {}
    for threads in (1, 2):
        out = tmp_path / f"scored{threads}.root"
        res = _infer("--model", data["mlp"], "--input", data["events"], "--output", out, "--threads", threads)
        assert res.returncode == 0, res.stderr
        assert f"wrote {N} entries" in res.stderr
        with uproot.open(out) as f:
            outs[threads] = f["events"].arrays(["score", "event", "x3", "image"], library="np")
    for threads in (1, 2):
        np.testing.assert_array_equal(outs[threads]["event"], np.arange(N))  # input order kept
        np.testing.assert_array_equal(outs[threads]["x3"], data["cols"]["x3"])
    assert np.array_equal(outs[1]["score"], outs[2]["score"])
    ref = _reference(data["mlp"], data["x"])[:, 0]
    np.testing.assert_allclose(outs[1]["score"], ref, rtol=1e-5, atol=1e-6)


def test_tpcml_infer_errors(data, tmp_path):
    out = tmp_path / "bad.root"
    res = _infer("--model", data["mlp"], "--input", data["events"], "--output", out, "--columns", "x0,x1,nope")
    assert res.returncode == 1 and "nope" in res.stderr and not out.exists()
    res = _infer("--model", tmp_path / "missing.onnx", "--input", data["events"], "--output", out)
    assert res.returncode == 1 and "missing.onnx" in res.stderr and not out.exists()
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(data["mlp"].read_bytes()[:100])
    res = _infer("--model", broken, "--input", data["events"], "--output", out)
    assert res.returncode == 1 and "not a valid ONNX file" in res.stderr and not out.exists()
    res = _infer("--model", data["mlp"], "--input", data["events"], "--output", out, "--tree", "evnts")
    assert res.returncode == 1 and "evnts" in res.stderr and not out.exists()
    res = _infer("--model", data["mlp"], "--input", data["events"], "--output", out, "--name", "event")
    assert res.returncode == 2 and "already has a column 'event'" in res.stderr
    res = _infer("--model", data["mlp"], "--output", out)
    assert res.returncode == 2 and "--input" in res.stderr
    res = _infer("--help")
    assert res.returncode == 0 and "--threads" in res.stdout


def test_score_files_python(data, tmp_path):
    out = tmp_path / "py.root"
    summary = score_files(data["events"], data["cnn"], out, columns=["image"], name="cnn_score", threads=2)
    assert summary["entries"] == N and summary["columns"] == ["image"]
    with uproot.open(out) as f:
        got = f["events"]["cnn_score"].array(library="np")
    np.testing.assert_allclose(got, _reference(data["cnn"], data["image"])[:, 0], rtol=1e-5, atol=1e-6)
    assert Model(data["mlp"]).working_point == 0.5


def test_macro_and_pyroot_script(data, tmp_path, root_exe):
    out = tmp_path / "macro.root"
    macro = REPO / "macros" / "score_events.C"
    res = subprocess.run(
        [root_exe, "-l", "-b", "-q", f'{macro}("{data["events"]}", "{data["mlp"]}", "{out}", "events", 2)'],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0 and "(int) 0" in res.stdout, res.stdout + res.stderr
    ref = _reference(data["mlp"], data["x"])[:, 0]
    with uproot.open(out) as f:
        a = f["events"].arrays(["score", "event"], library="np")
    np.testing.assert_allclose(a["score"][np.argsort(a["event"])], ref, rtol=1e-5, atol=1e-6)
    printed = float(res.stdout.split("fraction above working point 0.5: ")[1].split()[0])
    assert printed == pytest.approx(float(np.mean(ref > 0.5)), abs=1e-5)
    script = REPO / "macros" / "score_events.py"
    res = subprocess.run(
        [sys.executable, str(script), str(data["events"]), str(data["mlp"]), "--threads", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert "score > 0.5" in res.stdout and f"pass={int(np.sum(ref > 0.5))}" in res.stdout
    res = subprocess.run(
        [sys.executable, str(script), str(data["events"]), str(data["mlp_nometa"])], capture_output=True, text=True
    )
    assert res.returncode == 1 and "tpcml.inputs" in res.stderr


def test_distributed_rdataframe_on_local_dask(data):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = score_distributed([data["events"]], data["mlp"], client, npartitions=2, keep=["event"])
    order = np.argsort(got["event"])
    np.testing.assert_array_equal(got["event"][order], np.arange(N))
    ref = _reference(data["mlp"], data["x"])[:, 0]
    np.testing.assert_allclose(got["score"][order], ref, rtol=1e-5, atol=1e-6)


def test_score_files_int_and_double_columns_two_threads_repeatedly(data, tmp_path):
    """Regression: a model reading non-float columns (Int_t, double -- PandaX-II's S1NPeaks is an Int_t) scored on
    2 threads once went through a jitted expression whose scorer cache was keyed by the model, so both threads
    shared one slot-0 session and some scores were garbage (seen in the PandaX-II study). Now the columns get
    compiled float copies, each thread keeps its own sessions, and the output holds only the input's columns and
    the score."""
    cols = [*FEATURES[:11], "xd", "xi"]
    x = np.stack([data["cols"][c].astype(np.float32) for c in cols], axis=1)
    ref = _reference(data["mlp_nometa"], x)[:, 0]
    for rep in range(4):
        out = tmp_path / f"scored_{rep}.root"
        score_files(data["events"], data["mlp_nometa"], out, columns=cols, threads=2)
        with uproot.open(out) as f:
            tree = f["events"]
            names = tree.keys()
            assert not any(k.startswith("tpcml_") for k in names)
            got = tree["score"].array(library="np")
        np.testing.assert_allclose(got, ref, atol=1e-6, rtol=1e-5)


def test_score_files_rntuple_after_pyroot_is_initialised_does_not_segfault(data, tmp_path):
    """ROOT's Snapshot warning on an RNTuple input reached PyROOT's error handler (Python) on a thread
    without the GIL: a segfault. The binding now sends ROOT's messages to ROOT's own handler while the
    GIL is released (issue 13, item 9)."""
    src = tmp_path / "rntuple.root"
    with uproot.recreate(src) as f:  # uproot 5.7: an RNTuple of doubles
        f["events"] = {k: data["cols"][k].astype(np.float64) for k in FEATURES} | {"event": data["cols"]["event"]}
    out = tmp_path / "scored.root"
    code = (
        "import sys, ROOT\nROOT.gROOT.GetVersion()\nfrom tpcml.inference import score_files\n"
        "s = score_files(sys.argv[1], sys.argv[2], sys.argv[3], threads=int(sys.argv[4]))\n"
        "print('entries', s['entries'])"
    )
    for threads in (1, 2):
        res = subprocess.run(
            [sys.executable, "-c", code, str(src), str(data["mlp"]), str(out), str(threads)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stdout + res.stderr[-3000:]
        # issue 15: the output format is now given to Snapshot explicitly (--format, default ttree), so ROOT's
        # "default Snapshot output data format is TTree" warning is gone; progress still goes to stderr
        assert f"entries {N}" in res.stdout and f"{N} / {N} entries" in res.stderr
        assert "Snapshot output data format" not in res.stderr
        with uproot.open(out) as f:
            a = f["events"].arrays(["score", "event"], library="np")
        np.testing.assert_array_equal(a["event"], np.arange(N))
        np.testing.assert_allclose(a["score"], _reference(data["mlp"], data["x"])[:, 0], rtol=1e-5, atol=1e-6)


def test_tpcml_infer_refuses_mixed_ttree_and_rntuple_inputs_leaving_no_temporary(data, tmp_path):
    """Mixed TTree and RNTuple inputs segfaulted (exit 139) and left temporaries (issue 13, item 9)."""
    src = tmp_path / "rntuple.root"
    with uproot.recreate(src) as f:
        f["events"] = {k: data["cols"][k].astype(np.float64) for k in FEATURES}
    out = tmp_path / "mixed.root"
    res = _infer("--model", data["mlp"], "--input", data["events"], src, "--output", out)
    assert res.returncode == 1, res.stderr
    assert f"'events' is a TTree in '{data['events']}' but a RNTuple in '{src}'" in res.stderr
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_tpcml_infer_vector_double_column_is_read_as_float(data, tmp_path):
    """A std::vector<double> event column (uproot's awkward rows) gave "1 columns given" (issue 13, item 10)."""
    ak = pytest.importorskip("awkward")
    src = tmp_path / "vec.root"
    with uproot.recreate(src) as f:
        f["events"] = {"image": ak.Array([row.astype(np.float64) for row in data["image"]])}
    out = tmp_path / "vec_scored.root"
    res = _infer("--model", data["cnn"], "--input", src, "--output", out, "--threads", 2)
    assert res.returncode == 0, res.stderr
    with uproot.open(out) as f:
        got = f["events"]["score"].array(library="np")
    np.testing.assert_allclose(got, _reference(data["cnn"], data["image"])[:, 0], rtol=1e-5, atol=1e-6)


def test_score_events_macro_keeps_entry_order_with_threads(data, tmp_path, root_exe):
    """score_events.C with threads used ImplicitMT's Snapshot, which reorders entries (issue 13, item 11)."""
    macro = REPO / "macros" / "score_events.C"
    for threads in (0, 2):
        out = tmp_path / f"ordered{threads}.root"
        res = subprocess.run(
            [root_exe, "-l", "-b", "-q", f'{macro}("{data["events"]}", "{data["mlp"]}", "{out}", "events", {threads})'],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 0, res.stdout + res.stderr
        with uproot.open(out) as f:
            a = f["events"].arrays(["score", "event"], library="np")
        np.testing.assert_array_equal(a["event"], np.arange(N))
        np.testing.assert_allclose(a["score"], _reference(data["mlp"], data["x"])[:, 0], rtol=1e-5, atol=1e-6)


def test_score_events_macro_missing_file_exits_1_without_terminate(data, tmp_path, root_exe):
    """A missing input aborted with `terminate called ... std::invalid_argument` (issue 13, item 8)."""
    macro = REPO / "macros" / "score_events.C"
    out = tmp_path / "never.root"
    res = subprocess.run(
        [root_exe, "-l", "-b", "-q", f'{macro}("{tmp_path}/absent.root", "{data["mlp"]}", "{out}")'],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 1, res.stdout + res.stderr
    assert "terminate called" not in res.stderr
    assert f"score_events: error: cannot open '{tmp_path}/absent.root': no such file" in res.stderr
    assert not out.exists()


def _deep_mlp(path: Path, widths: tuple[int, ...], acts: tuple[str, ...]) -> Path:
    """13 -> widths[0] -> ... with one activation per layer: layers 1 to 80 wide, so that the per-event kernel
    runs some chains with every activation in registers (at most 4 vectors wide) and others layer by layer."""
    rng = np.random.default_rng(11)
    inits, nodes, prev, k = [], [], "x", 13
    for i, (n, act) in enumerate(zip(widths, acts, strict=True)):
        inits += [
            numpy_helper.from_array(rng.normal(0, 0.4, (k, n)).astype(np.float32), f"w{i}"),
            numpy_helper.from_array(rng.normal(0, 0.1, n).astype(np.float32), f"b{i}"),
        ]
        nodes += [
            helper.make_node("MatMul", [prev, f"w{i}"], [f"m{i}"]),
            helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"]),
            helper.make_node(act, [f"a{i}"], [f"h{i}"]),
        ]
        prev, k = f"h{i}", n
    nodes.append(helper.make_node("Identity", [prev], ["y"]))
    graph = helper.make_graph(
        nodes,
        "deep",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 13])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", widths[-1]])],
        inits,
    )
    return _save(graph, path, {"tpcml.inputs": json.dumps(FEATURES)})


@pytest.mark.parametrize(
    ("widths", "acts"),
    [
        ((32, 32, 16, 8, 1), ("Relu", "Relu", "Relu", "Relu", "Sigmoid")),  # the PandaX-II 4C shape
        ((5, 64, 17, 1), ("Tanh", "Relu", "Sigmoid", "Sigmoid")),  # odd widths, a full 4-vector layer
        ((80, 24, 1), ("Relu", "Tanh", "Sigmoid")),  # wider than 64: layer by layer
    ],
)
def test_per_event_dense_chains_match_onnxruntime(data, tmp_path, widths, acts):
    """Scores of dense chains of every width class in the RDataFrame loop (the per-event kernel, called
    directly by the scorer) equal onnxruntime's, bit-identical with 1 and 2 threads."""
    model = _deep_mlp(tmp_path / "deep.onnx", widths, acts)
    ref = _reference(model, data["x"])[:, 0]
    one = _rdf_scores(data, model, FEATURES, 1)
    two = _rdf_scores(data, model, FEATURES, 2)
    np.testing.assert_allclose(one["score"], ref, rtol=1e-5, atol=1e-6)
    assert np.array_equal(one["score"], two["score"])
    batch = Model(model).score(data["x"])  # the batch door (pybind11) on the same model
    np.testing.assert_allclose(one["score"], batch, rtol=1e-5, atol=1e-6)
