"""The engine's load-time rewrites, each on a small onnx.helper graph compared with onnxruntime.

Every rewrite of the planner (src/onnx/graph/Planner.cxx, src/onnx/rewrites/) changes which kernels run, so each
is pinned here by a graph that triggers it, at batch 1 (the single-event path: dense kernel) and at larger batches
(GEMM paths, events per run bounded by the arena budget), with the step count showing that the rewrite
happened:

* a zero Pad before a strided Conv folded into the Conv's pads (tf2onnx "same" padding);
* Mul + Add with per-feature constants (Keras Rescaling) folded into the first MatMul / Gemm;
* a per-channel Mul + Add after a Conv (an unfolded BatchNormalization) and the swish pair fused into it;
* Flatten(Transpose(x)) * W folded into W (Keras flattening NHWC after NCHW convolutions);
* a 2 x 2 / stride 2 MaxPool fused into the Conv it reads (pooled per event from the wide rows);
* NHWC <-> NCHW transposes of images with few channels;
* consecutive per-event dense layers (an MLP at batch <= 4) fused into one chain step;
* NaN propagation through the fused kernels.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.special

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import helper, numpy_helper

from tpcml import _core

from .test_onnx_engine import const, float_input, make_model, ort_run

TOL = {"atol": 2e-5, "rtol": 2e-4}


def compare(data: bytes, x: np.ndarray, max_batch: int = 64) -> np.ndarray:
    """Engine output for x (in one call, then event by event) against onnxruntime; returns the engine's."""
    model = _core.OnnxModel(data, "fusion-test")
    ours = model.run(x, max_batch)[0]
    ref = ort_run(data, [x])[0]
    np.testing.assert_allclose(ours, ref, **TOL)
    single = np.concatenate([model.run(x[i : i + 1], 1)[0] for i in range(min(len(x), 3))])
    np.testing.assert_allclose(single, ref[: len(single)], **TOL)
    return ours


def steps(data: bytes) -> int:
    return _core.OnnxModel(data, "fusion-test").step_count


def rng_normal(shape, seed=0, scale=1.0):
    return (np.random.default_rng(seed).normal(0.0, scale, shape)).astype(np.float32)


@pytest.mark.parametrize("batch", [1, 5, 40])
def test_zero_pad_folds_into_strided_conv(batch):
    c_in, c_out = 3, 8
    nodes = [
        helper.make_node("Pad", ["x", "pads"], ["xp"], mode="constant"),
        helper.make_node("Conv", ["xp", "w", "b"], ["y"], kernel_shape=[3, 3], strides=[2, 2]),
    ]
    pads = np.array([0, 0, 0, 0, 0, 0, 1, 1], dtype=np.int64)  # asymmetric: bottom/right only

    data = make_model(
        nodes,
        [float_input("x", ["N", c_in, 17, 16])],
        [float_input("y", ["N", c_out, 8, 8])],
        [
            numpy_helper.from_array(pads, "pads"),
            const("w", rng_normal((c_out, c_in, 3, 3), 1)),
            const("b", rng_normal(c_out, 2)),
        ],
    )
    assert steps(data) == 1  # the Pad is gone
    compare(data, rng_normal((batch, c_in, 17, 16), 3))


