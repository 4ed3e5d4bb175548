"""The file contract (docs/event-model.md §1, §4; issue 15 items 3-4): one provenance schema for C++ and
Python, tpcml_detector / tpcml_model / the NR median carried to every output, the detector-mismatch refusal
and its override, outputs written with the user's umask, TTree or RNTuple out (read back by uproot and by
ROOT), and RDataFrame progress on stderr only."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
uproot = pytest.importorskip("uproot")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import tpcml  # noqa: E402
from tpcml import _core  # noqa: E402
from tpcml.core.rootio import provenance, read_provenance, write_metadata, write_tree  # noqa: E402
from tpcml.inference import score_files  # noqa: E402

from .conftest import run  # noqa: E402

FEATURES = ["a", "b", "c"]
N = 400


def _model(path, detector: str | None = "pandax2"):
    """A 3-input linear model with sigmoid output and the tpcml metadata (optionally tpcml.detector)."""
    w = numpy_helper.from_array(np.array([[0.5], [-0.25], [1.0]], np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Sigmoid", ["h"], ["y"])],
        "lin",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
        [w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    meta = {"tpcml.inputs": json.dumps(FEATURES), "tpcml.working_point": "0.5"}
    if detector:
        meta["tpcml.detector"] = detector
    for k, v in meta.items():
        model.metadata_props.add(key=k, value=v)
    path.write_bytes(model.SerializeToString())
    return path


def _events(path, detector="pandax2", median=False):
    """A small events file (Python writer) tagged with `detector`, optionally with an NR median TGraph."""
    rng = np.random.default_rng(5)
    cols = {c: rng.normal(size=N).astype(np.float32) for c in FEATURES}
    cols["event"] = np.arange(N, dtype=np.int64)
    write_tree(path, "events", cols, detector=detector, auto_flush=100)
    if median:
        curve = _core.NRMedianCurve([2.0, 20.0, 200.0], [2.0, 1.8, 1.6])
        curve.write_to(str(path))
    return path


def _reference(cols):
    z = 0.5 * cols["a"] - 0.25 * cols["b"] + 1.0 * cols["c"]
    return 1.0 / (1.0 + np.exp(-z.astype(np.float64)))


def _title(path, key):
    with uproot.open(path) as f:
        return str(f[key].member("fTitle")) if key in f else None


def _read_both(path, tree, column):
    """`column` of `tree` read by uproot and by ROOT's RDataFrame (TTree or RNTuple alike), and the class."""
    with uproot.open(path) as f:
        kind = f.classnames()[f"{tree};1"] if f"{tree};1" in f.classnames() else f.classnames()[tree]
        by_uproot = np.asarray(f[tree][column].array(library="np"))
    ROOT = tpcml.load_root()
    by_root = np.asarray(ROOT.RDataFrame(tree, str(path)).AsNumpy([column])[column])
    return kind, by_uproot, by_root


# ------------------------------------------------------------------------------------------------ provenance
def test_provenance_has_one_schema_in_cpp_and_python(tmp_path):
    """Python wrote {"tpcml", "command"} and C++ {"tpcml_version", "command_line"}: now both go through
    tpcml::provenanceJson -- a file written by the C++ executable and one by the Python writer have the same
    keys, with the command line as a list of argv strings."""
    events = _events(tmp_path / "ev.root")
    model = _model(tmp_path / "m.onnx")
    out = tmp_path / "scored.root"
    res = run(["tpcml-infer", "--model", str(model), "--input", str(events), "--output", str(out)])
    assert res.returncode == 0, res.stderr
    _, cpp = read_provenance(out)
    _, py = read_provenance(events)
    keys = list(_core.provenance_keys())
    assert keys == ["tpcml_version", "command_line", "created_utc", "host", "inputs"]
    assert set(cpp) == set(py) == set(keys)
    assert cpp["command_line"][0].endswith("tpcml-infer") and "--model" in cpp["command_line"]
    assert cpp["inputs"] == [str(events)] and py["inputs"] == []
    assert cpp["tpcml_version"] == py["tpcml_version"] == tpcml._core.version()
    assert cpp["created_utc"].endswith("Z") and len(cpp["created_utc"]) == 20
    # a writer's own keys come after the five
    assert provenance([events], seed=3)["seed"] == 3


