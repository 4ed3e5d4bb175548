"""tpcml::EventVectorBuilder (DARWIN-VAE Sec. 3.3: [S1 total waveform, S2 total waveform, S2 top and bottom hit
patterns]): the layout and size, the documented log1p normalisation, the pybind11 and RDataFrame doors identical on 1
and 2 threads, and bad input named."""

from __future__ import annotations

import numpy as np
import pytest

from tpcml import _core
from tpcml.core import detectors
from tpcml.core.root import implicit_mt

SAMPLES = 200


@pytest.fixture(scope="module")
def builder():
    return _core.EventVector(detectors.resolve("darwin"))


def random_events(n_pmt: int, n: int, seed: int = 5) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(SAMPLES)
    s1 = (rng.uniform(5, 60, (n, 1)) * np.exp(-0.5 * ((t - 20) / 3.0) ** 2) + rng.normal(0, 0.3, (n, SAMPLES))).astype(
        np.float32
    )
    s2 = (rng.uniform(20, 4000, (n, 1)) * np.exp(-0.5 * ((t - 100) / 30.0) ** 2)).astype(np.float32)
    pmt = rng.exponential(80.0, (n, n_pmt)).astype(np.float32)
    return [s1, s2, pmt]


def test_layout_and_size_for_darwin(builder):
    # 200 + 200 samples, 955 + 955 PMTs (data/detectors/darwin.toml): 2310 (the paper's 3835 is its own layout)
    assert (builder.size, builder.n_top, builder.n_bottom, builder.samples, builder.norm) == (
        2310,
        955,
        955,
        200,
        "log1p",
    )
    assert _core.EVENT_VECTOR_COLUMNS == ("s1_waveform", "s2_waveform", "s2_pmt_area")
    s1, s2, pmt = random_events(1910, 3)
    raw = _core.EventVector(detectors.resolve("darwin"), norm="none").batch(s1, s2, pmt)
    np.testing.assert_array_equal(raw[:, :200], s1)
    np.testing.assert_array_equal(raw[:, 200:400], s2)
    np.testing.assert_array_equal(raw[:, 400:1355], pmt[:, :955])  # top array first
    np.testing.assert_array_equal(raw[:, 1355:], pmt[:, 955:])


def test_log1p_normalisation_keeps_sign_and_scale(builder):
    s1, s2, pmt = random_events(1910, 4)
    x = builder.batch(s1, s2, pmt)
    raw = np.concatenate([s1, s2, pmt], axis=1).astype(np.float64)
    np.testing.assert_allclose(x, np.sign(raw) * np.log1p(np.abs(raw)), rtol=2e-6, atol=1e-7)
    assert (x[:, :200] < 0).any()  # negative baseline samples stay finite and negative
    # the absolute scale survives: 10x the S2 light moves the S2 entries up by ~log(10)
    x10 = builder.batch(s1, s2 * 10, pmt * 10)
    big = pmt[:, :955] > 50
    np.testing.assert_allclose((x10[:, 400:1355] - x[:, 400:1355])[big], np.log(10), atol=0.02)


def test_threads_give_identical_vectors(builder):
    ev = random_events(1910, 700)
    np.testing.assert_array_equal(builder.batch(*ev, threads=2), builder.batch(*ev, threads=1))


@pytest.fixture(scope="module")
def events_file(tmp_path_factory):
    """The three input columns in an events tree (tpcml's writer, three clusters for ImplicitMT)."""
    from tpcml.core.rootio import write_tree

    ev = random_events(1910, 300)
    columns = dict(zip(_core.EVENT_VECTOR_COLUMNS, ev, strict=True)) | {"event": np.arange(300, dtype=np.uint64)}
    return write_tree(tmp_path_factory.mktemp("vec") / "ev.root", "events", columns, "darwin", auto_flush=100), ev


def test_rdataframe_door_equals_batch_door(builder, events_file):
    path, ev = events_file
    ref = builder.batch(*ev)
    for threads in (1, 2):
        with implicit_mt(threads) as ROOT:
            b = ROOT.tpcml.EventVectorBuilder(ROOT.tpcml.DetectorConfig.load("darwin"), ROOT.tpcml.EventVectorOptions())
            df = ROOT.RDataFrame("events", str(path))
            cols = ROOT.tpcml.defineEventVector(ROOT.RDF.AsRNode(df), "x", b).AsNumpy(["event", "x"])
        order = np.argsort(cols["event"])
        np.testing.assert_array_equal(np.stack([np.asarray(cols["x"][i]) for i in order]), ref)


def test_bad_input_is_named(builder, events_file):
    s1, s2, pmt = random_events(1910, 2)
    bad = pmt.copy()
    bad[1, 7] = np.nan
    with pytest.raises(Exception, match=r"s2_pmt_area\[7\].*finite area"):
        builder.batch(s1, s2, bad)
    s2b = s2.copy()
    s2b[0, 3] = np.inf
    with pytest.raises(Exception, match=r"s2_waveform\[3\] is not finite"):
        builder.batch(s1, s2b, pmt)
    with pytest.raises(ValueError, match=r"s2_pmt_area must be a 2-D array \(n_events, 1910\).*\(2, 248\)"):
        builder.batch(s1, s2, pmt[:, :248])
    with pytest.raises(Exception, match=r"unknown event-vector normalisation 'log'.*log1p"):
        _core.EventVector(detectors.resolve("darwin"), norm="log")
    import tpcml

    ROOT = tpcml.load_root()
    b = ROOT.tpcml.EventVectorBuilder(ROOT.tpcml.DetectorConfig.load("darwin"), ROOT.tpcml.EventVectorOptions())
    cols = ROOT.std.vector["std::string"](["s1_waveform", "s2_waveforms", "s2_pmt_area"])
    with pytest.raises(Exception, match=r"no column 's2_waveforms'.*s2_waveform"):
        ROOT.tpcml.defineEventVector(
            ROOT.RDF.AsRNode(df := ROOT.RDataFrame("events", str(events_file[0]))), "x", b, cols
        )
    del df
