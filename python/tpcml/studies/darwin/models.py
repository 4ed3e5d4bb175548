"""The DARWIN-VAE networks: a fully connected VAE trained on ER only (Gaussian decoder with a learned sigma_D,
beta-weighted KL: the paper's -ELBO, Eq. B.2 and the TS equation of Sec. 3.2) and a fully connected ER-vs-NR
classifier (:func:`tpcml.ml.architectures.mlp`), the anomaly score TS = -ELBO + R H_B in NumPy (the reference
the C++ tpcml::AnomalyScore is tested against) and the ONNX export of the deterministic parts.

DARWIN-VAE's Appendix B (layer sizes, latent dimension, beta) is not part of the text tpcml has; the sizes here
are tpcml's choices for a 2310-entry vector on a CPU, stated as such: encoder 2310 -> 256 -> 64 -> (mu, log
sigma^2) of 8 latent dimensions, the mirror decoder, ReLU, beta = 1 (the standard ELBO).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from tpcml.core.extras import require

LATENT = 8  # tpcml's choice (DARWIN-VAE App. B not available)
HIDDEN = (256, 64)  # tpcml's choice
BETA = 1.0  # beta = 1: the ELBO itself (DARWIN-VAE's TS equation keeps beta general)
P_MAX = 1.0 - 1e-7  # p clamp of H_B = -log(1 - p) (the same in tpcml::AnomalyScore)
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@dataclass
class Vae:
    encoder: object  # x -> [z_mean, z_log_var]
    decoder: object  # z -> x_D
    log_sigma_d: np.ndarray  # (L,) learned
    beta: float
    history: list[float]  # training -ELBO per event, per epoch
    val_history: list[float]


def _scaling(x_train: np.ndarray):
    """Per-entry standardisation carried inside the encoder (Rescaling: exportable; ENVIRONMENT trap on
    Normalization layers becoming graph inputs)."""
    keras = require("ml", "keras")
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 1e-6, std, 1.0)
    return keras.layers.Rescaling(scale=(1.0 / std).tolist(), offset=(-mean / std).tolist(), name="standardise")


def build_vae(n_inputs: int, x_train: np.ndarray, latent: int = LATENT, beta: float = BETA, seed: int = 0):
    """(encoder, decoder, training model). The training model maps x to [x_D, log sigma_D] through
    :class:`~tpcml.ml.architectures.VAESampling` (reparameterisation, beta KL added as a layer loss); train it
    with :func:`gaussian_nll` as the loss: the total is the -ELBO per event."""
    keras = require("ml", "keras")
    from tpcml.ml.architectures import VAESampling

    keras.utils.set_random_seed(seed)
    layers = keras.layers
    x_in = keras.Input(shape=(n_inputs,), name="x")
    h = _scaling(x_train)(x_in)
    for i, w in enumerate(HIDDEN):
        h = layers.Dense(w, activation="relu", name=f"enc_{i}")(h)
    z_mean = layers.Dense(latent, name="z_mean")(h)
    z_log_var = layers.Dense(latent, name="z_log_var")(h)
    encoder = keras.Model(x_in, [z_mean, z_log_var], name="darwin_encoder")

    z_in = keras.Input(shape=(latent,), name="z")
    d = z_in
    for i, w in enumerate(reversed(HIDDEN)):
        d = layers.Dense(w, activation="relu", name=f"dec_{i}")(d)
    x_d = layers.Dense(n_inputs, name="x_d")(d)
    decoder = keras.Model(z_in, x_d, name="darwin_decoder")

    log_sigma = LogSigma(n_inputs, name="log_sigma_d")
    z = VAESampling(beta=beta, kl_scale=1.0, seed=seed, name="sampling")([z_mean, z_log_var])
    out = layers.Concatenate(name="xd_logsigma")([decoder(z), log_sigma(z)])
    return encoder, decoder, keras.Model(x_in, out, name="darwin_vae"), log_sigma


@functools.cache
def _log_sigma_layer():
    keras = require("ml", "keras")

    class _LogSigma(keras.layers.Layer):
        """log sigma_D: one trainable value per vector entry, broadcast over the batch (not exported: it is the
        decoder's metadata)."""

        def __init__(self, n: int, **kwargs):
            super().__init__(**kwargs)
            self.n = n

        def build(self, input_shape):
            self.w = self.add_weight(shape=(self.n,), initializer="zeros", name="log_sigma_d")

        def call(self, z):
            return keras.ops.zeros_like(z[:, :1]) + self.w

    return _LogSigma


def LogSigma(n: int, **kwargs):
    return _log_sigma_layer()(n, **kwargs)


def gaussian_nll(y_true, y_pred):
    """-log N(x; x_D, diag sigma_D^2) summed over the vector (y_pred = [x_D, log sigma_D])."""
    keras = require("ml", "keras")
    ops = keras.ops
    n = ops.shape(y_true)[-1]
    x_d, log_s = y_pred[:, :n], y_pred[:, n:]
    return ops.sum(0.5 * ops.square((y_true - x_d) * ops.exp(-log_s)) + log_s + HALF_LOG_2PI, axis=-1)


def train_vae(x_train, x_val, epochs: int, batch_size: int = 128, seed: int = 0, say=None) -> Vae:
    """Train the VAE on ER vectors; returns the models, the learned log sigma_D and the -ELBO per epoch."""
    keras = require("ml", "keras")
    encoder, decoder, vae, log_sigma = build_vae(x_train.shape[1], x_train, seed=seed)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3), loss=gaussian_nll)
    hist = vae.fit(
        x_train, x_train, validation_data=(x_val, x_val), epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True
    )
    loss, val = [float(v) for v in hist.history["loss"]], [float(v) for v in hist.history["val_loss"]]
    if say:
        say(f"VAE -ELBO per event: {loss[0]:.0f} -> {loss[-1]:.0f} (validation {val[-1]:.0f})")
    return Vae(encoder, decoder, np.asarray(log_sigma.w.numpy(), np.float64), BETA, loss, val)


