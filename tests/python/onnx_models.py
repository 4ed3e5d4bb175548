"""Parity models for ONNX tests (a helper module, not a test file).

:func:`export_parity_models` builds the paper architectures of :mod:`tpcml.ml.architectures` with fixed seeds,
gives every bias / BatchNorm statistic a non-trivial value (fresh Keras layers have zero biases and identity
BatchNorm, which would hide a runtime that ignores them), exports them with :func:`tpcml.ml.export.to_onnx` and
stores, next to each ``<key>.onnx``, ``<key>.ref.npz`` with the random test input(s) (``input_0``, ...) and the
Keras outputs (``output_0``, ...) in graph order. Other test modules get the files through the session fixture
``parity_models`` of ``conftest.py``; they can compare any ONNX runtime against the Keras reference without
building Keras models again.

TensorFlow, Keras and tf2onnx are imported inside the functions.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

PARITY_KEYS = ("mlp4c", "xenon1t_cnn", "efficientnet_b0", "vae_encoder", "vae_decoder")
SEED = 20240611

#: pandax2-accidental-dnn.md Table 1, in its order (the default ``tpcml.inputs`` of a PandaX-II model).
PANDAX2_FEATURES = [
    "qS1",
    "qS2",
    "qS1c",
    "qS2c",
    "wS1",
    "wS2",
    "wtenS2",
    "S1TBA",
    "S2TBA",
    "S2SY1",
    "S2SY2",
    "S1NPeaks",
    "S1LargestBCQ",
]
# Illustrative min-max ranges for the 13 features (qS1 3-45 PE and qS2c < 10000 PE follow the signal window of
# pandax2-accidental-dnn.md Sec. 3; the others are plausible spans, only there to make the Rescaling non-trivial).
PANDAX2_FEATURE_MIN = [3.0, 100.0, 3.0, 100.0, 20.0, 500.0, 800.0, -1.0, -1.0, 0.0, 0.0, 1.0, 0.0]
PANDAX2_FEATURE_MAX = [45.0, 12000.0, 45.0, 10000.0, 300.0, 4000.0, 9000.0, 1.0, 1.0, 1.0, 1.0, 12.0, 1.0]


def perturb_weights(model, seed: int) -> None:
    """Give biases, BatchNorm beta/gamma/moving statistics non-trivial random values (kernels keep their
    seeded initialisation)."""
    rng = np.random.default_rng(seed)
    for var in model.weights:
        shape, name = tuple(var.shape), var.name
        if name in ("moving_variance", "gamma"):
            value = rng.uniform(0.5, 1.5, shape)
        elif name in ("bias", "beta", "moving_mean"):
            value = rng.normal(0.0, 0.1, shape)
        else:
            continue
        var.assign(value.astype(var.dtype))


def _fingerprint(key: str) -> str:
    text = json.dumps({"parity_model": key, "seed": SEED}, sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def build_parity_models() -> dict[str, tuple[object, list[np.ndarray], dict[str, object]]]:
    """``{key: (keras_model, [inputs], metadata)}`` for the five parity models, deterministic for a given Keras."""
    import keras

    from tpcml.ml import architectures as arch

    rng = np.random.default_rng(SEED)
    models = {}

    keras.utils.set_random_seed(SEED)
    lo, hi = np.array(PANDAX2_FEATURE_MIN), np.array(PANDAX2_FEATURE_MAX)
    mlp = arch.mlp_from_label("4C", feature_min=lo, feature_max=hi)
    span = hi - lo
    x_mlp = rng.uniform(lo - 0.1 * span, hi + 0.1 * span, (64, 13)).astype(np.float32)
    models["mlp4c"] = (mlp, [x_mlp], {"tpcml.inputs": PANDAX2_FEATURES, "tpcml.strategy": "below_median"})

    keras.utils.set_random_seed(SEED + 1)
    cnn = arch.xenon1t_cnn(input_shape=(75, 75, 3))
    x_cnn = rng.random((8, 75, 75, 3), dtype=np.float32)
    models["xenon1t_cnn"] = (cnn, [x_cnn], {"tpcml.inputs": ["image"], "tpcml.strategy": "supervised"})

    keras.utils.set_random_seed(SEED + 2)
    eff = arch.efficientnet("B0", input_size=128, channels=3, top_channels=8, pooling="max")
    x_eff = rng.random((4, 128, 128, 3), dtype=np.float32)
    models["efficientnet_b0"] = (eff, [x_eff], {"tpcml.inputs": ["image"], "tpcml.strategy": "supervised"})

    keras.utils.set_random_seed(SEED + 3)
    encoder, decoder, _ = arch.conv_vae(input_shape=(64, 64, 1), latent_dim=8, seed=SEED)
    x_enc = rng.random((8, 64, 64, 1), dtype=np.float32)
    x_dec = rng.normal(0.0, 1.0, (8, 8)).astype(np.float32)
    models["vae_encoder"] = (encoder, [x_enc], {"tpcml.inputs": ["image"], "tpcml.strategy": "anomaly"})
    models["vae_decoder"] = (decoder, [x_dec], {"tpcml.inputs": ["z"], "tpcml.strategy": "anomaly"})

    for i, (key, (model, _, meta)) in enumerate(models.items()):
        perturb_weights(model, SEED + 100 + i)
        meta.update(
            {"tpcml.working_point": 0.5, "tpcml.training_fingerprint": _fingerprint(key), "tpcml.parity_model": key}
        )
    return models


def export_parity_models(directory) -> dict[str, Path]:
    """Build, export and write the Keras reference of the parity models into ``directory``; returns
    ``{key: path to <key>.onnx}`` for the keys of :data:`PARITY_KEYS` (``<key>.ref.npz`` lies beside each)."""
    from tpcml.ml.export import keras_predict, to_onnx

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, (model, inputs, meta) in build_parity_models().items():
        path = to_onnx(model, directory / f"{key}.onnx", metadata=meta)
        outputs = keras_predict(model, inputs)
        arrays = {f"input_{i}": a for i, a in enumerate(inputs)} | {f"output_{i}": a for i, a in enumerate(outputs)}
        np.savez(reference_path(path), **arrays)
        paths[key] = path
    return paths


def reference_path(onnx_path) -> Path:
    """``<key>.ref.npz`` beside ``<key>.onnx``."""
    onnx_path = Path(onnx_path)
    return onnx_path.with_name(onnx_path.stem + ".ref.npz")


def load_reference(onnx_path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(inputs, Keras outputs) stored beside an exported parity model."""
    with np.load(reference_path(onnx_path)) as data:
        inputs = [data[f"input_{i}"] for i in range(sum(k.startswith("input_") for k in data.files))]
        outputs = [data[f"output_{i}"] for i in range(sum(k.startswith("output_") for k in data.files))]
    return inputs, outputs
