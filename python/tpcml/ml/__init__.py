"""Machine-learning models of the papers tpcml reproduces (Keras 3), their training loops and ONNX export.

``tpcml.ml.architectures`` builds Functional Keras models (PandaX-II MLP, XENON1T CNN, PandaX-III EfficientNet,
convolutional VAE); ``tpcml.ml.ensemble`` trains R replicas of one MLP at once, ``tpcml.ml.training`` is the
generic classifier loop (every epoch recorded), ``tpcml.ml.splits`` the one train/validation/test split,
``tpcml.ml.backend`` the TensorFlow set-up; ``tpcml.ml.export`` writes models to ONNX with tpcml metadata and
checks them against onnxruntime. Names are re-exported lazily: ``import tpcml.ml`` is cheap, Keras (and its
backend) is imported on first use of a model builder, TensorFlow/tf2onnx only by :func:`to_onnx`. ``import tpcml``
does not import this package.
"""

from __future__ import annotations

import importlib
from typing import Any

from .backend import silence_tensorflow_logs

silence_tensorflow_logs()  # before any module of this package imports TensorFlow or Keras

_EXPORTS = {
    "PANDAX2_MLP_LAYERS": "architectures",
    "LogVarToSigma": "architectures",
    "VAESampling": "architectures",
    "conv_vae": "architectures",
    "efficientnet": "architectures",
    "mlp": "architectures",
    "mlp_from_label": "architectures",
    "xenon1t_cnn": "architectures",
    "OnnxExportError": "export",
    "keras_onnx_max_diff": "export",
    "keras_predict": "export",
    "onnx_predict": "export",
    "read_metadata": "export",
    "to_onnx": "export",
    "EpochRecord": "training",
    "TrainingResult": "training",
    "resnet50": "training",
    "train_classifier": "training",
    "train_ensemble": "ensemble",
    "split_indices": "splits",
    "configure_tensorflow": "backend",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
