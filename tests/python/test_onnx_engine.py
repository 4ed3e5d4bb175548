"""tpcml's C++ ONNX engine (``tpcml._core.OnnxModel``): parity, batch consistency, ISA choice, robustness.

* Parity: the five parity models of ``onnx_models.py`` (exported once per session by the ``parity_models`` fixture)
  against onnxruntime (CPU, 1 thread) on random inputs and against the stored Keras outputs.
* Batch consistency: N events in one call agree with N single-event calls to float rounding (the single-event
  path and the packed GEMM sum in different orders); the RDataFrame scores, always single-event, are
  bit-identical whatever the thread count (test_onnx_rdataframe.py).
* ISA: ``TPCML_ISA=base`` (scalar kernels) agrees with the default kernels (subprocesses: the variable is read
  once per process).
* Robustness: malformed files, wrong inputs and unsupported graphs raise ``tpcml._core.InputError`` /
  ``UsageError`` with a message naming the culprit; NaN propagates; a fuzz loop over mutated model bytes (in a
  subprocess, so that a crash fails the test instead of killing pytest) never ends in a crash or a foreign
  exception type.
* Small ``onnx.helper`` graphs for the fusion paths (Gemm + Relu, MatMul + Add + Sigmoid, Conv + swish), a static
  (batch-less) graph, and ``metadata_props`` / ``input_columns``.

Timings are not asserted here (they belong to ``bench/bench_inference.py``).
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from tpcml import _core

from .conftest import run
from .onnx_models import PANDAX2_FEATURE_MAX, PANDAX2_FEATURE_MIN, PARITY_KEYS, load_reference

RTOL, ATOL = 1e-4, 1e-5
OPSET = 17
#: Every exception type tpcml._core raises (InputError/UsageError/ConfigError do not derive from _core.Error).
CORE_ERRORS = (_core.Error, _core.ConfigError, _core.InputError, _core.UsageError)


# ----------------------------------------------------------------------------------------------------- helpers


@cache
def _ort_session(source: str | bytes) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(source, so, providers=["CPUExecutionProvider"])


def ort_run(source, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """onnxruntime outputs for a model path or serialised bytes (CPU, 1 thread)."""
    session = _ort_session(str(source) if isinstance(source, Path) else source)
    return session.run(None, {i.name: a for i, a in zip(session.get_inputs(), inputs, strict=True)})


def random_inputs(key: str, model, batch: int, seed: int = 0) -> list[np.ndarray]:
    """Random float32 inputs of `batch` events for parity model `key` (value ranges like the training data)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for info in model.inputs:
        shape = (batch, *info["shape"][1:])
        if key == "mlp4c":
            lo, hi = np.array(PANDAX2_FEATURE_MIN), np.array(PANDAX2_FEATURE_MAX)
            span = hi - lo
            a = rng.uniform(lo - 0.1 * span, hi + 0.1 * span, shape)
        elif key == "vae_decoder":
            a = rng.normal(0.0, 1.0, shape)
        else:
            a = rng.random(shape)
        arrays.append(a.astype(np.float32))
    return arrays


def make_model(nodes, inputs, outputs, initializers=(), metadata=None, name="g") -> bytes:
    """Serialised ONNX model (opset 17, IR 8) of an onnx.helper graph, checked by onnx.checker."""
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8)
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def float_input(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def const(name, array) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------------------------------------------ parity


@pytest.mark.parametrize("key", PARITY_KEYS)
def test_parity_with_onnxruntime_and_keras(parity_models, key):
    path = parity_models[key]
    model = _core.OnnxModel(str(path))
    assert model.batched
    batches = (1, 3, 130) if key == "mlp4c" else (3,)  # 130 = 2 x 64 + a remainder batch of 2
    for batch in batches:
        inputs = random_inputs(key, model, batch, seed=batch)
        got = model.run(inputs, max_batch=64)
        want = ort_run(path, inputs)
        assert len(got) == len(want) == len(model.outputs)
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g.shape == w.shape, f"{key} output {k}, batch {batch}"
            np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL, err_msg=f"{key} output {k} vs onnxruntime")
    ref_inputs, ref_outputs = load_reference(path)
    got = model.run(ref_inputs)
    for k, (g, w) in enumerate(zip(got, ref_outputs, strict=True)):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL, err_msg=f"{key} output {k} vs Keras")