@pytest.mark.parametrize("size", [0, 3, 55, 56, 63, 64, 65, 1000, 70000])
def test_sha256_matches_hashlib(tmp_path, size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    p = tmp_path / "blob"
    p.write_bytes(data)
    assert _core.sha256_file(str(p)) == hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------- metadata carried to outputs
def test_scored_output_carries_detector_model_and_nr_median(tmp_path):
    events = _events(tmp_path / "ev.root", median=True)
    model = _model(tmp_path / "m.onnx")
    out = tmp_path / "scored.root"
    summary = score_files(events, model, out, progress=False)
    assert summary["entries"] == N
    assert _title(out, "tpcml_detector") == "pandax2"
    meta = json.loads(_title(out, "tpcml_model"))
    assert meta["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert meta["path"] == str(model) and meta["metadata"]["tpcml.detector"] == "pandax2"
    assert _core.NRMedianCurve.from_file(str(out))(np.array([20.0]))[0] == pytest.approx(1.8)
    with uproot.open(events) as f:
        cols = {c: f["events"][c].array(library="np") for c in FEATURES}
    with uproot.open(out) as f:
        np.testing.assert_allclose(f["events"]["score"].array(library="np"), _reference(cols), rtol=1e-5)


def test_untagged_input_gets_the_models_detector(tmp_path):
    events = tmp_path / "ev.root"
    _events(events, detector=None)
    out = tmp_path / "scored.root"
    score_files(events, _model(tmp_path / "m.onnx", "xenon1t"), out, progress=False)
    assert _title(out, "tpcml_detector") == "xenon1t"


# -------------------------------------------------------------------------------------- detector mismatch
def test_detector_mismatch_is_refused_unless_overridden(tmp_path):
    events = _events(tmp_path / "x1t.root", detector="xenon1t")
    model = _model(tmp_path / "px2.onnx", "pandax2")
    out = tmp_path / "scored.root"
    refusal = r"tagged with detector 'xenon1t'.*'pandax2'.*allow_detector_mismatch=True"
    with pytest.raises(tpcml.InputError, match=refusal):
        score_files(events, model, out, progress=False)
    assert not out.exists()
    res = run(["tpcml-infer", "--model", str(model), "--input", str(events), "--output", str(out)])
    assert res.returncode == 1 and "xenon1t" in res.stderr and "pandax2" in res.stderr, res.stderr
    assert "--allow-detector-mismatch" in res.stderr and not out.exists()
    cmd = ["tpcml-infer", "--model", str(model), "--input", str(events), "--output", str(out)]
    res = run([*cmd, "--allow-detector-mismatch"])
    assert res.returncode == 0, res.stderr
    assert _title(out, "tpcml_detector") == "xenon1t"  # the data's tag is kept
    out2 = tmp_path / "py.root"
    assert score_files(events, model, out2, progress=False, allow_detector_mismatch=True)["entries"] == N


def test_pairing_refuses_a_file_of_another_detector(tmp_path):
    from tpcml.pairing import pair

    iso = _isolated(tmp_path, detector="xenon1t")
    with pytest.raises(tpcml.InputError, match=r"'xenon1t'.*pairing runs with detector 'pandax2'"):
        pair(iso, tmp_path / "acc.root", 100, quiet=True)
    res = pair(iso, tmp_path / "acc.root", 100, quiet=True, allow_detector_mismatch=True)
    assert res["n_pairs"] == 100


def test_select_refuses_a_file_of_another_detector(tmp_path):
    from tpcml.core import detectors
    from tpcml.studies.pandax2 import selection

    events = tmp_path / "ev.root"
    write_tree(events, "events", {c: np.ones(10, np.float32) for c in ("qS1", "qS2", "qS2c", "drift_time", "x", "y")},
               detector="xenon1t")  # fmt: skip
    with pytest.raises(tpcml.InputError, match=r"'xenon1t'.*selection runs with detector 'pandax2'"):
        selection.cutflow([str(events)], detectors.load("pandax2"), output=str(tmp_path / "sel.root"))


# ---------------------------------------------------------------------------------------------------- umask
def test_outputs_follow_the_umask(tmp_path):
    """ONNX files were written 0600 (mkstemp): now every output gets 0666 & ~umask, as open() gives."""
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    from tpcml.ml.export import to_onnx

    inp = keras.Input((3,), name="x")
    net = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(inp))
    old = os.umask(0o022)
    try:
        onnx_path = to_onnx(net, tmp_path / "m.onnx", metadata={"tpcml.inputs": FEATURES})
        events = _events(tmp_path / "ev.root")
        out = tmp_path / "scored.root"
        score_files(events, onnx_path, out, progress=False)
    finally:
        os.umask(old)
    for p in (onnx_path, events, out):
        assert stat.S_IMODE(p.stat().st_mode) == 0o644, p


# ------------------------------------------------------------------------------------------- TTree / RNTuple
EXPECTED_CLASS = {"ttree": "TTree", "rntuple": "ROOT::RNTuple"}


@pytest.mark.parametrize("fmt", ["ttree", "rntuple"])
def test_python_writer_formats(tmp_path, fmt):
    path = tmp_path / "w.root"
    x = np.arange(50, dtype=np.float64)
    write_tree(path, "events", {"x": x, "n": np.arange(50, dtype=np.int32)}, detector="pandax2", format=fmt)
    kind, by_uproot, by_root = _read_both(path, "events", "x")
    assert kind == EXPECTED_CLASS[fmt]
    np.testing.assert_array_equal(by_uproot, x)
    np.testing.assert_array_equal(by_root, x)
    assert _title(path, "tpcml_detector") == "pandax2"


@pytest.mark.parametrize("fmt", ["ttree", "rntuple"])
def test_fixed_length_array_columns(tmp_path, fmt):
    """A 2-d (entries, k) column is a fixed-length array per entry (TTree x[k]/F, RNTuple std::array<float, k>):
    RDataFrame reads it as RVec<float>, uproot and read_columns as an (entries, k) array, with the values
    written; tpcml inspect shows its length."""
    from tpcml.core.rootio import describe_tree, read_columns

    rng = np.random.default_rng(3)
    area = rng.random((40, 7), dtype=np.float32)
    wave = rng.random((40, 200), dtype=np.float32)
    chan = rng.integers(0, 100, (40, 2)).astype(np.int32)
    path = tmp_path / "arrays.root"
    cols = {"s1_area": area.sum(axis=1), "s1_pmt_area": area, "s1_waveform": wave, "chan": chan}
    write_tree(path, "events", cols, detector="xenon1t", format=fmt)
    ROOT = tpcml.load_root()
    df = ROOT.RDataFrame("events", str(path))
    assert str(df.GetColumnType("s1_pmt_area")).startswith("ROOT::VecOps::RVec<")
    # the sum over PMTs in RDataFrame (RVec<float>) equals the scalar written beside it
    summed = df.Define("total", "ROOT::RVec<float> v = s1_pmt_area; return ROOT::VecOps::Sum(v);").AsNumpy(["total"])
    np.testing.assert_allclose(summed["total"], area.sum(axis=1), rtol=1e-6)
    by_root = df.AsNumpy(["s1_waveform"])["s1_waveform"]
    np.testing.assert_array_equal(np.stack([np.asarray(v) for v in by_root]), wave)
    with uproot.open(path) as f:
        got = f["events"].arrays(["s1_pmt_area", "s1_waveform", "chan"], library="np")
    assert got["s1_pmt_area"].shape == (40, 7)
    np.testing.assert_array_equal(got["s1_pmt_area"], area)
    np.testing.assert_array_equal(got["s1_waveform"], wave)
    np.testing.assert_array_equal(got["chan"], chan)
    read = read_columns(path, "events", {"s1_waveform": "floats[]", "s1_area": "float"})
    assert read["s1_waveform"].shape == (40, 200) and read["s1_waveform"].dtype == np.float32
    np.testing.assert_array_equal(read["s1_waveform"], wave)
    with pytest.raises(tpcml.InputError, match=r"'s1_area'.*expected a fixed-length array"):
        read_columns(path, "events", {"s1_area": "floats[]"})
    assert describe_tree(str(path), "events")["lengths"] == {"s1_pmt_area": 7, "s1_waveform": 200, "chan": 2}
    res = run(["tpcml", "inspect", str(path), "--tree", "events"])
    assert res.returncode == 0, res.stderr
    assert re.search(r"s1_waveform\s+ROOT::VecOps::RVec<\w+>\s+\(200 per entry\)", res.stdout), res.stdout
    summary = tmp_path / "info.json"
    res = run(["tpcml-info", str(path), "--tree", "events", "--json", str(summary)])
    assert "(7 per entry)" in res.stdout, res.stdout
    assert json.loads(summary.read_text())["lengths"] == {"chan": 2, "s1_pmt_area": 7, "s1_waveform": 200}


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (np.zeros((5, 2, 2), np.float32), r"shape \(5, 2, 2\): expected one value per entry \(1-d\) or a fixed-length"),
        (np.zeros((4, 3), np.float32), r"differ in their number of entries: \{'x': 5, 'a': 4\}"),
        (np.zeros((5, 0), np.float32), r"shape \(5, 0\): a fixed-length array column needs at least one value"),
    ],
)
def test_bad_array_columns_are_refused(tmp_path, column, message):
    with pytest.raises((tpcml.UsageError, ValueError), match=message):
        write_tree(tmp_path / "bad.root", "events", {"x": np.zeros(5, np.float32), "a": column})
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary left


