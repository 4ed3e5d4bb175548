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
        (["run", "quickstart", "--n-er", "-5"], "expected an integer >= 1, got -5"),
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


# ---------------------------------------------------------------------------------------- issue 13 regressions
def _ordered_events(path, n=20000, flush=1000):
    """Events that pass the selection, with an index column, in n / flush clusters (ImplicitMT has work)."""
    import numpy as np

    from tpcml.core.rootio import write_tree

    rng = np.random.default_rng(5)
    cols = {
        "qS1": rng.uniform(5, 40, n).astype(np.float32),
        "qS2": rng.uniform(200, 5000, n).astype(np.float32),
        "qS2c": rng.uniform(200, 5000, n).astype(np.float32),
        "qS1c": rng.uniform(5, 40, n).astype(np.float32),
        "drift_time": rng.uniform(50, 300, n).astype(np.float32),
        "x": rng.uniform(-100, 100, n).astype(np.float32),
        "y": rng.uniform(-100, 100, n).astype(np.float32),
        "index": np.arange(n, dtype=np.int64),
    }
    write_tree(path, "events", cols, detector="pandax2", auto_flush=flush)
    return cols


def test_select_output_keeps_input_order_with_threads(tmp_path):
    import uproot

    src = tmp_path / "in.root"
    _ordered_events(src)
    out = {}
    for threads in (1, 2):
        dst = tmp_path / f"out{threads}.root"
        res = run(["tpcml", "select", str(src), "--output", str(dst), "--threads", str(threads)])
        assert res.returncode == 0, res.stderr
        with uproot.open(dst) as f:
            out[threads] = f["events"]["index"].array(library="np")
    assert len(out[1]) > 1000
    assert (out[1] == sorted(out[1])).all()
    assert (out[2] == out[1]).all()


def test_select_output_equal_to_input_is_refused(tmp_path):
    src = tmp_path / "in.root"
    _ordered_events(src, n=500, flush=100)
    before = src.read_bytes()
    for spelling in (str(src), str(tmp_path / "." / "in.root")):
        res = run(["tpcml", "select", str(src), "--output", spelling])
        assert res.returncode == 2 and "refusing to overwrite an input" in res.stderr
    (tmp_path / "link.root").symlink_to(src)
    res = run(["tpcml", "select", str(src), "--output", str(tmp_path / "link.root")])
    assert res.returncode == 2 and "link.root' is the input" in res.stderr and "(the same file)" in res.stderr
    assert src.read_bytes() == before


def test_select_vector_double_column_is_refused_with_its_type(tmp_path):
    import awkward as ak
    import numpy as np
    import uproot

    cols = {k: v.astype(np.float64) for k, v in _ordered_events(tmp_path / "t.root", n=50, flush=50).items()}
    cols["qS2c"] = ak.Array([[v] for v in cols["qS2c"]])
    with uproot.recreate(tmp_path / "v.root") as f:
        f["events"] = cols
    res = run(["tpcml", "select", str(tmp_path / "v.root")])
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "column 'qS2c' of 'events' is std::vector<double>; expected a float or double scalar" in res.stderr


def test_select_rntuple_of_doubles_gives_the_ttree_cut_flow(tmp_path):
    import numpy as np
    import uproot

    cols = _ordered_events(tmp_path / "t.root", n=3000, flush=500)
    with uproot.recreate(tmp_path / "r.root") as f:
        f["events"] = {k: v.astype(np.float64) for k, v in cols.items()}
    flows = [run(["tpcml", "select", str(tmp_path / n)]) for n in ("t.root", "r.root")]
    assert all(r.returncode == 0 for r in flows), flows[1].stderr
    assert flows[0].stdout == flows[1].stdout


