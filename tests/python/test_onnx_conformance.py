"""ONNX conformance harness: generation, classification, preparation, and the engine run.

The harness is checked with onnxruntime as a stand-in engine; ``test_engine_conformance`` runs
tpcml's own engine once ``tpcml._core.OnnxModel`` exists.
"""

from __future__ import annotations

import numpy as np
import pytest

import tpcml

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx

from .onnx_tools import load_tool

conf = load_tool("onnx_conformance")  # tools/onnx_conformance.py

HANDFUL = ("Relu", "Conv", "Gather", "Reshape", "Slice")
#: Claimed ops whose node tests never have float32 outputs (Shape: int64; Cast: every case
#: has a non-float32 input or output).
NO_FLOAT32_CASES = {"Shape", "Cast"}


@pytest.fixture(scope="session")
def tests_dir(tmp_path_factory):
    return conf.generate_node_tests(tmp_path_factory.mktemp("onnx-conformance"))


@pytest.fixture(scope="session")
def cases(tests_dir):
    return conf.discover_cases(tests_dir)


@pytest.fixture(scope="session")
def by_name(cases):
    return {c.name: c for c in cases}


def test_generation_writes_node_and_pytorch_sets(tests_dir, cases):
    assert len(cases) >= 1500
    suites = {c.suite for c in cases}
    assert suites == set(conf.SUITES)
    assert sum(c.suite == "node" for c in cases) >= 1500
    case_dir = tests_dir / "node" / "test_relu"
    assert (case_dir / "model.onnx").is_file()
    assert (case_dir / "test_data_set_0" / "input_0.pb").is_file()
    assert (case_dir / "test_data_set_0" / "output_0.pb").is_file()
    stamp = tests_dir / conf.STAMP_NAME
    assert onnx.__version__ in stamp.read_text()
    # Idempotent: a second call finds the stamp and rewrites nothing.
    before = stamp.stat().st_mtime_ns, (case_dir / "model.onnx").stat().st_mtime_ns
    assert conf.generate_node_tests(tests_dir) == tests_dir
    assert (stamp.stat().st_mtime_ns, (case_dir / "model.onnx").stat().st_mtime_ns) == before


def test_classifier_finds_float32_cases_for_claimed_ops(cases):
    float32 = {op: 0 for op in conf.CLAIMED_OPS}
    any_case = {op: 0 for op in conf.CLAIMED_OPS}
    for c in cases:
        if c.op in float32:
            any_case[c.op] += 1
            float32[c.op] += c.float32 and not c.expanded
    without_tests = sorted(op for op, n in any_case.items() if n == 0)
    without_float32 = sorted(op for op, n in float32.items() if n == 0)
    print(f"claimed ops without node tests: {without_tests or 'none'}")
    print(f"claimed ops without float32 cases: {without_float32}")
    assert not without_tests
    assert set(without_float32) == NO_FLOAT32_CASES


def test_classification_examples(by_name):
    depthwise = by_name["test_Conv2d_depthwise"]
    assert (depthwise.op, depthwise.suite, depthwise.float32, depthwise.expanded) == (
        "Conv",
        "pytorch-converted",
        True,
        False,
    )
    assert by_name["test_reshape_negative_dim"].float32  # int64 shape input is allowed
    assert by_name["test_add"].float32
    assert not by_name["test_add_int8"].float32
    assert not by_name["test_shape"].float32  # int64 output
    assert not by_name["test_training_dropout"].float32  # bool training_mode input
    assert not by_name["test_dropout_default_mask"].float32  # bool mask output
    assert not by_name["test_identity_sequence"].float32
    assert by_name["test_constant_pad"].op == "Pad"
    assert by_name["test_constant"].op == "Constant"
    assert by_name["test_PixelShuffle"].op is None  # Reshape + Transpose
    expanded = by_name["test_softmax_axis_0_expanded"]
    assert (expanded.op, expanded.expanded, expanded.gating) == ("Softmax", True, True)
    elu = by_name["test_elu_expanded_ver18"]
    assert (elu.op, elu.expanded, elu.gating) == ("Elu", True, False)  # CastLike, Less, Where
    assert "Where" in elu.unclaimed_ops


def test_prepare_case_binds_integer_inputs(by_name):
    model_bytes, inputs, expected, note = conf.prepare_case(by_name["test_slice"].path)
    model = onnx.load_from_string(model_bytes)
    assert [i.name for i in model.graph.input] == ["x"]
    assert {t.name for t in model.graph.initializer} == {"starts", "ends", "axes", "steps"}
    assert [a.dtype for a in inputs] == [np.float32]
    assert len(expected) == 1 and expected[0].dtype == np.float32
    assert "starts" in note
    onnx.checker.check_model(model)


def test_prepare_case_upgrades_pytorch_models(by_name):
    model_bytes, inputs, _, note = conf.prepare_case(by_name["test_Conv2d_depthwise"].path)
    model = onnx.load_from_string(model_bytes)
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) == conf.UPGRADE_OPSET
    assert len(model.graph.input) == 1 and len(inputs) == 1  # weights are initializers only
    assert "upgraded" in note
    onnx.checker.check_model(model)