@pytest.mark.parametrize("fmt", ["ttree", "rntuple"])
def test_score_formats(tmp_path, fmt):
    events = _events(tmp_path / "ev.root", median=True)
    out = tmp_path / "scored.root"
    score_files(events, _model(tmp_path / "m.onnx"), out, progress=False, format=fmt, threads=2)
    kind, by_uproot, by_root = _read_both(out, "events", "score")
    assert kind == EXPECTED_CLASS[fmt]
    with uproot.open(events) as f:
        ref = _reference({c: f["events"][c].array(library="np") for c in FEATURES})
    np.testing.assert_allclose(by_uproot, ref, rtol=1e-5)
    np.testing.assert_allclose(by_root, ref, rtol=1e-5)
    assert json.loads(_title(out, "tpcml_model"))["sha256"]


def _isolated(tmp_path, m=300, detector="pandax2"):
    rng = np.random.default_rng(9)
    s1 = {k: rng.uniform(1, 40, m).astype(np.float32) for k in ("qS1", "wS1", "S1TBA", "S1LargestBCQ")}
    s1["S1NPeaks"] = rng.integers(1, 4, m).astype(np.int32)
    s2 = {k: rng.uniform(100, 900, m).astype(np.float32) for k in ("qS2", "wS2", "wtenS2", "S2TBA", "S2SY1", "S2SY2")}
    s2 |= {k: rng.uniform(-100, 100, m).astype(np.float32) for k in ("x", "y")}
    return write_tree(tmp_path / "iso.root", "s1", s1, detector=detector, extra_trees={"s2": s2})


