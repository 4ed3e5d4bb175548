"""ONNX fuzzing harness: seeded mutations of seed models, run by tpcml's engine and by onnxruntime.

Every mutant (a byte flip, a truncation, or a protobuf-aware change: attribute values, names and types,
initializer dims, types and data, duplicate initializers, opset and IR versions, node inputs and outputs,
removed or reordered nodes, input shapes, op types, domains) is written to a file and run by a worker
*subprocess* that runs onnxruntime first, then tpcml (``tpcml._core.OnnxModel``) on the same inputs, so a
crash or a hang of tpcml is counted, not fatal (the worker is restarted). Each mutant gets one class:

``crash``                 the worker died inside tpcml (signal, abort)
``hang``                  tpcml did not answer within the timeout
``clean_error``           both refuse (or tpcml refuses a model ``onnx.checker`` rejects)
``agreed``                both run and the outputs match within the tolerance
``disagreed``             both run and the outputs differ
``disagreed_shape``       both run, the values agree in memory order, the output shapes differ
``accepted_but_invalid``  tpcml runs a model that onnxruntime refuses for a spec violation
``accepted_ort_unsupported``  tpcml runs, onnxruntime refuses for a reason that is no spec violation
                          (NOT_IMPLEMENTED kernels, see docs/onnx-fuzzing.md)
``refused_unsupported``   tpcml refuses a valid model with an error that says "unsupported"
``refused_but_valid``     tpcml refuses a valid model onnxruntime runs, without saying "unsupported"
``reference_failed``      onnxruntime itself crashed or hung; tpcml then runs alone and a crash or a hang
                          of tpcml still counts as one

Command line (see docs/onnx-fuzzing.md)::

    python tools/onnx_fuzz.py MODEL.onnx [MODEL.onnx ...] --mutations 2500 --seed 1 \\
        [--timeout 10] [--json out.json] [--markdown out.md] [--keep DIR]

``--mutations`` counts per model. Without models, three small built-in seeds (an MLP, a CNN and a
ConvTranspose decoder made with ``onnx.helper``) are used. Exit status: 0 when the acceptance criterion
holds (no crash, hang, disagreement or accepted-but-invalid model), 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

CLASSES = (
    "crash",
    "hang",
    "clean_error",
    "agreed",
    "disagreed",
    "disagreed_shape",
    "accepted_but_invalid",
    "accepted_ort_unsupported",
    "refused_unsupported",
    "refused_but_valid",
    "reference_failed",
)
#: Classes that break the acceptance criterion of issue 13.
FAILURES = ("crash", "hang", "disagreed", "disagreed_shape", "accepted_but_invalid")
#: Output tolerance: |tpcml - onnxruntime| <= ATOL + RTOL * |onnxruntime| (NaN and inf must match).
RTOL, ATOL = 1e-3, 1e-4
# float32 sums of K terms carry rounding errors of order K * 1.2e-7 times the largest term: where an output
# mixes values of very different size (a mutated alpha of 1e30 gives 1e28 next to a 5e25 that is a near
# cancellation), its values are compared at the scale of the whole tensor as well
SCALE_TOL = 1e-5
BATCH = 3
MUTATIONS = (
    "byte_flip",
    "truncate",
    "attr_value",
    "attr_name",
    "attr_type",
    "attr_add",
    "attr_remove",
    "init_dims",
    "init_dtype",
    "init_duplicate",
    "init_raw_and_typed",
    "init_values",
    "opset",
    "ir_version",
    "node_input",
    "node_output",
    "node_remove",
    "node_swap",
    "node_op_type",
    "node_domain",
    "input_shape",
)


@dataclass
class Result:
    model: str
    index: int
    mutation: str
    detail: str
    klass: str
    tpcml: str = ""
    ort: str = ""
    max_diff: float = 0.0
    path: str = ""


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)
    per_model: dict[str, dict[str, int]] = field(default_factory=dict)
    per_mutation: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(self.counts.get(k, 0) == 0 for k in FAILURES)


# --------------------------------------------------------------------------------------------- seeds
def builtin_seeds() -> dict[str, bytes]:
    """Three small seed models made with onnx.helper: an MLP (MatMul/Add/Relu/Sigmoid, Gemm), a CNN
    (Conv, MaxPool, Transpose, Flatten, Softmax) and a decoder (Reshape, ConvTranspose, LeakyRelu)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)

    def init(name, shape, scale=0.5):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    def model(nodes, inputs, outputs, inits):
        graph = helper.make_graph(nodes, "seed", inputs, outputs, inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tpcml-fuzz")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m.SerializeToString()

    def vi(name, shape):
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)

    mlp = model(
        [
            helper.make_node("MatMul", ["x", "w1"], ["h1"], name="dense1"),
            helper.make_node("Add", ["h1", "b1"], ["a1"], name="bias1"),
            helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
            helper.make_node("Gemm", ["r1", "w2", "b2"], ["h2"], name="dense2", transB=1, alpha=1.0),
            helper.make_node("LeakyRelu", ["h2"], ["r2"], name="leaky", alpha=0.2),
            helper.make_node("MatMul", ["r2", "w3"], ["h3"], name="dense3"),
            helper.make_node("Sigmoid", ["h3"], ["y"], name="score"),
        ],
        [vi("x", ["N", 6])],
        [vi("y", ["N", 1])],
        [init("w1", (6, 8)), init("b1", (8,)), init("w2", (5, 8)), init("b2", (5,)), init("w3", (5, 1))],
    )
    cnn = model(
        [
            helper.make_node("Transpose", ["x"], ["xt"], name="nhwc_to_nchw", perm=[0, 3, 1, 2]),
            helper.make_node(
                "Conv", ["xt", "k1", "c1"], ["y1"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]
            ),
            helper.make_node("Relu", ["y1"], ["r1"], name="relu1"),
            helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
            helper.make_node("Conv", ["p1", "k2"], ["y2"], name="conv2", kernel_shape=[2, 2], dilations=[1, 1]),
            helper.make_node("Flatten", ["y2"], ["f"], name="flatten", axis=1),
            helper.make_node("Gemm", ["f", "wd", "bd"], ["logits"], name="dense"),
            helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=-1),
        ],
        [vi("x", ["N", 8, 8, 2])],
        [vi("y", ["N", 3])],
        [
            init("k1", (4, 2, 3, 3)),
            init("c1", (4,)),
            init("k2", (3, 4, 2, 2)),
            init("wd", (27, 3)),
            init("bd", (3,)),
        ],
    )
    shape = numpy_helper.from_array(np.array([-1, 2, 3, 3], np.int64), "shape")
    decoder = model(
        [
            helper.make_node("MatMul", ["z", "wz"], ["h"], name="dense"),
            helper.make_node("Reshape", ["h", "shape"], ["h4"], name="reshape"),
            helper.make_node(
                "ConvTranspose",
                ["h4", "kt", "bt"],
                ["u"],
                name="deconv",
                kernel_shape=[3, 3],
                strides=[2, 2],
                pads=[1, 1, 1, 1],
                output_padding=[1, 1],
            ),
            helper.make_node("LeakyRelu", ["u"], ["a"], name="leaky", alpha=0.1),
            helper.make_node("ConvTranspose", ["a", "kt2"], ["v"], name="deconv2", kernel_shape=[2, 2]),
            helper.make_node("Sigmoid", ["v"], ["y"], name="out"),
        ],
        [vi("z", ["N", 4])],
        [vi("y", ["N", 1, 7, 7])],
        [init("wz", (4, 18)), shape, init("kt", (2, 2, 3, 3)), init("bt", (2,)), init("kt2", (2, 1, 2, 2))],
    )
    return {"builtin_mlp": mlp, "builtin_cnn": cnn, "builtin_decoder": decoder}


