"""Keras 3 model builders for the architectures of the papers tpcml reproduces.

Every builder returns *Functional* ``keras.Model`` objects (tf2onnx cannot convert a Keras 3 ``Sequential``
model, onnx/tensorflow-onnx#2448) written with ``keras.layers`` / ``keras.ops`` only, so the models train
unchanged under the TensorFlow, JAX or PyTorch backend; ONNX export (``tpcml.ml.export``) needs TensorFlow.

Paper references below name the paper by its tag and the section:

* P2-DNN -- *Suppression of accidental backgrounds with deep neural networks in the PandaX-II experiment*
  (N. Shaheed, X. Chen, M. Wang): PandaX-II accidental-background MLP (Sec. 4, Table 2);
* X1T -- *Convolutional Neural Networks for Direct Detection of Dark Matter* (C. K. Khosa, L. Mars, J. Richards,
  V. Sanz): XENON1T HitPeak-image CNN (Sec. IV "CNN architecture", Sec. IV A, Sec. V);
* P3-CNN -- *Optimization of convolutional neural networks for background suppression in the PandaX-III
  experiment* (S. Xia et al.): PandaX-III EfficientNet track classifier (Sec. 4.3, Tables 2-3);
* XnT -- *A semi-supervised approach to dark matter searches in direct detection data with machine learning*
  (J. Herrero-Garcia, R. Patrick, A. Scaffidi): XENONnT convolutional VAE (Sec. VI A);
* DARWIN -- *Model-independent searches of new physics in DARWIN with deep learning* (DARWIN collaboration,
  J. Aalbers et al.): DARWIN VAE + classifier anomaly score (Sec. 3; ELBO of Eq. B.2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tpcml.core.extras import require

keras = require("ml", "keras")
layers, ops = keras.layers, keras.ops

__all__ = [
    "PANDAX2_MLP_LAYERS",
    "LogVarToSigma",
    "VAESampling",
    "conv_vae",
    "efficientnet",
    "mlp",
    "mlp_from_label",
    "xenon1t_cnn",
]

# ---------------------------------------------------------------------------------------------------------------
# PandaX-II MLP
# ---------------------------------------------------------------------------------------------------------------

# P2-DNN Sec. 4, Table 2 ("Hidden Layers": neurons per hidden layer). The table gives every
# width explicitly; the label's digit is the number of hidden layers.
PANDAX2_MLP_LAYERS: dict[str, tuple[int, ...]] = {
    "4A": (32, 16, 8, 8),
    "4B": (32, 16, 16, 8),
    "4C": (32, 32, 16, 8),
    "4D": (128, 128, 64, 32),
    "4E": (512, 512, 256, 256),
    "5A": (32, 16, 8, 8, 8),
    "5B": (32, 16, 16, 8, 8),
    "5C": (32, 32, 16, 8, 8),
    "5D": (32, 32, 16, 16, 8),
    "5E": (128, 128, 64, 32, 16),
    "5F": (512, 512, 256, 256, 128),
    "6A": (32, 16, 16, 8, 8, 8),
    "6B": (32, 32, 16, 16, 8, 8),
    "6C": (32, 32, 16, 16, 16, 8),
    "7A": (32, 16, 16, 16, 12, 12, 12),
    "7B": (32, 32, 16, 16, 16, 8, 8),
    "7C": (32, 32, 16, 16, 12, 12, 8),
    "7D": (32, 32, 16, 16, 16, 12, 12),
}
# P2-DNN Sec. 4 (after Table 2): "4Cu" and "4Eu" are the 4C and 4E networks retrained with the
# NR events above the NR median included -- same architecture, different training data.
_PANDAX2_RETRAINED = {"4CU": "4C", "4EU": "4E"}

# P2-DNN Sec. 3, Table 1: the 13 event properties used as MLP inputs.
PANDAX2_N_FEATURES = 13


def _minmax_rescaling(n_inputs: int, feature_min, feature_max) -> layers.Rescaling:
    """``Rescaling`` layer computing (x - min) / (max - min) per feature (identity when both are None)."""
    if feature_min is None and feature_max is None:
        return layers.Rescaling(scale=1.0, offset=0.0, name="minmax")
    if feature_min is None or feature_max is None:
        raise ValueError("give both feature_min and feature_max, or neither")
    lo = np.broadcast_to(np.asarray(feature_min, dtype=np.float64), (n_inputs,))
    hi = np.broadcast_to(np.asarray(feature_max, dtype=np.float64), (n_inputs,))
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError("feature_min and feature_max must be finite")
    if np.any(hi < lo):
        bad = np.flatnonzero(hi < lo).tolist()
        raise ValueError(f"feature_max < feature_min for feature indices {bad}")
    span = hi - lo
    # A constant feature (max == min) is only shifted to 0, not divided by zero.
    scale = np.where(span > 0, 1.0 / np.where(span > 0, span, 1.0), 1.0)
    offset = -lo * scale
    # Python lists (not arrays) keep the layer config JSON-serialisable for .keras files.
    return layers.Rescaling(scale=scale.tolist(), offset=offset.tolist(), name="minmax")


def mlp(
    hidden: Sequence[int] = (32, 32, 16, 8),
    n_inputs: int = PANDAX2_N_FEATURES,
    feature_min=None,
    feature_max=None,
    activation: str = "relu",
    name: str | None = None,
) -> keras.Model:
    """Fully connected binary classifier with the min-max normalisation inside the model.

    Layout (P2-DNN Sec. 4): input of ``n_inputs`` features (default 13, Table 1) ->
    min-max normalisation (Sec. 4: "The input data have been rescaled with the min-max normalization"), carried as a
    ``keras.layers.Rescaling(scale=1/(max-min), offset=-min/(max-min))`` so an exported ONNX model takes raw
    features -> ``Dense`` hidden layers of widths ``hidden`` -> ``Dense(1, sigmoid)`` (Sec. 4: "The activation
    function used in the output layer of the MLP is the 'sigmoid' function").

    ``feature_min`` / ``feature_max`` are per-feature sequences (or scalars) taken from the training sample; when
    both are None the scaling is the identity. A feature with max == min is only shifted.

    The paper does not name the hidden-layer activation; ``"relu"`` (the default) is our choice, not the paper's.
    The default ``hidden`` is model 4C (Table 2), the one selected for the PandaX-II Run 11 analysis.
    """
    hidden = tuple(int(h) for h in hidden)
    if not hidden or any(h <= 0 for h in hidden):
        raise ValueError(f"hidden must be a non-empty sequence of positive widths, got {hidden}")
    if n_inputs <= 0:
        raise ValueError(f"n_inputs must be positive, got {n_inputs}")
    name = name or "mlp_" + "x".join(str(h) for h in hidden)
    inputs = keras.Input(shape=(n_inputs,), name="features")
    x = _minmax_rescaling(n_inputs, feature_min, feature_max)(inputs)
    for i, width in enumerate(hidden):
        x = layers.Dense(width, activation=activation, name=f"dense_{i}")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="score")(x)
    return keras.Model(inputs, outputs, name=name)


def mlp_from_label(label: str, **kwargs) -> keras.Model:
    """The PandaX-II MLP with the label of P2-DNN Sec. 4, Table 2 (e.g. ``"4C"``).

    Labels 4A-4E, 5A-5F, 6A-6C and 7A-7D are the scanned networks (first digit = number of hidden layers, widths
    from the table, all given explicitly there). ``"4Cu"`` / ``"4Eu"`` (Sec. 4, Table 3) are the 4C / 4E
    networks retrained on the updated data set, so they build the 4C / 4E architecture. Other keyword
    arguments go to :func:`mlp`.
    """
    key = str(label).strip().upper()
    key = _PANDAX2_RETRAINED.get(key, key)
    if key not in PANDAX2_MLP_LAYERS:
        known = ", ".join([*PANDAX2_MLP_LAYERS, "4Cu", "4Eu"])
        raise ValueError(f"unknown PandaX-II MLP label {label!r}; known labels: {known}")
    kwargs.setdefault("name", f"pandax2_mlp_{str(label).strip()}")
    return mlp(hidden=PANDAX2_MLP_LAYERS[key], **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# XENON1T HitPeak CNN
# ---------------------------------------------------------------------------------------------------------------


def xenon1t_cnn(
    input_shape: tuple[int, int, int] = (75, 75, 3),
    n_conv: int = 1,
    filters: int = 16,
    kernel: int = 3,
    leaky_alpha: float = 0.05,
    dense: int = 32,
    name: str = "xenon1t_cnn",
) -> keras.Model:
    """The XENON1T HitPeak-image CNN of X1T Sec. IV ("CNN architecture") and Fig. 8.

    * input: 75x75 RGB HitPeak image with pixels scaled to [0, 1] (Sec. IV: images downscaled to 75x75 and
      divided by 255 -- the division is done by the caller, not in the model);
    * ``n_conv`` x [Conv2D(16 filters, 3x3, stride 1, no padding, L2 kernel regulariser 0.005) -> LeakyReLU ->
      MaxPool 2x2] (Sec. IV); the grid search of Sec. IV A / Sec. V found one convolution layer best (default);
    * Dropout 0.25 after the last convolution block (Sec. IV, Fig. 8);
    * Flatten -> Dense(32, L2 0.001 on kernel and bias) -> LeakyReLU -> Dropout 0.5 (Sec. IV);
    * Dense(1, sigmoid) (Sec. IV).

    LeakyReLU negative slope 0.05: Sec. IV A, Table II (best of 0.001, 0.01, 0.05, 0.1).
    """
    if n_conv < 1:
        raise ValueError(f"n_conv must be >= 1, got {n_conv}")
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    for i in range(n_conv):
        x = layers.Conv2D(
            filters,  # X1T Sec. IV: 16 filters
            kernel,  # Sec. IV: 3x3
            strides=1,  # Sec. IV: default stride 1x1
            padding="valid",  # Sec. IV: no padding
            kernel_regularizer=keras.regularizers.L2(0.005),  # Sec. IV: L2 kernel_regularizer alpha 0.005
            name=f"conv_{i}",
        )(x)
        x = layers.LeakyReLU(negative_slope=leaky_alpha, name=f"leaky_conv_{i}")(x)  # Sec. IV A, Table II
        x = layers.MaxPooling2D(pool_size=2, name=f"pool_{i}")(x)  # Sec. IV: max pooling 2x2 after each conv
    x = layers.Dropout(0.25, name="dropout_conv")(x)  # Sec. IV / Fig. 8: dropout 25% after the last conv block
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(
        dense,  # Sec. IV: first dense layer has 32 units
        kernel_regularizer=keras.regularizers.L2(0.001),  # Sec. IV: weight regulariser alpha 0.001
        bias_regularizer=keras.regularizers.L2(0.001),  # Sec. IV: bias regulariser alpha 0.001
        name="dense",
    )(x)
    x = layers.LeakyReLU(negative_slope=leaky_alpha, name="leaky_dense")(x)
    x = layers.Dropout(0.5, name="dropout_dense")(x)  # Sec. IV / Fig. 8: dropout 50% before the output
    outputs = layers.Dense(1, activation="sigmoid", name="score")(x)  # Sec. IV: single sigmoid output unit
    return keras.Model(inputs, outputs, name=name)


# ---------------------------------------------------------------------------------------------------------------
# PandaX-III EfficientNet
# ---------------------------------------------------------------------------------------------------------------

_EFFICIENTNETS = {"B0": "EfficientNetB0", "B4": "EfficientNetB4"}


def _clone_hook(strip_preprocessing: bool, bn_momentum: float | None):
    """clone_model hook: Keras' built-in input Rescaling(1/255) and Normalization become identities (when
    ``strip_preprocessing``); BatchNormalization layers get ``bn_momentum`` (when given)."""

    def clone(layer):
        if strip_preprocessing and isinstance(layer, layers.Rescaling | layers.Normalization):
            return layers.Identity(name=f"{layer.name}_removed")
        config = layer.get_config()
        if bn_momentum is not None and isinstance(layer, layers.BatchNormalization):
            config["momentum"] = float(bn_momentum)
        return layer.__class__.from_config(config)

    return clone


def efficientnet(
    variant: str = "B0",
    input_size: int = 128,
    channels: int = 3,
    top_channels: int | None = None,
    pooling: str = "max",
    dropout: float = 0.2,
    include_preprocessing: bool = False,
    input_scale: float = 1.0,
    bn_momentum: float | None = None,
    name: str | None = None,
) -> keras.Model:
    """EfficientNet-B0/B4 binary track classifier of P3-CNN Sec. 4.3 and Table 2.

    * ``keras.applications.EfficientNetB0/B4`` trunk, ``weights=None`` (trained from scratch), input
      ``input_size`` x ``input_size`` x ``channels``: Sec. 4.3 / Table 3 chose 128x128 (64x64 images scaled x2 by
      nearest-neighbour) with the XZ / YZ projections in the red / green channels (Sec. 3.2);
    * Stage 9 "TopConv1x1" (Table 2): 1x1 convolution with ``top_channels`` = n filters -> BatchNorm -> swish.
      The default n is 1792 for B4 (Table 2) and 1280 for B0; Sec. 4.3 scans n = 2, 4, 6, 8, 10 and finds n = 8
      best (average significance 10.32). ``top_channels=None`` keeps Keras' own top convolution (1280 / 1792);
      an integer replaces it with ``Conv2D(n, 1) -> BatchNormalization -> swish`` on the block-7 output;
    * Stage 10 "Pooling & FC" (Table 2): global **max** pooling (Sec. 4.3 chooses max- over average-pooling) ->
      Dropout(``dropout``; Keras' default EfficientNet top dropout, the paper does not give one) ->
      Dense(1, sigmoid), one value between 0 (background) and 1 (signal) (Sec. 4.3).

    Preprocessing: the EfficientNet-v1 builders of ``keras.applications`` always start with ``Rescaling(1/255)``
    and ``Normalization`` layers (their API has no ``include_preprocessing`` switch, unlike EfficientNetV2). The
    paper's images are energy fractions, not 8-bit pixels, so by default (``include_preprocessing=False``) the
    trunk is cloned with those two layers replaced by ``Identity`` layers: the model sees the input as given and
    the exported ONNX graph has no preprocessing nodes. (Keeping them is also exportable through
    ``tf2onnx.convert.from_keras`` -- the un-adapted Normalization is an identity -- but other export routes turn
    its mean/variance into extra graph inputs; see shared/ENVIRONMENT.md, tf2onnx trap 2.)

    ``input_scale`` != 1 multiplies the input by a constant ``Rescaling`` first (part of the model and of its ONNX
    export): tpcml's track images hold charge fractions of order 1e-3 per pixel, and BatchNormalization's running
    statistics (initialised to mean 0, variance 1) take far longer to reach inputs that small than a CPU-sized run
    lasts. ``bn_momentum`` sets the momentum of every BatchNormalization (Keras' default 0.99 averages over ~100
    steps; 0.9 over ~10, for runs of a few hundred steps). The paper states neither (trained at its scale, the
    defaults are fine).
    """
    key = str(variant).strip().upper()
    if key not in _EFFICIENTNETS:
        raise ValueError(f"variant must be one of {sorted(_EFFICIENTNETS)}, got {variant!r}")
    if pooling not in ("max", "avg"):
        raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
    if top_channels is not None and top_channels <= 0:
        raise ValueError(f"top_channels must be positive or None, got {top_channels}")
    shape = (int(input_size), int(input_size), int(channels))
    builder = getattr(keras.applications, _EFFICIENTNETS[key])
    base = builder(include_top=False, weights=None, input_shape=shape, pooling=None)
    inputs = keras.Input(shape=shape, name="image")
    x_in = inputs if input_scale == 1.0 else layers.Rescaling(float(input_scale), name="input_scale")(inputs)
    hook = _clone_hook(not include_preprocessing, bn_momentum)
    trunk = keras.models.clone_model(base, input_tensors=x_in, clone_function=hook)
    if top_channels is None:
        # Keras' top_conv (1280 / 1792 filters) -> top_bn -> top_activation (swish), reached by layer like the
        # n case: with an input_scale in front, the clone's own `output` is not connected to `inputs`
        x = trunk.get_layer("top_activation").output
    else:
        x = trunk.get_layer("top_conv").input  # block-7 output (Table 2 stage 8)
        # P3-CNN Table 2 stage 9 "TopConv1x1" with n channels (Sec. 4.3 scans n).
        x = layers.Conv2D(
            int(top_channels),
            1,
            padding="same",
            use_bias=False,
            kernel_initializer=keras.initializers.VarianceScaling(2.0, "fan_out", "truncated_normal"),
            name="top_conv_n",
        )(x)
        x = layers.BatchNormalization(name="top_bn_n")(x)
        x = layers.Activation("swish", name="top_activation_n")(x)
    if pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool")(x)  # Sec. 4.3: max-pooling before the FC layer
    else:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="top_dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="score")(x)  # Sec. 4.3: single value in [0, 1]
    n_label = "" if top_channels is None else f"_n{int(top_channels)}"
    return keras.Model(inputs, outputs, name=name or f"efficientnet_{key.lower()}{n_label}")


# ---------------------------------------------------------------------------------------------------------------
# Convolutional VAE
# ---------------------------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="tpcml")
class LogVarToSigma(layers.Layer):
    """sigma = exp(0.5 * log_var): the standard deviation of the encoder's Gaussian (ONNX: Mul + Exp)."""

    def call(self, log_var):
        return ops.exp(0.5 * log_var)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="tpcml")
