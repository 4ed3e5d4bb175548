"""tpcml::HitPeakImager (X1T-CNN Sec. III: Hit, Peak and HitPeak images): a lit PMT lands at its pixel, the
drawn area is conserved, waveforms follow the documented log scale, the three doors (pybind11 batch,
RDataFrame functor, tpcml-hitpeak) give identical images on 1 and 2 threads, and bad input is named."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tpcml import _core
from tpcml.core import detectors
from tpcml.core.root import implicit_mt

from .conftest import run
from .hitpeak_events import SAMPLES, empty_event, random_events


@pytest.fixture(scope="module")
def det():
    return detectors.resolve("xenon1t")


@pytest.fixture(scope="module")
def geometry(det):
    optics = _core.LXeOptics(det)
    return optics, det.get("tpc_radius", "mm"), det.get("pmt_diameter", "mm")


def test_sizes_are_the_papers(det):
    # X1T-CNN Sec. IV: HitPeak 75 x 75, Hit and Peak 100 x 50 (width x height), 3 channels
    shapes = {k: (_core.HitPeakImager(det, k).width, _core.HitPeakImager(det, k).height) for k in ("hitpeak", "hit")}
    assert shapes == {"hitpeak": (75, 75), "hit": (100, 50)}
    h = _core.HitPeakImager(det, "peak")
    assert (h.width, h.height, h.n_pmt, h.image_size) == (100, 50, 248, 100 * 50 * 3)
    assert _core.HitPeakImager(det, "raw").image_size == 2 * 248 + 6 * SAMPLES


@pytest.mark.parametrize(("array", "index"), [("top", 0), ("top", 100), ("bottom", 7), ("bottom", 120)])
def test_single_lit_pmt_lands_at_its_pixel_with_its_disc_area(det, geometry, array, index):
    optics, radius, diameter = geometry
    h = _core.HitPeakImager(det, "hit", width=400, height=200)
    ev = empty_event(h.n_pmt)
    k = index if array == "top" else optics.n_top + index
    ev[1][0, k] = 50.0  # one S2 PMT: the pattern's maximum, v = 1, white
    img = h.batch(*ev)[0]
    # documented layout: 2 x 2 cells of 200 x 100; S2 row below S1; top array left, bottom array right
    cell_x0, cell_y0 = (0.0 if array == "top" else 200.0), 100.0
    scale = 100.0 / (2 * radius + diameter)  # the disc of tpc_radius + pmt radius inscribed in the cell
    x, y = optics.top_xy if array == "top" else optics.bottom_xy
    px = cell_x0 + 100.0 + x[index] * scale
    py = cell_y0 + 50.0 - y[index] * scale  # detector y up, rows down
    for ch in range(3):
        plane = img[:, :, ch].astype(np.float64)
        rows, cols = np.indices(plane.shape)
        total = plane.sum()
        # area-weighted drawing: the channel sums to the disc's area in pixels (white: every channel 1)
        assert total == pytest.approx(math.pi * (0.5 * diameter * scale) ** 2, rel=0.01)
        assert (plane * (cols + 0.5)).sum() / total == pytest.approx(px, abs=0.02)
        assert (plane * (rows + 0.5)).sum() / total == pytest.approx(py, abs=0.02)
    assert img.max() == pytest.approx(1.0) and img.min() == 0.0


def test_colour_scale_is_log_of_the_area_over_the_signal_maximum(det):
    h = _core.HitPeakImager(det, "hit", width=400, height=200)
    ev = empty_event(h.n_pmt)
    ev[0][0, 0] = 999.0  # the S1 maximum (top PMT 0): v = 1, white
    ev[0][0, 5] = 9.0  # v = log10(10) / log10(1000) = 1/3: red 1/3 / 0.365 of full, no green or blue
    img = h.batch(*ev)[0]
    optics = _core.LXeOptics(det)
    scale = 100.0 / (2 * det.get("tpc_radius", "mm") + det.get("pmt_diameter", "mm"))
    x, y = optics.top_xy
    col, row = int(100 + x[5] * scale), int(50 - y[5] * scale)  # the disc centre's pixel (fully covered)
    np.testing.assert_allclose(img[row, col], [(1 / 3) / 0.365079, 0.0, 0.0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("value", "fraction"), [(0.5, 0.0), (1.0, 0.0), (10.0, 0.5), (math.sqrt(10.0), 0.25), (100.0, 1.0), (1e4, 1.0)]
)
def test_peak_bars_follow_the_log_scale_from_1_to_100(det, value, fraction):
    h = _core.HitPeakImager(det, "peak", width=100, height=50)
    ev = empty_event(h.n_pmt)
    ev[2][0, :] = value  # the S1 sum: green channel, left half
    img = h.batch(*ev)[0]
    green = img[:, :, 1].astype(np.float64)
    # the filled area = panel width (50 px) x fraction of the panel height (50 px), all in the left half
    assert green[:, :50].sum() == pytest.approx(50 * 50 * fraction, rel=1e-5, abs=1e-3)
    assert green[:, 50:].sum() == 0.0 and img[:, :, 0].sum() == 0.0 and img[:, :, 2].sum() == 0.0
    if 0.0 < fraction < 1.0:  # filled from the bottom edge up
        assert green[-1, :50].min() == pytest.approx(1.0) and green[0, :50].max() == 0.0


def test_peak_x_axis_is_autoscaled_to_the_stored_peak(det):
    # as PaX's display: a 20-sample peak (the rest of the 200 stored samples is zero padding) spans the panel
    h = _core.HitPeakImager(det, "peak", width=100, height=50)
    ev = empty_event(h.n_pmt)
    ev[5][0, :20] = 10.0  # the S2 sum: right half, log10(10) = half the height
    green = h.batch(*ev)[0][:, :, 1].astype(np.float64)
    assert green[:, 50:].sum() == pytest.approx(50 * 50 * 0.5, rel=1e-5)
    assert green[-1, 50] == pytest.approx(1.0) and green[-1, 99] == pytest.approx(1.0)  # first and last column
    assert green[:, :50].sum() == 0.0  # an S1 of zeros: an empty panel


def test_hitpeak_is_hit_over_peak_and_values_in_unit_range(det):
    ev = random_events(248, 20)
    hp = _core.HitPeakImager(det, "hitpeak", width=200, height=100).batch(*ev)
    hit = _core.HitPeakImager(det, "hit", width=200, height=50).batch(*ev)
    peak = _core.HitPeakImager(det, "peak", width=200, height=50).batch(*ev)
    np.testing.assert_allclose(hp[:, :50], hit, atol=1e-6)
    np.testing.assert_allclose(hp[:, 50:], peak, atol=1e-6)
    assert hp.min() >= 0.0 and hp.max() <= 1.0 and hp.dtype == np.float32
    first = _core.HitPeakImager(det, "hitpeak", channels_first=True).batch(*ev)
    np.testing.assert_array_equal(first, np.moveaxis(_core.HitPeakImager(det).batch(*ev), -1, 1))


def test_raw_mode_concatenates_the_inputs(det):
    ev = random_events(248, 4)
    raw = _core.HitPeakImager(det, "raw").batch(*ev)
    np.testing.assert_array_equal(raw, np.concatenate(ev, axis=1))


def test_negative_areas_from_baseline_noise_draw_nothing(det):
    # the engine's per-PMT areas integrate baseline noise: a channel can sum to a few tenths of a PE below 0
    ev = random_events(248, 5)
    noisy = [a.copy() for a in ev]
    noisy[0][:, ::7] = -0.2
    noisy[1][:, 3] = -0.3
    clipped = [np.maximum(a, 0) if k < 2 else a for k, a in enumerate(noisy)]
    h = _core.HitPeakImager(det)
    np.testing.assert_array_equal(h.batch(*noisy), h.batch(*clipped))
    np.testing.assert_array_equal(_core.HitPeakImager(det, "raw").batch(*noisy)[:, :248], noisy[0])  # raw keeps them


def test_batch_rejects_bad_shapes_and_values(det):
    h = _core.HitPeakImager(det)
    ev = random_events(248, 3)
    bad = list(ev)
    bad[1] = ev[1][:, :100]
    with pytest.raises(ValueError, match=r"s2_pmt_area must be a 2-D array \(n_events, 248\).*\(3, 100\)"):
        h.batch(*bad)
    bad = list(ev)
    bad[6] = ev[6][:2]
    with pytest.raises(ValueError, match=r"s2_waveform_top .*\(2, 200\)"):
        h.batch(*bad)
    bad = [a.copy() for a in ev]
    bad[0][1, 17] = np.nan
    with pytest.raises(ValueError, match=r"s1_pmt_area\[17\] = nan; expected a finite area in PE"):
        h.batch(*bad)
    bad = [a.copy() for a in ev]
    bad[5][2, 3] = np.inf
    with pytest.raises(ValueError, match=r"s2_waveform\[3\] is not finite"):
        h.batch(*bad)
    with pytest.raises(ValueError, match=r"unknown image kind 'hitpek'.*hitpeak"):
        _core.HitPeakImager(det, "hitpek")
    with pytest.raises(ValueError, match=r"width and height must be in \[8, 1024\]"):
        _core.HitPeakImager(det, "hit", width=4)


def test_batch_writes_into_a_given_output_buffer(det):
    h = _core.HitPeakImager(det)
    ev = random_events(248, 4)
    fresh = h.batch(*ev)
    out = np.full((4, 75, 75, 3), 7.0, np.float32)  # stale values must be overwritten, not added to
    got = h.batch(*ev, out=out)
    assert got is out or np.shares_memory(got, out)
    np.testing.assert_array_equal(out, fresh)
    for bad, _why in (
        (np.zeros((3, 75, 75, 3), np.float32), "size"),
        (np.zeros((4, 75, 75, 3), np.float64), "dtype"),
        (np.zeros((4, 75, 75, 3), np.float32)[:, ::-1], "not contiguous"),
    ):
        with pytest.raises(ValueError, match=r"out must be a writeable C-contiguous float32 array of 67500 values"):
            h.batch(*ev, out=bad)  # wrong: see `why`
    frozen = np.zeros((4, 75, 75, 3), np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        h.batch(*ev, out=frozen)


@pytest.fixture(scope="module")
def arrays_file(tmp_path_factory, det):
    """A TTree with the events-tree array columns as fixed-length float arrays (tpcml's writer, the file contract:
    the images take the PMT positions from its tpcml_detector), in clusters ImplicitMT can split."""
    from tpcml.core.rootio import write_tree

    ev = random_events(248, 600)
    path = tmp_path_factory.mktemp("hitpeak") / "events.root"
    cols = {"event": np.arange(600, dtype=np.uint64), **dict(zip(_core.HITPEAK_COLUMNS, ev, strict=True))}
    write_tree(path, "events", cols, detector="xenon1t", auto_flush=200)
    return path, ev


def test_rdataframe_door_equals_batch_door(det, arrays_file):
    path, ev = arrays_file
    ref = _core.HitPeakImager(det).batch(*ev, threads=1)
    np.testing.assert_array_equal(_core.HitPeakImager(det).batch(*ev, threads=2), ref)
    for threads in (1, 2):
        with implicit_mt(threads) as ROOT:
            imager = ROOT.tpcml.HitPeakImager(ROOT.tpcml.DetectorConfig.load("xenon1t"), ROOT.tpcml.HitPeakOptions())
            df = ROOT.RDataFrame("events", str(path))
            node = ROOT.tpcml.defineHitPeakImage(ROOT.RDF.AsRNode(df), "image", imager)
            cols = node.AsNumpy(["event", "image"])
        order = np.argsort(cols["event"])
        images = np.stack([np.asarray(cols["image"][i]) for i in order]).reshape(ref.shape)
        np.testing.assert_array_equal(images, ref)


def test_rdataframe_door_names_a_missing_column(arrays_file):
    import tpcml

    path, _ = arrays_file
    ROOT = tpcml.load_root()
    imager = ROOT.tpcml.HitPeakImager(ROOT.tpcml.DetectorConfig.load("xenon1t"), ROOT.tpcml.HitPeakOptions())
    cols = ROOT.std.vector["std::string"](["s1_pmt_area", "s2_pmt_areas", *_core.HITPEAK_COLUMNS[2:]])
    with pytest.raises(Exception, match=r"no column 's2_pmt_areas'.*s2_pmt_area"):
        ROOT.tpcml.defineHitPeakImage(
            ROOT.RDF.AsRNode(df := ROOT.RDataFrame("events", str(path))), "image", imager, cols
        )
    del df


def test_tpcml_hitpeak_executable_equals_batch_door(det, arrays_file, tmp_path):
    uproot = pytest.importorskip("uproot")
    path, ev = arrays_file
    ref = _core.HitPeakImager(det, "hit").batch(*ev)
    for threads in (1, 2):
        out = tmp_path / f"images_{threads}.root"
        res = run(["tpcml-hitpeak", str(path), "--output", str(out), "--kind", "hit", "--threads", str(threads)])
        assert res.returncode == 0, res.stderr
        assert "wrote 600 images" in res.stderr
        with uproot.open(out) as f:
            t = f["events"]
            images = np.stack(t["image"].array(library="np"))
            np.testing.assert_array_equal(t["event"].array(library="np"), np.arange(600))
            assert f["tpcml_detector"].member("fTitle") == "xenon1t"
        np.testing.assert_array_equal(images.reshape(ref.shape), ref)


def test_tpcml_hitpeak_bad_input(arrays_file, tmp_path):
    path, _ = arrays_file
    out = tmp_path / "x.root"
    res = run(["tpcml-hitpeak", str(path), "--output", str(out), "--kind", "hitpek"])
    assert res.returncode == 2 and "unknown image kind 'hitpek'" in res.stderr
    res = run(["tpcml-hitpeak", str(path), "--output", str(out), "--detector", "pandax2"])
    assert res.returncode == 1 and "s1_pmt_area has 248 values; expected 110" in res.stderr, res.stderr
    assert not out.exists()
    res = run(["tpcml-hitpeak", str(path), "--output", str(path)])
    assert res.returncode != 0 and "output" in res.stderr.lower()
    res = run(["tpcml-hitpeak", str(path), "--output", str(out), "--tree", "evnts"])
    assert res.returncode == 1 and "evnts" in res.stderr