@pytest.mark.parametrize("fmt", ["ttree", "rntuple"])
def test_pair_formats_and_nr_median_carried(tmp_path, fmt):
    iso = _isolated(tmp_path)
    median = tmp_path / "median.root"
    _core.NRMedianCurve([2.0, 20.0, 200.0], [2.0, 1.8, 1.6]).write_to(str(median))
    out = tmp_path / "acc.root"
    cmd = ["tpcml-pair", "--input", str(iso), "--output", str(out), "-n", "500", "--format", fmt]
    res = run([*cmd, "--nr-median", str(median)])
    assert res.returncode == 0, res.stderr
    assert "pairing" in res.stderr and "500 / 500 entries (100 %)" in res.stderr  # progress, stderr only
    assert "entries (" not in res.stdout
    kind, by_uproot, by_root = _read_both(out, "events", "qS1")
    assert kind == EXPECTED_CLASS[fmt] and len(by_uproot) == 500
    np.testing.assert_array_equal(by_uproot, by_root)
    assert _title(out, "tpcml_detector") == "pandax2"
    prov = json.loads(_title(out, "tpcml_provenance"))
    assert set(_core.provenance_keys()) <= set(prov) and prov["n_pairs"] == 500 and prov["inputs"] == [str(iso)]
    assert _core.NRMedianCurve.from_file(str(out))(np.array([20.0]))[0] == pytest.approx(1.8)


