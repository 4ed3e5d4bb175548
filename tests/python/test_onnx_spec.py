"""The ONNX loader follows the spec (issue 13, items 3 and 4): what the spec forbids is refused with an error
that names the file, the node (name and op type) and the attribute; every load error names the file; the
engine's operator table agrees with onnx.defs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tpcml import _core

onnx = pytest.importorskip("onnx")
from onnx import AttributeProto, TensorProto, helper, numpy_helper  # noqa: E402

NAME = "spec-model.onnx"


def vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def model_bytes(nodes, inputs=None, outputs=None, inits=(), opset=17, ir=8, **kwargs) -> bytes:
    inputs = [vi("x", ["N", 4])] if inputs is None else inputs
    outputs = [vi("y", ["N", 4])] if outputs is None else outputs
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], **kwargs)
    m.ir_version = ir
    return m.SerializeToString()


def refused(data: bytes, *fragments: str) -> str:
    """Loads ``data`` as NAME; asserts an InputError naming the file and every fragment."""
    with pytest.raises(_core.InputError) as err:
        _core.OnnxModel(data, NAME)
    msg = str(err.value)
    assert NAME in msg, msg
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"
    return msg


def run(data: bytes, x: np.ndarray) -> np.ndarray:
    return _core.OnnxModel(data, NAME).run(x)[0]


X = np.arange(12, dtype=np.float32).reshape(3, 4) - 5


# ------------------------------------------------------------------------------------------ initializers
def test_duplicate_initializer_names_are_refused():
    # tpcml took the last copy (issue 13: the 4C score changed by up to 1.0)
    nodes = [helper.make_node("Add", ["x", "b"], ["y"], name="bias")]
    data = model_bytes(nodes, inits=[init("b", np.ones(4, np.float32)), init("b", np.zeros(4, np.float32))])
    refused(data, "two initializers named 'b'")


def test_initializer_with_raw_data_and_float_data_is_refused():
    b = init("b", np.ones(4, np.float32))
    b.float_data.extend([5.0, 5.0, 5.0, 5.0])
    data = model_bytes([helper.make_node("Add", ["x", "b"], ["y"], name="bias")], inits=[b])
    refused(data, "initializer 'b'", "both raw_data and float_data")


def test_initializer_data_length_not_matching_dims_is_refused():
    b = init("b", np.ones(4, np.float32))
    b.dims[:] = [5]
    data = model_bytes([helper.make_node("Add", ["x", "b"], ["y"], name="bias")], inits=[b])
    refused(data, "initializer 'b'", "16 bytes of raw_data, expected 5 float values")


def test_initializer_values_in_the_field_of_another_type_are_refused():
    b = helper.make_tensor("b", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    b.int64_data.extend([1, 2, 3, 4])
    data = model_bytes([helper.make_node("Add", ["x", "b"], ["y"], name="bias")], inits=[b])
    refused(data, "tensor 'b' of data type float holds values in int64_data")


def test_initializer_listed_as_graph_input_keeps_its_type():
    # IR < 4 style: initializers may appear among the graph inputs, with the same type
    nodes = [helper.make_node("Add", ["x", "b"], ["y"], name="bias")]
    b = init("b", np.full(4, 2.0, np.float32))
    data = model_bytes(nodes, inputs=[vi("x", ["N", 4]), vi("b", [4])], inits=[b], ir=3)
    np.testing.assert_array_equal(run(data, X), X + 2)
    data = model_bytes(nodes, inputs=[vi("x", ["N", 4]), vi("b", [4], TensorProto.INT64)], inits=[b], ir=3)
    refused(data, "initializer 'b' of type float as a graph input of type int64")


# ------------------------------------------------------------------------------------------ attributes
@pytest.mark.parametrize(
    ("op", "typo", "right", "value", "shape"),
    [("LeakyRelu", "alpla", "alpha", 0.3, ["N", 4]), ("Transpose", "pdrm", "perm", [1, 0], [4, "N"])],
)
def test_unknown_attribute_name_is_refused_with_the_nearest_valid_name(op, typo, right, value, shape):
    # tpcml silently used the default (pdrm for perm transposed across events)
    nodes = [helper.make_node(op, ["x"], ["y"], name="the_node", **{typo: value})]
    refused(
        model_bytes(nodes, outputs=[vi("y", shape)]), "'the_node'", f"({op})", f"'{typo}'", f"did you mean: {right}"
    )


@pytest.mark.parametrize(
    ("op", "attr", "value", "attr_type", "expected"),
    [
        ("Gemm", "transB", [1], AttributeProto.INTS, "expected INT"),  # an INTS where an INT is expected
        ("Concat", "axis", 1.0, AttributeProto.FLOAT, "expected INT"),  # a FLOAT where an INT is
        ("LeakyRelu", "alpha", 2, AttributeProto.INT, "expected FLOAT"),
        ("Transpose", "perm", 1, AttributeProto.INT, "expected INTS"),
    ],
)
def test_attribute_of_wrong_type_is_refused(op, attr, value, attr_type, expected):
    inputs = {"Gemm": ["x", "w"], "Concat": ["x", "x"]}.get(op, ["x"])
    node = helper.make_node(op, inputs, ["y"], name="typed")
    node.attribute.append(helper.make_attribute(attr, value, attr_type=attr_type))
    inits = [init("w", np.ones((4, 4), np.float32))] if op == "Gemm" else []
    refused(model_bytes([node], inits=inits, outputs=[vi("y", None)]), "'typed'", f"({op})", f"'{attr}'", expected)


def test_attribute_whose_value_is_in_the_field_of_another_type_is_refused():
    node = helper.make_node("LeakyRelu", ["x"], ["y"], name="leaky")
    a = helper.make_attribute("alpha", [0.5])  # FLOATS value, declared FLOAT
    a.type = AttributeProto.FLOAT
    node.attribute.append(a)
    refused(model_bytes([node]), "'leaky'", "attribute 'alpha' of type FLOAT also holds a FLOATS value")


@pytest.mark.parametrize(
    ("op", "attr", "value", "opset"),
    [("Conv", "auto_pad", "edge", 17), ("MaxPool", "auto_pad", "", 17), ("Pad", "mode", "wrap", 18)],
)
def test_string_attribute_outside_its_values_is_refused(op, attr, value, opset):
    # Pad mode 'wrap' exists from Pad-19 on
    inputs = {"Conv": ["x", "w"], "Pad": ["x", "pads"]}.get(op, ["x"])
    extra = {"MaxPool": {"kernel_shape": [2, 2]}}.get(op, {})
    node = helper.make_node(op, inputs, ["y"], name="strings", **{attr: value}, **extra)
    inits = [init("w", np.ones((1, 1, 2, 2), np.float32)), init("pads", np.zeros(8, np.int64))]
    data = model_bytes([node], [vi("x", ["N", 1, 4, 4])], [vi("y", None)], inits, opset=opset)
    refused(data, "'strings'", f"({op})", f"attribute '{attr}' is '{value}'", "allows")


def test_pads_together_with_auto_pad_are_refused():
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], name="conv", auto_pad="SAME_UPPER", pads=[1, 1, 1, 1], kernel_shape=[2, 2]
    )
    data = model_bytes(
        [node], [vi("x", ["N", 1, 4, 4])], [vi("y", None)], [init("w", np.ones((1, 1, 2, 2), np.float32))]
    )
    refused(data, "'conv' (Conv)", "both 'pads' and auto_pad 'SAME_UPPER'")


def test_duplicate_attribute_is_refused():
    node = helper.make_node("LeakyRelu", ["x"], ["y"], name="leaky", alpha=0.1)
    node.attribute.append(helper.make_attribute("alpha", 0.7))
    refused(model_bytes([node]), "'leaky'", "attribute 'alpha' twice")


def test_attribute_of_another_operator_version_is_refused():
    # Clip's min/max became inputs in Clip-11: at opset 13 the attribute would be ignored
    node = helper.make_node("Clip", ["x"], ["y"], name="clip", min=0.0)
    refused(model_bytes([node], opset=13), "'clip'", "'min'", "Clip-13 does not define it", "versions 1 to 10")


def test_missing_required_attribute_is_refused():
    node = helper.make_node("Unsqueeze", ["x"], ["y"], name="unsq")
    refused(model_bytes([node], opset=11, outputs=[vi("y", None)]), "'unsq'", "required attribute 'axes'")


# ------------------------------------------------------------------------------------------ versions
@pytest.mark.parametrize("opset", [29, 1000])
def test_opset_newer_than_the_implemented_specs_is_refused(opset):
    refused(model_bytes([helper.make_node("Relu", ["x"], ["y"])], opset=opset), f"opset {opset}", "unsupported")


def test_newest_implemented_opset_runs():
    data = model_bytes([helper.make_node("Relu", ["x"], ["y"])], opset=_core.onnx_newest_opset, ir=10)
    np.testing.assert_array_equal(run(data, X), np.maximum(X, 0))


def test_operator_version_whose_semantics_the_engine_does_not_implement_is_refused():
    # Add-6 broadcasts by the `broadcast`/`axis` attributes, not numpy-style
    nodes = [helper.make_node("Add", ["x", "b"], ["y"], name="add6")]
    refused(model_bytes(nodes, opset=6, inits=[init("b", np.ones(4, np.float32))]), "'add6'", "Add-6", "unsupported")


def test_node_in_another_domain_is_refused():
    node = helper.make_node("Relu", ["x"], ["y"], name="custom_relu", domain="com.example")
    refused(model_bytes([node]), "com.example.Relu", "'custom_relu'", "unsupported")


def test_default_opset_imported_twice_is_refused():
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [vi("x", ["N", 4])], [vi("y", ["N", 4])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx", 17)])
    m.ir_version = 8
    refused(m.SerializeToString(), "imports the opset of domain 'ai.onnx' twice")


@pytest.mark.parametrize(("ir", "fragment"), [(0, "has no ir_version"), (15, "IR version 15"), (2, "unsupported")])
def test_ir_version_missing_or_unsupported_is_refused(ir, fragment):
    refused(model_bytes([helper.make_node("Relu", ["x"], ["y"])], ir=ir), fragment)


def test_model_without_graph_is_refused():
    m = onnx.ModelProto(ir_version=8)
    m.opset_import.add().version = 17
    refused(m.SerializeToString(), "holds no graph")


# ------------------------------------------------------------------------------------------ graph
def test_graph_output_naming_a_tensor_that_does_not_exist_is_refused():
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    refused(model_bytes(nodes, outputs=[vi("why", ["N", 4])]), "graph output 'why'", "did you mean: y")


def test_node_input_naming_a_tensor_that_does_not_exist_is_refused():
    nodes = [helper.make_node("Relu", ["x"], ["h"], name="r1"), helper.make_node("Relu", ["hh"], ["y"], name="r2")]
    refused(model_bytes(nodes), "'r2' (Relu)", "'hh'", "did you mean: h")


def test_tensor_produced_twice_is_refused():
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="r1"), helper.make_node("Sigmoid", ["x"], ["y"], name="r2")]
    refused(model_bytes(nodes), "'r2' (Sigmoid)", "writes tensor 'y', which is already defined")


def test_two_nodes_with_the_same_name_are_refused():
    nodes = [helper.make_node("Relu", ["x"], ["h"], name="same"), helper.make_node("Relu", ["h"], ["y"], name="same")]
    refused(model_bytes(nodes), "two nodes named 'same'")


def test_node_output_overwriting_a_graph_input_is_refused():
    nodes = [helper.make_node("Relu", ["x"], ["x"], name="inplace"), helper.make_node("Relu", ["x"], ["y"])]
    refused(model_bytes(nodes), "'inplace'", "writes tensor 'x'")


def test_cycle_is_refused():
    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="a_from_b"),
        helper.make_node("Relu", ["a"], ["b"], name="b_from_a"),
        helper.make_node("Relu", ["a"], ["y"]),
    ]
    refused(model_bytes(nodes), "'a_from_b' (Add)", "reads tensor 'b' before the node that writes it")


def test_unsorted_graph_is_refused():
    nodes = [
        helper.make_node("Relu", ["h"], ["y"], name="second"),
        helper.make_node("Relu", ["x"], ["h"], name="first"),
    ]
    refused(model_bytes(nodes), "'second'", "topologically sorted")


def test_empty_op_type_is_refused():
    refused(model_bytes([helper.make_node("", ["x"], ["y"], name="nameless")]), "'nameless' has no op_type")


def test_int64_initializer_where_float_is_expected_is_refused():
    nodes = [helper.make_node("Add", ["x", "b"], ["y"], name="bias")]
    refused(
        model_bytes(nodes, inits=[init("b", np.ones(4, np.int64))]),
        "'bias' (Add)",
        "input 1 ('b') has type int64",
        "the type of 'x' (float)",
    )
    conv = [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")]
    refused(
        model_bytes(conv, [vi("x", ["N", 1, 4, 4])], [vi("y", None)], [init("w", np.ones((1, 1, 2, 2), np.int64))]),
        "'conv' (Conv)",
        "floating-point",
    )


def test_float_initializer_where_int64_is_expected_is_refused():
    # tpcml truncated a float shape to integers
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape")]
    data = model_bytes(nodes, outputs=[vi("y", None)], inits=[init("shape", np.array([-1, 2, 2], np.float32))])
    refused(data, "'reshape' (Reshape)", "input 1 ('shape') has type float", "int64")


def test_too_many_node_inputs_are_refused():
    # an Elu with two inputs ran, ignoring the second
    nodes = [helper.make_node("Elu", ["x", "x"], ["y"], name="elu2")]
    refused(model_bytes(nodes), "'elu2' (Elu)", "has 2 inputs", "takes 1")


# ------------------------------------------------------------------------------------------ load errors
def test_corrupted_constant_node_error_names_the_file():
    t = helper.make_tensor("c", TensorProto.FLOAT, [4], np.ones(4, np.float32).tobytes(), raw=True)
    t.dims[:] = [6]
    nodes = [helper.make_node("Constant", [], ["c"], name="const", value=t), helper.make_node("Add", ["x", "c"], ["y"])]
    refused(model_bytes(nodes), "'const' (Constant)", "attribute 'value'", "expected 6 float values")


def _load_in_subprocess(path: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    code = (
        "import sys\nfrom tpcml import _core\n"
        "try:\n    _core.OnnxModel(sys.argv[1])\nexcept _core.InputError as e:\n    print(e)\n    sys.exit(1)\n"
    )
    return subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_device_as_model_path_is_refused_without_reading_it(path):
    # OnnxModel("/dev/zero") read forever
    done = _load_in_subprocess(path)
    assert done.returncode == 1, done.stderr
    assert path in done.stdout and "not a regular file" in done.stdout, done.stdout


def test_fifo_as_model_path_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "model.onnx"
    os.mkfifo(fifo)
    done = _load_in_subprocess(str(fifo))
    assert done.returncode == 1, done.stderr
    assert str(fifo) in done.stdout and "not a regular file" in done.stdout, done.stdout


def test_directory_as_model_path_is_refused(tmp_path):
    # tpcml-infer --model DIR printed basic_filebuf::underflow
    with pytest.raises(_core.InputError) as err:
        _core.OnnxModel(str(tmp_path))
    assert str(tmp_path) in str(err.value) and "is a directory" in str(err.value)
    assert "underflow" not in str(err.value)


@pytest.mark.parametrize("kind", ["directory", "device"])
def test_tpcml_infer_with_a_directory_or_device_as_model_exits_1_naming_it(tmp_path, kind):
    # a directory printed basic_filebuf::underflow; /dev/zero hung
    model = tmp_path if kind == "directory" else "/dev/zero"
    out = tmp_path / "scored.root"
    exe = shutil.which("tpcml-infer") or str(Path(sys.executable).with_name("tpcml-infer"))
    args = [exe, "--model", str(model), "--input", str(tmp_path / "in.root"), "--output", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert f"cannot read ONNX model file '{model}'" in done.stderr and "underflow" not in done.stderr
    assert not out.exists()


def test_unreadable_file_is_refused_with_the_reason():
    # we run as root, so permissions cannot make a file unreadable: /proc/self/mem is a regular
    # file whose first page cannot be read (EIO)
    with pytest.raises(_core.InputError) as err:
        _core.OnnxModel("/proc/self/mem")
    assert "/proc/self/mem" in str(err.value) and "read failed" in str(err.value)


def test_missing_file_is_refused(tmp_path):
    path = tmp_path / "absent.onnx"
    with pytest.raises(_core.InputError) as err:
        _core.OnnxModel(str(path))
    assert str(path) in str(err.value) and "No such file" in str(err.value)


def _valid() -> bytes:
    return model_bytes([helper.make_node("Relu", ["x"], ["y"], name="relu")])


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty (0 bytes)"),
        (bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8)), "not a valid ONNX file"),
        (b"\x3a\xff\xff\xff\xff\x0f" + b"\x00" * 16, "exceeds"),  # graph field declaring ~4 GiB
        (_valid()[:-7], "not a valid ONNX file"),
    ],
    ids=["empty", "random-bytes", "huge-declared-length", "truncated"],
)
def test_malformed_file_error_names_the_file(tmp_path, content, fragment):
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    with pytest.raises(_core.InputError) as err:
        _core.OnnxModel(str(path))
    assert str(path) in str(err.value) and fragment in str(err.value), str(err.value)


# ------------------------------------------------------------------------------------------ the table
TYPE_NAMES = {v: k for k, v in AttributeProto.AttributeType.items()}


def _attrs(schema):
    return {(n, TYPE_NAMES[int(a.type)], bool(a.required)) for n, a in schema.attributes.items()}


def _input_class(schema, k):
    formal = schema.inputs[k]
    if formal.option == onnx.defs.OpSchema.FormalParameterOption.Variadic:
        return "T"  # homogeneous variadic inputs share one type
    allowed = next((c.allowed_type_strs for c in schema.type_constraints if c.type_param_str == formal.type_str), None)
    allowed = allowed or [formal.type_str]
    if all("float" in t or "double" in t for t in allowed):
        return "F"
    if allowed == ["tensor(int64)"]:
        return "L"
    if sorted(allowed) == ["tensor(int32)", "tensor(int64)"]:
        return "I"
    if allowed == ["tensor(bool)"]:
        return "B"
    return "T" if sum(i.type_str == formal.type_str for i in schema.inputs) > 1 else "*"


def test_operator_table_agrees_with_onnx_defs():
    from onnx import defs

    assert _core.onnx_newest_opset == defs.onnx_opset_version()
    assert _core.onnx_ir_versions[1] == onnx.IR_VERSION
    table = _core.onnx_schema_table()
    assert sorted(e["op_type"] for e in table) == sorted(_core.onnx_supported_operators())
    history = defs.get_all_schemas_with_history()
    for entry in table:
        op = entry["op_type"]
        versions = sorted(s.since_version for s in history if s.name == op and s.domain == "")
        assert entry["versions"] == versions, op
        assert entry["first_supported"] in versions, op
        for v in versions:
            if v < entry["first_supported"]:
                continue
            schema = defs.get_schema(op, v)
            ours = {(n, t, req) for n, t, req, lo, hi in entry["attributes"] if lo <= v and (hi == 0 or v < hi)}
            assert ours == _attrs(schema), (op, v)
            counts = [a for a in entry["arity"] if a[0] <= v][-1][1:]
            max_in = -1 if schema.max_input == 2**31 - 1 else schema.max_input
            assert tuple(counts) == (schema.min_input, max_in, schema.min_output, schema.max_output), (op, v)
        newest = defs.get_schema(op, versions[-1])
        expected = "".join(_input_class(newest, k) for k in range(len(newest.inputs)))
        if newest.inputs and newest.inputs[-1].option == defs.OpSchema.FormalParameterOption.Variadic:
            expected += "+"
        assert entry["inputs"] == expected, op
