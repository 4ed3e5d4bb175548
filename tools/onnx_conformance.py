"""ONNX backend conformance harness for tpcml's C++ inference engine.

The ``onnx`` wheel does not ship the data of its backend node tests, but it
ships their generators (``onnx.backend.test.case.node``) and the writer that
turns them into test directories (``onnx.backend.test.cmd_tools``). It also
ships, as data only, the older "pytorch-converted" and "pytorch-operator"
sets (opset 6-12; these hold the grouped and depthwise Conv cases). This
module

* writes all of them into a directory (:func:`generate_node_tests`),
* classifies every case by the op it tests and by whether it is a *float32
  case* (:func:`discover_cases`),
* prepares a case for the engine, which resolves every shape at load time and
  runs float32 tensors only: integer graph inputs (shapes, axes, indices, pads,
  starts, ends, ...) become initializers holding the test's values, float
  inputs stay graph inputs (:func:`prepare_case`),
* runs an engine over the float32 cases of the claimed ops and compares each
  output the way ``onnx.backend.test.runner`` does (:func:`run_conformance`),
* writes the Markdown conformance page (:func:`write_table`).

Command line::

    python tools/onnx_conformance.py --out DIR [--write docs/onnx-conformance.md]
        [--engine tpcml|onnxruntime] [--ops Conv,Relu] [-v]

``onnx`` (and ``onnxruntime`` for the stand-in engine) come with the ``ml``
extra; they are imported only when a function needs them.
"""

from __future__ import annotations

import argparse
import inspect
import shutil
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "ATOL",
    "CLAIMED_OPS",
    "KNOWN_EXCEPTIONS",
    "RTOL",
    "CaseResult",
    "ConformanceCase",
    "compare_outputs",
    "discover_cases",
    "generate_node_tests",
    "main",
    "onnxruntime_run",
    "prepare_case",
    "run_conformance",
    "tpcml_run",
    "write_table",
]

#: Op types the tpcml engine claims to implement (ONNX domain).
CLAIMED_OPS: tuple[str, ...] = (
    "MatMul",
    "Gemm",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "Sigmoid",
    "Tanh",
    "Exp",
    "LeakyRelu",
    "Elu",
    "Selu",
    "Softmax",
    "Clip",
    "Conv",
    "ConvTranspose",
    "MaxPool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "ReduceMean",
    "ReduceMax",
    "ReduceSum",
    "BatchNormalization",
    "Pad",
    "Transpose",
    "Reshape",
    "Flatten",
    "Squeeze",
    "Unsqueeze",
    "Concat",
    "Slice",
    "Gather",
    "Shape",
    "Cast",
    "Constant",
    "Identity",
    "Dropout",
)

#: Float32 cases of claimed ops that cannot match by construction, ``{case name: reason}``.
#: Empty so far: every float32 case of a claimed op is deterministic (the random Dropout
#: cases run in training mode, which needs a bool input, so they are not float32 cases).
KNOWN_EXCEPTIONS: dict[str, str] = {}

#: Tolerances of ``onnx.backend.test.runner.Runner.assert_similar_outputs`` as used for node
#: tests: every generated node ``TestCase`` (and the loader's default for on-disk sets) has
#: ``rtol=1e-3, atol=1e-7``.
RTOL = 1e-3
ATOL = 1e-7

#: Suites written by :func:`generate_node_tests`, in this order.
SUITES: tuple[str, ...] = ("node", "pytorch-converted", "pytorch-operator")
#: Suites that are copied from the data shipped in the onnx wheel (no generator exists for them).
SHIPPED_SUITES: tuple[str, ...] = ("pytorch-converted", "pytorch-operator")
#: Models with an older default-domain opset are upgraded to this one before they go to the engine.
UPGRADE_OPSET = 13
#: Seed of NumPy's global generator while the node generators run (they draw unseeded inputs).
GENERATION_SEED = 0

STAMP_NAME = "tpcml-conformance.stamp"
_STAMP_FORMAT = 1