@pytest.mark.parametrize("op", ["MatMul", "Gemm"])
def test_rescaling_folds_into_first_layer(op):
    k, n = 13, 32
    scale = np.linspace(1e-4, 2.0, k).astype(np.float32)  # min-max ranges spanning decades
    offset = np.linspace(-3.0, 1.0, k).astype(np.float32)
    w = rng_normal((k, n), 4)
    if op == "MatMul":
        layer = [helper.make_node("MatMul", ["z", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["y0"])]
        inits = [const("w", w), const("b", rng_normal(n, 5))]
    else:
        layer = [helper.make_node("Gemm", ["z", "wt", "b"], ["y0"], transB=1)]
        inits = [const("wt", w.T.copy()), const("b", rng_normal(n, 5))]
    nodes = [
        helper.make_node("Mul", ["x", "s"], ["xs"]),
        helper.make_node("Add", ["xs", "o"], ["z"]),
        *layer,
        helper.make_node("Relu", ["y0"], ["y"]),
    ]
    data = make_model(
        nodes,
        [float_input("x", ["N", k])],
        [float_input("y", ["N", n])],
        [const("s", scale), const("o", offset), *inits],
    )
    assert steps(data) == 1  # one dense/GEMM step: rescaling, bias and ReLU are inside
    x = (rng_normal((50, k), 6) * 300.0).astype(np.float32)
    compare(data, x)


def test_rescaling_not_folded_when_consumed_elsewhere():
    k = 4
    nodes = [
        helper.make_node("Mul", ["x", "s"], ["xs"]),
        helper.make_node("MatMul", ["xs", "w"], ["m"]),
        helper.make_node("Add", ["m", "xs"], ["y"]),  # xs also read here: cannot vanish
    ]
    data = make_model(
        nodes,
        [float_input("x", ["N", k])],
        [float_input("y", ["N", k])],
        [const("s", [1, 2, 3, 4]), const("w", rng_normal((k, k), 7))],
    )
    compare(data, rng_normal((9, k), 8))


def mlp_nodes(widths, acts, prefix="h"):
    """MatMul + Add (+ activation) per layer, x -> y; returns (nodes, initializers)."""
    nodes, inits, cur = [], [], "x"
    for i, (k, n) in enumerate(itertools.pairwise(widths)):
        out = "y" if i == len(widths) - 2 else f"{prefix}{i}"
        pre = f"m{i}" if acts[i] else out
        nodes += [
            helper.make_node("MatMul", [cur, f"w{i}"], [f"mm{i}"]),
            helper.make_node("Add", [f"mm{i}", f"b{i}"], [pre]),
        ]
        if acts[i]:
            nodes.append(helper.make_node(acts[i], [pre], [out]))
        inits += [const(f"w{i}", rng_normal((k, n), 10 + i, 1.0 / np.sqrt(k))), const(f"b{i}", rng_normal(n, 20 + i))]
        cur = out
    return nodes, inits


@pytest.mark.parametrize("batch", [1, 3, 4, 5, 40])
def test_dense_chain_fuses_into_one_step(batch):
    """Widths that exercise every column block (80 = 4 + 1 vectors of 16, 7 and 3 partial ones) and a
    different activation per layer; batches <= 4 run the chain, larger ones the GEMM path."""
    widths = [13, 80, 32, 7, 3]
    nodes, inits = mlp_nodes(widths, ["Relu", "Tanh", None, "Sigmoid"])
    data = make_model(nodes, [float_input("x", ["N", 13])], [float_input("y", ["N", 3])], inits)
    assert steps(data) == 1  # four layers, one step at batch 1
    x = rng_normal((batch, 13), 30, 2.0)
    x[0, 5] = np.nan  # NaN stays in its own event
    ours = compare_finite(data, x)
    assert np.isnan(ours[0]).all() and np.isfinite(ours[1:]).all()


def compare_finite(data: bytes, x: np.ndarray) -> np.ndarray:
    """Engine against onnxruntime on the events without NaN, in one call and event by event."""
    model = _core.OnnxModel(data, "fusion-test")
    ours = model.run(x, 64)[0]
    single = np.concatenate([model.run(x[i : i + 1], 1)[0] for i in range(len(x))])
    finite = ~np.isnan(x).any(axis=1)
    ref = ort_run(data, [x[finite]])[0]
    np.testing.assert_allclose(ours[finite], ref, **TOL)
    np.testing.assert_allclose(single[finite], ref, **TOL)
    np.testing.assert_array_equal(np.isnan(single), np.isnan(ours))
    return ours


def test_dense_chain_stops_at_a_value_read_elsewhere():
    """A hidden layer that is also a graph output, and one read by a second node, end a chain there."""
    nodes, inits = mlp_nodes([6, 16, 16, 16, 2], ["Relu", "Relu", "Relu", None])
    nodes.append(helper.make_node("Sigmoid", ["h0"], ["side"]))  # h0 read twice: chain 1 ends at layer 0
    data = make_model(
        nodes,
        [float_input("x", ["N", 6])],
        [float_input("y", ["N", 2]), float_input("h1", ["N", 16]), float_input("side", ["N", 16])],
        inits,
    )
    # layer 0 | layer 1 (its output h1 is a graph output) | layers 2-3 fused | the Sigmoid
    assert steps(data) == 4
    model = _core.OnnxModel(data, "fusion-test")
    x = rng_normal((4, 6), 31)
    ref = ort_run(data, [x])
    for got, want in zip(model.run(x, 64), ref, strict=True):
        np.testing.assert_allclose(got, want, **TOL)
    for i in range(len(x)):
        for got, want in zip(model.run(x[i : i + 1], 1), ref, strict=True):
            np.testing.assert_allclose(got, want[i : i + 1], **TOL)


@pytest.mark.parametrize("group", [1, 6])
def test_unfolded_batchnorm_and_swish_fuse_into_conv(group):
    c = 6
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["cv"], kernel_shape=[5, 5], pads=[2, 2, 2, 2], group=group),
        helper.make_node("Mul", ["cv", "gamma"], ["bn0"]),
        helper.make_node("Add", ["bn0", "beta"], ["bn"]),
        helper.make_node("Sigmoid", ["bn"], ["sg"]),
        helper.make_node("Mul", ["bn", "sg"], ["y"]),
    ]
    data = make_model(
        nodes,
        [float_input("x", ["N", c, 8, 8])],
        [float_input("y", ["N", c, 8, 8])],
        [
            const("w", rng_normal((c, c // group, 5, 5), 9, 0.3)),
            const("gamma", rng_normal((1, c, 1, 1), 10)),
            const("beta", rng_normal((1, c, 1, 1), 11)),
        ],
    )
    assert steps(data) == 1
    compare(data, rng_normal((7, c, 8, 8), 12))


def test_flatten_of_transpose_folds_into_matmul():
    c, h, w, n = 5, 4, 3, 7
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),  # NCHW -> NHWC
        helper.make_node("Flatten", ["t"], ["f"], axis=1),
        helper.make_node("MatMul", ["f", "w"], ["y"]),
    ]
    data = make_model(
        nodes,
        [float_input("x", ["N", c, h, w])],
        [float_input("y", ["N", n])],
        [const("w", rng_normal((c * h * w, n), 13))],
    )
    assert steps(data) == 1  # no Transpose step left
    compare(data, rng_normal((11, c, h, w), 14))


@pytest.mark.parametrize("size", [21, 40])  # pooled rows of 9-10 and 19-20: scalar and vector tails
@pytest.mark.parametrize(("pads", "stride"), [([0, 0, 0, 0], 1), ([1, 1, 1, 1], 1), ([1, 1, 1, 1], 2)])
def test_maxpool_fused_into_the_conv(pads, stride, size):
    c_in, c_out = 3, 16
    out = (size + pads[0] + pads[2] - 3) // stride + 1
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["cv"], kernel_shape=[3, 3], pads=pads, strides=[stride, stride]),
        helper.make_node("LeakyRelu", ["cv"], ["a"], alpha=0.05),
        helper.make_node("MaxPool", ["a"], ["y"], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    data = make_model(
        nodes,
        [float_input("x", ["N", c_in, size, size])],
        [float_input("y", ["N", c_out, out // 2, out // 2])],
        [const("w", rng_normal((c_out, c_in, 3, 3), 15)), const("b", rng_normal(c_out, 16))],
    )
    assert steps(data) == 1  # Conv + LeakyRelu + MaxPool: one step
    x = rng_normal((6, c_in, size, size), 17)
    x[2, 1, 5, 7] = np.nan  # NaN reaches the pooled output of its event only
    ours = compare_nan(data, x)
    assert np.isnan(ours[2]).any() and not np.isnan(np.delete(ours, 2, axis=0)).any()


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5])
def test_channels_last_to_first_transpose(channels):
    """NHWC -> NCHW of an image with few channels (tf2onnx's first node for Keras CNNs), and back."""
    h, w = 9, 13
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
        helper.make_node("Relu", ["t"], ["r"]),
        helper.make_node("Transpose", ["r"], ["y"], perm=[0, 2, 3, 1]),
        helper.make_node("Identity", ["t"], ["z"]),
    ]
    data = make_model(
        nodes,
        [float_input("x", ["N", h, w, channels])],
        [float_input("y", ["N", h, w, channels]), float_input("z", ["N", channels, h, w])],
        [],
    )
    x = rng_normal((7, h, w, channels), 18)
    y, z = _core.OnnxModel(data, "fusion-test").run(x, 64)
    np.testing.assert_array_equal(z, x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(y, np.maximum(x, 0))


def compare_nan(data: bytes, x: np.ndarray) -> np.ndarray:
    """Like compare, NaN positions included (onnxruntime's MaxPool drops NaN: reference by numpy)."""
    model = _core.OnnxModel(data, "fusion-test")
    ours = model.run(x, 64)[0]
    finite = ~np.isnan(x).any(axis=(1, 2, 3))
    ref = ort_run(data, [x[finite]])[0]
    np.testing.assert_allclose(ours[finite], ref, **TOL)
    return ours


@pytest.mark.parametrize("isa", ["base", "avx2"])
def test_fusions_on_other_instruction_sets(isa):
    """The same graphs with the kernels of another instruction set (TPCML_ISA, chosen at start-up)."""
    import os
    import subprocess
    import sys

    if os.environ.get("TPCML_ISA"):
        pytest.skip("already running under a forced instruction set")
    env = dict(os.environ, TPCML_ISA=isa)
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__, "-k", "not other_instruction_sets"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]


def _unary_model(op: str, n: int) -> bytes:
    """y = op(x), or the Swish x * Sigmoid(x) for op == "Swish", on [batch, n]."""
    if op == "Swish":
        nodes = [helper.make_node("Sigmoid", ["x"], ["s"]), helper.make_node("Mul", ["x", "s"], ["y"])]
    else:
        nodes = [helper.make_node(op, ["x"], ["y"])]
    return make_model(nodes, [float_input("x", ["N", n])], [float_input("y", ["N", n])])


def _exact(op: str, x: np.ndarray) -> np.ndarray:
    d = x.astype(np.float64)
    with np.errstate(over="ignore"):
        if op == "Exp":
            return np.exp(d)
        sig = scipy.special.expit(d)
        return sig if op == "Sigmoid" else d * sig


@pytest.mark.parametrize("op", ["Exp", "Sigmoid", "Swish"])
def test_exp_sigmoid_swish_relative_error(op):
    """The vectorised exp and logistic (on AVX-512 a 14-bit reciprocal and a Newton step) against float64 on a
    dense grid: relative error < 4e-7 wherever the result is a normal float (2e-7 is one float ulp at 1) -- for the
    logistic and Swish down to x = -87, below which the logistic is clamped at about 1.6e-38 -- and the special
    values. Run on every instruction set by test_fusions_on_other_instruction_sets. Lengths not a multiple of 16
    cover the tails."""
    grid = np.linspace(-110.0, 95.0, 200_003, dtype=np.float32)
    fine = np.linspace(-2.0, 2.0, 40_001, dtype=np.float32)
    x = np.concatenate([grid, fine, np.float32([0.0, -0.0, 1e-30, -1e-30, 88.7, 89.0, -87.0, -87.3, -104.0])])
    n = 1237  # not a multiple of any vector width
    pad = (-len(x)) % n
    xs = np.concatenate([x, np.zeros(pad, np.float32)]).reshape(-1, n)
    model = _core.OnnxModel(_unary_model(op, n), "unary")
    got = model.run(xs, 64)[0].reshape(-1)[: len(x)].astype(np.float64)
    ref = _exact(op, x)
    tiny = np.finfo(np.float32).tiny
    normal = np.isfinite(ref) & (np.abs(ref) >= tiny) & (np.abs(ref) < np.finfo(np.float32).max)
    if op != "Exp":
        normal &= x >= -87.0
    rel = np.abs(got[normal] - ref[normal]) / np.abs(ref[normal])
    print(op, "max relative error", rel.max())
    assert rel.max() < 4e-7, (op, float(rel.max()), float(x[normal][rel.argmax()]))
    if op == "Exp":
        small = np.isfinite(ref) & (np.abs(ref) < tiny)
        assert np.all(np.abs(got[small] - ref[small]) < tiny)
        assert np.all(np.isposinf(got[x > 88.73]))
    else:  # the clamped tail: the logistic positive and below 1.7e-38
        low = x < -87.0
        sig = got[low] / (x[low] if op == "Swish" else 1.0)
        assert np.all((sig > 0) & (sig < 1.7e-38))
    special = np.float32([np.inf, -np.inf, np.nan, 1000.0, -1000.0, 0.0])
    out = model.run(np.resize(special, (1, n)), 1)[0][0, :6]
    assert np.isnan(out[2])
    if op == "Exp":
        np.testing.assert_array_equal(out[[0, 1, 3, 4, 5]], np.float32([np.inf, 0.0, np.inf, 0.0, 1.0]))
    elif op == "Sigmoid":
        np.testing.assert_array_equal(out[[0, 3, 5]], np.float32([1.0, 1.0, 0.5]))
        assert 0 < out[1] < 1.7e-38 and 0 < out[4] < 1.7e-38
    else:  # x times the clamped logistic: -inf stays -inf
        np.testing.assert_array_equal(out[[0, 1, 3, 5]], np.float32([np.inf, -np.inf, 1000.0, 0.0]))
        assert -1.7e-35 < out[4] < 0


@pytest.mark.parametrize(("cin", "cout"), [(5, 3), (24, 37), (40, 96), (300, 20)])
def test_pointwise_conv_on_one_pixel_planes_runs_as_one_batch_gemm(cin, cout):
    """Squeeze-excite's 1 x 1 convolutions on 1 x 1 planes (bias, then Swish or Sigmoid fused): the whole batch is
    one GEMM with W^T (few-row, narrow and blocked GEMM paths by batch and width) -- against onnxruntime."""
    w = const("w", rng_normal((cout, cin, 1, 1), seed=1))
    b = const("b", rng_normal((cout,), seed=2))
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["p"]),
        helper.make_node("Conv", ["p", "w", "b"], ["c"], kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["c"], ["s"]),
        helper.make_node("Mul", ["c", "s"], ["y"]),
    ]
    data = make_model(nodes, [float_input("x", ["N", cin, 3, 3])], [float_input("y", ["N", cout, 1, 1])], [w, b])
    for batch in (1, 3, 40):
        compare(data, rng_normal((batch, cin, 3, 3), seed=batch))


