"""tpcml.ml: paper architectures, ONNX export (tf2onnx), metadata round trip and Keras-vs-onnxruntime parity.

The five parity models are exported once per session by the ``parity_models`` fixture (conftest.py,
tests/python/onnx_models.py); EfficientNet-B0 dominates the cost (~12 s of tf2onnx on 2 cores).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("tf2onnx")
pytest.importorskip("onnxruntime")

import keras
import onnx

from tpcml.ml import architectures as arch
from tpcml.ml import export

from .onnx_models import PANDAX2_FEATURES, PARITY_KEYS, load_reference

# Op types (with counts) of the exported graphs, as measured with TensorFlow 2.21 / Keras 3.15 / tf2onnx 1.17 /
# onnxruntime 1.32, opset 17 (biases and BatchNorm statistics perturbed, so bias Adds are not folded away):
#   mlp4c           (17 nodes)  Add 6, MatMul 5, Mul 1, Relu 4, Sigmoid 1
#   xenon1t_cnn     (18 nodes)  Add 2, Cast 2, Concat 1, Conv 1, Gather 1, LeakyRelu 2, MatMul 2, MaxPool 1, Reshape 1,
#                               Shape 1, Sigmoid 1, Slice 1, Transpose 2
#   efficientnet_b0 (326 nodes) Add 26, Conv 81, GlobalAveragePool 16, GlobalMaxPool 1, MatMul 1, Mul 81, Pad 4,
#                               Reshape 32, Sigmoid 66, Squeeze 17, Transpose 1  (309 nodes with zero biases)
#   vae_encoder     (22 nodes)  Add 3, Cast 2, Concat 1, Conv 2, Exp 1, Gather 1, LeakyRelu 3, MatMul 3, Mul 1,
#                               Reshape 2, Shape 1, Slice 1, Transpose 1
#   vae_decoder     (14 nodes)  Add 2, ConvTranspose 3, LeakyRelu 3, MatMul 1, Reshape 2, Sigmoid 1, Slice 1,
#                               Transpose 1
# Max |Keras - onnxruntime|: 1.2e-7 (MLP, CNN, decoder), 2.1e-7 (encoder), 1.0e-6 (EfficientNet-B0).
# Exact counts are printed by test_parity_model_exports with -s; the asserts below only pin the op types each
# architecture must produce.
REQUIRED_OPS = {
    "mlp4c": {"MatMul", "Add", "Mul", "Relu", "Sigmoid"},
    "xenon1t_cnn": {"Conv", "LeakyRelu", "MaxPool", "MatMul", "Sigmoid"},
    "efficientnet_b0": {"Conv", "GlobalMaxPool", "GlobalAveragePool", "Sigmoid", "Mul", "MatMul"},
    "vae_encoder": {"Conv", "LeakyRelu", "MatMul", "Exp"},
    "vae_decoder": {"ConvTranspose", "Slice", "LeakyRelu", "Sigmoid"},
}
EXPECTED_OUTPUTS = {
    "mlp4c": ["score"],
    "xenon1t_cnn": ["score"],
    "efficientnet_b0": ["score"],
    "vae_encoder": ["z_mean", "z_log_var", "z_sigma"],
    "vae_decoder": ["reconstruction"],
}


def op_counts(path) -> Counter:
    return Counter(node.op_type for node in onnx.load(str(path)).graph.node)


# ------------------------------------------------------------------------------------------------------------------
# Architectures (no export)
# ------------------------------------------------------------------------------------------------------------------


def _dense_widths(model) -> list[int]:
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]


@pytest.mark.parametrize(
    ("label", "hidden"),
    [
        ("4C", [32, 32, 16, 8]),
        ("4Cu", [32, 32, 16, 8]),
        ("4E", [512, 512, 256, 256]),
        ("5F", [512, 512, 256, 256, 128]),
        ("6A", [32, 16, 16, 8, 8, 8]),
        ("7A", [32, 16, 16, 16, 12, 12, 12]),
    ],
)
def test_mlp_from_label_table2(label, hidden):
    model = arch.mlp_from_label(label)
    assert _dense_widths(model) == [*hidden, 1]
    assert model.input_shape == (None, 13)


def test_mlp_labels_complete_and_unknown_rejected():
    assert len(arch.PANDAX2_MLP_LAYERS) == 18  # 4A-4E, 5A-5F, 6A-6C, 7A-7D
    assert all(len(w) == int(k[0]) for k, w in arch.PANDAX2_MLP_LAYERS.items())
    with pytest.raises(ValueError, match="unknown PandaX-II MLP label"):
        arch.mlp_from_label("4Z")


def test_mlp_minmax_rescaling_inside_model():
    lo, hi = np.array([0.0, 10.0, -1.0]), np.array([2.0, 10.0, 1.0])  # the middle feature is constant
    model = arch.mlp(hidden=(4,), n_inputs=3, feature_min=lo, feature_max=hi)
    rescale = model.get_layer("minmax")
    x = np.array([[0.0, 10.0, -1.0], [2.0, 10.0, 1.0], [1.0, 10.0, 0.0]], dtype=np.float32)
    got = keras.ops.convert_to_numpy(rescale(x))
    np.testing.assert_allclose(got, [[0, 0, 0], [1, 0, 1], [0.5, 0, 0.5]], atol=1e-7)
    ident = arch.mlp(hidden=(4,), n_inputs=3).get_layer("minmax")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(ident(x)), x)
    with pytest.raises(ValueError, match="feature_max < feature_min"):
        arch.mlp(n_inputs=3, feature_min=hi, feature_max=lo)


def test_xenon1t_cnn_layout():
    model = arch.xenon1t_cnn()
    assert model.get_layer("conv_0").output.shape == (None, 73, 73, 16)  # 3x3, no padding
    assert model.get_layer("pool_0").output.shape == (None, 36, 36, 16)  # 2x2 max pool
    assert model.get_layer("dense").units == 32
    assert len(model.losses) == 3  # L2 on conv kernel, dense kernel, dense bias
    assert arch.xenon1t_cnn(n_conv=2).get_layer("pool_1").output.shape == (None, 17, 17, 16)


@pytest.mark.parametrize("shape", [(64, 64, 1), (75, 75, 3), (33, 50, 2)])
def test_conv_vae_shapes(shape):
    encoder, decoder, vae = arch.conv_vae(input_shape=shape, latent_dim=4, sigma_output=False)
    assert [tuple(t.shape) for t in encoder.outputs] == [(None, 4), (None, 4)]
    assert decoder.output_shape == (None, *shape)
    assert vae.output_shape == (None, *shape)


def test_conv_vae_trains_one_step():
    keras.utils.set_random_seed(3)
    _, _, vae = arch.conv_vae(input_shape=(32, 32, 1), latent_dim=4, filters=(8, 16), dense=16, seed=1)
    vae.compile(optimizer="adam", loss="binary_crossentropy")
    x = np.random.default_rng(0).random((8, 32, 32, 1), dtype=np.float32)
    loss = float(vae.train_on_batch(x, x))
    assert np.isfinite(loss) and loss > 0
    assert len(vae.losses) == 1  # the KL term of the sampling layer


# ------------------------------------------------------------------------------------------------------------------
# Export of the parity models
# ------------------------------------------------------------------------------------------------------------------


def test_parity_model_keys(parity_models):
    assert tuple(parity_models) == PARITY_KEYS
    assert all(p.is_file() and p.suffix == ".onnx" for p in parity_models.values())
    leftovers = [p.name for p in next(iter(parity_models.values())).parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []  # atomic write left no temporary file


@pytest.mark.parametrize("key", PARITY_KEYS)
def test_parity_model_exports(parity_models, key):
    path = parity_models[key]
    model = onnx.load(str(path))
    onnx.checker.check_model(model)

    # exactly one graph input with a free batch dimension, outputs named after the Keras outputs
    assert export.graph_inputs(model) == [model.graph.input[0].name]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert not dims[0].HasField("dim_value")
    assert [o.name for o in model.graph.output] == EXPECTED_OUTPUTS[key]

    ops = op_counts(path)
    print(f"\n{key}: {len(model.graph.node)} nodes {dict(sorted(ops.items()))}")
    assert REQUIRED_OPS[key] <= set(ops), f"{key}: missing {REQUIRED_OPS[key] - set(ops)}"

    # metadata round trip
    meta = export.read_metadata(path)
    assert meta["tpcml.parity_model"] == key
    assert meta["tpcml.working_point"] == 0.5
    assert meta["tpcml.training_fingerprint"].startswith("sha256:")
    expected_inputs = PANDAX2_FEATURES if key == "mlp4c" else (["z"] if key == "vae_decoder" else ["image"])
    assert meta["tpcml.inputs"] == expected_inputs
    assert export.read_metadata(path, raw=True)["tpcml.inputs"].startswith('["')

    # Keras vs onnxruntime
    inputs, ref = load_reference(path)
    got = export.onnx_predict(path, inputs)
    assert len(got) == len(ref)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(got, ref, strict=True))
    print(f"{key}: max |keras - onnxruntime| = {diff:.3g}")
    for a, b in zip(got, ref, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
        assert np.all(np.isfinite(a))


def test_efficientnet_graph(parity_models):
    model = onnx.load(str(parity_models["efficientnet_b0"]))
    ops = Counter(node.op_type for node in model.graph.node)
    assert 250 <= len(model.graph.node) <= 400  # 326 with the tools above
    assert ops["GlobalMaxPool"] == 1 and ops["Conv"] >= 80
    # top conv with 8 channels: the final MatMul has an 8 x 1 weight
    inits = {i.name: i for i in model.graph.initializer}
    matmul = next(n for n in model.graph.node if n.op_type == "MatMul")
    weight = next(inits[name] for name in matmul.input if name in inits)
    assert list(weight.dims) == [8, 1]
    # preprocessing removed: the graph input feeds the stem directly (no Rescaling Mul/Sub before the stem Conv)
    first = [n.op_type for n in model.graph.node if model.graph.input[0].name in n.input]
    assert first == ["Transpose"]


def test_keras_onnx_max_diff_helper(tmp_path):
    keras.utils.set_random_seed(5)
    model = arch.mlp(hidden=(8, 4), n_inputs=5, feature_min=[0] * 5, feature_max=[10, 20, 30, 40, 50])
    path = export.to_onnx(model, tmp_path / "sub" / "mlp.onnx", metadata={"tpcml.inputs": list("abcde")})
    x = np.random.default_rng(1).uniform(0, 50, (32, 5)).astype(np.float32)
    assert export.keras_onnx_max_diff(model, path, x) <= 1e-5
    assert export.read_metadata(path) == {"tpcml.inputs": ["a", "b", "c", "d", "e"]}


def test_to_onnx_metadata_encoding(tmp_path):
    model = arch.mlp(hidden=(2,), n_inputs=2)
    meta = {"s": "plain text", "f": 0.25, "i": 3, "b": True, "l": [1, 2.5], "d": {"k": "v"}, "n": np.float32(2.0)}
    path = export.to_onnx(model, tmp_path / "m.onnx", metadata=meta)
    assert export.read_metadata(path) == {**meta, "n": 2.0}
    raw = export.read_metadata(path, raw=True)
    assert raw["s"] == "plain text" and raw["f"] == "0.25" and raw["l"] == "[1, 2.5]"


def test_to_onnx_rejects_unexpected_input_count(tmp_path):
    model = arch.mlp(hidden=(2,), n_inputs=2)
    with pytest.raises(export.OnnxExportError, match=r"has 1 inputs \['features'\], expected 2"):
        export.to_onnx(model, tmp_path / "m.onnx", expected_inputs=2)
    assert not any(tmp_path.iterdir())  # nothing written


def test_to_onnx_rejects_sequential(tmp_path):
    seq = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(TypeError, match="Functional"):
        export.to_onnx(seq, tmp_path / "s.onnx")