EngineRun = Callable[..., Sequence[np.ndarray]]


# --------------------------------------------------------------------------- generation


def _stamp_text() -> str:
    import onnx

    return f"tpcml conformance data format {_STAMP_FORMAT}\nonnx {onnx.__version__}\nsuites {' '.join(SUITES)}\n"


def generate_node_tests(directory: str | Path) -> Path:
    """Write the ONNX backend node tests and the shipped pytorch sets into ``directory``.

    Layout: ``directory/<suite>/<test name>/{model.onnx, test_data_set_0/{input,output}_*.pb}``
    for each suite in :data:`SUITES`. Idempotent: when ``directory`` holds a stamp file for this
    onnx version, nothing is written. Returns ``directory`` as a :class:`~pathlib.Path`.
    """
    import onnx.backend.test.cmd_tools as cmd_tools

    root = Path(directory)
    stamp = root / STAMP_NAME
    expected = _stamp_text()
    if stamp.is_file() and stamp.read_text() == expected and all((root / s).is_dir() for s in SUITES):
        return root

    root.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for suite in SUITES:
        shutil.rmtree(root / suite, ignore_errors=True)

    _write_node_suite(root, cmd_tools)
    shipped = Path(cmd_tools.DATA_DIR)
    for suite in SHIPPED_SUITES:
        if (shipped / suite).is_dir():
            shutil.copytree(shipped / suite, root / suite)
        else:  # a future wheel may drop them; the node suite alone is still useful
            (root / suite).mkdir()
    stamp.write_text(expected)
    return root


def _write_node_suite(root: Path, cmd_tools) -> None:
    """Run onnx's own writer (``cmd_tools.generate_data``) on the node test cases.

    ``generate_data`` writes whatever ``onnx.backend.test.case.model.collect_testcases`` returns
    (the "real"/"simple" model cases); it is pointed at the node cases for the call.
    """
    from unittest import mock

    import onnx.backend.test.case.node as node_cases

    state = np.random.get_state()
    try:
        np.random.seed(GENERATION_SEED)
        with warnings.catch_warnings():
            # The generators overflow and divide by zero on purpose (Cast, ReduceLogSum, ...).
            warnings.simplefilter("ignore")
            cases = node_cases.collect_testcases()
            if not cases:
                raise RuntimeError("onnx.backend.test.case.node.collect_testcases() returned no test case")
            with mock.patch.object(cmd_tools.model_test, "collect_testcases", return_value=cases):
                cmd_tools.generate_data(argparse.Namespace(output=str(root)))
    finally:
        np.random.set_state(state)


# --------------------------------------------------------------------------- classification


@dataclass(frozen=True)
class ConformanceCase:
    """One generated test directory and what it tests."""

    name: str
    suite: str
    path: Path
    #: The op the case belongs to (``None``: several non-Constant op types, or the base case of an
    #: ``_expanded`` variant does not belong to a single op).
    op: str | None
    #: ``True`` for ``_expanded`` (function-body) variants of ``op``.
    expanded: bool
    #: Every output is float32 and every input float32, int32 or int64.
    float32: bool
    #: Distinct op types of the graph's nodes, sorted.
    node_ops: tuple[str, ...]
    #: Why the case is not a float32 case ("" when it is).
    dtype_note: str = ""

    @property
    def unclaimed_ops(self) -> tuple[str, ...]:
        """Node op types outside :data:`CLAIMED_OPS` (only expanded variants can have some)."""
        return tuple(op for op in self.node_ops if op not in CLAIMED_OPS)

    @property
    def gating(self) -> bool:
        """A failure counts against the engine: the case tests a claimed op using claimed ops only."""
        return self.op in CLAIMED_OPS and not self.unclaimed_ops


def _type_name(type_proto) -> str:
    import onnx

    kind = type_proto.WhichOneof("value")
    if kind != "tensor_type":
        return kind or "undefined"
    return onnx.TensorProto.DataType.Name(type_proto.tensor_type.elem_type).lower()