@pytest.mark.parametrize("key", ["mlp4c", "efficientnet_b0"])
def test_fusion_reduces_steps(parity_models, key):
    model = _core.OnnxModel(str(parity_models[key]))
    print(f"{key}: {model.node_count} nodes -> {model.step_count} steps")
    assert 0 < model.step_count < model.node_count
    assert model.opset == OPSET


@pytest.mark.parametrize(("key", "n"), [("mlp4c", 130), ("xenon1t_cnn", 8)])
def test_batch_equals_one_by_one(parity_models, key, n):
    """Scoring N events in one call agrees with scoring them one at a time (float rounding only: the
    packed GEMM of a batch sums K in blocks, the single-event path in one pass)."""
    model = _core.OnnxModel(str(parity_models[key]))
    (x,) = random_inputs(key, model, n, seed=7)
    together = model.run(x)[0]
    single = np.concatenate([model.run(x[i : i + 1])[0] for i in range(n)])
    diff = np.abs(together - single)
    print(f"{key}: {np.count_nonzero(diff)} of {diff.size} values differ, max |diff| {diff.max():.3g}")
    np.testing.assert_allclose(together, single, rtol=1e-5, atol=1e-6, err_msg=f"{key}: batch of {n} vs one by one")


# --------------------------------------------------------------------------------------------------------- ISA

ISA_SCRIPT = """
import sys
import numpy as np
from tpcml import _core
data = dict(np.load(sys.argv[1]))
out = {"isa": np.array(_core.onnx_isa())}
for i, path in enumerate(sys.argv[3:]):
    out[f"y{i}"] = _core.OnnxModel(path).run(data[f"x{i}"])[0]
np.savez(sys.argv[2], **out)
"""


def test_isa_base_matches_default(parity_models, tmp_path):
    keys = ("mlp4c", "xenon1t_cnn")
    paths = [str(parity_models[k]) for k in keys]
    inputs = {}
    for i, key in enumerate(keys):
        (inputs[f"x{i}"],) = random_inputs(key, _core.OnnxModel(paths[i]), 5, seed=11)
    np.savez(tmp_path / "in.npz", **inputs)
    results = {}
    for isa in ("base", None):
        out = tmp_path / f"out_{isa}.npz"
        env = {"TPCML_ISA": isa} if isa else None
        res = run([sys.executable, "-c", ISA_SCRIPT, str(tmp_path / "in.npz"), str(out), *paths], env=env)
        assert res.returncode == 0, res.stderr[-3000:]
        with np.load(out) as data:
            results[isa] = {k: data[k] for k in data.files}
    assert str(results["base"]["isa"]) == "base"
    print(f"default ISA: {results[None]['isa']}")
    for i, key in enumerate(keys):
        np.testing.assert_allclose(results["base"][f"y{i}"], results[None][f"y{i}"], rtol=0, atol=1e-5, err_msg=key)


# -------------------------------------------------------------------------------------------------- robustness


def test_empty_file(tmp_path):
    path = write(tmp_path / "empty_model.onnx", b"")
    with pytest.raises(_core.InputError, match=r"empty_model\.onnx.*empty"):
        _core.OnnxModel(str(path))


