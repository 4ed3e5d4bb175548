"""tpcml-info: the C++ batch executable on generated ROOT files; exit codes; atomic output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import uproot

import tpcml

from .conftest import BIN, run


def test_help_and_version():
    res = run(["tpcml-info", "--help"])
    assert res.returncode == 0
    assert "usage: tpcml-info" in res.stdout and "FILE" in res.stdout and "--tree NAME" in res.stdout
    res = run(["tpcml-info", "--version"])
    assert res.returncode == 0
    assert res.stdout.strip() == f"tpcml-info (tpcml) {tpcml.__version__}"


def test_versions_and_threads():
    res = run(["tpcml-info", "--threads", "2"])
    assert res.returncode == 0, res.stderr
    assert f"tpcml     {tpcml.__version__}" in res.stdout
    assert "ROOT      6.40" in res.stdout
    assert "ImplicitMT on, 2 thread(s)" in res.stdout
    assert "pandax2" in res.stdout


def test_describes_generated_file(events_file):
    res = run(["tpcml-info", str(events_file), "--tree", "events"])
    assert res.returncode == 0, res.stderr
    assert "events: 4500 entries, 12 columns" in res.stdout
    assert "qS1" in res.stdout and "Float_t" in res.stdout and "ULong64_t" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tre", "events"], "unknown option '--tre' (did you mean: --tree?)"),
        (["--threads", "two"], "option '--threads' expects an integer, got 'two'"),
        (["--threads", "-1"], "option '--threads' must be in [0, 1024], got -1"),
        (["--tree", "events"], "--tree needs a FILE"),
        (["--json"], "--json: 1 required OUT missing"),
        (["a.root", "b.root"], "expected one input FILE, got 2: a.root, b.root"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message):
    res = run(["tpcml-info", *args])
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == f"tpcml-info: error: {message}"


def test_unreadable_input_exit_1(tmp_path, events_file):
    junk = tmp_path / "junk.root"
    junk.write_bytes(b"\x00" * 100)
    res = run(["tpcml-info", str(junk)])
    assert res.returncode == 1
    assert res.stderr.strip() == f"tpcml-info: error: cannot open '{junk}': not a readable ROOT file"
    res = run(["tpcml-info", str(events_file), "--tree", "evnts"])
    assert res.returncode == 1
    assert "no tree 'evnts'" in res.stderr and "did you mean: events" in res.stderr
    res = run(["tpcml-info", "--detector", "pandax9"])
    assert res.returncode == 1 and "unknown detector 'pandax9'" in res.stderr


def test_json_output_is_atomic(tmp_path, events_file):
    out = tmp_path / "summary.json"
    res = run(["tpcml-info", str(events_file), "--tree", "events", "--json", str(out)])
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    assert data["entries"] == 4500 and data["columns"]["qS1"] == "Float_t"
    # failure after the output was opened: no file, no temporary left behind
    out2 = tmp_path / "fail.json"
    res = run(["tpcml-info", str(tmp_path / "absent.root"), "--json", str(out2)])
    assert res.returncode == 1
    assert not out2.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    res = run(["tpcml-info", "--json", str(tmp_path / "no" / "dir.json")])
    assert res.returncode == 2 and "does not exist" in res.stderr


def test_detector_dump():
    res = run(["tpcml-info", "--detector", "pandax3"])
    assert res.returncode == 0, res.stderr
    assert "strip_pitch" in res.stdout and "mm" in res.stdout


# ---------------------------------------------------------------------- issue 13: C++ doors
def _isolated(tmp_path, m=300):
    from tpcml.core.rootio import write_tree

    rng = np.random.default_rng(9)
    s1 = {k: rng.uniform(1, 40, m).astype(np.float32) for k in ("qS1", "wS1", "S1TBA", "S1LargestBCQ")}
    s1["S1NPeaks"] = rng.integers(1, 4, m).astype(np.int32)
    s2 = {k: rng.uniform(100, 900, m).astype(np.float32) for k in ("qS2", "wS2", "wtenS2", "S2TBA", "S2SY1", "S2SY2")}
    s2 |= {k: rng.uniform(-100, 100, m).astype(np.float32) for k in ("x", "y")}
    return write_tree(tmp_path / "iso.root", "s1", s1, detector="pandax2", extra_trees={"s2": s2})


def _hidden(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_tpcml_pair_signal_removes_its_temporary(tmp_path, sig):
    """SIGTERM / SIGINT left `.out.tmp-<pid>-<n>.root` behind (issue 13, item 12): now the handler unlinks
    the registered temporaries and the process dies of the signal as before."""
    iso = _isolated(tmp_path)
    out = tmp_path / "out" / "acc.root"
    out.parent.mkdir()
    proc = subprocess.Popen(
        ["tpcml-pair", "--input", str(iso), "--output", str(out), "-n", "50000000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )
    try:
        deadline = time.time() + 60
        while not _hidden(out.parent) and time.time() < deadline:
            time.sleep(0.05)
        assert _hidden(out.parent), "the temporary never appeared"
        assert _hidden(out.parent)[0].startswith(".acc.tmp-")
        proc.send_signal(sig)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == -sig
    assert not out.exists() and _hidden(out.parent) == []


def test_tpcml_infer_sigterm_removes_its_temporary(tmp_path):
    """The same for tpcml-infer, killed while it scores."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from tpcml.core.rootio import write_tree

    n = 600_000
    write_tree(tmp_path / "ev.root", "events", {"a": np.ones(n, np.float32), "b": np.zeros(n, np.float32)})
    graph = helper.make_graph(
        [helper.make_node("Sigmoid", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    cmd = ["tpcml-infer", "--model", str(tmp_path / "m.onnx"), "--input", str(tmp_path / "ev.root")]
    proc = subprocess.Popen(
        [*cmd, "--columns", "a,b", "--output", str(out_dir / "s.root")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )
    try:
        deadline = time.time() + 60
        while not _hidden(out_dir) and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        if proc.poll() is not None:
            pytest.skip("tpcml-infer finished before the signal could be sent")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc == -signal.SIGTERM
    assert list(out_dir.iterdir()) == []


def test_tpcml_pair_seeds_above_2_53_stay_distinct(tmp_path):
    """--seed went through a double: 2^53 and 2^53 + 1 gave the same events (issue 13, item 7)."""
    iso = _isolated(tmp_path)
    got = {}
    for seed in (2**53, 2**53 + 1, 2**64 - 1):
        out = tmp_path / f"acc_{seed}.root"
        res = run(["tpcml-pair", "--input", str(iso), "--output", str(out), "-n", "2000", "--seed", str(seed)])
        assert res.returncode == 0, res.stderr
        assert f"seed {seed})" in res.stderr
        got[seed] = uproot.open(out)["events"]["s1_id"].array(library="np")
        prov = json.loads(uproot.open(out)["tpcml_provenance"].member("fTitle"))
        assert prov["seed"] == seed
    assert not np.array_equal(got[2**53], got[2**53 + 1])
    assert not np.array_equal(got[2**53 + 1], got[2**64 - 1])


def test_tpcml_pair_n_zero_is_a_usage_error(tmp_path):
    iso = _isolated(tmp_path)
    res = run(["tpcml-pair", "--input", str(iso), "--output", str(tmp_path / "o.root"), "-n", "0"])
    assert res.returncode == 2
    expected = "tpcml-pair: error: option '--events' must be an integer in [1, 1000000000000000], got 0"
    assert res.stderr.strip() == expected


def test_tpcml_pair_chunked_output_equals_one_piece(tmp_path):
    """tpcml-pair writes in chunks of 2^19 pairs (memory no longer grows with --n: --n 4e9 was killed at
    24 GB); the events are those of one piece (the binding's pair())."""
    from tpcml import _core
    from tpcml.pairing import read_isolated

    iso = _isolated(tmp_path)
    out = tmp_path / "acc.root"
    n = (1 << 19) + 1234
    res = run(["tpcml-pair", "--input", str(iso), "--output", str(out), "-n", str(n), "--seed", "3"])
    assert res.returncode == 0, res.stderr
    s1, s2 = read_isolated(iso)
    det = _core.DetectorConfig.load("pandax2")
    lo, hi = det.get("fiducial_drift_time_min", "us"), det.get("fiducial_drift_time_max", "us")
    ref = _core.AccidentalPairer(s1, s2, _core.PositionCorrections(det), lo, hi, True, 3, 1.0).pair(n)
    with uproot.open(out) as f:
        got = f["events"].arrays(["event", "s1_id", "s2_id", "qS2c"], library="np")
    for k, v in got.items():
        np.testing.assert_array_equal(v, ref[k])


def test_tpcml_info_json_equal_to_file_is_refused(tmp_path, events_file):
    """--json equal to --file (or a link to it) replaced the ROOT file by the JSON summary (issue 13, item 6)."""
    link = tmp_path / "link.root"
    link.symlink_to(events_file)
    before = events_file.read_bytes()
    for target in (events_file, link):
        res = run(["tpcml-info", str(events_file), "--json", str(target)])
        assert res.returncode == 2
        assert f"tpcml-info: error: --json '{target}' is the input '{events_file}' (the same file)" in res.stderr
    assert events_file.read_bytes() == before and link.is_symlink()


def test_sigint_in_python_still_raises_keyboardinterrupt_and_removes_the_temporary(tmp_path):
    """The temporaries' signal handler chains to the handler it replaced: Python keeps its
    KeyboardInterrupt (a plain re-raise would have killed the interpreter)."""
    code = (
        "import os, signal, sys, time, tpcml._core as c\n"
        "o = c.AtomicOutput(sys.argv[1])\n"
        "open(o.temp_path, 'w').write('x')\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(5)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted, temporary left:', os.path.exists(o.temp_path))\n"
    )
    res = run([sys.executable, "-c", code, str(tmp_path / "out.root")], timeout=60)
    assert res.returncode == 0, res.stderr
    assert "interrupted, temporary left: False" in res.stdout
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------- issue 14: one pairing job
def test_pairing_job_is_one_function_for_executable_and_python(tmp_path):
    """tpcml-pair and tpcml.pairing.pair both run tpcml::pairFile: the same events, weights, n_acc and metadata
    (the job was written twice, in tpcml-pair.cxx and pandax2/pairing.py)."""
    from tpcml.pairing import pair

    iso = _isolated(tmp_path)
    exe, py = tmp_path / "exe.root", tmp_path / "py.root"
    res = run(
        ["tpcml-pair", "--input", str(iso), "--output", str(exe), "-n", "3000", "--seed", "4", "--livetime", "100"]
    )
    assert res.returncode == 0, res.stderr
    summary = pair(iso, py, 3000, seed=4, livetime_s=100.0, quiet=True)
    assert summary["n_pairs"] == 3000 and summary["n_acc"] > 0
    with uproot.open(exe) as a, uproot.open(py) as b:
        ta, tb = a["events"].arrays(library="np"), b["events"].arrays(library="np")
        assert list(ta) == list(tb)
        for k in ta:
            np.testing.assert_array_equal(ta[k], tb[k], err_msg=k)
        assert a["tpcml_n_acc"].member("fVal") == pytest.approx(summary["n_acc"], rel=1e-12)
        assert b["tpcml_n_acc"].member("fVal") == pytest.approx(summary["n_acc"], rel=1e-12)
        assert str(a["tpcml_detector"].member("fTitle")) == str(b["tpcml_detector"].member("fTitle")) == "pandax2"
    np.testing.assert_allclose(ta["weight"], summary["n_acc"] / 3000, rtol=1e-6)


def test_tpcml_pair_drift_window_beyond_the_detector_is_refused(tmp_path):
    """tpcml-pair took any window with 0 <= TMIN < TMAX, tpcml pair refused one beyond the maximum drift time;
    the one job refuses it for both (exit 2)."""
    iso = _isolated(tmp_path)
    res = run(["tpcml-pair", "--input", str(iso), "--output", str(tmp_path / "a.root"), "-n", "10",
               "--drift-window", "0,1e9"])  # fmt: skip
    assert res.returncode == 2
    assert "maximum drift time of detector pandax2" in res.stderr
    assert not (tmp_path / "a.root").exists()