def _dtype_problem(model) -> str:
    """'' when the model's graph is float32-case typed, else why not."""
    import onnx

    initializers = {t.name for t in model.graph.initializer}
    allowed_inputs = {onnx.TensorProto.FLOAT, onnx.TensorProto.INT32, onnx.TensorProto.INT64}
    problems = []
    for vi in model.graph.input:
        if vi.name in initializers:
            continue
        if vi.type.WhichOneof("value") != "tensor_type" or vi.type.tensor_type.elem_type not in allowed_inputs:
            problems.append(f"input {vi.name!r} is {_type_name(vi.type)}")
    for vi in model.graph.output:
        if vi.type.WhichOneof("value") != "tensor_type" or vi.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            problems.append(f"output {vi.name!r} is {_type_name(vi.type)}")
    if not model.graph.output:
        problems.append("no output")
    return "; ".join(problems)


def _plain_op(node_ops: set[str]) -> str | None:
    if node_ops == {"Constant"}:
        return "Constant"
    others = node_ops - {"Constant"}
    return next(iter(others)) if len(others) == 1 else None


def discover_cases(directory: str | Path) -> list[ConformanceCase]:
    """Classify every test case under ``directory`` (as written by :func:`generate_node_tests`).

    A case belongs to op X when all its nodes are X (Constant nodes allowed besides), or when it
    is an ``_expanded`` variant (name contains ``"_expanded"``) of a case that belongs to X.
    Classification reads the models as stored; the opset upgrade of the pytorch sets only adds
    Constant nodes, so it does not change a case's op.
    """
    import onnx

    root = Path(directory)
    raw: list[tuple[str, str, Path, set[str], str]] = []
    for suite in SUITES:
        suite_dir = root / suite
        if not suite_dir.is_dir():
            continue
        for case_dir in sorted(p for p in suite_dir.iterdir() if (p / "model.onnx").is_file()):
            model = onnx.load(case_dir / "model.onnx", load_external_data=False)
            raw.append((case_dir.name, suite, case_dir, {n.op_type for n in model.graph.node}, _dtype_problem(model)))

    plain_op = {(suite, name): _plain_op(ops) for name, suite, _, ops, _ in raw if "_expanded" not in name}
    cases = []
    for name, suite, path, ops, problem in raw:
        expanded = "_expanded" in name
        op = plain_op.get((suite, name.split("_expanded")[0])) if expanded else plain_op[(suite, name)]
        cases.append(
            ConformanceCase(
                name=name,
                suite=suite,
                path=path,
                op=op,
                expanded=expanded,
                float32=not problem,
                node_ops=tuple(sorted(ops)),
                dtype_note=problem,
            )
        )
    duplicates = [n for n, k in Counter(c.name for c in cases).items() if k > 1]
    if duplicates:
        raise RuntimeError(f"test names occur in more than one suite: {duplicates}")
    return cases


def select_cases(
    cases: Iterable[ConformanceCase], ops: Iterable[str] = CLAIMED_OPS, *, include_expanded: bool = True
) -> list[ConformanceCase]:
    """The float32 cases that belong to one of ``ops``, in ``ops`` order, then by suite and name."""
    order = {op: i for i, op in enumerate(ops)}
    suite_order = {s: i for i, s in enumerate(SUITES)}
    chosen = [c for c in cases if c.float32 and c.op in order and (include_expanded or not c.expanded)]
    return sorted(chosen, key=lambda c: (order[c.op], c.expanded, suite_order[c.suite], c.name))


# --------------------------------------------------------------------------- preparation


def _default_opset(model) -> int | None:
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return max(versions) if versions else None


def _numbered(directory: Path, prefix: str) -> list[Path]:
    files = directory.glob(f"{prefix}_*.pb")
    return sorted(files, key=lambda p: int(p.stem.split("_")[-1]))


def _read_tensor(path: Path) -> np.ndarray:
    import onnx
    from onnx import numpy_helper

    tensor = onnx.TensorProto()
    tensor.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(tensor)