def test_truncated_file(parity_models, tmp_path):
    data = parity_models["mlp4c"].read_bytes()
    path = write(tmp_path / "half_model.onnx", data[: len(data) // 2])
    with pytest.raises(_core.InputError, match=r"half_model\.onnx.*not a valid ONNX"):
        _core.OnnxModel(str(path))


def test_corrupted_bytes(parity_models):
    data = bytearray(parity_models["mlp4c"].read_bytes())
    data[:16] = b"\xff" * 16  # the ModelProto header becomes an endless varint
    with pytest.raises(_core.InputError, match=r"scrambled\.onnx.*not a valid ONNX"):
        _core.OnnxModel(bytes(data), "scrambled.onnx")


def test_text_file_is_not_onnx(tmp_path):
    path = write(tmp_path / "notes.txt", b"qS1,qS2\n12.5,3400\nthis is a CSV file, not an ONNX model\n")
    with pytest.raises(_core.InputError, match=r"notes\.txt.*not a valid ONNX"):
        _core.OnnxModel(str(path))


def test_missing_file(tmp_path):
    with pytest.raises(_core.InputError, match=r"cannot open.*no_such_model\.onnx"):
        _core.OnnxModel(str(tmp_path / "no_such_model.onnx"))


def test_wrong_number_of_inputs(parity_models):
    model = _core.OnnxModel(str(parity_models["mlp4c"]))
    x = np.zeros((3, 13), np.float32)
    with pytest.raises(_core.UsageError, match=r"has 1 inputs, got 2 arrays"):
        model.run([x, x])
    with pytest.raises(_core.UsageError, match=r"needs input 'features'"):
        model.run({"qS1": x})


def test_wrong_input_shape(parity_models):
    model = _core.OnnxModel(str(parity_models["mlp4c"]))
    with pytest.raises(_core.UsageError, match=r"input 'features' expects shape \(N, 13\), got \(3, 12\)"):
        model.run(np.zeros((3, 12), np.float32))
    with pytest.raises(_core.UsageError, match=r"input 'features' expects shape"):
        model.run(np.zeros(13, np.float32))  # one event still needs its batch dimension


@pytest.mark.parametrize("op", ["Erf", "LSTM"])
def test_unsupported_operator(op):
    node_name = f"my_{op.lower()}_node"
    if op == "Erf":
        nodes = [helper.make_node("Erf", ["x"], ["y"], name=node_name)]
        inputs, outputs, inits = [float_input("x", ["N", 4])], [float_input("y", ["N", 4])], []
    else:
        nodes = [helper.make_node("LSTM", ["x", "W", "R"], ["y"], name=node_name, hidden_size=2)]
        inputs, outputs = [float_input("x", [5, "N", 4])], [float_input("y", [5, 1, "N", 2])]
        inits = [const("W", np.ones((1, 8, 4))), const("R", np.ones((1, 8, 2)))]
    data = make_model(nodes, inputs, outputs, inits)
    with pytest.raises(_core.InputError) as err:
        _core.OnnxModel(data, "exotic.onnx")
    msg = str(err.value)
    assert "exotic.onnx" in msg
    assert re.search(rf"\b{op}\b.*'{node_name}'", msg), msg
    supported = msg.split("supports", 1)[-1]
    assert "Conv" in supported and "Gemm" in supported, msg


def test_free_non_batch_dimension():
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    data = make_model(nodes, [float_input("x", ["N", "width"])], [float_input("y", ["N", "width"])])
    with pytest.raises(_core.InputError, match=r"input 'x' has a free dimension 'width'"):
        _core.OnnxModel(data, "ragged.onnx")


@pytest.mark.parametrize("key", ["mlp4c", "xenon1t_cnn"])
def test_nan_propagates_to_its_event_only(parity_models, key):
    model = _core.OnnxModel(str(parity_models[key]))
    (x,) = random_inputs(key, model, 5, seed=3)
    clean = model.run(x)[0]
    x[2].flat[x[2].size // 2] = np.nan
    dirty = model.run(x)[0]
    assert np.isnan(dirty[2]).all(), dirty[2]
    others = [0, 1, 3, 4]
    assert np.isfinite(dirty[others]).all()
    np.testing.assert_array_equal(dirty[others], clean[others])


# -------------------------------------------------------------------------------------------------------- fuzz

FUZZ_SCRIPT = """
import json, sys
import numpy as np
from tpcml import _core

ERRORS = (_core.Error, _core.ConfigError, _core.InputError, _core.UsageError)
data = open(sys.argv[1], "rb").read()
n, seed = int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
counts = {"ok": 0, "errored": 0, "too_large_to_run": 0}
by_kind = {}
bad = []
for i in range(n):
    b = bytearray(data)
    kind = ("flip", "truncate", "insert", "delete")[i % 4]
    if kind == "flip":
        for pos in rng.integers(0, len(b), int(rng.integers(1, 9))):
            b[pos] ^= int(rng.integers(1, 256))
    elif kind == "truncate":
        b = b[: int(rng.integers(0, len(b)))]
    elif kind == "insert":
        pos = int(rng.integers(0, len(b) + 1))
        b[pos:pos] = rng.integers(0, 256, int(rng.integers(1, 17)), dtype=np.uint8).tobytes()
    else:
        pos = int(rng.integers(0, len(b)))
        del b[pos : pos + int(rng.integers(1, 17))]
    stage = "load"
    try:
        m = _core.OnnxModel(bytes(b), f"mutant{i}.onnx")
        stage = "properties"
        _ = (m.name, m.inputs, m.outputs, m.batched, m.metadata, m.input_columns, m.node_count, m.step_count, m.opset)
        stage = "run"
        arrays = []
        for info in m.inputs:
            shape = [2] + list(info["shape"][1:]) if m.batched else list(info["shape"])
            arrays.append(rng.random(shape).astype(np.float32) if np.prod(shape) <= 1 << 22 else None)
        if any(a is None for a in arrays):
            counts["too_large_to_run"] += 1
            continue
        m.run(arrays)
        status = "ok"
    except ERRORS:
        status = "errored"
    except BaseException as e:
        status = "bad"
        bad.append(f"mutant {i} ({kind}, at {stage}): {type(e).__name__}: {str(e)[:300]!r}")
    if status != "bad":
        counts[status] += 1
    by_kind.setdefault(kind, {}).setdefault(status, 0)
    by_kind[kind][status] += 1
print(json.dumps({"counts": counts, "by_kind": by_kind, "bad": bad}))
"""


def test_fuzz_mutated_models_never_crash(parity_models):
    res = run([sys.executable, "-c", FUZZ_SCRIPT, str(parity_models["mlp4c"]), "300", "20240611"], timeout=240)
    assert res.returncode == 0, f"fuzz subprocess died (rc {res.returncode}):\n{res.stdout[-2000:]}{res.stderr[-3000:]}"
    report = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"fuzz: {report['counts']}, by mutation: {report['by_kind']}, other exception types: {len(report['bad'])}")
    assert not report["bad"], "mutants raising a non-tpcml exception:\n" + "\n".join(report["bad"][:20])
    assert report["counts"]["ok"] > 0 and report["counts"]["errored"] > 0, report["counts"]


# ---------------------------------------------------------------------------------------------------- metadata


def test_metadata_and_input_columns(tmp_path):
    nodes = [helper.make_node("Sigmoid", ["x"], ["y"])]
    meta = {"tpcml.inputs": '["qS1", "qS2"]', "tpcml.working_point": "0.5"}
    data = make_model(nodes, [float_input("x", ["N", 2])], [float_input("y", ["N", 2])], metadata=meta)
    for model in (_core.OnnxModel(data, "meta.onnx"), _core.OnnxModel(str(write(tmp_path / "meta.onnx", data)))):
        assert model.input_columns == ["qS1", "qS2"]
        assert model.metadata == meta
        assert model.inputs == [{"name": "x", "shape": [-1, 2], "event_size": 2}]
        assert [o["name"] for o in model.outputs] == ["y"]
    assert _core.OnnxModel(data, "meta.onnx").name == "meta.onnx"


def test_no_metadata_means_no_input_columns():
    data = make_model(
        [helper.make_node("Relu", ["x"], ["y"])], [float_input("x", ["N", 3])], [float_input("y", ["N", 3])]
    )
    model = _core.OnnxModel(data, "plain.onnx")
    assert model.input_columns == []
    assert model.metadata == {}


# ------------------------------------------------------------------------------------------ small onnx graphs


def test_gemm_transb_bias_relu_vs_numpy():
    rng = np.random.default_rng(1)
    w, b = rng.normal(size=(6, 5)), rng.normal(size=6)
    nodes = [
        helper.make_node("Gemm", ["x", "W", "B"], ["h"], transB=1, name="dense"),
        helper.make_node("Relu", ["h"], ["y"], name="relu"),
    ]
    data = make_model(nodes, [float_input("x", ["N", 5])], [float_input("y", ["N", 6])], [const("W", w), const("B", b)])
    model = _core.OnnxModel(data, "gemm.onnx")
    assert model.step_count < model.node_count  # bias + Relu fused into the Gemm
    for n in (1, 3, 70):
        x = rng.normal(size=(n, 5)).astype(np.float32)
        want = np.maximum(x.astype(np.float64) @ w.astype(np.float32).T + b.astype(np.float32), 0.0)
        np.testing.assert_allclose(model.run(x)[0], want, rtol=RTOL, atol=ATOL)


def test_matmul_add_sigmoid_vs_numpy():
    rng = np.random.default_rng(2)
    w, b = rng.normal(size=(7, 3)), rng.normal(size=3)
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["m"]),
        helper.make_node("Add", ["m", "B"], ["a"]),
        helper.make_node("Sigmoid", ["a"], ["y"]),
    ]
    data = make_model(nodes, [float_input("x", ["N", 7])], [float_input("y", ["N", 3])], [const("W", w), const("B", b)])
    model = _core.OnnxModel(data, "dense_sigmoid.onnx")
    for n in (1, 4, 65):
        x = rng.normal(size=(n, 7)).astype(np.float32)
        want = sigmoid(x.astype(np.float64) @ w.astype(np.float32) + b.astype(np.float32))
        np.testing.assert_allclose(model.run(x)[0], want, rtol=RTOL, atol=ATOL)


