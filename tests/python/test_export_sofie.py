"""``tpcml export --sofie``: the pre-pass, SOFIE's code, the parity check against tpcml's engine before anything
is written, and the refusals (a model SOFIE gets wrong, a corrupted model, an output that is the input). The
SOFIE cases skip when the optional package ``sofie`` is not installed."""

from __future__ import annotations

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import onnx

from tpcml.cli import main
from tpcml.ml import sofie as S

from .test_sofie import _conv_model

needs_sofie = pytest.mark.skipif(not S.available(), reason="the optional package 'sofie' is not installed")


@pytest.fixture
def model_path(tmp_path):
    path = tmp_path / "net.onnx"
    onnx.save(_conv_model({}), str(path))
    return path


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tpcml-sofie-"))


@needs_sofie
def test_export_writes_a_parity_checked_header(model_path, tmp_path, capsys):
    out = tmp_path / "gen" / "scorer.hxx"
    out.parent.mkdir()
    assert main(["export", str(model_path), "--sofie", "--output", str(out), "--batch", "2"]) == 0
    text = out.read_text()
    assert "namespace SOFIE_scorer" in text and 'Session(std::string filename ="scorer.dat"' in text
    assert out.with_suffix(".dat").stat().st_size > 0
    assert _leftovers(out.parent) == []
    msg = capsys.readouterr().out
    assert "max |delta| vs tpcml" in msg and "batch 2" in msg


@needs_sofie
def test_export_refuses_a_model_sofie_gets_wrong(model_path, tmp_path, monkeypatch, capsys):
    """A pre-pass that leaves out the explicit pads (SOFIE then pads the Conv by 1): the parity check refuses it
    and writes nothing."""
    real = S.prepare

    def without_pads(model):
        prepared, changes = real(model)
        for node in prepared.graph.node:
            S._drop_attr(node, "pads")
        return prepared, changes

    monkeypatch.setattr(S, "prepare", without_pads)
    out = tmp_path / "wrong.hxx"
    assert main(["export", str(model_path), "--sofie", "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "differently from tpcml's engine" in err and "not written" in err and "'y'" in err
    assert not out.exists() and not out.with_suffix(".dat").exists()
    assert _leftovers(tmp_path) == []


@needs_sofie
def test_export_refuses_a_corrupted_model(model_path, tmp_path, capsys):
    data = model_path.read_bytes()
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(data[: len(data) // 2])
    out = tmp_path / "bad.hxx"
    assert main(["export", str(bad), "--sofie", "--output", str(out)]) == 1
    assert "bad.onnx" in capsys.readouterr().err
    assert not out.exists() and _leftovers(tmp_path) == []


def test_export_refuses_to_overwrite_its_input(model_path, tmp_path, capsys):
    as_header = tmp_path / "net.hxx"
    as_header.write_bytes(model_path.read_bytes())
    assert main(["export", str(as_header), "--sofie", "--output", str(as_header)]) == 2
    assert "would overwrite the input model" in capsys.readouterr().err
    as_weights = tmp_path / "other.dat"
    as_weights.write_bytes(model_path.read_bytes())
    assert main(["export", str(as_weights), "--sofie", "--output", str(tmp_path / "other.hxx")]) == 2
    assert "other.dat" in capsys.readouterr().err
    assert as_header.read_bytes() == as_weights.read_bytes() == model_path.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "x.hxx"], "needs a target: --sofie"),
        (["--sofie", "--output", "x.onnx"], "ending in .hxx"),
        (["--sofie", "--output", "no/such/dir/x.hxx"], "does not exist"),
        (["--sofie", "--output", "3x.hxx"], "not a C++ identifier"),
    ],
)
def test_export_bad_arguments(model_path, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(model_path), *args]) in (1, 2)
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx"]


def test_export_without_sofie_says_what_to_install(model_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(S, "available", lambda: False)
    assert main(["export", str(model_path), "--sofie", "--output", str(tmp_path / "n.hxx")]) == 1
    assert "pip install sofie" in capsys.readouterr().err
