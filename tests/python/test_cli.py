"""The `tpcml` command line: real subcommands, --help everywhere, clear errors."""

from __future__ import annotations

import json

import pytest

from .conftest import run


def test_info_text():
    res = run(["tpcml", "info"])
    assert res.returncode == 0, res.stderr
    for name in ("tpcml", "root", "tensorflow", "keras", "onnx", "onnxruntime", "nestpy", "cpu", "gpu"):
        assert name in res.stdout, name
    assert "ROOT runtime 6." in res.stdout


def test_info_json():
    res = run(["tpcml", "info", "--json"])
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["tpcml"] == __import__("tpcml").__version__
    assert info["packages"]["nestpy"]
    assert isinstance(info["gpu"]["visible"], bool)
    assert info["cpu"]["usable_cores"] >= 1
    assert info["root_runtime"].startswith("6.")


@pytest.mark.parametrize("sub", [[], ["info"], ["detectors"], ["inspect"], ["run"]])
def test_help(sub):
    res = run(["tpcml", *sub, "--help"])
    assert res.returncode == 0
    assert "usage: tpcml" in res.stdout


def test_version():
    res = run(["tpcml", "--version"])
    assert res.returncode == 0 and res.stdout.startswith("tpcml ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nonsense"], "invalid choice: 'nonsense'"),
        (["run", "quickstrat"], "invalid choice: 'quickstrat'"),
        (["run", "quickstart", "--n-er", "-5"], "expected a non-negative integer"),
        (["detectors", "show"], "exactly one NAME or FILE"),
    ],
)
def test_bad_arguments_exit_2(args, message):
    res = run(["tpcml", *args])
    assert res.returncode == 2
    assert message in res.stderr


def test_inspect(events_file):
    res = run(["tpcml", "inspect", str(events_file)])
    assert res.returncode == 0, res.stderr
    assert "events" in res.stdout and "4500 entries" in res.stdout
    res = run(["tpcml", "inspect", str(events_file), "--tree", "events"])
    assert "qS1" in res.stdout and "Float_t" in res.stdout


def test_inspect_unreadable_and_missing(tmp_path, events_file):
    junk = tmp_path / "junk.root"
    junk.write_text("not ROOT")
    res = run(["tpcml", "inspect", str(junk)])
    assert res.returncode == 1
    assert res.stderr.strip() == f"tpcml: error: cannot open '{junk}': not a readable ROOT file"
    res = run(["tpcml", "inspect", str(tmp_path / "absent.root")])
    assert res.returncode == 1 and "no such file" in res.stderr
    res = run(["tpcml", "inspect", str(events_file), "--tree", "event"])
    assert res.returncode == 1 and "(did you mean: events?)" in res.stderr