@pytest.mark.parametrize(
    ("stride", "pads", "size"), [(1, [0, 0, 0, 0], 9), (2, [0, 0, 1, 1], 20), (3, [1, 1, 1, 1], 31)]
)
def test_single_input_channel_conv_runs_as_one_gemm(stride, pads, size):
    """Cin = 1, group 1 (an image model's first layer): one GEMM with M = Cout over one phase split (no longer the
    depthwise kernel once per output channel) -- odd Cout, strides, asymmetric padding, against onnxruntime."""
    w = const("w", rng_normal((7, 1, 3, 3), seed=3))
    b = const("b", rng_normal((7,), seed=4))
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], strides=[stride, stride], pads=pads),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    out = (size + pads[0] + pads[2] - 3) // stride + 1
    data = make_model(nodes, [float_input("x", ["N", 1, size, size])], [float_input("y", ["N", 7, out, out])], [w, b])
    for batch in (1, 4):
        compare(data, rng_normal((batch, 1, size, size), seed=batch))


@pytest.mark.parametrize("size", [27, 36, 75])
def test_pool_after_stride3_conv_narrow_rows(size):
    """A 2 x 2 MaxPool absorbed by a stride-3 convolution whose pooled rows are narrower than a vector (12 of 16
    lanes at 75 x 75: the partial-vector tail), NaN inputs propagating -- against onnxruntime on the finite events."""
    w = const("w", rng_normal((5, 3, 3, 3), seed=5))
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], strides=[3, 3]),
        helper.make_node("LeakyRelu", ["c"], ["r"], alpha=0.05),
        helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    out = (size - 3) // 3 + 1
    data = make_model(
        nodes, [float_input("x", ["N", 3, size, size])], [float_input("y", ["N", 5, out // 2, out // 2])], [w]
    )
    x = rng_normal((3, 3, size, size), seed=size)
    x[1, 0, 4, 4] = np.nan
    ours = compare_nan(data, x)
    assert np.isnan(ours[1]).any() and not np.isnan(ours[[0, 2]]).any()


@pytest.mark.parametrize(
    ("spatial", "kernel", "stride", "pads"),
    [([4, 4], [3, 3], [3, 3], [1, 1, 1, 1]), ([5, 5], [3, 3], [2, 2], [1, 0, 1, 2]), ([7], [3], [2], [0, 1])],
)
def test_conv_with_few_output_pixels_runs_on_event_pixel_rows(spatial, kernel, stride, pads):
    """Outputs of fewer pixels than a vector (the CVAE encoder's 2 x 2 planes): rows (event, pixel) of im2col^T times
    W^T in one GEMM, bias and LeakyRelu fused -- 2-D and 1-D, asymmetric pads, odd channel counts, against
    onnxruntime."""
    cin, cout = 5, 37
    w = const("w", rng_normal((cout, cin, *kernel), seed=6))
    b = const("b", rng_normal((cout,), seed=7))
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=kernel, strides=stride, pads=pads),
        helper.make_node("LeakyRelu", ["c"], ["y"], alpha=0.05),
    ]
    nd = len(spatial)
    out = [(spatial[d] + pads[d] + pads[d + nd] - kernel[d]) // stride[d] + 1 for d in range(nd)]
    data = make_model(nodes, [float_input("x", ["N", cin, *spatial])], [float_input("y", ["N", cout, *out])], [w, b])
    for batch in (1, 3, 20):
        compare(data, rng_normal((batch, cin, *spatial), seed=batch))


@pytest.mark.parametrize("spatial", [[2, 2], [3, 5], [7]])
def test_pointwise_conv_on_small_planes_runs_on_event_pixel_rows(spatial):
    """1 x 1 convolutions of planes with 2-15 pixels (EfficientNet at 64 x 64: 2 x 2 stages) on (event, pixel) rows,
    bias and swish fused -- against onnxruntime, batch 1 and several."""
    cin, cout = 24, 40
    w = const("w", rng_normal((cout, cin, *[1] * len(spatial)), seed=8))
    b = const("b", rng_normal((cout,), seed=9))
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[1] * len(spatial)),
        helper.make_node("Sigmoid", ["c"], ["s"]),
        helper.make_node("Mul", ["c", "s"], ["y"]),
    ]
    data = make_model(
        nodes, [float_input("x", ["N", cin, *spatial])], [float_input("y", ["N", cout, *spatial])], [w, b]
    )
    for batch in (1, 3, 33):
        compare(data, rng_normal((batch, cin, *spatial), seed=batch))