# ------------------------------------------------------------------------------------------ mutation
def _typo(rng: random.Random, name: str) -> str:
    if not name:
        return "x"
    k = rng.randrange(len(name))
    choice = rng.randrange(3)
    if choice == 0:
        return name[:k] + name[k + 1 :]
    if choice == 1:
        return name[:k] + rng.choice("abcdefghijklmnopqrstuvwxyz") + name[k + 1 :]
    return name[:k] + rng.choice("abcdefghijklmnopqrstuvwxyz") + name[k:]


def _random_attr_value(rng: random.Random, kind: str):
    if kind == "int":
        return rng.choice([-2, -1, 0, 1, 2, 3, 7, 1 << 20])
    if kind == "float":
        return rng.choice([-1.0, 0.0, 0.5, 2.0, 1e30, float("nan")])
    if kind == "ints":
        return [rng.choice([-1, 0, 1, 2, 3]) for _ in range(rng.randrange(0, 5))]
    if kind == "floats":
        return [rng.uniform(-2, 2) for _ in range(rng.randrange(0, 4))]
    return rng.choice(["NOTSET", "SAME_UPPER", "VALID", "reflect", "edge", "bogus", ""])


def mutate(data: bytes, rng: random.Random, kind: str | None = None) -> tuple[bytes, str, str]:
    """One seeded mutation of the serialised model ``data``: (mutant bytes, mutation kind, what changed)."""
    import onnx
    from onnx import AttributeProto, TensorProto, helper, numpy_helper

    kind = kind or rng.choice(MUTATIONS)
    if kind == "byte_flip":
        buf = bytearray(data)
        where = []
        for _ in range(rng.randint(1, 4)):
            k = rng.randrange(len(buf))
            bit = 1 << rng.randrange(8)
            buf[k] ^= bit
            where.append(f"byte {k} ^= {bit:#x}")
        return bytes(buf), kind, ", ".join(where)
    if kind == "truncate":
        k = rng.randrange(len(data))
        return data[:k], kind, f"cut at byte {k} of {len(data)}"

    m = onnx.ModelProto()
    m.ParseFromString(data)
    g = m.graph
    nodes = list(g.node)
    with_attrs = [n for n in nodes if n.attribute]
    detail = ""
    if kind.startswith("attr_") and not with_attrs and kind != "attr_add":
        kind = "attr_add"
    if kind == "attr_value":
        n = rng.choice(with_attrs)
        a = rng.choice(list(n.attribute))
        if a.type == AttributeProto.INT:
            a.i = _random_attr_value(rng, "int")
        elif a.type == AttributeProto.FLOAT:
            a.f = _random_attr_value(rng, "float")
        elif a.type == AttributeProto.INTS:
            vals = list(a.ints)
            if vals and rng.random() < 0.7:
                vals[rng.randrange(len(vals))] = _random_attr_value(rng, "int")
            else:
                vals = _random_attr_value(rng, "ints")
            del a.ints[:]
            a.ints.extend(vals)
        elif a.type == AttributeProto.STRING:
            a.s = _random_attr_value(rng, "string").encode()
        elif a.type == AttributeProto.TENSOR and a.t.dims:
            arr = numpy_helper.to_array(a.t).copy()
            if arr.size:
                arr.flat[rng.randrange(arr.size)] = rng.choice([0, -1, 5, 100])
            a.t.CopyFrom(numpy_helper.from_array(arr, a.t.name))
        detail = f"node '{n.name}' ({n.op_type}) attribute '{a.name}' = {helper.get_attribute_value(a)!r}"
    elif kind == "attr_name":
        n = rng.choice(with_attrs)
        a = rng.choice(list(n.attribute))
        old = a.name
        a.name = _typo(rng, a.name)
        detail = f"node '{n.name}' ({n.op_type}) attribute '{old}' renamed '{a.name}'"
    elif kind == "attr_type":
        n = rng.choice(with_attrs)
        a = rng.choice(list(n.attribute))
        old = AttributeProto.AttributeType.Name(a.type)
        value = helper.get_attribute_value(a)
        if a.type == AttributeProto.INT:
            targets = [([value], AttributeProto.INTS), (float(value), AttributeProto.FLOAT)]
        elif a.type == AttributeProto.FLOAT:
            targets = [(int(value) if np.isfinite(value) else 0, AttributeProto.INT), ([value], AttributeProto.FLOATS)]
        elif a.type == AttributeProto.INTS:
            targets = [
                (value[0] if value else 0, AttributeProto.INT),
                ([float(v) for v in value], AttributeProto.FLOATS),
            ]
        elif a.type == AttributeProto.STRING:
            targets = [([value], AttributeProto.STRINGS)]
        else:
            targets = [(None, None)]
        new_value, new_type = rng.choice(targets)
        if new_type is None:  # only flip the declared type
            a.type = rng.choice([AttributeProto.INT, AttributeProto.FLOATS, AttributeProto.STRING])
            detail = f"node '{n.name}' ({n.op_type}) attribute '{a.name}' type {old} -> {a.type}"
        else:
            replacement = helper.make_attribute(a.name, new_value, attr_type=new_type)
            replacement.type = new_type
            if rng.random() < 0.3:  # declared type changed, value left in the old field
                replacement = AttributeProto()
                replacement.CopyFrom(a)
                replacement.type = new_type
            a.CopyFrom(replacement)
            new_name = AttributeProto.AttributeType.Name(new_type)
            detail = f"node '{n.name}' ({n.op_type}) attribute '{a.name}' {old} -> {new_name}"
    elif kind == "attr_add":
        n = rng.choice(nodes)
        name = rng.choice(["alpha", "axis", "perm", "pads", "strides", "group", "transB", "bogus", "mode", "keepdims"])
        vkind = rng.choice(["int", "float", "ints", "string"])
        value = _random_attr_value(rng, vkind)
        for k in range(len(n.attribute)):
            if n.attribute[k].name == name:
                del n.attribute[k]
                break
        types = {"int": AttributeProto.INT, "float": AttributeProto.FLOAT, "ints": AttributeProto.INTS}
        n.attribute.append(helper.make_attribute(name, value, attr_type=types.get(vkind, AttributeProto.STRING)))
        detail = f"node '{n.name}' ({n.op_type}) attribute '{name}' = {value!r} added"
    elif kind == "attr_remove":
        n = rng.choice(with_attrs)
        k = rng.randrange(len(n.attribute))
        detail = f"node '{n.name}' ({n.op_type}) attribute '{n.attribute[k].name}' removed"
        del n.attribute[k]
    elif kind.startswith("init_") and not g.initializer:
        kind, detail = "opset", ""
        return mutate(data, rng, "opset")
    elif kind == "init_dims":
        t = rng.choice(list(g.initializer))
        dims = list(t.dims)
        if dims and rng.random() < 0.5:
            dims[rng.randrange(len(dims))] = rng.choice([0, 1, 2, max(1, dims[0] - 1), dims[-1] + 1])
        elif dims and rng.random() < 0.5:
            rng.shuffle(dims)
        else:
            dims = dims[:-1] if dims else [1]
        del t.dims[:]
        t.dims.extend(dims)
        detail = f"initializer '{t.name}' dims -> {dims}"
    elif kind == "init_dtype":
        t = rng.choice(list(g.initializer))
        old = t.data_type
        t.data_type = rng.choice([TensorProto.INT64, TensorProto.INT32, TensorProto.DOUBLE, TensorProto.FLOAT16, 0, 99])
        detail = f"initializer '{t.name}' data_type {old} -> {t.data_type} (data kept)"
    elif kind == "init_duplicate":
        t = rng.choice(list(g.initializer))
        dup = TensorProto()
        dup.CopyFrom(t)
        arr = numpy_helper.to_array(t).copy()
        if arr.size and arr.dtype.kind == "f":
            arr = arr * 0.5 + 0.25
        dup.CopyFrom(numpy_helper.from_array(arr, t.name))
        g.initializer.append(dup)
        detail = f"initializer '{t.name}' duplicated (second copy different)"
    elif kind == "init_raw_and_typed":
        t = rng.choice(list(g.initializer))
        arr = numpy_helper.to_array(t)
        t.raw_data = arr.tobytes()
        if t.data_type == TensorProto.INT64:
            t.int64_data.extend((arr.ravel() + 1).tolist())
        else:
            t.float_data.extend((arr.astype(np.float32).ravel() + 1).tolist())
        detail = f"initializer '{t.name}' holds raw_data and a typed field"
    elif kind == "init_values":
        t = rng.choice(list(g.initializer))
        arr = numpy_helper.to_array(t).copy()
        if arr.size:
            if arr.dtype.kind == "f":
                value = rng.choice([0, -1, 3, 1e20])
            else:
                value = min(rng.choice([0, -1, 2, 1 << 40]), int(np.iinfo(arr.dtype).max))
            arr.flat[rng.randrange(arr.size)] = value
        t.CopyFrom(numpy_helper.from_array(arr, t.name))
        detail = f"initializer '{t.name}' one value changed"
    elif kind == "opset":
        for o in m.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = rng.choice([1, 5, 6, 7, 9, 10, 11, 12, 13, 14, 18, 19, 21, 22, 23, 25, 28, 29, 1000, 0])
                detail = f"opset -> {o.version}"
    elif kind == "ir_version":
        m.ir_version = rng.choice([0, 1, 2, 3, 4, 7, 10, 14, 15, 1000])
        detail = f"ir_version -> {m.ir_version}"
    elif kind == "node_input":
        n = rng.choice([n for n in nodes if n.input] or nodes)
        names = [i.name for i in g.input] + [t.name for t in g.initializer] + [o for x in nodes for o in x.output]
        if n.input:
            k = rng.randrange(len(n.input))
            new = rng.choice([*names, _typo(rng, n.input[k]), ""])
            detail = f"node '{n.name}' ({n.op_type}) input {k} '{n.input[k]}' -> '{new}'"
            n.input[k] = new
        else:
            n.input.append(rng.choice(names))
            detail = f"node '{n.name}' ({n.op_type}) input added"
    elif kind == "node_output":
        n = rng.choice(nodes)
        names = [i.name for i in g.input] + [t.name for t in g.initializer] + [o for x in nodes for o in x.output]
        new = rng.choice(names)
        detail = f"node '{n.name}' ({n.op_type}) output '{n.output[0]}' -> '{new}'"
        n.output[0] = new
    elif kind == "node_remove":
        k = rng.randrange(len(nodes))
        detail = f"node '{nodes[k].name}' ({nodes[k].op_type}) removed"
        del g.node[k]
    elif kind == "node_swap" and len(nodes) > 1:
        k = rng.randrange(len(nodes) - 1)
        a, b = onnx.NodeProto(), onnx.NodeProto()
        a.CopyFrom(g.node[k])
        b.CopyFrom(g.node[k + 1])
        g.node[k].CopyFrom(b)
        g.node[k + 1].CopyFrom(a)
        detail = f"nodes {k} ('{a.name}') and {k + 1} ('{b.name}') swapped"
    elif kind == "node_op_type":
        n = rng.choice(nodes)
        old = n.op_type
        n.op_type = rng.choice(
            ["Relu", "Sigmoid", "Tanh", "Exp", "Identity", "Softmax", "Add", "Mul", "Elu", "Erf", ""]
        )
        detail = f"node '{n.name}' op_type {old} -> {n.op_type}"
    elif kind == "node_domain":
        n = rng.choice(nodes)
        n.domain = rng.choice(["ai.onnx.ml", "com.microsoft", "ai.onnx", "custom"])
        detail = f"node '{n.name}' ({n.op_type}) domain -> '{n.domain}'"
    else:  # input_shape
        kind = "input_shape"
        vi = rng.choice(list(g.input))
        dims = vi.type.tensor_type.shape.dim
        if len(dims) > 1 and rng.random() < 0.6:
            d = dims[rng.randrange(1, len(dims))]
            d.dim_value = rng.choice([0, 1, 2, max(1, d.dim_value - 1), d.dim_value + 1])
            detail = f"input '{vi.name}' dim -> {d.dim_value}"
        elif rng.random() < 0.5:
            vi.type.tensor_type.elem_type = rng.choice([TensorProto.DOUBLE, TensorProto.INT64, TensorProto.FLOAT16])
            detail = f"input '{vi.name}' elem_type -> {vi.type.tensor_type.elem_type}"
        else:
            new = dims.add()
            new.dim_value = 1
            detail = f"input '{vi.name}' gains a dimension"
    return m.SerializeToString(), kind, detail