def test_select_nr_median_file_without_the_tgraph_is_a_clean_error(tmp_path):
    # issue 15: without --nr-median a file lacking the curve is selected with the detector default
    # (test_own_data.py); a --nr-median file without it is refused
    src = tmp_path / "in.root"
    _ordered_events(src, n=100, flush=100)
    res = run(["tpcml", "select", str(src), "--below-nr-median", "--nr-median", str(src)])
    assert res.returncode == 1 and "Traceback" not in res.stderr + res.stdout
    assert "tpcml_nr_median" in res.stderr and str(src) in res.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "pandax3", "--out", "OUT", "--events", "0"], "--events: expected an integer >= 1, got 0"),
        (["run", "quickstart", "--n-er", "0"], "--n-er: expected an integer >= 1, got 0"),
        (["run", "accidental", "--replicas", "0"], "--replicas: expected an integer >= 1, got 0"),
        (["run", "accidental", "--batch-size", "0"], "--batch-size: expected an integer >= 1, got 0"),
        (["run", "tracks", "--batch-size", "0"], "--batch-size: expected an integer >= 1, got 0"),
        (["run", "accidental", "--architectures", ","], "--architectures: expected at least one Table 2 label"),
        (["pair", "--input", "x", "--output", "y", "-n", "0"], "-n/--events: expected an integer >= 1, got 0"),
        (["simulate", "pandax2", "--out", "OUT", "--seed", "2**64"], "--seed: expected an integer"),
        (["simulate", "pandax2", "--out", "OUT", "--seed", "18446744073709551616"], "<= 2^64 - 1"),
    ],
)
def test_zero_sizes_and_out_of_range_seeds_are_refused_not_defaulted(tmp_path, args, message):
    res = run(["tpcml", *(str(tmp_path / "o") if a == "OUT" else a for a in args)])
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


def test_out_an_existing_file_is_refused_by_simulate_and_run(tmp_path):
    f = tmp_path / "a_file"
    f.write_text("keep me")
    for args in (["simulate", "pandax3", "--out", str(f)], ["run", "accidental", "--out", str(f)]):
        res = run(["tpcml", *args])
        assert res.returncode == 2 and "is a file; expected a directory" in res.stderr, res.stderr
    assert f.read_text() == "keep me"


def _isolated_file(path):
    import numpy as np

    from tpcml.core.rootio import write_tree

    rng = np.random.default_rng(3)
    n = 2000
    s1 = {k: rng.uniform(1, 40, n).astype(np.float32) for k in ("qS1", "wS1", "S1TBA", "S1LargestBCQ")}
    s1["S1NPeaks"] = np.ones(n, np.int32)
    s2 = {k: rng.uniform(200, 3000, n).astype(np.float32) for k in ("qS2", "wS2", "wtenS2", "S2SY1", "S2SY2")}
    s2.update({k: rng.uniform(-0.3, 0.3, n).astype(np.float32) for k in ("S2TBA", "x", "y")})
    write_tree(path, "s1", s1, detector="pandax2", extra_trees={"s2": s2})
    return s1, s2


def test_pair_huge_n_is_refused_before_allocating_with_the_limit(tmp_path):
    _isolated_file(tmp_path / "iso.root")
    res = run(["tpcml", "pair", "--input", str(tmp_path / "iso.root"), "--output", str(tmp_path / "o.root"),
               "-n", "1000000000000"])  # fmt: skip
    assert res.returncode == 2 and "MemoryError" not in res.stderr
    assert "needs about" in res.stderr and "the limit is" in res.stderr
    assert not (tmp_path / "o.root").exists()


def test_pair_drift_window_beyond_the_detector_is_refused(tmp_path):
    _isolated_file(tmp_path / "iso.root")
    res = run(["tpcml", "pair", "--input", str(tmp_path / "iso.root"), "--output", str(tmp_path / "o.root"),
               "-n", "10", "--drift-window", "0,1e9"])  # fmt: skip
    assert res.returncode == 2 and "<= 364 us" in res.stderr


def test_pair_seeds_near_2_64_are_exact_and_distinct(tmp_path):
    import uproot

    _isolated_file(tmp_path / "iso.root")
    got = []
    for seed in (2**64 - 1, 2**64 - 2):
        out = tmp_path / f"p{seed}.root"
        res = run(["tpcml", "pair", "--input", str(tmp_path / "iso.root"), "--output", str(out), "-n", "200",
                   "-q", "--seed", str(seed)])  # fmt: skip
        assert res.returncode == 0, res.stderr
        with uproot.open(out) as f:
            got.append(f["events"]["qS1"].array(library="np"))
            assert str(seed) in str(f["tpcml_provenance"].member("fTitle"))
    assert not (got[0] == got[1]).all()


