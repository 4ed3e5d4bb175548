"""The two networks of nT-CVAE Fig. 2 and the deterministic anomaly-score model that is exported to ONNX.

* :func:`paper_cvae`: the CVAE of nT-CVAE Sec. VI A (Fig. 2 top). tpcml.ml.architectures.conv_vae is a smaller
  stride-2 VAE without pooling (its docstring says so), so the paper's layout is built here from the same pieces
  (``VAESampling``, ``LogVarToSigma``): 75 x 75 x 3 -> 3 x [Conv2D(128, 3x3, stride 3, "same") -> LeakyReLU(0.05)]
  with MaxPool 2 x 2 after the first and 1 x 1 after the second -> Flatten -> Dense(256) means and Dense(256)
  log-variances; decoder Dense(3 x 3 x 128) -> Reshape -> 3 x Conv2DTranspose(3x3, stride 3, "same") (128, 128, 3
  filters; LeakyReLU(0.05) after the first two) -> 81 x 81 -> Cropping2D to 75 x 75 -> sigmoid. The paper says
  only "a reflection of the encoder using convolution transpose with 'same' padding"; the 3 x 3 start, the crop and
  the sigmoid output (images in [0, 1]) are tpcml's choices.
* CNN of Fig. 2 bottom: ``tpcml.ml.architectures.xenon1t_cnn(n_conv=2)`` -- two Conv + MaxPool blocks and a
  sigmoid output (nT-CVAE: "a slightly tuned version of that from Ref. [35]", i.e. the X1T-CNN network); trained
  ER = 0 / NR = 1.
* :func:`score_model`: image -> [sse, kl, p] per event, deterministic (encoder means fed to the decoder), the part
  of TS (Eq. 10) that is exported to ONNX and run by tpcml's C++ engine.

Loss normalisation. Training (Eqs. 7-9): the reconstruction term is the per-pixel mean squared error (Eq. 7 with
N the number of pixel values, 75 x 75 x 3) and the KL term the standard Gaussian KL summed over the 256 latent
dimensions (Eq. 9 as usually written, -1/2 sum(1 + log s^2 - m^2 - s^2)) divided by the same N: the beta-VAE
negative ELBO per pixel, which has the same minimum as the summed ELBO; beta = 0.5 (Sec. V: "we find optimal
performance for beta = 0.5").
Anomaly score (Eq. 10): TS is per event and Eq. 11, written beside it, indexes images with i, so Eq. 10's
(x_i - y_i)^2 is the squared distance between one input image and its reconstruction, summed over its pixel values
(SSE), plus beta times the summed KL: TS = SSE + beta KL + R H_B. With that scale R is the paper's R (its optimum
~170); the per-pixel mean would make R smaller by the 16,875 pixel values.
"""

from __future__ import annotations

import numpy as np

from tpcml.core.extras import require

#: nT-CVAE Sec. V: beta = 0.5
BETA = 0.5
#: nT-CVAE Sec. VI A: 256 means and 256 variances
LATENT = 256
#: nT-CVAE Sec. VI A: three convolutions of 128 filters, 3 x 3, stride 3
FILTERS = 128
#: nT-CVAE Sec. VI A (after Ref. [35]): LeakyReLU alpha = 0.05
LEAKY = 0.05
#: nT-CVAE Sec. VI B: mini-batches of 100
BATCH = 100
IMAGE_SHAPE = (75, 75, 3)
N_PIXELS = int(np.prod(IMAGE_SHAPE))
#: Keras' binary cross-entropy clip: H_B = -log(1 - p) with p <= 1 - 1e-7 (Eq. 11 would be infinite at p = 1)
P_CLIP = 1e-7


def paper_cvae(seed: int | None = None, latent: int = LATENT, filters: int = FILTERS, beta: float = BETA):
    """``(encoder, decoder, vae)`` of nT-CVAE Sec. VI A (module docstring). ``encoder``: image -> [z_mean,
    z_log_var]; ``decoder``: z -> image; ``vae``: the training model (random sampling, KL added as a layer loss;
    compile with ``loss="mse"``)."""
    keras = require("ml", "keras")
    layers = keras.layers

    from tpcml.ml.architectures import VAESampling

    image = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = image
    for i, pool in enumerate((2, 1, None)):  # Sec. VI A: pooling 2 x 2 and 1 x 1 after the first two convolutions
        x = layers.Conv2D(filters, 3, strides=3, padding="same", name=f"enc_conv_{i}")(x)
        x = layers.LeakyReLU(negative_slope=LEAKY, name=f"enc_leaky_{i}")(x)
        if pool is not None:
            x = layers.MaxPooling2D(pool_size=pool, name=f"enc_pool_{i}")(x)
    x = layers.Flatten(name="enc_flatten")(x)
    z_mean = layers.Dense(latent, name="z_mean")(x)
    z_log_var = layers.Dense(latent, name="z_log_var")(x)
    encoder = keras.Model(image, [z_mean, z_log_var], name="cvae_encoder")

    z = keras.Input(shape=(latent,), name="z")
    y = layers.Dense(3 * 3 * filters, name="dec_dense")(z)
    y = layers.LeakyReLU(negative_slope=LEAKY, name="dec_leaky_dense")(y)
    y = layers.Reshape((3, 3, filters), name="dec_reshape")(y)
    for i, f in enumerate((filters, filters)):
        y = layers.Conv2DTranspose(f, 3, strides=3, padding="same", name=f"dec_deconv_{i}")(y)
        y = layers.LeakyReLU(negative_slope=LEAKY, name=f"dec_leaky_{i}")(y)
    y = layers.Conv2DTranspose(IMAGE_SHAPE[2], 3, strides=3, padding="same", name="dec_deconv_out")(y)  # 81 x 81
    y = layers.Cropping2D(((3, 3), (3, 3)), name="dec_crop")(y)
    decoder = keras.Model(z, layers.Activation("sigmoid", name="reconstruction")(y), name="cvae_decoder")

    vin = keras.Input(shape=IMAGE_SHAPE, name="image")
    mu, log_var = encoder(vin)
    sample = VAESampling(beta=beta, kl_scale=N_PIXELS, seed=seed, name="sampling")([mu, log_var])
    vae = keras.Model(vin, decoder(sample), name="cvae")
    return encoder, decoder, vae