def build_classifier(x_train: np.ndarray, seed: int = 0):
    """ER (0) vs NR (1): :func:`tpcml.ml.architectures.mlp` (fully connected, min-max scaling inside, sigmoid)."""
    keras = require("ml", "keras")
    from tpcml.ml.architectures import mlp

    keras.utils.set_random_seed(seed)
    return mlp(
        hidden=(128, 32),  # tpcml's choice (DARWIN-VAE App. B not available)
        n_inputs=x_train.shape[1],
        feature_min=x_train.min(axis=0),
        feature_max=x_train.max(axis=0),
        name="darwin_classifier",
    )


def train_classifier(x_train, y_train, x_val, y_val, epochs: int, batch_size: int = 128, seed: int = 0, say=None):
    """Returns (model, training loss per epoch, validation accuracy per epoch)."""
    keras = require("ml", "keras")
    model = build_classifier(x_train, seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size, verbose=0)
    loss = [float(v) for v in hist.history["loss"]]
    acc = [float(v) for v in hist.history["val_accuracy"]]
    if say:
        say(f"classifier: loss {loss[0]:.3f} -> {loss[-1]:.3f}, validation accuracy {acc[-1]:.3f}")
    return model, loss, acc


def ts_parts(vae: Vae, classifier, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """(N, 3): KL (without beta), -log N(x; x_D(mu), sigma_D) (the mean-latent plug-in) and H_B, in NumPy from the
    Keras models: the reference of tpcml::AnomalyScore."""
    mu, log_var = (np.asarray(a, np.float64) for a in vae.encoder.predict(x, batch_size=batch_size, verbose=0))
    kl = 0.5 * np.sum(mu**2 + np.exp(log_var) - 1.0 - log_var, axis=1)
    x_d = np.asarray(vae.decoder.predict(mu.astype(np.float32), batch_size=batch_size, verbose=0), np.float64)
    d = (x.astype(np.float64) - x_d) * np.exp(-vae.log_sigma_d)
    nll = np.sum(0.5 * d * d + vae.log_sigma_d + HALF_LOG_2PI, axis=1)
    p = np.clip(np.asarray(classifier.predict(x, batch_size=batch_size, verbose=0), np.float64)[:, 0], 0.0, P_MAX)
    return np.stack([kl, nll, -np.log1p(-p)], axis=1)


def ts_from_parts(parts: np.ndarray, R: float, beta: float = BETA) -> np.ndarray:
    """TS = beta KL - log N + R H_B (DARWIN-VAE Sec. 3.2)."""
    return beta * parts[:, 0] + parts[:, 1] + R * parts[:, 2]


def export(vae: Vae, classifier, out_dir, columns: list[str] | None = None) -> dict[str, str]:
    """encoder.onnx (x -> z_mean, z_log_var), decoder.onnx (z -> x_D; metadata tpcml.log_sigma_d, tpcml.beta),
    classifier.onnx (x -> p) with :func:`tpcml.ml.export.to_onnx` (onnxruntime-checked)."""
    from pathlib import Path

    from tpcml.ml.export import to_onnx

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = {"tpcml.study": "darwin", "tpcml.vector": "tpcml::EventVectorBuilder log1p"}
    paths = {
        "encoder": to_onnx(vae.encoder, out_dir / "encoder.onnx", metadata=meta),
        "decoder": to_onnx(
            vae.decoder,
            out_dir / "decoder.onnx",
            metadata={**meta, "tpcml.beta": vae.beta, "tpcml.log_sigma_d": [float(v) for v in vae.log_sigma_d]},
        ),
        "classifier": to_onnx(classifier, out_dir / "classifier.onnx", metadata=meta),
    }
    return {k: str(v) for k, v in paths.items()}