def prepare_case(case_dir: str | Path) -> tuple[bytes, list[np.ndarray], list[np.ndarray], str]:
    """Turn a test directory into what the engine gets, and the outputs it must produce.

    Returns ``(model_bytes, float_inputs, expected_outputs, note)``:

    * integer (int32/int64) graph inputs become initializers holding the values of
      ``test_data_set_0/input_<i>.pb`` (``input_<i>.pb`` feeds the i-th graph input, as in
      ``onnx.backend.test.runner``); float32 inputs stay graph inputs, and ``float_inputs`` holds
      their values in graph-input order;
    * graph inputs that merely re-declare an initializer (IR < 4 models) are dropped;
    * models whose default-domain opset is below :data:`UPGRADE_OPSET` are upgraded to it;
    * ``note`` says what was changed.

    Raises ``ValueError`` for a case that is not a float32 case.
    """
    import onnx
    from onnx import helper, numpy_helper, version_converter

    case_dir = Path(case_dir)
    model = onnx.load(case_dir / "model.onnx", load_external_data=False)
    notes = []
    opset = _default_opset(model)
    if opset is not None and opset < UPGRADE_OPSET:
        model = version_converter.convert_version(model, UPGRADE_OPSET)
        notes.append(f"opset {opset} upgraded to {UPGRADE_OPSET}")

    data_dir = case_dir / "test_data_set_0"
    input_files = _numbered(data_dir, "input")
    output_files = _numbered(data_dir, "output")
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    inputs = list(graph.input)
    if len(input_files) > len(inputs):
        raise ValueError(f"{case_dir.name}: {len(input_files)} input files for {len(inputs)} graph inputs")
    missing = [vi.name for vi in inputs[len(input_files) :] if vi.name not in initializers]
    if missing:
        raise ValueError(f"{case_dir.name}: no data for graph inputs {missing}")
    if len(output_files) != len(graph.output):
        raise ValueError(f"{case_dir.name}: {len(output_files)} output files for {len(graph.output)} graph outputs")

    integer_types = (onnx.TensorProto.INT32, onnx.TensorProto.INT64)
    kept, float_inputs, bound = [], [], []
    for vi, path in zip(inputs[: len(input_files)], input_files, strict=True):
        if vi.type.WhichOneof("value") != "tensor_type":
            raise ValueError(f"{case_dir.name}: input {vi.name!r} is {_type_name(vi.type)}, not a tensor")
        elem = vi.type.tensor_type.elem_type
        value = _read_tensor(path)
        if elem == onnx.TensorProto.FLOAT:
            if value.dtype != np.float32:
                raise ValueError(f"{case_dir.name}: input {vi.name!r} data is {value.dtype}, declared float32")
            kept.append(vi)
            float_inputs.append(value)
        elif elem in integer_types:
            dtype = helper.tensor_dtype_to_np_dtype(elem)
            graph.initializer.append(numpy_helper.from_array(value.astype(dtype, copy=False), vi.name))
            bound.append(vi.name)
        else:
            raise ValueError(f"{case_dir.name}: input {vi.name!r} is {_type_name(vi.type)}; not a float32 case")
    dropped = len(inputs) - len(input_files)
    del graph.input[:]
    graph.input.extend(kept)
    if bound:
        notes.append("integer inputs bound as initializers: " + ", ".join(bound))
    if dropped:
        notes.append(f"{dropped} initializer-backed graph inputs removed")
    if model.ir_version < 4:  # IR 4 is the first that allows initializers that are not graph inputs
        model.ir_version = max(4, helper.find_min_ir_version_for(list(model.opset_import)))

    expected = []
    for vi, path in zip(graph.output, output_files, strict=True):
        if vi.type.WhichOneof("value") != "tensor_type" or vi.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            raise ValueError(f"{case_dir.name}: output {vi.name!r} is {_type_name(vi.type)}; not a float32 case")
        expected.append(_read_tensor(path))
    return model.SerializeToString(), float_inputs, expected, "; ".join(notes)