def cnn():
    """The CNN of nT-CVAE Fig. 2 bottom: X1T-CNN's network with two Conv + MaxPool blocks (module docstring)."""
    from tpcml.ml.architectures import xenon1t_cnn

    return xenon1t_cnn(n_conv=2, name="xenonnt_cnn")


def _fit(model, loss: str, x, y, x_val, y_val, epochs: int, batch_size: int, verbose: int, **compile_options):
    """Adam(1e-3) on ``loss``, ``epochs`` epochs in shuffled mini-batches; the per-epoch history as lists."""
    keras = require("ml", "keras")

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, **compile_options)
    hist = model.fit(
        x, y, validation_data=(x_val, y_val), epochs=int(epochs), batch_size=batch_size, shuffle=True, verbose=verbose
    )
    return {k: [float(v) for v in vals] for k, vals in hist.history.items()}


def train_cvae(x_train, x_test, epochs: int, seed: int = 0, batch_size: int = BATCH, verbose: int = 0):
    """Train :func:`paper_cvae` on ER images; returns ``(encoder, decoder, history)`` with the per-epoch total
    loss of the training and test sets (``loss``, ``val_loss``: reconstruction + beta KL per pixel, Fig. 3)."""
    require("ml", "keras").utils.set_random_seed(int(seed))
    encoder, decoder, vae = paper_cvae(seed=seed)
    return encoder, decoder, _fit(vae, "mse", x_train, x_train, x_test, x_test, epochs, batch_size, verbose)


def train_cnn(x_train, y_train, x_test, y_test, epochs: int, seed: int = 0, batch_size: int = BATCH, verbose=0):
    """Train :func:`cnn` ER = 0 / NR = 1 (binary cross-entropy, Adam); returns ``(model, history, accuracy)`` with
    the test accuracy at p > 0.5."""
    require("ml", "keras").utils.set_random_seed(int(seed))
    model = cnn()
    hist = _fit(
        model,
        "binary_crossentropy",
        x_train,
        y_train,
        x_test,
        y_test,
        epochs,
        batch_size,
        verbose,
        metrics=["accuracy"],
    )
    p = model.predict(x_test, batch_size=256, verbose=0)[:, 0]
    acc = float(np.mean((p > 0.5) == (y_test > 0.5)))
    return model, hist, acc


def score_model(encoder, decoder, classifier):
    """image -> ``terms`` [N, 3] = (sum over the pixel values of the squared reconstruction error from the mean
    latent, KL summed over the latent, CNN p): the deterministic part of Eq. 10, exportable to ONNX (no random op)."""
    keras = require("ml", "keras")
    layers, ops = keras.layers, keras.ops

    image = keras.Input(shape=IMAGE_SHAPE, name="image")
    mu, log_var = encoder(image)
    rec = decoder(mu)
    diff = layers.Subtract(name="residual")([image, rec])
    sse = layers.Lambda(
        lambda d: ops.sum(ops.reshape(ops.square(d), (-1, N_PIXELS)), axis=-1, keepdims=True), name="sse"
    )(diff)
    kl = layers.Lambda(
        lambda t: -0.5 * ops.sum(1.0 + t[1] - ops.square(t[0]) - ops.exp(t[1]), axis=-1, keepdims=True), name="kl"
    )([mu, log_var])
    p = classifier(image)
    terms = layers.Concatenate(axis=-1, name="terms")([sse, kl, p])
    return keras.Model(image, terms, name="xenonnt_ts_terms")


def ts_expression(R: float, terms: str = "terms", beta: float = BETA) -> str:
    """The C++ expression of :func:`ts_from_terms` for an RDataFrame ``Define`` on the RVec<float> column
    ``terms`` (sse, kl, p) that ``tpcml::onnx::defineScore`` makes of the exported score model."""
    R = float(R)
    if not (np.isfinite(R) and R >= 0):
        raise ValueError(f"R must be finite and >= 0, got {R}")
    return (
        f"double({terms}[0]) + {beta!r} * double({terms}[1]) + {R!r} * "
        f"(-std::log1p(-std::min(double({terms}[2]), 1.0 - {P_CLIP!r})))"
    )


def ts_from_terms(terms, R, beta: float = BETA) -> np.ndarray:
    """TS = (SSE + beta KL) + R H_B per event (nT-CVAE Eq. 10 with Eq. 11 for one event, H_B =
    -log(1 - p), p clipped at 1 - 1e-7), from ``terms`` [N, 3] of :func:`score_model`; R a scalar or an array
    (then TS is [len(R), N])."""
    t = np.asarray(terms, dtype=np.float64)
    if t.ndim != 2 or t.shape[1] != 3:
        raise ValueError(f"terms must be [N, 3] (sse, kl, p), got shape {t.shape}")
    R = np.asarray(R, dtype=np.float64)
    if np.any(R < 0) or not np.all(np.isfinite(R)):
        raise ValueError(f"R must be finite and >= 0, got {R}")
    vae = t[:, 0] + beta * t[:, 1]
    hb = -np.log1p(-np.clip(t[:, 2], 0.0, 1.0 - P_CLIP))
    return vae + R[..., None] * hb if R.ndim else vae + float(R) * hb