def test_pair_reads_an_rntuple_of_doubles_as_the_ttree(tmp_path):
    import numpy as np
    import uproot

    s1, s2 = _isolated_file(tmp_path / "iso.root")
    with uproot.recreate(tmp_path / "iso_rn.root") as f:
        f["s1"] = {k: v.astype(np.int64 if v.dtype.kind == "i" else np.float64) for k, v in s1.items()}
        f["s2"] = {k: v.astype(np.float64) for k, v in s2.items()}
    got = []
    for name in ("iso.root", "iso_rn.root"):
        res = run(["tpcml", "pair", "--input", str(tmp_path / name), "--output", str(tmp_path / f"p_{name}"),
                   "-n", "300", "-q", "--seed", "7"])  # fmt: skip
        assert res.returncode == 0, res.stderr
        with uproot.open(tmp_path / f"p_{name}") as f:
            got.append(f["events"].arrays(["qS1", "qS2c", "x"], library="np"))
    for k in got[0]:
        np.testing.assert_array_equal(got[0][k], got[1][k])


def test_detectors_validate_a_directory_says_what_it_is(tmp_path):
    res = run(["tpcml", "detectors", "validate", str(tmp_path)])
    assert res.returncode == 1
    assert "is a directory; expected a detector TOML file" in res.stderr and "no such file" not in res.stderr


def test_raster_errors_are_one_line_not_a_traceback(tmp_path):
    (tmp_path / "x.root").write_text("not root")
    for inp in (tmp_path / "x.root", tmp_path / "missing.root", tmp_path):
        res = run(["tpcml", "raster", "--input", str(inp), "--output", str(tmp_path / "o.root")])
        assert res.returncode == 1 and "Traceback" not in res.stderr + res.stdout
        assert str(inp) in res.stderr


def test_inspect_a_fifo_is_refused_without_blocking(tmp_path):
    import os

    os.mkfifo(tmp_path / "f.root")
    res = run(["tpcml", "inspect", str(tmp_path / "f.root")], timeout=30)
    assert res.returncode == 1 and "is not a regular file" in res.stderr


def test_simulate_pandax2_seed_2_64_minus_1_does_not_overflow_derived_seeds(tmp_path):
    # seed * 7 + 1, seed * 10 + 3, ... exceeded uint64 in nestpy / the C++ response: a TypeError traceback
    res = run(["tpcml", "simulate", "pandax2", "--quick", "--no-search-run", "-q", "--out", str(tmp_path / "s"),
               "--seed", str(2**64 - 1)])  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "s" / "dataset.json").read_text())["seed"] == 2**64 - 1


def test_select_chain_of_ttree_and_rntuple_is_refused_not_a_segfault(tmp_path):
    import numpy as np
    import uproot

    cols = _ordered_events(tmp_path / "t.root", n=200, flush=100)
    with uproot.recreate(tmp_path / "r.root") as f:
        f["events"] = {k: v.astype(np.float64) for k, v in cols.items()}
    res = run(["tpcml", "select", str(tmp_path / "t.root"), str(tmp_path / "r.root")])
    assert res.returncode == 1, res.stdout[-2000:] + res.stderr[-2000:]  # was 129: ROOT's segmentation violation
    assert "is a TTree in" in res.stderr and "but an RNTuple in" in res.stderr


def test_parse_int_checks_the_range_before_building_a_huge_integer():
    """'-n 1e999999999' built a billion-digit integer before the range check (minutes, then MemoryError)."""
    import time

    from tpcml.core.errors import ArgumentError
    from tpcml.core.guards import SEED_MAX, parse_int

    start = time.perf_counter()
    with pytest.raises(ArgumentError, match="expected an integer <= 9223372036854775807, got 1e999999999"):
        parse_int("1e999999999", minimum=1)
    with pytest.raises(ArgumentError, match="expected an integer >= 1, got -1e999999999"):
        parse_int("-1e999999999", minimum=1)
    with pytest.raises(ArgumentError, match="<= 2\\^64 - 1"):
        parse_int("1e999999", maximum=SEED_MAX)
    assert time.perf_counter() - start < 5
    assert parse_int("18446744073709551615", maximum=SEED_MAX) == SEED_MAX
    assert parse_int("1e6", minimum=1) == 1_000_000