# -------------------------------------------------------------------------------------------- worker
_ORT_TYPES = {1: np.float32, 7: np.int64, 11: np.float64, 10: np.float16, 6: np.int32}


def _inputs_for(path: str, seed: int):
    """Inputs from the mutant's declared graph inputs: (for onnxruntime by name, for tpcml by name)."""
    import onnx

    m = onnx.load(path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    rng = np.random.default_rng(seed)
    ort_in, tp_in = {}, {}
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = []
        for k, d in enumerate(tt.shape.dim):
            shape.append(d.dim_value if d.HasField("dim_value") else (BATCH if k == 0 else 1))
        if int(np.prod(shape, dtype=np.float64)) > 1 << 22:
            raise ValueError(f"input '{vi.name}' shape {shape} too large to fuzz")
        x = rng.standard_normal(shape).astype(np.float32)
        ort_in[vi.name] = x.astype(_ORT_TYPES.get(tt.elem_type, np.float32))
        tp_in[vi.name] = x
    return ort_in, tp_in


def _compare(a: list, b: list) -> tuple[bool, float, bool]:
    """(values agree, largest difference, shapes differ): tpcml's outputs ``a`` against onnxruntime's ``b``."""
    if len(a) != len(b):
        return False, float("inf"), True
    worst, shape_differs = 0.0, False
    for x, y in zip(a, b, strict=True):
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64)
        if x.size != y.size:
            return False, float("inf"), True
        if x.shape != y.shape and x.squeeze().shape != y.squeeze().shape:
            shape_differs = True
        x, y = x.ravel(), y.ravel()
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            return False, float("inf"), shape_differs
        finite = np.isfinite(x) & np.isfinite(y)
        if not np.array_equal(x[~finite & ~np.isnan(x)], y[~finite & ~np.isnan(y)]):
            return False, float("inf"), shape_differs
        if finite.any():
            d = np.abs(x[finite] - y[finite])
            worst = max(worst, float(d.max()))
            scale = SCALE_TOL * float(np.abs(y[finite]).max())
            if np.any(d > ATOL + scale + RTOL * np.abs(y[finite])):
                return False, worst, shape_differs
    return True, worst, shape_differs


