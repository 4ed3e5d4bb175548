"""A generic training loop for binary image classifiers (Keras 3): :func:`train_classifier`, and the ResNet50
baseline :func:`resnet50`.

* :func:`train_classifier` -- Adam (learning rate 1e-3 by default), binary cross-entropy, minibatches (256 by
  default), optionally random horizontal and vertical flips of the training images, one record per epoch
  (validation accuracy and loss, test predictions) and the weights of every epoch kept, so that a study's
  protocol can pick epochs afterwards (e.g. PandaX-III's, :mod:`tpcml.studies.pandax3.protocol`).

The defaults are those of *Optimization of convolutional neural networks for background suppression in the
PandaX-III experiment* (P3-CNN), Sec. 4.3 (optimiser, learning rate, batch size) and Sec. 3.2 (flips).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tpcml.core.extras import require

__all__ = ["BATCH_SIZE", "LEARNING_RATE", "EpochRecord", "TrainingResult", "resnet50", "train_classifier"]

LEARNING_RATE = 1e-3  # P3-CNN Sec. 4.3: "learning rate set to be 0.001"
BATCH_SIZE = 256  # P3-CNN Sec. 4.3: "batch size set to be 256"


def resnet50(
    input_size: int = 128,
    channels: int = 3,
    input_scale: float = 1.0,
    bn_momentum: float | None = None,
    name: str = "resnet50",
):
    """The ResNet50 baseline of P3-CNN Sec. 4.1 (Table 1: Xi = 6.80): ``keras.applications.ResNet50`` trunk with
    ``weights=None`` (nothing is downloaded), global max pooling and one sigmoid output, like the EfficientNets
    (:func:`tpcml.ml.architectures.efficientnet`, whose ``input_scale`` and ``bn_momentum`` these mirror).
    ResNet50's own preprocessing is not part of the trunk."""
    keras = require("ml", "keras")
    layers = keras.layers

    shape = (int(input_size), int(input_size), int(channels))
    base = keras.applications.ResNet50(include_top=False, weights=None, input_shape=shape, pooling=None)
    if bn_momentum is not None:
        for layer in base.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.momentum = float(bn_momentum)
    inputs = keras.Input(shape=shape, name="image")
    x = inputs if input_scale == 1.0 else layers.Rescaling(float(input_scale), name="input_scale")(inputs)
    x = base(x)
    x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="score")(x)
    return keras.Model(inputs, outputs, name=name)


@dataclass
class EpochRecord:
    epoch: int  # 1-based
    loss: float
    val_loss: float
    val_accuracy: float
    seconds: float
    images_per_second: float


@dataclass
class TrainingResult:
    name: str
    epochs: list[EpochRecord]
    test_predictions: np.ndarray  # [epochs, N_test]
    weights: list[list[np.ndarray]] = field(repr=False)  # per epoch
    model: object = field(repr=False, default=None)

    def history(self) -> dict[str, list[float]]:
        return {
            "val_loss": [e.val_loss for e in self.epochs],
            "val_accuracy": [e.val_accuracy for e in self.epochs],
            "loss": [e.loss for e in self.epochs],
        }


def _flip_batches(x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator):
    """Shuffled minibatches with each image flipped horizontally and/or vertically with probability 1/2 each
    (P3-CNN Sec. 3.2: random horizontal and vertical flipping during training). NHWC."""
    order = rng.permutation(len(x))
    for start in range(0, len(x), batch_size):
        idx = order[start : start + batch_size]
        xb = x[idx].copy()
        h = rng.random(len(idx)) < 0.5
        v = rng.random(len(idx)) < 0.5
        xb[h] = xb[h][:, :, ::-1, :]
        xb[v] = xb[v][:, ::-1, :, :]
        yield xb, y[idx]


def train_classifier(
    build: Callable[[], object],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    x_test: np.ndarray,
    epochs: int = 5,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    seed: int = 0,
    flips: bool = True,
    say: Callable[[str], None] | None = None,
    quiet: bool = False,
) -> TrainingResult:
    """Train ``build()`` (a compiled-nothing Keras model with one sigmoid output) for ``epochs`` epochs, recording
    every epoch (validation loss/accuracy, test predictions, weights). Images NHWC float32, labels 0/1. An epoch
    longer than a few seconds shows a progress bar over its batches on stderr (none when ``quiet``)."""
    keras = require("ml", "keras")

    from tpcml.report import progress

    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    for name, x, y in (("train", x_train, y_train), ("val", x_val, y_val)):
        if len(x) != len(y):
            raise ValueError(f"x_{name} has {len(x)} images but y_{name} {len(y)} labels")
        if x.ndim != 4:
            raise ValueError(f"x_{name} must be NHWC images [N, H, W, C], got shape {x.shape}")
    keras.utils.set_random_seed(int(seed))
    model = build()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(seed)
    y_train = np.asarray(y_train, dtype=np.float32)
    y_val = np.asarray(y_val, dtype=np.float32)
    records, preds, weights = [], [], []
    for ep in range(1, epochs + 1):
        t0 = time.perf_counter()
        losses = []
        batches = _flip_batches(x_train, y_train, batch_size, rng) if flips else None
        if batches is None:
            order = rng.permutation(len(x_train))
            batches = (
                (x_train[order[i : i + batch_size]], y_train[order[i : i + batch_size]])
                for i in range(0, len(order), batch_size)
            )
        n_batches = -(-len(x_train) // batch_size)
        with progress.bar(n_batches, f"{model.name} epoch {ep}/{epochs}", unit="batch", quiet=quiet) as shown:
            for xb, yb in batches:
                out = model.train_on_batch(xb, yb, return_dict=True)
                losses.append(float(out["loss"]))
                shown.update()
                shown.set_postfix(loss=f"{losses[-1]:.4f}", refresh=False)
        train_s = time.perf_counter() - t0
        ev = model.evaluate(x_val, y_val, batch_size=batch_size, verbose=0, return_dict=True)
        p = model.predict(x_test, batch_size=batch_size, verbose=0).ravel()
        rec = EpochRecord(
            epoch=ep,
            loss=float(np.mean(losses)),
            val_loss=float(ev["loss"]),
            val_accuracy=float(ev["accuracy"]),
            seconds=time.perf_counter() - t0,
            images_per_second=len(x_train) / train_s,
        )
        records.append(rec)
        preds.append(p)
        weights.append([w.copy() for w in model.get_weights()])
        if say:
            say(
                f"  {model.name}: epoch {ep}/{epochs}, loss {rec.loss:.4f}, val loss {rec.val_loss:.4f}, val "
                f"accuracy {rec.val_accuracy:.4f}, {rec.images_per_second:.0f} images/s"
            )
    return TrainingResult(
        name=model.name, epochs=records, test_predictions=np.stack(preds), weights=weights, model=model
    )