def test_conv_swish_vs_onnxruntime():
    rng = np.random.default_rng(3)
    w, b = rng.normal(size=(4, 3, 3, 3)) * 0.5, rng.normal(size=4)
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1], name="conv"),
        helper.make_node("Sigmoid", ["c"], ["s"], name="gate"),
        helper.make_node("Mul", ["c", "s"], ["y"], name="swish"),
    ]
    data = make_model(
        nodes, [float_input("x", ["N", 3, 9, 8])], [float_input("y", ["N", 4, 9, 8])], [const("W", w), const("B", b)]
    )
    model = _core.OnnxModel(data, "swish.onnx")
    print(f"conv + swish: {model.node_count} nodes -> {model.step_count} steps")
    for n in (1, 3):
        x = rng.normal(size=(n, 3, 9, 8)).astype(np.float32)
        np.testing.assert_allclose(model.run(x)[0], ort_run(data, [x])[0], rtol=RTOL, atol=ATOL)


def test_static_graph_exact_shape_and_stack():
    rng = np.random.default_rng(4)
    w, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["m"]),
        helper.make_node("Add", ["m", "B"], ["a"]),
        helper.make_node("Tanh", ["a"], ["y"]),
    ]
    data = make_model(nodes, [float_input("x", [2, 3])], [float_input("y", [2, 4])], [const("W", w), const("B", b)])
    model = _core.OnnxModel(data, "static.onnx")
    assert not model.batched
    assert model.inputs == [{"name": "x", "shape": [2, 3], "event_size": 6}]
    x = rng.normal(size=(2, 3)).astype(np.float32)
    (y,) = model.run(x)
    assert y.shape == (2, 4)
    np.testing.assert_allclose(y, ort_run(data, [x])[0], rtol=RTOL, atol=ATOL)
    stack = rng.normal(size=(3, 2, 3)).astype(np.float32)  # three evaluations of the whole graph
    (ys,) = model.run(stack)
    assert ys.shape == (3, 2, 4)
    for k in range(3):
        np.testing.assert_allclose(ys[k], ort_run(data, [stack[k]])[0], rtol=RTOL, atol=ATOL, err_msg=f"event {k}")