def _tracks(path, n=60):
    ak = pytest.importorskip("awkward")
    rng = np.random.default_rng(2)
    counts = rng.integers(5, 30, n)
    total = int(counts.sum())
    hit = ak.zip(
        {
            "plane": ak.unflatten(rng.integers(0, 2, total).astype(np.int32), counts),
            "strip": ak.unflatten(rng.uniform(-50, 50, total).astype(np.float32), counts),
            "time": ak.unflatten(rng.uniform(0, 100, total).astype(np.float32), counts),
            "charge": ak.unflatten(rng.uniform(1, 10, total).astype(np.float32), counts),
        }
    )
    with uproot.recreate(path) as f:
        f.mktree("events", {"event": np.uint64, "hit": hit.type}, counter_name=lambda _: "nhit")
        f["events"].extend({"event": np.arange(n, dtype=np.uint64), "hit": hit})
    _core.write_output_metadata(str(path), "pandax3", json.dumps(provenance()))
    return path


@pytest.mark.parametrize("fmt", ["ttree", "rntuple"])
def test_raster_formats(tmp_path, fmt):
    tracks = _tracks(tmp_path / "tracks.root")
    out = tmp_path / "images.root"
    res = run(["tpcml-raster", "--input", str(tracks), "--output", str(out), "--format", fmt, "--threads", "2"])
    assert res.returncode == 0, res.stderr
    kind, by_uproot, by_root = _read_both(out, "events", "image_outside")
    assert kind == EXPECTED_CLASS[fmt] and len(by_uproot) == 60
    np.testing.assert_array_equal(by_uproot, by_root)
    assert _title(out, "tpcml_detector") == "pandax3"
    assert json.loads(_title(out, "tpcml_provenance"))["inputs"] == [str(tracks)]
    # the Python door (tpcml raster) writes the same format and metadata
    from tpcml.studies.pandax3.images import rasterise_file

    out_py = tmp_path / "images_py.root"
    rasterise_file(tracks, out_py, format=fmt)
    kind_py, images_py, _ = _read_both(out_py, "events", "image_outside")
    assert kind_py == kind
    np.testing.assert_array_equal(images_py, by_uproot)
    assert _title(out_py, "tpcml_detector") == "pandax3"