def test_prepare_case_rejects_non_float32_cases(by_name):
    with pytest.raises(ValueError, match="not a float32 case"):
        conf.prepare_case(by_name["test_add_int8"].path)


def test_onnxruntime_stand_in_passes_a_handful_of_ops(tests_dir):
    results = conf.run_conformance(tests_dir, conf.onnxruntime_run, HANDFUL)
    assert {r.op for r in results} == set(HANDFUL)
    assert any(r.suite == "pytorch-converted" and "depthwise" in r.name for r in results)
    assert any("bound as initializers" in r.note for r in results)
    failed = [(r.name, r.message) for r in results if not r.passed]
    assert not failed


def test_onnxruntime_stand_in_passes_every_claimed_op(tests_dir, tmp_path):
    results = conf.run_conformance(tests_dir, conf.onnxruntime_run)
    assert len(results) >= 250
    failed = [(r.name, r.message) for r in results if not r.passed]
    assert not failed
    page = conf.write_table(results, tmp_path / "onnx-conformance.md", engine="onnxruntime")
    text = page.read_text()
    assert text.startswith("# ONNX operator conformance")
    assert f"onnx {onnx.__version__}" in text
    assert "rtol=0.001, atol=1e-07" in text
    assert "| Conv |" in text and "| Shape | — | — | no float32 case" in text
    assert text.rstrip().endswith("None.")


def test_failures_are_recorded_and_do_not_stop_the_run(tests_dir, tmp_path):
    calls = []

    def broken_engine(model_bytes, inputs):
        calls.append(len(inputs))
        if len(calls) == 1:
            raise RuntimeError("unsupported attribute\nauto_pad")
        outputs = conf.onnxruntime_run(model_bytes, inputs)
        return [o + 1.0 for o in outputs] if len(calls) == 2 else outputs

    results = conf.run_conformance(tests_dir, broken_engine, ("Relu",))
    assert len(calls) == len(results) >= 3
    assert results[0].message == "engine raised RuntimeError: unsupported attribute auto_pad"
    assert "elements differ" in results[1].message and "max abs diff 1" in results[1].message
    assert all(r.passed for r in results[2:])
    assert results[0].blocking and results[1].blocking

    excepted = conf.run_conformance(tests_dir, lambda b, xs: [], ("Relu",), exceptions={results[0].name: "why"})
    assert excepted[0].exception == "why" and not excepted[0].blocking
    assert "engine returned 0 outputs" in excepted[1].message
    page = conf.write_table(excepted, tmp_path / "page.md", ops=("Relu",))
    assert f"`{results[0].name}` (Relu, node) — known exception: why" in page.read_text()


def test_compare_outputs():
    x = np.array([1.0, 2.0, np.nan, np.inf], dtype=np.float32)
    assert conf.compare_outputs([x], [x.copy()]) is None
    assert "shape" in conf.compare_outputs([x], [x[:2]])
    assert "dtype" in conf.compare_outputs([x], [x.astype(np.float64)])
    y = x.copy()
    y[0] = 1.0 + 2e-3
    assert conf.compare_outputs([x], [y]).startswith("output 0: 1/4 elements differ")


def test_cli(tests_dir, tmp_path, capsys, monkeypatch):
    page = tmp_path / "page.md"
    args = ["--out", str(tests_dir), "--engine", "onnxruntime", "--ops", "Conv,Relu", "--write", str(page)]
    assert conf.main(args) == 0
    out = capsys.readouterr().out
    assert "Conv" in out and "all gating float32 cases pass" in out
    assert "--ops Conv,Relu" in page.read_text()
    monkeypatch.setitem(conf.ENGINES, "onnxruntime", lambda b, xs: [x * 2 for x in conf.onnxruntime_run(b, xs)])
    assert conf.main(["--out", str(tests_dir), "--engine", "onnxruntime", "--ops", "Relu", "-v"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  test_relu: output 0:" in out and "blocking failure(s)" in out
    with pytest.raises(SystemExit) as exc:
        conf.main(["--out", str(tests_dir), "--ops", "Where"])
    assert exc.value.code == 2
    if not hasattr(tpcml._core, "OnnxModel"):
        with pytest.raises(SystemExit) as exc:
            conf.main(["--out", str(tests_dir), "--engine", "tpcml"])
        assert exc.value.code == 2
        assert "OnnxModel" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(tpcml._core, "OnnxModel"), reason="tpcml._core.OnnxModel (the ONNX engine) not built")
def test_engine_conformance(tests_dir):
    results = conf.run_conformance(tests_dir, conf.tpcml_run)
    print(conf.format_summary(results))
    blocking = [f"{r.name} ({r.op}): {r.message}" for r in results if r.blocking]
    assert not blocking, "\n".join(blocking)