def _worker() -> None:
    """Reads job lines (JSON: path, seed) on stdin; for each writes an onnxruntime line, then a tpcml line."""
    import warnings

    import onnx
    import onnxruntime as ort

    from tpcml import _core

    warnings.filterwarnings("ignore")
    ort.set_default_logger_severity(4)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    # the protocol gets a private copy of stdout; whatever the libraries print goes to stderr
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        job = json.loads(line)
        path = job["path"]
        reply: dict = {"stage": "ort"}
        try:
            onnx.checker.check_model(path)
            reply["checker"] = ""
        except Exception as e:
            reply["checker"] = f"{type(e).__name__}: {e}"[:300]
        ort_out = None
        try:
            ort_in, tp_in = _inputs_for(path, job["seed"])
        except Exception as e:
            ort_in = tp_in = None
            reply["ort"] = f"inputs: {type(e).__name__}: {e}"[:300]
        if ort_in is not None and job.get("skip_ort"):
            reply["ort"] = "skipped: onnxruntime died on this model"
        elif ort_in is not None:
            try:
                sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
                ort_out = sess.run(None, ort_in)
                reply["ort"] = ""
            except Exception as e:
                reply["ort"] = f"{type(e).__name__}: {e}"[:600]
        out.write(json.dumps(reply) + "\n")
        out.flush()
        reply = {"stage": "tpcml"}
        try:
            model = _core.OnnxModel(path)
            if tp_in is None:
                raise RuntimeError("no inputs")
            if not model.batched:
                tp_in = {k: v for k, v in tp_in.items()}
            got = model.run({k: tp_in[k] for k in tp_in})
            reply["tpcml"] = ""
            if ort_out is not None:
                same, diff, shape_differs = _compare(got, ort_out)
                reply["same"], reply["diff"], reply["shape_differs"] = same, diff, shape_differs
        except (_core.Error, _core.InputError, _core.UsageError, _core.ConfigError) as e:
            reply["tpcml"] = f"{type(e).__name__}: {e}"[:600]
        except Exception as e:
            reply["tpcml"] = f"PYTHON {type(e).__name__}: {e}"[:600]
        out.write(json.dumps(reply) + "\n")
        out.flush()


