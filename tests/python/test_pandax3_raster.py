"""tpcml::TrackRasteriser (PandaX-III track images, P3-CNN Sec. 3.2): exact pixel placement on hand-made hits,
normalisation, charge-centre alignment, upscaling, out-of-window counting, NCHW layout, and the three doors
(pybind11 batch, RDataFrame functor, tpcml-raster) giving identical images on 1 and 2 threads."""

from __future__ import annotations

import numpy as np
import pytest

from tpcml import _core
from tpcml.core.root import implicit_mt

from .conftest import run

V_D = 1.87  # mm/us, P3-CNN Sec. 3.1 (the value in data/detectors/pandax3.toml)


def rasteriser(**kw):
    opts = {"pixels": 64, "pixel_size": 3.0, "drift_velocity": V_D, **kw}
    return _core.TrackRasteriser(**opts)


def one(r, plane, strip, time, charge):
    img, out = r.batch(
        np.asarray(plane, np.int32),
        np.asarray(strip, np.float32),
        np.asarray(time, np.float32),
        np.asarray(charge, np.float32),
        np.array([0, len(plane)], np.int64),
    )
    return img[0], int(out[0])


def random_events(n_events, seed=0, hits=(20, 400), spread=40.0):
    """Flat hit arrays + offsets of random track-like events (coordinates in mm, times in us)."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(*hits, n_events)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    n = int(offsets[-1])
    centre = np.repeat(rng.uniform(-600, 600, n_events), counts)
    plane = rng.integers(0, 2, n).astype(np.int32)
    strip = (3.0 * np.round((centre + rng.normal(0, spread, n)) / 3.0)).astype(np.float32)
    time = (np.repeat(rng.uniform(50, 600, n_events), counts) + rng.normal(0, spread / V_D, n)).astype(np.float32)
    charge = rng.exponential(100.0, n).astype(np.float32)
    return plane, strip, time, charge, offsets


def test_exact_pixel_placement():
    r = rasteriser()
    # X plane: two strips 3 mm apart at z = 0 -> centre 1.5 mm: columns floor(-0.5) + 32 = 31 and floor(0.5) + 32
    # Y plane: one strip at two times 3 mm apart -> rows 31 and 32; charges 1:3 -> values 0.25, 0.75
    img, out = one(r, [0, 0, 1, 1], [0.0, 3.0, 10.0, 10.0], [0.0, 0.0, 0.0, 3.0 / V_D], [1.0, 1.0, 1.0, 3.0])
    assert out == 0
    assert img.shape == (64, 64, 3)
    red, green, blue = img[..., 0], img[..., 1], img[..., 2]
    assert np.argwhere(red > 0).tolist() == [[32, 31], [32, 32]]
    assert red[32, 31] == pytest.approx(0.5) and red[32, 32] == pytest.approx(0.5)
    # Y-plane centre z = (0 * 1 + 3 * 3) / 4 = 2.25 mm: rows floor(-0.75) + 32 = 31, floor(0.25) + 32 = 32
    assert np.argwhere(green > 0).tolist() == [[31, 32], [32, 32]]
    assert green[31, 32] == pytest.approx(0.25) and green[32, 32] == pytest.approx(0.75)
    assert not blue.any()


def test_channels_sum_to_one_and_shift_invariance():
    r = rasteriser()
    plane, strip, time, charge, offsets = random_events(50, seed=1, spread=10.0)
    img, out = r.batch(plane, strip, time, charge, offsets)
    assert (out == 0).all()  # tracks of ~10 mm spread fit in the 192 mm window
    sums = img.sum(axis=(1, 2))
    has = np.stack([np.add.reduceat(plane == p, offsets[:-1]) > 0 for p in (0, 1)], axis=1)
    np.testing.assert_allclose(sums[:, :2][has], 1.0, rtol=1e-5)
    assert np.all(sums[:, 2] == 0)
    # shifting every hit by a multiple of the pixel (in strip and in z) moves the charge centre alike
    shifted, _ = r.batch(plane, strip + np.float32(3.0 * 17), time + np.float32(3.0 * 5 / V_D), charge, offsets)
    np.testing.assert_allclose(shifted, img, atol=1e-6)


def test_upscaling_is_exact_nearest_neighbour_and_nchw():
    plane, strip, time, charge, offsets = random_events(20, seed=2, spread=15.0)
    base, _ = rasteriser().batch(plane, strip, time, charge, offsets)
    up, _ = rasteriser(upscale=2).batch(plane, strip, time, charge, offsets)
    assert up.shape == (20, 128, 128, 3)
    np.testing.assert_array_equal(up, base.repeat(2, axis=1).repeat(2, axis=2))
    chw, _ = rasteriser(channels_first=True).batch(plane, strip, time, charge, offsets)
    assert chw.shape == (20, 3, 64, 64)
    np.testing.assert_array_equal(chw, base.transpose(0, 3, 1, 2))


def test_out_of_window_hits_are_counted():
    r = rasteriser()
    # a far hit (1 m away on the X plane) leaves the window; its charge still counts in the normalisation
    img, out = one(r, [0, 0, 0], [0.0, 0.0, 1000.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.001])
    assert out == 1
    assert img[..., 0].sum() == pytest.approx(2.0 / 2.001, rel=1e-6)
    # a plane without positive charge has no image: its hits count as outside
    img, out = one(r, [1, 1], [0.0, 3.0], [0.0, 0.0], [0.0, 0.0])
    assert out == 2 and not img.any()


def test_threads_give_identical_images():
    r = rasteriser()
    ev = random_events(3000, seed=3)
    a, oa = r.batch(*ev, threads=1)
    b, ob = r.batch(*ev, threads=2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(oa, ob)
    assert oa.sum() > 0  # spread 40 mm tracks do leave the window sometimes


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="pixels per side must be even"):
        rasteriser(pixels=63)
    with pytest.raises(ValueError, match="upscale factor"):
        rasteriser(upscale=0)
    with pytest.raises(ValueError, match="pixel size"):
        rasteriser(pixel_size=-3.0)
    r = rasteriser()
    with pytest.raises(ValueError, match=r"hit 1 \(plane\): plane 2; expected 0 \(X strips\) or 1 \(Y strips\)"):
        one(r, [0, 2], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"hit 0 \(strip\): strip coordinate nan; expected a finite"):
        one(r, [0], [np.nan], [0.0], [1.0])
    with pytest.raises(ValueError, match="one length"):
        r.batch(
            np.zeros(2, np.int32), np.zeros(3, np.float32), np.zeros(2, np.float32), np.zeros(2, np.float32), [0, 2]
        )
    with pytest.raises(ValueError, match="offsets end at 5"):
        r.batch(
            np.zeros(2, np.int32), np.zeros(2, np.float32), np.zeros(2, np.float32), np.zeros(2, np.float32), [0, 5]
        )


@pytest.mark.parametrize("bad", [-1.0, -1e-30, np.nan, np.inf])
def test_negative_or_non_finite_charge_is_refused_naming_event_and_hit(bad):
    """Negative charges gave empty or negative images in silence (issue 13, item 9)."""
    r = rasteriser()
    charge = np.array([1.0, 2.0, 1.0, bad, 1.0], np.float32)
    with pytest.raises(ValueError, match=r"event 1, track image: hit 1 \(charge\): charge "):
        r.batch(np.zeros(5, np.int32), np.zeros(5, np.float32), np.zeros(5, np.float32), charge, np.array([0, 2, 5]))


@pytest.fixture(scope="module")
def hits_file(tmp_path_factory):
    """A tracks.root-like file (the `tpcml simulate pandax3` schema) written by uproot with jagged hit branches."""
    ak = pytest.importorskip("awkward")
    uproot = pytest.importorskip("uproot")
    plane, strip, time, charge, offsets = random_events(2500, seed=4)
    counts = np.diff(offsets)
    hit = ak.zip(
        {
            "plane": ak.unflatten(plane, counts),
            "strip": ak.unflatten(strip, counts),
            "time": ak.unflatten(time, counts),
            "charge": ak.unflatten(charge, counts),
        }
    )
    path = tmp_path_factory.mktemp("raster") / "tracks.root"
    with uproot.recreate(path) as f:
        f.mktree("events", {"event": np.uint64, "hit": hit.type}, counter_name=lambda _: "nhit")
        # several baskets: ImplicitMT splits work by cluster
        for b in range(0, len(counts), 500):
            f["events"].extend(
                {"event": np.arange(b, min(b + 500, len(counts)), dtype=np.uint64), "hit": hit[b : b + 500]}
            )
    return path, (plane, strip, time, charge, offsets)


def test_rdataframe_door_equals_batch_door(hits_file):
    path, ev = hits_file
    ref, ref_out = rasteriser().batch(*ev)
    for threads in (1, 2):
        with implicit_mt(threads) as ROOT:
            df = ROOT.RDataFrame("events", str(path))
            r = ROOT.tpcml.TrackRasteriser(ROOT.tpcml.RasterOptions())  # defaults: P3-CNN's 64 x 64 x 3 mm, 1.87 mm/us
            node = ROOT.tpcml.defineTrackImage(ROOT.RDF.AsRNode(df), "image", r)
            cols = node.AsNumpy(["event", "image", "image_outside"])
        order = np.argsort(cols["event"])
        images = np.stack([np.asarray(cols["image"][i]) for i in order]).reshape(ref.shape)
        np.testing.assert_array_equal(images, ref)
        np.testing.assert_array_equal(np.asarray(cols["image_outside"])[order], ref_out)


def test_rdataframe_missing_column_error(hits_file):
    import tpcml

    path, _ = hits_file
    ROOT = tpcml.load_root()
    df = ROOT.RDataFrame("events", str(path))
    r = ROOT.tpcml.TrackRasteriser(ROOT.tpcml.RasterOptions())
    cols = ROOT.std.vector["std::string"](["hit_plane", "hit_strp", "hit_time", "hit_charge"])
    with pytest.raises(Exception, match=r"no column 'hit_strp'.*hit_strip"):
        ROOT.tpcml.defineTrackImage(ROOT.RDF.AsRNode(df), "image", r, cols)


def test_tpcml_raster_executable(hits_file, tmp_path):
    uproot = pytest.importorskip("uproot")
    path, ev = hits_file
    ref, ref_out = rasteriser(upscale=2).batch(*ev)
    for threads in (1, 2):
        out = tmp_path / f"images_{threads}.root"
        res = run(
            [
                "tpcml-raster",
                "--input",
                str(path),
                "--output",
                str(out),
                "--upscale",
                "2",
                "--threads",
                str(threads),
                "--drop-hits",
            ]
        )
        assert res.returncode == 0, res.stderr
        with uproot.open(out) as f:
            t = f["events"]
            names = t.keys()
            assert "hit_plane" not in names
            cols = t.arrays(["event", "image", "image_outside"], library="np")
        order = np.argsort(cols["event"])
        images = np.stack([cols["image"][i] for i in order]).reshape(ref.shape)
        np.testing.assert_array_equal(images, ref)
        np.testing.assert_array_equal(cols["image_outside"][order], ref_out)
    res = run(["tpcml-raster", "--help"])
    assert res.returncode == 0 and "--upscale" in res.stdout
    res = run(["tpcml-raster", "--input", str(path), "--output", str(tmp_path / "x.root"), "--layout", "chw"])
    assert res.returncode == 2 and "nhwc or nchw" in res.stderr
    res = run(["tpcml-raster", "--input", str(tmp_path / "missing.root"), "--output", str(tmp_path / "y.root")])
    assert res.returncode == 1 and "missing.root" in res.stderr
    assert not (tmp_path / "y.root").exists()


def test_tpcml_raster_threads_keep_input_order(hits_file, tmp_path):
    """2 and 3 threads wrote ~6 % of the entries out of place (ImplicitMT Snapshot); now the output
    is the input's order, entry by entry, and identical to the 1-thread output (issue 13, item 11)."""
    uproot = pytest.importorskip("uproot")
    path, ev = hits_file  # 2500 events in 5 clusters
    ref, ref_out = rasteriser().batch(*ev)
    outputs = []
    for threads in (1, 2, 3):
        out = tmp_path / f"ordered_{threads}.root"
        res = run(["tpcml-raster", "--input", str(path), "--output", str(out), "--threads", str(threads)])
        assert res.returncode == 0, res.stderr
        assert "entry order kept" in res.stderr
        with uproot.open(out) as f:
            outputs.append(f["events"].arrays(["event", "image", "image_outside"], library="np"))
    for cols in outputs:
        np.testing.assert_array_equal(cols["event"], np.arange(len(ref), dtype=np.uint64))  # the input's own index
        np.testing.assert_array_equal(np.stack(cols["image"]).reshape(ref.shape), ref)
        np.testing.assert_array_equal(cols["image_outside"], ref_out)


def test_batch_into_a_caller_buffer():
    """`out=` fills the caller's array in place (and returns it); a buffer it would have to convert is refused
    rather than filled as a copy."""
    plane, strip, time, charge, offsets = random_events(5, seed=3)
    r = rasteriser()
    ref, ref_out = r.batch(plane, strip, time, charge, offsets)
    buf = np.full(ref.shape, 7.0, np.float32)
    img, out = r.batch(plane, strip, time, charge, offsets, out=buf)
    assert img is buf
    np.testing.assert_array_equal(buf, ref)
    np.testing.assert_array_equal(out, ref_out)
    for bad in (
        np.zeros(ref.shape, np.float64),
        np.zeros(ref.size - 1, np.float32),
        np.zeros(ref.shape, np.float32)[:, ::2],
    ):
        with pytest.raises(ValueError, match="out must be a writeable C-contiguous float32 array"):
            r.batch(plane, strip, time, charge, offsets, out=bad)
    frozen = np.zeros(ref.shape, np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        r.batch(plane, strip, time, charge, offsets, out=frozen)
