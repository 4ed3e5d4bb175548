"""tpcml-info: the C++ batch executable on generated ROOT files; exit codes; atomic output."""

from __future__ import annotations

import json

import pytest

import tpcml

from .conftest import run


def test_help_and_version():
    res = run(["tpcml-info", "--help"])
    assert res.returncode == 0
    assert "usage: tpcml-info" in res.stdout and "--file FILE" in res.stdout
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
    res = run(["tpcml-info", "--file", str(events_file), "--tree", "events"])
    assert res.returncode == 0, res.stderr
    assert "events: 4500 entries, 12 columns" in res.stdout
    assert "qS1" in res.stdout and "Float_t" in res.stdout and "ULong64_t" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fil", "x.root"], "unknown option '--fil' (did you mean: --file?)"),
        (["--threads", "two"], "option '--threads' expects an integer, got 'two'"),
        (["--threads", "-1"], "option '--threads' must be in [0, 1024], got -1"),
        (["--tree", "events"], "--tree needs --file"),
        (["--file"], "option '--file' expects a value FILE"),
        (["stray"], "unexpected argument 'stray' (options start with --; see --help)"),
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
    res = run(["tpcml-info", "--file", str(junk)])
    assert res.returncode == 1
    assert res.stderr.strip() == f"tpcml-info: error: cannot open '{junk}': not a readable ROOT file"
    res = run(["tpcml-info", "--file", str(events_file), "--tree", "evnts"])
    assert res.returncode == 1
    assert "no tree 'evnts'" in res.stderr and "did you mean: events" in res.stderr
    res = run(["tpcml-info", "--detector", "pandax9"])
    assert res.returncode == 1 and "unknown detector 'pandax9'" in res.stderr


def test_json_output_is_atomic(tmp_path, events_file):
    out = tmp_path / "summary.json"
    res = run(["tpcml-info", "--file", str(events_file), "--tree", "events", "--json", str(out)])
    assert res.returncode == 0, res.stderr
    data = json.loads(out.read_text())
    assert data["entries"] == 4500 and data["columns"]["qS1"] == "Float_t"
    # failure after the output was opened: no file, no temporary left behind
    out2 = tmp_path / "fail.json"
    res = run(["tpcml-info", "--file", str(tmp_path / "absent.root"), "--json", str(out2)])
    assert res.returncode == 1
    assert not out2.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    res = run(["tpcml-info", "--json", str(tmp_path / "no" / "dir.json")])
    assert res.returncode == 2 and "does not exist" in res.stderr


def test_detector_dump():
    res = run(["tpcml-info", "--detector", "pandax3"])
    assert res.returncode == 0, res.stderr
    assert "strip_pitch" in res.stdout and "mm" in res.stdout