class _Worker:
    def __init__(self) -> None:
        env = dict(os.environ, OMP_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.buffer = b""

    def send(self, job: dict) -> None:
        self.proc.stdin.write((json.dumps(job) + "\n").encode())
        self.proc.stdin.flush()

    def read(self, timeout: float) -> dict | str:
        """A reply, or "died" / "timeout"."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return "died"
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):  # the pipe to a dead worker
                stream.close()


def _is_spec_refusal(ort_msg: str) -> bool:
    """onnxruntime refusals that are not spec violations: kernels it does not implement."""
    return not ("NOT_IMPLEMENTED" in ort_msg or "Could not find an implementation" in ort_msg)


def classify(ort_reply: dict, tp_reply: dict | str) -> str:
    if tp_reply == "died":
        return "crash"
    if tp_reply == "timeout":
        return "hang"
    ort_msg, tp_msg, checker = ort_reply.get("ort", ""), tp_reply.get("tpcml", ""), ort_reply.get("checker", "")
    if tp_msg.startswith("PYTHON"):
        return "crash"
    if ort_msg:
        if tp_msg:
            return "clean_error"
        return "accepted_but_invalid" if _is_spec_refusal(ort_msg) or checker else "accepted_ort_unsupported"
    if tp_msg:
        if checker:
            return "clean_error"
        return "refused_unsupported" if "unsupported" in tp_msg else "refused_but_valid"
    if tp_reply.get("same", False):
        return "disagreed_shape" if tp_reply.get("shape_differs", False) else "agreed"
    return "disagreed"


def run_fuzz(
    seeds: dict[str, bytes],
    mutations: int,
    seed: int = 1,
    timeout: float = 10.0,
    keep: Path | None = None,
    progress: bool = False,
) -> tuple[Summary, list[Result]]:
    """Runs ``mutations`` seeded mutants of each seed model; returns the summary and every result."""
    t0 = time.monotonic()
    results: list[Result] = []
    workdir = Path(tempfile.mkdtemp(prefix="tpcml-fuzz-"))
    worker = _Worker()
    try:
        for name, data in seeds.items():
            rng = random.Random(f"{seed}:{name}")
            for i in range(mutations):
                try:
                    mutant, kind, detail = mutate(data, rng)
                except Exception as e:
                    mutant, kind, detail = mutate(data, rng, "byte_flip")
                    detail += f" (fallback: {type(e).__name__})"
                path = workdir / f"{name}-{i}.onnx"
                path.write_bytes(mutant)
                worker.send({"path": str(path), "seed": seed * 1000003 + i})
                ort_reply = worker.read(max(timeout, 60.0))
                tp_reply: dict | str
                if isinstance(ort_reply, str):
                    # onnxruntime died or hung: tpcml alone, in a fresh worker (crash and hang still count)
                    worker.close()
                    worker = _Worker()
                    worker.send({"path": str(path), "seed": seed * 1000003 + i, "skip_ort": True})
                    skipped = worker.read(max(timeout, 60.0))
                    tp_reply = worker.read(timeout) if isinstance(skipped, dict) else skipped
                    klass = tp_reply if tp_reply in ("died", "timeout") else "reference_failed"
                    klass = {"died": "crash", "timeout": "hang"}.get(klass, klass)
                    if isinstance(tp_reply, str):
                        worker.close()
                        worker = _Worker()
                    ort_reply = f"onnxruntime {ort_reply}"
                else:
                    tp_reply = worker.read(timeout)
                    klass = classify(ort_reply, tp_reply)
                    if isinstance(tp_reply, str):
                        worker.close()
                        worker = _Worker()
                res = Result(
                    model=name,
                    index=i,
                    mutation=kind,
                    detail=detail,
                    klass=klass,
                    tpcml=tp_reply if isinstance(tp_reply, str) else tp_reply.get("tpcml", ""),
                    ort=ort_reply if isinstance(ort_reply, str) else ort_reply.get("ort", ""),
                    max_diff=0.0 if isinstance(tp_reply, str) else float(tp_reply.get("diff", 0.0)),
                )
                if (klass in FAILURES or klass == "refused_but_valid") and keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    kept = keep / path.name
                    kept.write_bytes(mutant)
                    res.path = str(kept)
                results.append(res)
                path.unlink()
                if progress and (i + 1) % 100 == 0:
                    print(f"{name}: {i + 1}/{mutations}", file=sys.stderr, flush=True)
    finally:
        worker.close()
        for leftover in workdir.glob("*"):
            leftover.unlink()
        workdir.rmdir()
    return summarise(results, time.monotonic() - t0), results


def summarise(results: list[Result], seconds: float = 0.0) -> Summary:
    s = Summary(seconds=seconds)
    s.counts = dict(Counter(r.klass for r in results))
    for r in results:
        s.per_model.setdefault(r.model, {}).setdefault(r.klass, 0)
        s.per_model[r.model][r.klass] += 1
        s.per_mutation.setdefault(r.mutation, {}).setdefault(r.klass, 0)
        s.per_mutation[r.mutation][r.klass] += 1
    s.failures = [r for r in results if r.klass in FAILURES or r.klass == "refused_but_valid"]
    return s


def markdown_table(summary: Summary) -> str:
    cols = [c for c in CLASSES if any(summary.per_model[m].get(c, 0) for m in summary.per_model)]
    lines = ["| model | mutants | " + " | ".join(cols) + " |", "|---|---:|" + "---:|" * len(cols)]
    rows = dict(summary.per_model)
    rows["**total**"] = summary.counts
    for model, counts in rows.items():
        total = sum(counts.values())
        lines.append(f"| {model} | {total} | " + " | ".join(str(counts.get(c, 0)) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python tools/onnx_fuzz.py",
        description="Fuzz tpcml's ONNX engine with seeded mutations of seed models, against onnxruntime.",
    )
    p.add_argument("models", nargs="*", type=Path, help="seed .onnx models (default: three built-in seeds)")
    p.add_argument("-n", "--mutations", type=int, default=200, help="mutants per model (default 200)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds tpcml may take per mutant (default 10)")
    p.add_argument("--json", type=Path, help="write every result and the summary as JSON")
    p.add_argument("--markdown", type=Path, help="write the counts as a Markdown table")
    p.add_argument("--keep", type=Path, help="directory to keep failing mutants in")
    p.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.worker:
        _worker()
        return 0
    if args.mutations < 1:
        print("error: --mutations must be >= 1", file=sys.stderr)
        return 2
    if not math.isfinite(args.timeout) or args.timeout <= 0:
        print(f"error: --timeout must be a finite number of seconds > 0, got {args.timeout}", file=sys.stderr)
        return 2
    from tpcml.core.errors import ArgumentError, InputError
    from tpcml.core.guards import refuse_overwrite
    from tpcml.inference import Model

    try:  # before any work: a report must never overwrite a seed model
        refuse_overwrite([args.json, args.markdown], args.models, "report")
        for report in (args.json, args.markdown):
            if report is not None and not report.absolute().parent.is_dir():
                raise ArgumentError(f"report '{report}': directory '{report.absolute().parent}' does not exist")
    except ArgumentError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    seeds = {}
    for path in args.models:
        try:
            seeds[path.stem] = path.read_bytes()
            Model(data=seeds[path.stem], name=str(path))  # a seed must be a model the engine runs
        except InputError as e:  # before OSError: tpcml's InputError is one
            print(f"error: seed model '{path}' is not a model tpcml runs: {e}", file=sys.stderr)
            return 1
        except OSError as e:
            print(f"error: cannot read seed model '{path}': {e.strerror}", file=sys.stderr)
            return 1
    if not seeds:
        seeds = builtin_seeds()
    summary, results = run_fuzz(seeds, args.mutations, args.seed, args.timeout, args.keep, args.verbose)
    table = markdown_table(summary)
    print(table, end="")
    for r in summary.failures[:50]:
        print(f"{r.klass}: {r.model} #{r.index} {r.mutation}: {r.detail} | tpcml: {r.tpcml[:200]} | ort: {r.ort[:200]}")
    from tpcml.core.rootio import atomic_path

    if args.markdown:
        with atomic_path(args.markdown) as tmp:
            tmp.write_text(table)
    if args.json:
        payload = {"summary": asdict(summary), "results": [asdict(r) for r in results]}
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(payload, indent=1, default=str))
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
