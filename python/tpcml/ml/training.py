"""PandaX-III track classification: EfficientNet / ResNet50 training, the significance Xi and the paper's scoring
protocol (pandax3-efficientnet-tracks.md = P3-CNN, Sec. 4).

* :func:`xi` -- Xi = max over thresholds of eps_s / sqrt(eps_b) (P3-CNN Sec. 4.1), with the threshold, eps_s and
  eps_b of the maximum. A finite test set resolves eps_b only down to 1 / N_b: the scan keeps thresholds that pass
  at least ``min_background`` background events (default 1), so Xi stays finite; its statistical error grows as
  the number of passing background events shrinks (reported as ``n_background_pass``).
* :func:`train_classifier` -- Adam 1e-3 (Sec. 4.3), binary cross-entropy, batch 256 (Sec. 4.3), random horizontal
  and vertical flips of the training images (Sec. 3.2), one record per epoch (validation accuracy and loss, test
  predictions), the weights of every epoch kept so that the protocol below can pick them.
* :func:`paper_scores` -- the scoring protocol of Sec. 4.3: only epochs whose validation accuracy is within 0.001
  of the best; of those, the three with the smallest validation loss; their test predictions averaged.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ACCURACY_DELTA",
    "BATCH_SIZE",
    "LEARNING_RATE",
    "EpochRecord",
    "TrainingResult",
    "XiResult",
    "paper_scores",
    "resnet50",
    "split_indices",
    "train_classifier",
    "xi",
]

LEARNING_RATE = 1e-3  # P3-CNN Sec. 4.3: "learning rate set to be 0.001"
BATCH_SIZE = 256  # P3-CNN Sec. 4.3: "batch size set to be 256"
ACCURACY_DELTA = 1e-3  # P3-CNN Sec. 4.3: epochs with validation accuracy within delta < 0.001 of the best
N_EPOCHS_AVERAGED = 3  # P3-CNN Sec. 4.3: "the first three epochs with the smallest validation loss values"
SPLIT = (0.7, 0.2, 0.1)  # P3-CNN Sec. 3.2: 70 % training, 20 % validation, 10 % evaluation


@dataclass
class XiResult:
    xi: float
    threshold: float
    eps_s: float
    eps_b: float
    n_background_pass: int
    thresholds: np.ndarray = field(repr=False)
    eps_s_curve: np.ndarray = field(repr=False)
    eps_b_curve: np.ndarray = field(repr=False)


def xi(signal_scores, background_scores, min_background: int = 1) -> XiResult:
    """Xi = max eps_s / sqrt(eps_b) over cuts ``score >= t`` (P3-CNN Sec. 4.1), among cuts passing at least
    ``min_background`` background events. The candidate thresholds are all distinct scores."""
    s = np.asarray(signal_scores, dtype=np.float64).ravel()
    b = np.asarray(background_scores, dtype=np.float64).ravel()
    if len(s) == 0 or len(b) == 0:
        raise ValueError(f"xi needs signal and background scores, got {len(s)} and {len(b)}")
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(b))):
        raise ValueError("xi: scores must be finite")
    if min_background < 1 or min_background > len(b):
        raise ValueError(f"min_background must be in [1, {len(b)}], got {min_background}")
    t = np.unique(np.concatenate([s, b]))
    ss, bs = np.sort(s), np.sort(b)
    n_s = len(s) - np.searchsorted(ss, t, side="left")
    n_b = len(b) - np.searchsorted(bs, t, side="left")
    ok = n_b >= min_background
    eps_s, eps_b = n_s / len(s), n_b / len(b)
    ratio = np.where(ok, eps_s / np.sqrt(np.where(ok, eps_b, 1.0)), -np.inf)
    k = int(np.argmax(ratio))
    return XiResult(
        xi=float(ratio[k]),
        threshold=float(t[k]),
        eps_s=float(eps_s[k]),
        eps_b=float(eps_b[k]),
        n_background_pass=int(n_b[k]),
        thresholds=t,
        eps_s_curve=eps_s,
        eps_b_curve=eps_b,
    )


def split_indices(n: int, seed: int, fractions=SPLIT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random train/validation/test indices (default 70/20/10, P3-CNN Sec. 3.2), each sorted."""
    if n < 3:
        raise ValueError(f"need at least 3 events to split, got {n}")
    f = np.asarray(fractions, dtype=float)
    if f.shape != (3,) or np.any(f < 0) or not np.isclose(f.sum(), 1.0):
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {tuple(fractions)}")
    perm = np.random.default_rng(seed).permutation(n)
    a = round(float(f[0]) * n)
    b = a + round(float(f[1]) * n)
    return np.sort(perm[:a]), np.sort(perm[a:b]), np.sort(perm[b:])


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
    import keras
    from keras import layers

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
) -> TrainingResult:
    """Train ``build()`` (a compiled-nothing Keras model with one sigmoid output) for ``epochs`` epochs, recording
    every epoch (validation loss/accuracy, test predictions, weights). Images NHWC float32, labels 0/1."""
    import keras

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
        for xb, yb in batches:
            out = model.train_on_batch(xb, yb, return_dict=True)
            losses.append(float(out["loss"]))
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


def paper_epochs(result: TrainingResult, delta: float = ACCURACY_DELTA, n: int = N_EPOCHS_AVERAGED) -> list[int]:
    """Indices (0-based) of the epochs the protocol of P3-CNN Sec. 4.3 averages: validation accuracy within
    ``delta`` of the best, then the ``n`` of those with the smallest validation loss."""
    acc = np.array([e.val_accuracy for e in result.epochs])
    loss = np.array([e.val_loss for e in result.epochs])
    qualified = np.flatnonzero(acc >= acc.max() - delta)
    return sorted(qualified[np.argsort(loss[qualified], kind="stable")[:n]].tolist())


def paper_scores(result: TrainingResult, delta: float = ACCURACY_DELTA, n: int = N_EPOCHS_AVERAGED) -> np.ndarray:
    """Test scores of the protocol of P3-CNN Sec. 4.3: the average of the predictions of :func:`paper_epochs`."""
    return result.test_predictions[paper_epochs(result, delta, n)].mean(axis=0)