def test_bad_format_is_a_usage_error(tmp_path):
    events = _events(tmp_path / "ev.root")
    with pytest.raises(tpcml.UsageError, match=r"'parquet'.*expected 'ttree'.*'rntuple'"):
        score_files(events, _model(tmp_path / "m.onnx"), tmp_path / "o.root", format="parquet")
    with pytest.raises(tpcml.UsageError, match=r"'parquet'"):
        write_tree(tmp_path / "w.root", "t", {"x": np.zeros(3)}, format="parquet")
    res = run(["tpcml-infer", "--model", str(tmp_path / "m.onnx"), "--input", str(events), "--output",
               str(tmp_path / "o.root"), "--format", "parquet"])  # fmt: skip
    assert res.returncode == 2 and "--format: parquet not in {ttree,rntuple}" in res.stderr, res.stderr


def test_select_output_carries_the_contract(tmp_path):
    from tpcml.core import detectors
    from tpcml.studies.pandax2 import selection

    rng = np.random.default_rng(1)
    n = 200
    ranges = {"qS1": (3, 45), "qS2": (200, 5000), "qS2c": (200, 5000), "drift_time": (50, 300), "x": (-10, 10)}
    ranges["y"] = ranges["x"]
    cols = {k: rng.uniform(lo, hi, n).astype(np.float32) for k, (lo, hi) in ranges.items()}
    events = tmp_path / "ev.root"
    write_tree(events, "events", cols, detector="pandax2")
    _core.NRMedianCurve([2.0, 20.0, 200.0], [2.0, 1.8, 1.6]).write_to(str(events))
    out = tmp_path / "sel.root"
    selection.cutflow([str(events)], detectors.load("pandax2"), output=str(out), format="rntuple")
    kind, by_uproot, by_root = _read_both(out, "events", "qS1")
    assert kind == "ROOT::RNTuple" and len(by_uproot) > 0
    np.testing.assert_array_equal(by_uproot, by_root)
    assert _title(out, "tpcml_detector") == "pandax2"
    assert json.loads(_title(out, "tpcml_provenance"))["inputs"] == [str(events)]
    assert _core.NRMedianCurve.from_file(str(out))(np.array([20.0]))[0] == pytest.approx(1.8)


def test_write_metadata_adds_model_and_provenance(tmp_path):
    path = _events(tmp_path / "ev.root")
    model = _model(tmp_path / "m.onnx")
    write_metadata(path, "pandax2", [path], model=model, seed=7)
    prov = json.loads(_title(path, "tpcml_provenance"))
    assert prov["seed"] == 7 and prov["inputs"] == [str(path)]
    assert json.loads(_title(path, "tpcml_model"))["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------------- progress
def test_progress_goes_to_stderr_only(tmp_path):
    events = _events(tmp_path / "ev.root")
    model = _model(tmp_path / "m.onnx")
    out = tmp_path / "scored.root"
    res = run(["tpcml-infer", "--model", str(model), "--input", str(events), "--output", str(out), "--threads", "2"])
    assert res.returncode == 0, res.stderr
    assert f"{N} / {N} entries (100 %)" in res.stderr
    assert "entries (" not in res.stdout


def test_simulated_pandax2_files_as_rntuples(tmp_path):
    """`tpcml simulate pandax2 --format rntuple`: every file an RNTuple, with the contract's objects."""
    from tpcml.sim.lxe import Sizes, simulate_dataset

    sizes = Sizes(nr_after_cuts=500, er_after_cuts=300, accidental_after_cuts=300, isolated_s1=600, isolated_s2=600)
    sizes.dm_search = False
    simulate_dataset(tmp_path, sizes, seed=3, threads=1, quiet=True, format="rntuple")
    for name in ("nr_calibration", "er_calibration", "accidentals"):
        path = tmp_path / f"{name}.root"
        kind, by_uproot, by_root = _read_both(path, "events", "qS1")
        assert kind == "ROOT::RNTuple" and len(by_uproot) > 0, name
        np.testing.assert_array_equal(by_uproot, by_root)
        det, prov = read_provenance(path)
        assert det == "pandax2" and prov["seed"] == 3 and set(_core.provenance_keys()) <= set(prov)
        assert np.isfinite(_core.NRMedianCurve.from_file(str(path))(np.array([20.0]))[0])  # the NR median
