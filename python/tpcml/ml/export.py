"""ONNX export of Keras models (tf2onnx), tpcml metadata, and a Keras-vs-onnxruntime parity check.

TensorFlow/tf2onnx and onnxruntime are imported inside the functions that need them, so
:func:`read_metadata` works with the ``onnx`` package alone.

Traps handled here (shared/ENVIRONMENT.md, "Other packages"): tf2onnx cannot convert a Keras 3 ``Sequential``
model (wrap it in a Functional model); other routes than ``tf2onnx.convert.from_keras`` can turn
``Normalization`` statistics into extra graph inputs, so :func:`to_onnx` asserts the number of graph inputs;
random ops (VAE sampling) do not convert.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tpcml.core.extras import require

onnx = require("ml", "onnx")

__all__ = [
    "OnnxExportError",
    "graph_inputs",
    "keras_onnx_max_diff",
    "keras_predict",
    "onnx_predict",
    "read_metadata",
    "to_onnx",
]


class OnnxExportError(RuntimeError):
    """The exported ONNX graph is not what the caller expected (e.g. unexpected graph inputs)."""


def graph_inputs(model: onnx.ModelProto) -> list[str]:
    """Names of the real graph inputs (initializers listed as inputs, as in IR < 4 graphs, are left out)."""
    initializers = {init.name for init in model.graph.initializer}
    return [inp.name for inp in model.graph.input if inp.name not in initializers]


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    elif isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, tuple):
        value = list(value)
    return json.dumps(value)


def _decode(value: str) -> Any:
    text = value.strip()
    if not text:
        return value
    if text[0] in '[{"-0123456789' or text in ("true", "false", "null", "NaN", "Infinity", "-Infinity"):
        try:
            return json.loads(text)
        except ValueError:
            return value
    return value


def _input_signature(model, input_names: list[str] | None):
    tf = require("ml", "tensorflow")

    inputs = list(model.inputs)
    if input_names is not None and len(input_names) != len(inputs):
        raise ValueError(f"input_names has {len(input_names)} names but the model has {len(inputs)} inputs")
    specs = []
    for i, tensor in enumerate(inputs):
        name = input_names[i] if input_names is not None else tensor.name
        shape = (None, *tuple(tensor.shape)[1:])  # free batch dimension
        specs.append(tf.TensorSpec(shape, tf.as_dtype(tensor.dtype), name=name))
    return tuple(specs)


def to_onnx(
    model,
    path: str | os.PathLike,
    metadata: Mapping[str, str | list | float | int | bool | dict] | None = None,
    opset: int = 17,
    expected_inputs: int = 1,
    input_names: list[str] | None = None,
) -> Path:
    """Convert a Functional Keras model to ONNX with ``tf2onnx.convert.from_keras`` and write it atomically.

    The input signature keeps the model's input names (or ``input_names``) and a free batch dimension.
    ``metadata`` goes to the model's ``metadata_props``: str values as they are, anything else JSON-encoded
    (e.g. ``{"tpcml.inputs": ["qS1", ...], "tpcml.working_point": 0.5}``); :func:`read_metadata` decodes them.
    The graph must have exactly ``expected_inputs`` inputs (:class:`OnnxExportError` otherwise, naming them)
    and pass ``onnx.checker.check_model``. The file is written to a temporary file in the destination
    directory and moved into place with ``os.replace``. Returns the path.
    """
    keras = require("ml", "keras")
    tf2onnx = require("ml", "tf2onnx")

    if isinstance(model, keras.Sequential):
        raise TypeError(
            "tf2onnx cannot convert a Keras 3 Sequential model (onnx/tensorflow-onnx#2448); wrap it in a "
            "Functional model: inputs = keras.Input(shape); keras.Model(inputs, seq(inputs))"
        )
    path = Path(path)
    spec = _input_signature(model, input_names)
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset)

    names = graph_inputs(proto)
    if len(names) != expected_inputs:
        wanted = {s.name for s in spec}
        unexpected = [n for n in names if n not in wanted] or names
        raise OnnxExportError(
            f"exported ONNX graph of {model.name!r} has {len(names)} inputs {names}, expected {expected_inputs}; "
            f"unexpected inputs: {unexpected} (a layer's state, e.g. keras Normalization mean/variance, may have "
            "become a graph input -- use Rescaling instead)"
        )

    if metadata:
        keys = {str(k) for k in metadata}
        kept = [p for p in proto.metadata_props if p.key not in keys]
        del proto.metadata_props[:]
        proto.metadata_props.extend(kept)
        for key, value in metadata.items():
            entry = proto.metadata_props.add()
            entry.key = str(key)
            entry.value = _encode(value)

    onnx.checker.check_model(proto)

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)  # mkstemp creates 0600: give the file the user's umask, as open() would
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(proto.SerializeToString())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_metadata(path: str | os.PathLike, raw: bool = False) -> dict[str, Any]:
    """The ``metadata_props`` of an ONNX file as a dict.

    Values that look like JSON (arrays, objects, numbers, true/false/null, quoted strings) are decoded; others
    stay strings. A str value that is itself valid JSON (e.g. ``"1.0"``) therefore reads back decoded; pass
    ``raw=True`` to get every value as the stored string.
    """
    model = onnx.load(os.fspath(path), load_external_data=False)
    return {p.key: (p.value if raw else _decode(p.value)) for p in model.metadata_props}


def _session(path: str | os.PathLike):
    ort = require("ml", "onnxruntime")

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(os.fspath(path), sess_options=opts, providers=["CPUExecutionProvider"])


def _as_list(x) -> list[np.ndarray]:
    if isinstance(x, list | tuple):
        return [np.asarray(a) for a in x]
    return [np.asarray(x)]


def onnx_predict(path: str | os.PathLike, x) -> list[np.ndarray]:
    """Run an ONNX file with onnxruntime (CPU, one thread); ``x`` is an array or a list in graph-input order,
    or a dict by input name. Returns the outputs in graph order."""
    sess = _session(path)
    if isinstance(x, Mapping):
        feed = {k: np.asarray(v) for k, v in x.items()}
    else:
        arrays = _as_list(x)
        names = [i.name for i in sess.get_inputs()]
        if len(arrays) != len(names):
            raise ValueError(f"{path}: graph has inputs {names}, got {len(arrays)} arrays")
        feed = dict(zip(names, arrays, strict=True))
    types = {i.name: i.type for i in sess.get_inputs()}
    feed = {k: v.astype(np.float32) if types.get(k) == "tensor(float)" else v for k, v in feed.items()}
    return sess.run(None, feed)


def keras_predict(model, x) -> list[np.ndarray]:
    """``model(x, training=False)`` as a list of NumPy arrays (one per model output)."""
    keras = require("ml", "keras")

    if isinstance(x, Mapping):
        feed = {k: np.asarray(v, dtype=np.float32) for k, v in x.items()}
    else:
        arrays = [a.astype(np.float32) for a in _as_list(x)]
        feed = arrays[0] if len(arrays) == 1 else arrays
    out = model(feed, training=False)
    outs = list(out) if isinstance(out, list | tuple) else [out]
    return [np.asarray(keras.ops.convert_to_numpy(o)) for o in outs]


def keras_onnx_max_diff(model, path: str | os.PathLike, x) -> float:
    """Largest absolute difference between ``model(x)`` and onnxruntime on the exported ``path``, over all
    outputs (matched in order; shapes must agree)."""
    ref = keras_predict(model, x)
    got = onnx_predict(path, x)
    if len(ref) != len(got):
        raise ValueError(f"Keras model has {len(ref)} outputs, ONNX graph {len(got)}")
    worst = 0.0
    for i, (a, b) in enumerate(zip(ref, got, strict=True)):
        if a.shape != b.shape:
            raise ValueError(f"output {i}: Keras shape {a.shape} != ONNX shape {b.shape}")
        worst = max(worst, float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))))
    return worst