# ------------------------------------------------------------------------ named tables (issue 13, item 9)
def _named_mlp() -> tuple[bytes, list[str]]:
    """A small MLP whose score depends on the feature order; metadata tpcml.inputs in feature order."""
    names = ["qS1", "qS2", "wS1", "drift_time"]  # not alphabetical, as uproot returns RNTuple columns
    rng = np.random.default_rng(13)
    w1, b1, w2 = rng.normal(0, 1, (4, 8)), rng.normal(0, 0.5, 8), rng.normal(0, 1, (8, 1))
    nodes = [
        helper.make_node("MatMul", ["x", "W1"], ["h"]),
        helper.make_node("Add", ["h", "B1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["r"]),
        helper.make_node("MatMul", ["r", "W2"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["score"]),
    ]
    data = make_model(
        nodes,
        [float_input("x", ["N", 4])],
        [float_input("score", ["N", 1])],
        [const("W1", w1), const("B1", b1), const("W2", w2)],
        metadata={"tpcml.inputs": json.dumps(names)},
    )
    return data, names


def test_model_score_takes_named_table_columns_by_name_not_by_position():
    import pandas as pd

    from tpcml.inference import Model

    data, names = _named_mlp()
    m = Model(data=data, name="named.onnx")
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 2, (500, 4)).astype(np.float32)
    expected = m.score(x)  # a plain array: positional, in the model's feature order
    alphabetical = sorted(names)
    df = pd.DataFrame({c: x[:, names.index(c)] for c in alphabetical})  # what uproot gives for an RNTuple
    positional = Model(data=data, name="named.onnx")._m.run(df.to_numpy(np.float32), 64)[0][:, 0]
    assert np.max(np.abs(positional - expected)) > 0.05  # the defect: columns used by position
    for table in (df, {c: df[c].to_numpy() for c in alphabetical}, df.to_records(index=False)):
        np.testing.assert_allclose(m.score(table), expected, rtol=0, atol=1e-6)
    import awkward as ak

    np.testing.assert_allclose(m.score(ak.Array({c: df[c].to_numpy() for c in alphabetical})), expected, atol=1e-6)


def test_model_score_refuses_a_table_whose_names_do_not_match():
    import pandas as pd

    from tpcml.core.errors import UsageError
    from tpcml.inference import Model

    data, _ = _named_mlp()
    m = Model(data=data, name="named.onnx")
    df = pd.DataFrame({"qS1": [1.0], "qS2": [2.0], "wS_1": [3.0], "drift_time": [4.0]})
    with pytest.raises(UsageError, match=r"needs the column\(s\) wS1 \(did you mean wS_1"):
        m.score(df)
    with pytest.raises(UsageError, match="expects shape"):
        m.score(np.ones((3, 5), np.float32))  # a plain array keeps its shape check
    bare = Model(data=make_model(*_bare_linear()), name="bare.onnx")
    with pytest.raises(UsageError, match=r"no tpcml\.inputs metadata|input names are not known"):
        bare.score(df)


def test_model_takes_what_uproot_gives_by_name_and_returns_numpy(tmp_path):
    """Issue 15, item 6: an awkward record array, a dict of branches and a pandas DataFrame -- each as uproot reads
    them from a file whose branches are in another order -- and a regular awkward array (positional)."""
    import awkward as ak
    import pandas as pd
    import uproot

    from tpcml.inference import Model

    data, names = _named_mlp()
    m = Model(data=data, name="named.onnx")
    x = np.random.default_rng(2).uniform(0, 2, (300, 4)).astype(np.float32)
    expected = m.score(x)
    assert isinstance(expected, np.ndarray) and expected.shape == (300,)
    with uproot.recreate(tmp_path / "t.root") as f:
        f["events"] = {c: x[:, names.index(c)] for c in reversed(names)}
    with uproot.open(tmp_path / "t.root") as f:
        tables = [f["events"].arrays(library=lib) for lib in ("ak", "np", "pd")]
    assert isinstance(tables[0], ak.Array) and isinstance(tables[1], dict) and isinstance(tables[2], pd.DataFrame)
    for table in (*tables, ak.from_numpy(x)):
        got = m.score(table)
        assert isinstance(got, np.ndarray) and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    (out,) = m.run(tables[0])
    assert isinstance(out, np.ndarray) and out.shape == (300, 1)


def test_model_refuses_tables_with_extra_or_missing_names():
    import awkward as ak
    import pandas as pd

    from tpcml.core.errors import UsageError
    from tpcml.inference import Model

    data, names = _named_mlp()
    m = Model(data=data, name="named.onnx")
    cols = {c: np.ones(3, np.float32) for c in names}
    with pytest.raises(UsageError, match=r"does not take the column\(s\) run; it takes exactly its inputs, by name"):
        m.score(ak.Array({**cols, "run": np.zeros(3)}))
    renamed = pd.DataFrame({("wS_1" if c == "wS1" else c): v for c, v in cols.items()})
    with pytest.raises(
        UsageError,
        match=r"needs the column\(s\) wS1 \(did you mean wS_1\?\) and does not take the column\(s\) "
        r"wS_1 \(nearest input: wS1\)",
    ):
        m.score(renamed)
    with pytest.raises(UsageError, match=r"needs the column\(s\) drift_time; .*qS1, qS2, wS1, drift_time"):
        m.score({c: v for c, v in cols.items() if c != "drift_time"})
    with pytest.raises(UsageError, match="variable-length lists"):
        m.score(ak.Array([[1.0, 2.0, 3.0, 4.0], [1.0]]))


def _bare_linear():
    return (
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        [float_input("x", ["N", 4])],
        [float_input("y", ["N", 1])],
        [const("W", np.ones((4, 1)))],
    )


def test_ensemble_features_from_a_named_table_are_taken_by_name():
    import pandas as pd

    from tpcml.ml.ensemble import check_features

    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    names = ["qS1", "qS2", "wS1", "drift_time"]
    df = pd.DataFrame({c: x[:, names.index(c)] for c in sorted(names)})
    np.testing.assert_array_equal(check_features(df, "x", 4, names), x)
    with pytest.raises(ValueError, match="input names are not known"):
        check_features(df, "x", 4)
