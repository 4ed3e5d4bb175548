"""The ONNX fuzzing harness (issue 13, item 5): a few hundred seeded mutations of small seed models, each run
by tpcml's engine in a worker subprocess and by onnxruntime. The acceptance criterion: no crash, no hang, no
disagreement with onnxruntime, no model accepted that onnxruntime refuses for a spec violation.
The full run (10,000+ mutations of the parity models) is ``python tools/onnx_fuzz.py``: docs/onnx-fuzzing.md.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from .conftest import REPO
from .onnx_tools import load_tool

fuzz = load_tool("onnx_fuzz")  # tools/onnx_fuzz.py

PER_SEED = 120  # x 3 seeds: ~10 s on one core


@pytest.fixture(scope="module")
def seeds():
    return fuzz.builtin_seeds()


@pytest.fixture(scope="module")
def fuzzed(seeds):
    return fuzz.run_fuzz(seeds, PER_SEED, seed=20261207, timeout=20.0)


def test_seeded_mutations_have_no_crash_hang_disagreement_or_accepted_invalid_model(fuzzed):
    summary, results = fuzzed
    assert len(results) == 3 * PER_SEED
    bad = [f"{r.klass}: {r.model} #{r.index} {r.mutation}: {r.detail} | {r.tpcml} | {r.ort}" for r in summary.failures]
    assert not bad, "\n".join(bad)
    assert summary.ok
    # tpcml refuses a valid model only where it says "unsupported"
    assert summary.counts.get("refused_but_valid", 0) == 0, "\n".join(bad)
    # the harness exercised both outcomes
    assert summary.counts.get("agreed", 0) > 30
    assert summary.counts.get("clean_error", 0) > 100


def test_mutations_are_reproducible_from_the_seed(seeds):
    data = seeds["builtin_mlp"]
    first = [fuzz.mutate(data, random.Random("7:mlp")) for _ in range(20)]
    again = [fuzz.mutate(data, random.Random("7:mlp")) for _ in range(20)]
    assert first == again
    kinds = {fuzz.mutate(data, random.Random(k))[1] for k in range(200)}
    assert kinds == set(fuzz.MUTATIONS)


def test_classification():
    ok = {"ort": "", "checker": ""}
    refused_by_ort = {"ort": "InvalidGraph: [ONNXRuntimeError] : 10 : INVALID_GRAPH", "checker": ""}
    not_implemented = {
        "ort": "NotImplemented: [ONNXRuntimeError] : 9 : NOT_IMPLEMENTED : Could not find",
        "checker": "",
    }
    assert fuzz.classify(ok, "died") == "crash"
    assert fuzz.classify(ok, "timeout") == "hang"
    assert fuzz.classify(ok, {"tpcml": "", "same": True}) == "agreed"
    assert fuzz.classify(ok, {"tpcml": "", "same": False}) == "disagreed"
    assert fuzz.classify(ok, {"tpcml": "", "same": True, "shape_differs": True}) == "disagreed_shape"
    assert fuzz.classify(refused_by_ort, {"tpcml": "InputError: x"}) == "clean_error"
    assert fuzz.classify(refused_by_ort, {"tpcml": ""}) == "accepted_but_invalid"
    assert fuzz.classify(not_implemented, {"tpcml": ""}) == "accepted_ort_unsupported"
    assert fuzz.classify(ok, {"tpcml": "InputError: Erf: unsupported"}) == "refused_unsupported"
    assert fuzz.classify(ok, {"tpcml": "InputError: bad"}) == "refused_but_valid"
    assert fuzz.classify({"ort": "", "checker": "ValidationError"}, {"tpcml": "InputError: bad"}) == "clean_error"


def test_command_line(tmp_path, capsys):
    out = tmp_path / "fuzz.json"
    md = tmp_path / "fuzz.md"
    rc = fuzz.main(["-n", "5", "--seed", "3", "--json", str(out), "--markdown", str(md)])
    assert rc == 0
    assert "| **total** | 15 |" in md.read_text()
    assert '"results"' in out.read_text()
    assert fuzz.main(["-n", "0"]) == 2
    assert fuzz.main([str(tmp_path / "absent.onnx")]) == 1
    assert "cannot read seed model" in capsys.readouterr().err


def test_comparison_tolerates_float32_rounding_at_the_tensor_scale_only():
    """A near cancellation next to values 300 times larger (a mutated LeakyRelu alpha of 1e30, seed 31) differs by
    float32 rounding of the sums; a wrong value at the scale of the tensor is still a disagreement."""
    ort_out = [np.array([[1.6e28, -5.1044e25, 3.0e27]], np.float32)]
    near = [np.array([[1.6e28, -5.1096e25, 3.0e27]], np.float32)]  # 1e-3 relative, 3e-6 of the tensor's scale
    wrong = [np.array([[1.6e28, -5.1044e25, 3.1e27]], np.float32)]
    assert fuzz._compare(near, ort_out)[0]
    assert not fuzz._compare(wrong, ort_out)[0]
    # at the scale of a score, the tolerance stays 1e-4 + 1e-3 |onnxruntime|
    assert not fuzz._compare([np.array([0.5, 0.2505])], [np.array([0.5, 0.25])])[0]


def test_command_refuses_bad_arguments_and_never_overwrites_a_seed(tmp_path):
    """python tools/onnx_fuzz.py: --help; a NaN timeout was a traceback, --json naming a seed model overwrote
    it with the report, a file that is no model was 'fuzzed' (every mutant a clean error) and exited 0."""
    import subprocess
    import sys

    seed = tmp_path / "mlp.onnx"
    seed.write_bytes(fuzz.builtin_seeds()["builtin_mlp"])
    before = seed.read_bytes()

    def cmd(*args):
        res = subprocess.run(
            [sys.executable, str(REPO / "tools" / "onnx_fuzz.py"), *args], capture_output=True, text=True
        )
        assert "Traceback" not in res.stderr, res.stderr
        return res

    assert cmd("--help").returncode == 0
    res = cmd(str(seed), "-n", "2", "--timeout", "nan")
    assert res.returncode == 2 and "--timeout must be a finite number" in res.stderr
    res = cmd(str(seed), "-n", "2", "--json", str(seed))
    assert res.returncode == 2 and "is the input" in res.stderr and "refusing to overwrite" in res.stderr
    assert seed.read_bytes() == before
    res = cmd(str(seed), "-n", "2", "--markdown", str(tmp_path / "missing" / "t.md"))
    assert res.returncode == 2 and "does not exist" in res.stderr
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    res = cmd(str(junk), "-n", "2")
    assert res.returncode == 1 and f"seed model '{junk}' is not a model tpcml runs" in res.stderr
    res = cmd(str(seed), "-n", "3", "--markdown", str(tmp_path / "t.md"))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "t.md").read_text().startswith("| model | mutants |")
