"""tpcml.ml.sofie: the SOFIE pre-pass (checked with onnxruntime) and, when the optional ``sofie`` package is
installed, SOFIE's generated code against onnxruntime, including the traps the pre-pass removes.

The models are built here with ``onnx.helper``: a Conv without ``pads`` (SOFIE pads it by 1; the spec says 0),
a Conv with ``auto_pad = SAME_UPPER`` and stride 2, a GlobalMaxPool (unsupported by SOFIE), tf2onnx's Flatten
chain (Shape -> Gather -> Concat -> Reshape) and a batch dimension named ``unk__7``.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from tpcml.ml import sofie as S


def _conv_model(conv_attrs: dict, pool: str = "GlobalMaxPool") -> onnx.ModelProto:
    """x [N, 2, 9, 9] -> Conv(3 x 3, 4 channels, conv_attrs) -> Relu -> pool -> Flatten chain -> MatMul -> [N, 3]."""
    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.normal(size=(4, 2, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.normal(size=4).astype(np.float32), "b")
    m = numpy_helper.from_array(rng.normal(size=(4, 3)).astype(np.float32), "m")
    zero = numpy_helper.from_array(np.array([0], np.int64), "zero")
    rest = numpy_helper.from_array(np.array([4], np.int64), "rest")  # tf2onnx: the event size
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], **conv_attrs),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node(pool, ["r"], ["p"], name="pool"),
        helper.make_node("Shape", ["p"], ["s"], name="shape"),
        helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Concat", ["n", "rest"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["p", "target"], ["f"], name="flatten"),
        helper.make_node("MatMul", ["f", "m"], ["y"], name="dense"),
    ]
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["unk__7", 2, 9, 9])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["unk__8", 3])],
        [w, b, m, zero, rest],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _ort(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})


def _x(n: int) -> np.ndarray:
    return np.random.default_rng(11).normal(size=(n, 2, 9, 9)).astype(np.float32)


def test_prepare_rewrites_the_sofie_traps_and_keeps_the_function():
    model = _conv_model({})
    prepared, changes = S.prepare(model)
    ops = [n.op_type for n in prepared.graph.node]
    assert ops == ["Conv", "Relu", "ReduceMax", "Reshape", "MatMul"], ops  # shape chain removed
    conv, reduce_max, reshape = prepared.graph.node[0], prepared.graph.node[2], prepared.graph.node[3]
    assert S._attr(conv, "pads") == [0, 0, 0, 0]
    assert S._attr(reduce_max, "axes") == [2, 3] and S._attr(reduce_max, "keepdims") == 1
    shape_init = {i.name: numpy_helper.to_array(i) for i in prepared.graph.initializer}[reshape.input[1]]
    assert shape_init.tolist() == [-1, 4]
    assert prepared.graph.input[0].type.tensor_type.shape.dim[0].dim_param == S.BATCH_NAME
    assert prepared.graph.output[0].type.tensor_type.shape.dim[0].dim_param == S.BATCH_NAME
    assert {"zero", "rest"}.isdisjoint(i.name for i in prepared.graph.initializer)  # dead constants gone
    assert any("GlobalMaxPool" in c for c in changes) and any("explicit pads" in c for c in changes)
    onnx.checker.check_model(prepared)
    for n in (1, 3):
        np.testing.assert_array_equal(_ort(prepared, _x(n))[0], _ort(model, _x(n))[0])
    # the input model is left as it was
    assert [n.op_type for n in model.graph.node].count("Shape") == 1


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
def test_prepare_resolves_auto_pad_into_pads(auto_pad):
    model = _conv_model({"auto_pad": auto_pad, "strides": [2, 2]}, pool="GlobalAveragePool")
    prepared, _ = S.prepare(model)
    conv = prepared.graph.node[0]
    assert S._attr(conv, "auto_pad") is None
    # 9 -> ceil(9 / 2) = 5 outputs need (5 - 1) * 2 + 3 - 9 = 2 pads: one each side for both SAME forms
    expected = {"SAME_UPPER": [1, 1, 1, 1], "SAME_LOWER": [1, 1, 1, 1], "VALID": [0, 0, 0, 0]}[auto_pad]
    assert S._attr(conv, "pads") == expected
    np.testing.assert_allclose(_ort(prepared, _x(2))[0], _ort(model, _x(2))[0], rtol=0, atol=1e-6)


def test_prepare_odd_same_padding_goes_where_the_spec_says():
    # 8 wide, stride 1, kernel 4 needs 3 pads: SAME_UPPER puts the odd one at the end, SAME_LOWER at the start
    w = numpy_helper.from_array(np.ones((1, 1, 4, 4), np.float32), "w")
    for auto_pad, pads in (("SAME_UPPER", [1, 1, 2, 2]), ("SAME_LOWER", [2, 2, 1, 1])):
        graph = helper.make_graph(
            [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[4, 4], auto_pad=auto_pad)],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, 8, 8])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1, 8, 8])],
            [w],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        prepared, _ = S.prepare(model)
        assert S._attr(prepared.graph.node[0], "pads") == pads
        x = np.arange(64, dtype=np.float32).reshape(1, 1, 8, 8)
        np.testing.assert_array_equal(_ort(prepared, x)[0], _ort(model, x)[0])


def test_max_abs_diff():
    a = [np.zeros((2, 3), np.float32)]
    assert S.max_abs_diff(a, [np.full((2, 3), 0.5, np.float32)]) == 0.5
    assert S.max_abs_diff(a, [np.zeros((2, 4), np.float32)]) == float("inf")
    assert S.max_abs_diff(a, [np.array([[0, np.nan, 0], [0, 0, 0]], np.float32)]) == float("inf")


needs_sofie = pytest.mark.skipif(not S.available(), reason="the optional package 'sofie' is not installed")


@needs_sofie
def test_sofie_generated_code_matches_onnxruntime_after_the_pre_pass(tmp_path):
    model = _conv_model({})
    runner, _ = S.build(model, tmp_path / "gen", "net", batch=3, cache=tmp_path / "cache")
    x = _x(6)
    got = runner.run(x)
    assert got[0].shape == (6, 3)
    assert S.max_abs_diff(got, _ort(model, x)) < 1e-5
    cpu_ns, wall_ns = runner.bench(x, repeat=1)
    assert cpu_ns > 0 and wall_ns > 0
    with pytest.raises(S.SofieError, match="multiple of the batch 3"):
        runner.run(_x(4))


@needs_sofie
def test_sofie_without_explicit_pads_is_wrong(tmp_path):
    """The trap the pre-pass exists for: SOFIE pads a Conv without ``pads`` by 1 (ONNX: 0)."""
    model = _conv_model({}, pool="GlobalAveragePool")
    prepared, _ = S.prepare(model)
    conv = prepared.graph.node[0]
    S._drop_attr(conv, "pads")
    header, dat = S.generate(prepared, tmp_path, "nopads", batch=2)
    runner = S.Runner(header, dat, prepared, 2, cache=tmp_path / "cache")
    x = _x(2)
    assert S.max_abs_diff(runner.run(x), _ort(model, x)) > 1e-3


@needs_sofie
def test_generate_refuses_a_bad_name(tmp_path):
    with pytest.raises(S.SofieError, match="not a C\\+\\+ identifier"):
        S.generate(S.prepare(_conv_model({}))[0], tmp_path, "3-net", batch=1)