# --------------------------------------------------------------------------- engines


def onnxruntime_run(model_bytes: bytes, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Stand-in engine: onnxruntime (CPU, one thread), inputs in graph-input order."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    if len(names) != len(inputs):
        raise ValueError(f"model has {len(names)} graph inputs, {len(inputs)} arrays given")
    return session.run(None, dict(zip(names, inputs, strict=True)))


def _tpcml_onnx_model():
    """``tpcml._core.OnnxModel``; ``RuntimeError`` with an explanation when it is not there."""
    try:
        from tpcml import _core
    except ImportError as err:
        raise RuntimeError(f"cannot import tpcml._core ({err}); build and install tpcml first") from err
    model_class = getattr(_core, "OnnxModel", None)
    if model_class is None:
        raise RuntimeError(
            "tpcml._core has no OnnxModel: this build of tpcml does not include the ONNX inference "
            "engine yet (use --engine onnxruntime to check the harness itself)"
        )
    return model_class


def tpcml_run(model_bytes: bytes, inputs: Sequence[np.ndarray], case_name: str = "conformance") -> list[np.ndarray]:
    """The tpcml engine: ``tpcml._core.OnnxModel(model_bytes, case_name).run(inputs)``."""
    return _tpcml_onnx_model()(model_bytes, case_name).run(list(inputs))


ENGINES: dict[str, EngineRun] = {"tpcml": tpcml_run, "onnxruntime": onnxruntime_run}


# --------------------------------------------------------------------------- comparison and running


def _difference(expected: np.ndarray, actual: np.ndarray, rtol: float, atol: float) -> str:
    e = expected.astype(np.float64)
    a = actual.astype(np.float64)
    with np.errstate(all="ignore"):
        bad = ~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
        e_bad, a_bad = e[bad], a[bad]
        finite = np.isfinite(e_bad) & np.isfinite(a_bad)
        abs_diff = np.abs(a_bad - e_bad)[finite]
        rel_diff = abs_diff / np.abs(e_bad[finite])
    text = f"{int(bad.sum())}/{e.size} elements differ"
    if abs_diff.size:
        text += f", max abs diff {abs_diff.max():.3g}, max rel diff {rel_diff.max():.3g}"
    if (~finite).any():
        text += f", {int((~finite).sum())} of them non-finite"
    return text + f" (rtol={rtol:g}, atol={atol:g})"


def compare_outputs(
    expected: Sequence[np.ndarray], actual: Sequence[np.ndarray], rtol: float = RTOL, atol: float = ATOL
) -> str | None:
    """``None`` when ``actual`` matches, else what differs.

    Same checks as ``onnx.backend.test.runner.Runner.assert_similar_outputs``: output count,
    then per output shape, dtype and ``np.testing.assert_allclose(actual, expected, rtol, atol)``.
    """
    if len(actual) != len(expected):
        return f"engine returned {len(actual)} outputs, expected {len(expected)}"
    problems = []
    for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
        got = np.asarray(got)
        if got.shape != want.shape:
            problems.append(f"output {i}: shape {got.shape}, expected {want.shape}")
        elif got.dtype != want.dtype:
            problems.append(f"output {i}: dtype {got.dtype}, expected {want.dtype}")
        else:
            try:
                np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
            except AssertionError:
                problems.append(f"output {i}: {_difference(want, got, rtol, atol)}")
    return "; ".join(problems) or None


@dataclass(frozen=True)
class CaseResult:
    """Outcome of one float32 case."""

    name: str
    suite: str
    op: str
    expanded: bool
    passed: bool
    #: Why it failed: the engine's exception, or the output difference ("" when passed).
    message: str
    #: What :func:`prepare_case` changed.
    note: str
    #: See :attr:`ConformanceCase.gating`.
    gating: bool
    #: Node op types outside :data:`CLAIMED_OPS`.
    unclaimed_ops: tuple[str, ...]
    #: The :data:`KNOWN_EXCEPTIONS` reason, if listed there.
    exception: str | None
    seconds: float

    @property
    def blocking(self) -> bool:
        """A failure that counts against the engine's claim (gating and not a known exception)."""
        return not self.passed and self.gating and self.exception is None

    @property
    def status(self) -> str:
        if self.passed:
            return "pass" if self.exception is None else "pass (listed as known exception)"
        if self.exception is not None:
            return "known exception"
        return "FAIL" if self.gating else "fail (informational)"


def _one_line(err: BaseException, limit: int = 500) -> str:
    text = " ".join(str(err).split()) or "(no message)"
    text = f"{type(err).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _accepts_case_name(engine_run: EngineRun) -> bool:
    try:
        params = inspect.signature(engine_run).parameters
    except (TypeError, ValueError):
        return False
    return "case_name" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def run_case(
    case: ConformanceCase,
    engine_run: EngineRun,
    *,
    rtol: float = RTOL,
    atol: float = ATOL,
    exceptions: Mapping[str, str] | None = None,
) -> CaseResult:
    """Prepare, run and compare one case; never raises for an engine error."""
    exceptions = KNOWN_EXCEPTIONS if exceptions is None else exceptions
    start = time.perf_counter()
    note = ""
    try:
        model_bytes, inputs, expected, note = prepare_case(case.path)
    except Exception as err:
        message = f"harness could not prepare the case: {_one_line(err)}"
    else:
        try:
            if _accepts_case_name(engine_run):
                outputs = engine_run(model_bytes, inputs, case_name=case.name)
            else:
                outputs = engine_run(model_bytes, inputs)
            outputs = [np.asarray(o) for o in outputs]
        except Exception as err:
            message = f"engine raised {_one_line(err)}"
        else:
            message = compare_outputs(expected, outputs, rtol, atol) or ""
    return CaseResult(
        name=case.name,
        suite=case.suite,
        op=case.op or "",
        expanded=case.expanded,
        passed=not message,
        message=message,
        note=note,
        gating=case.gating,
        unclaimed_ops=case.unclaimed_ops,
        exception=exceptions.get(case.name),
        seconds=time.perf_counter() - start,
    )


def run_conformance(
    directory: str | Path,
    engine_run: EngineRun,
    ops: Iterable[str] = CLAIMED_OPS,
    *,
    include_expanded: bool = True,
    rtol: float = RTOL,
    atol: float = ATOL,
    exceptions: Mapping[str, str] | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    """Run ``engine_run`` on every float32 case of ``ops`` found in (or generated into) ``directory``.

    ``engine_run(model_bytes, inputs) -> outputs`` gets the prepared model and its float32 inputs
    in graph-input order (see :func:`prepare_case`); if it takes a ``case_name`` keyword, the case's
    name is passed too. An exception from the engine is recorded as that case's failure.
    """
    root = generate_node_tests(directory)
    results = []
    for case in select_cases(discover_cases(root), ops, include_expanded=include_expanded):
        result = run_case(case, engine_run, rtol=rtol, atol=atol, exceptions=exceptions)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def non_float32_counts(cases: Iterable[ConformanceCase], ops: Iterable[str] = CLAIMED_OPS) -> dict[str, int]:
    """Per op, how many of its cases are not float32 cases (not run, not counted)."""
    wanted = set(ops)
    counts = Counter(c.op for c in cases if not c.float32 and c.op in wanted)
    return {op: counts.get(op, 0) for op in ops}


# --------------------------------------------------------------------------- reporting


@dataclass
class _OpSummary:
    passed: int = 0
    total: int = 0
    expanded_passed: int = 0
    expanded_total: int = 0
    excepted: int = 0


def summarize(results: Iterable[CaseResult], ops: Iterable[str] = CLAIMED_OPS) -> dict[str, _OpSummary]:
    table = {op: _OpSummary() for op in ops}
    for r in results:
        row = table.setdefault(r.op, _OpSummary())
        if r.expanded:
            row.expanded_total += 1
            row.expanded_passed += r.passed
        else:
            row.total += 1
            row.passed += r.passed
        row.excepted += r.exception is not None
    return table


def _failure_lines(results: Iterable[CaseResult], markdown: bool) -> list[str]:
    lines = []
    for r in results:
        if r.passed and r.exception is None:
            continue
        kind = "expanded variant of " if r.expanded else ""
        name = f"`{r.name}`" if markdown else r.name
        text = f"{name} ({kind}{r.op}, {r.suite}) — {r.status}"
        if r.exception is not None:
            text += f": {r.exception}"
            if not r.passed:
                text += f" [{r.message}]"
        else:
            # the engine's list of supported operators is in the header of the page already
            text += f": {r.message.split('; tpcml supports')[0]}"
        if not r.passed and r.unclaimed_ops:
            text += f" (uses ops outside the claim: {', '.join(r.unclaimed_ops)})"
        lines.append(("- " if markdown else "  ") + text)
    return lines


def _fraction(passed: int, total: int) -> str:
    return f"{passed} / {total}" if total else "—"


def format_summary(results: Sequence[CaseResult], ops: Iterable[str] = CLAIMED_OPS) -> str:
    """Plain-text summary: per-op table, then every failing or excepted case."""
    table = summarize(results, ops)
    width = max(len(op) for op in table) if table else 2
    lines = [f"{'op':<{width}}  {'passed/cases':>12}  {'expanded':>9}"]
    for op, row in table.items():
        plain_text = _fraction(row.passed, row.total)
        lines.append(f"{op:<{width}}  {plain_text:>12}  {_fraction(row.expanded_passed, row.expanded_total):>9}")
    plain = [r for r in results if not r.expanded]
    expanded = [r for r in results if r.expanded]
    lines.append(
        f"{'total':<{width}}  {_fraction(sum(r.passed for r in plain), len(plain)):>12}  "
        f"{_fraction(sum(r.passed for r in expanded), len(expanded)):>9}"
    )
    failures = _failure_lines(results, markdown=False)
    if failures:
        lines += ["", "failing or excepted cases:", *failures]
    blocking = sum(r.blocking for r in results)
    lines += ["", f"{blocking} blocking failure(s)" if blocking else "all gating float32 cases pass"]
    return "\n".join(lines)


def write_table(
    results: Sequence[CaseResult],
    path: str | Path,
    *,
    engine: str = "tpcml",
    command: str | None = None,
    ops: Iterable[str] = CLAIMED_OPS,
    non_float32: Mapping[str, int] | None = None,
) -> Path:
    """Write the Markdown conformance page (``docs/onnx-conformance.md`` style) to ``path``."""
    import onnx

    ops = tuple(ops)
    command = command or f"python tools/onnx_conformance.py --out DIR --engine {engine} --write {path}"
    engine_text = "tpcml's C++ engine (`tpcml._core.OnnxModel`)" if engine == "tpcml" else f"the `{engine}` engine"
    if engine == "onnxruntime":
        import onnxruntime

        engine_text = f"onnxruntime {onnxruntime.__version__} (stand-in for the tpcml engine)"
    table = summarize(results, ops)
    plain = [r for r in results if not r.expanded]
    expanded = [r for r in results if r.expanded]

    lines = [
        "# ONNX operator conformance",
        "",
        f"Generated with `{command}` against {engine_text}, using the ONNX backend node tests of "
        f"onnx {onnx.__version__} (written by the wheel's own generators, `onnx.backend.test.case.node` "
        "through `onnx.backend.test.cmd_tools.generate_data`) plus the wheel's shipped "
        f"`pytorch-converted` and `pytorch-operator` test data (upgraded to opset {UPGRADE_OPSET} with "
        "`onnx.version_converter`). A case belongs to op X when all its nodes are X (Constant nodes "
        "allowed besides); its `_expanded` (function-body) variants belong to X too and are counted in "
        "their own column. Only *float32 cases* are counted: every output float32 and every input "
        "float32 or an int32/int64 tensor (cases with double, float16, bfloat16, 8/16-bit integer or "
        "bool tensors, sequences or optionals are not). Because the engine resolves every shape at "
        "load time and runs float32 tensors only, integer graph inputs (shapes, axes, indices, pads, "
        "starts, ends, ...) are bound as initializers holding the test's values before the model is "
        "loaded; float inputs stay graph inputs. Outputs are compared as `onnx.backend.test.runner` "
        "does: same count, shape and dtype, then `np.testing.assert_allclose` with "
        f"rtol={RTOL:g}, atol={ATOL:g}. Expanded variants that use ops outside the engine's claim "
        "are informational.",
        "",
        "| Op | Passed / float32 cases | Expanded variants: passed / cases | Notes |",
        "|---|---|---|---|",
    ]
    for op, row in table.items():
        notes = []
        if not row.total and not row.expanded_total:
            other = (non_float32 or {}).get(op)
            notes.append("no float32 case" + (f" ({other} other cases)" if other else ""))
        if row.excepted:
            notes.append(f"{row.excepted} known exception(s)")
        lines.append(
            f"| {op} | {_fraction(row.passed, row.total)} | "
            f"{_fraction(row.expanded_passed, row.expanded_total)} | {'; '.join(notes)} |"
        )
    lines.append(
        f"| **Total** | **{_fraction(sum(r.passed for r in plain), len(plain))}** | "
        f"**{_fraction(sum(r.passed for r in expanded), len(expanded))}** | |"
    )
    lines += ["", "## Failing and excepted cases", ""]
    lines += _failure_lines(results, markdown=True) or ["None."]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------- command line


def _parse_ops(text: str) -> tuple[str, ...]:
    ops = tuple(op.strip() for op in text.split(",") if op.strip())
    unknown = [op for op in ops if op not in CLAIMED_OPS]
    if not ops or unknown:
        raise argparse.ArgumentTypeError(
            f"not claimed ops: {', '.join(unknown) or '(none given)'}; choose from {', '.join(CLAIMED_OPS)}"
        )
    return ops


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python tools/onnx_conformance.py",
        description=(
            "Run the ONNX backend node tests (float32 cases of the ops tpcml's engine claims) through an "
            "engine and report per-op conformance. Exits 1 when a claimed-op float32 case fails and is "
            "not a known exception."
        ),
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="where the tests are generated")
    parser.add_argument("--write", type=Path, metavar="MD", help="write the Markdown page here")
    parser.add_argument("--engine", choices=tuple(ENGINES), default="tpcml", help="engine to test (default: tpcml)")
    parser.add_argument(
        "--ops", type=_parse_ops, default=CLAIMED_OPS, metavar="OP,OP", help="only these claimed ops (default: all)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case as it runs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.engine == "tpcml":
        try:
            _tpcml_onnx_model()
        except RuntimeError as err:
            parser.exit(2, f"{parser.prog}: error: {err}\n")

    def report(result: CaseResult) -> None:
        extra = f": {result.message}" if result.message else ""
        print(f"{result.status:>8}  {result.name}{extra}", flush=True)

    root = generate_node_tests(args.out)
    cases = discover_cases(root)
    results = run_conformance(root, ENGINES[args.engine], args.ops, on_result=report if args.verbose else None)
    print(format_summary(results, args.ops))
    if args.write:
        command = f"python tools/onnx_conformance.py --out DIR --engine {args.engine}"
        if args.ops != CLAIMED_OPS:
            command += f" --ops {','.join(args.ops)}"
        command += f" --write {args.write}"
        write_table(
            results,
            args.write,
            engine=args.engine,
            command=command,
            ops=args.ops,
            non_float32=non_float32_counts(cases, args.ops),
        )
        print(f"wrote {args.write}")
    return 1 if any(r.blocking for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