class VAESampling(layers.Layer):
    """Reparameterisation z = mu + exp(0.5 log_var) * eps, eps ~ N(0, 1), adding the KL term as a layer loss.

    The KL divergence to N(0, 1) (DARWIN Eq. B.2 / its TS formula in Sec. 3;
    XnT Sec. V), summed over the latent dimensions and averaged over the batch, is
    multiplied by ``beta`` and divided by ``kl_scale`` -- the builder passes the number of pixels, so with a
    per-pixel-mean reconstruction loss (``loss="binary_crossentropy"`` or ``"mse"``) the total loss is the negative
    ELBO per pixel. Uses ``keras.random`` (backend-agnostic); it does not convert to ONNX (ENVIRONMENT trap 3),
    export the encoder and decoder instead.
    """

    def __init__(self, beta: float = 1.0, kl_scale: float = 1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.beta = float(beta)
        self.kl_scale = float(kl_scale)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        kl = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
        self.add_loss(self.beta * ops.mean(kl) / self.kl_scale)
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "kl_scale": self.kl_scale, "seed": self.seed}


def conv_vae(
    input_shape: tuple[int, int, int] = (64, 64, 1),
    latent_dim: int = 8,
    filters: Sequence[int] = (32, 64),
    dense: int = 64,
    leaky_alpha: float = 0.05,
    beta: float = 1.0,
    sigma_output: bool = True,
    seed: int | None = None,
) -> tuple[keras.Model, keras.Model, keras.Model]:
    """Small convolutional VAE (XnT Sec. VI A; DARWIN Sec. 3).

    Returns ``(encoder, decoder, vae)``:

    * ``encoder``: image -> ``[z_mean, z_log_var]`` (deterministic) plus, with ``sigma_output`` (default),
      a third output ``z_sigma = exp(0.5 z_log_var)``. Layout: ``len(filters)`` x [Conv2D(3x3, stride 2, "same")
      -> LeakyReLU] -> Flatten -> Dense(``dense``) -> LeakyReLU -> two Dense(``latent_dim``) heads;
    * ``decoder``: z -> image in [0, 1]: Dense -> Reshape to ceil(H/2^k) x ceil(W/2^k) -> k x
      [Conv2DTranspose(3x3, stride 2, "valid") -> LeakyReLU] -> Conv2DTranspose(C, 3x3, stride 1, "same") ->
      Cropping2D to H x W -> sigmoid. A stride-2 "valid" transposed convolution maps s -> 2s + 1, so the stack
      always overshoots and the crop brings any input size (64x64, the papers' 75x75, ...) back exactly;
    * ``vae``: image -> reconstruction through :class:`VAESampling` (random, adds the KL loss); train it with
      ``vae.compile(optimizer, loss="binary_crossentropy"); vae.fit(x, x)``. Not exportable (random op).

    From the XENONnT CVAE (Sec. VI A): LeakyReLU with negative slope 0.05, convolutional encoder, decoder "a
    reflection of the encoder using convolution transpose", 3x3 kernels. Deliberately smaller than the paper's
    (three 128-filter stride-3 convolutions, 256-dimensional latent space, 75x75x3 input): the paper's sizes are
    reachable through the arguments except the stride, which is fixed at 2 here.
    """
    filters = tuple(int(f) for f in filters)
    if not filters:
        raise ValueError("filters must name at least one encoder convolution")
    h, w, c = (int(s) for s in input_shape)
    k = len(filters)

    # Encoder.
    image = keras.Input(shape=(h, w, c), name="image")
    x = image
    for i, f in enumerate(filters):
        # XnT Sec. VI A: 3x3 kernels, LeakyReLU alpha = 0.05
        x = layers.Conv2D(f, 3, strides=2, padding="same", name=f"enc_conv_{i}")(x)
        x = layers.LeakyReLU(negative_slope=leaky_alpha, name=f"enc_leaky_{i}")(x)
    x = layers.Flatten(name="enc_flatten")(x)
    x = layers.Dense(dense, name="enc_dense")(x)
    x = layers.LeakyReLU(negative_slope=leaky_alpha, name="enc_leaky_dense")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    enc_outputs = [z_mean, z_log_var]
    if sigma_output:
        enc_outputs.append(LogVarToSigma(name="z_sigma")(z_log_var))
    encoder = keras.Model(image, enc_outputs, name="vae_encoder")

    # Decoder: mirror of the encoder with transposed convolutions, cropped back to (h, w).
    h0, w0 = math.ceil(h / 2**k), math.ceil(w / 2**k)
    hk, wk = h0, w0
    for _ in range(k):
        hk, wk = 2 * hk + 1, 2 * wk + 1
    crop_h, crop_w = hk - h, wk - w
    z = keras.Input(shape=(latent_dim,), name="z")
    y = layers.Dense(h0 * w0 * filters[-1], name="dec_dense")(z)
    y = layers.LeakyReLU(negative_slope=leaky_alpha, name="dec_leaky_dense")(y)
    y = layers.Reshape((h0, w0, filters[-1]), name="dec_reshape")(y)
    for i, f in enumerate(reversed(filters)):
        y = layers.Conv2DTranspose(f, 3, strides=2, padding="valid", name=f"dec_deconv_{i}")(y)
        y = layers.LeakyReLU(negative_slope=leaky_alpha, name=f"dec_leaky_{i}")(y)
    y = layers.Conv2DTranspose(c, 3, strides=1, padding="same", name="dec_deconv_out")(y)
    cropping = ((crop_h // 2, crop_h - crop_h // 2), (crop_w // 2, crop_w - crop_w // 2))
    y = layers.Cropping2D(cropping, name="dec_crop")(y)  # ONNX: Slice
    reconstruction = layers.Activation("sigmoid", name="reconstruction")(y)
    decoder = keras.Model(z, reconstruction, name="vae_decoder")

    # Training model.
    vae_in = keras.Input(shape=(h, w, c), name="image")
    enc = encoder(vae_in)
    z_sample = VAESampling(beta=beta, kl_scale=h * w * c, seed=seed, name="sampling")([enc[0], enc[1]])
    vae = keras.Model(vae_in, decoder(z_sample), name="conv_vae")
    return encoder, decoder, vae
