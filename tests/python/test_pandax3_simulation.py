"""PandaX-III track simulation (tpcml.sim.gas): physics ranges, readout grid, files.

PX3 = S. Xia et al., "Optimization of convolutional neural networks for background suppression in
the PandaX-III experiment" (2023). The reference ranges below are derived from the sources cited
in the simulation package (PX3 Sec. 2-3, the NIST ESTAR collision stopping power and NIST XCOM
cross sections of xenon embedded there); each test says where its range comes from.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

from tpcml.core import detectors
from tpcml.sim.gas import TrackSimulator, csda_range_mm, materials, simulate_dataset, sources, writer

N_SIGNAL, N_BACKGROUND = 400, 400


@pytest.fixture(scope="module")
def det():
    return detectors.load("pandax3")


@pytest.fixture(scope="module")
def sim():
    return TrackSimulator("pandax3")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A small 1:1 dataset (background half 214Bi, half 208Tl) read back with uproot."""
    import uproot

    out = tmp_path_factory.mktemp("px3sim")
    summary = simulate_dataset(out, N_SIGNAL, N_BACKGROUND, seed=7, quiet=True)
    with uproot.open(out / "tracks.root") as f:
        arrays = f["events"].arrays(library="np")
        branches = {k: f["events"][k].typename for k in f["events"].keys()}  # noqa: SIM118 (TTree)
    return out, summary, arrays, branches


# --------------------------------------------------------------------------- energy resolution
def test_energy_resolution_is_3_percent_fwhm_at_qbb(dataset, det, sim):
    """PX3 Sec. 3.1: Gaussian smearing to 3 % FWHM at Q. The ROI cut (±2 σ around Q, PX3 Sec. 3.2)
    truncates the smeared distribution, so σ is fitted with a likelihood truncated per event to the
    ROI; σ_E(E) = (0.03 / 2.3548) √(Q E) (sqrt(E) scaling, documented in the module)."""
    _, _, a, _ = dataset
    sig = a["label"] == 1
    e_true = a["energy_true"][sig].astype(float)
    d = a["energy"][sig].astype(float) - e_true
    lo, hi = det.get("roi_min", "keV") - e_true, det.get("roi_max", "keV") - e_true
    scale = np.sqrt(e_true / det.get("q_bb", "keV"))  # σ(E) = σ_Q √(E/Q)

    def nll(sigma_q):
        s = sigma_q * scale
        norm = np.log(np.maximum(ndtr(hi / s) - ndtr(lo / s), 1e-300))
        return float(np.sum(np.log(s) + 0.5 * (d / s) ** 2 + norm))

    sigma_q = minimize_scalar(nll, bounds=(5.0, 100.0), method="bounded").x
    fwhm_rel = 2.3548 * sigma_q / det.get("q_bb", "keV")
    # 400 events: statistical precision ~5 % on σ
    assert fwhm_rel == pytest.approx(det.get("energy_resolution_fwhm_at_qbb"), rel=0.15)
    # the smearing function itself, without the ROI cut, on many draws
    z = np.random.default_rng(3).standard_normal(200_000)
    q = det.get("q_bb", "keV")
    spread = sim.smear(np.full(z.size, q), z) - q
    assert 2.3548 * spread.std() / q == pytest.approx(0.03, rel=0.01)


# --------------------------------------------------------------------------- tracks and blobs
def test_track_length_reproduces_estar_csda_range(dataset, det):
    """The transport is CSDA with the embedded ESTAR xenon table: a 0νββ event's path length is
    R(T1) + R(T2) with T1 + T2 = Q, between 2 R(Q/2) ≈ 328 mm and R(Q) ≈ 348 mm at 58 kg/m3
    (R convex in T). Wall escapes only shorten it."""
    _, _, a, _ = dataset
    rho = det.get("gas_density", "g/cm3")
    q = det.get("q_bb", "keV")
    lo, hi = 2 * csda_range_mm(q / 2, rho), csda_range_mm(q, rho)
    length = a["track_length_mm"][a["label"] == 1]
    assert 320 < lo < 335 and 340 < hi < 355
    assert lo * 0.97 < np.mean(length) < hi
    assert np.median(length) > lo * 0.99


def test_track_extent_signal_vs_background(dataset):
    """Extent = diagonal of the 3-D box of the deposits. Documented ranges: for 0νββ the two
    multiply scattered electrons (CSDA path ≈ 33 cm in 10 bar Xe, ESTAR / density) fill a box much
    smaller than the path, mean between 0.25 and 0.6 of it (the electron direction randomises over a
    few cm in Xe: Highland θ0 ≈ 1 rad after ~5 cm at 1 MeV, PDG Eq. 34.15); PX3 Sec. 3.2 states that
    the 19.2 cm image keeps the whole 0νββ track, so the box side in each projection is below
    192 mm for (almost) all of them. γ events in the ROI are mostly multi-site (Compton scatters
    λ ≈ 4.5 m apart on average, XCOM at 2.45 MeV): their mean extent is larger."""
    _, _, a, _ = dataset
    sig, bkg = a["label"] == 1, a["label"] == 0
    ext_s, len_s = a["track_extent_mm"][sig], a["track_length_mm"][sig]
    assert 0.25 < np.mean(ext_s) / np.mean(len_s) < 0.6
    assert np.all(ext_s <= len_s + 1e-3)
    assert np.mean(a["track_extent_mm"][bkg]) > 1.5 * np.mean(ext_s)
    # projections as the rasteriser sees them: strip span and drift span of the hits, per plane
    v = 1.87  # mm/us, registry drift_velocity
    inside = []
    for i in np.flatnonzero(sig):
        ok = True
        for plane in (0, 1):
            m = a["hit_plane"][i] == plane
            u, t = a["hit_strip"][i][m], a["hit_time"][i][m]
            ok &= (np.ptp(u) < 192.0) and (np.ptp(t) * v < 192.0)
        inside.append(ok)
    assert np.mean(inside) > 0.9


def test_end_blob_fractions_two_blobs_for_signal_one_for_background(dataset, sim):
    """Blob = energy within 10 mm of a track end / total. A stopping electron's end holds at least
    the energy of its last 10 mm of path, T(R = 10 mm) ≈ 160 keV (ESTAR table, 58 kg/m3) = 6.6 % of
    Q, more where the end curls up (the Bragg blob). The start of a MeV electron holds only the
    ionisation of ~1-2 cm of a minimum-ionising path, dE/dx ≈ 6.9 keV/mm (ESTAR, 2.5 MeV) → 3-6 %.
    0νββ: both ends are stopping ends (PX3 Sec. 1: a Bragg blob at each end); γ: the most energetic
    electron has one blob."""
    _, _, a, _ = dataset
    sig, bkg = a["label"] == 1, a["label"] == 0
    t_10mm = float(sim._energy_at_range(np.array([10.0]))[0])
    assert 140 < t_10mm < 190
    b1s, b2s = a["blob1_fraction"][sig], a["blob2_fraction"][sig]
    b1b, b2b = a["blob1_fraction"][bkg], a["blob2_fraction"][bkg]
    assert 0.066 < np.mean(b1s) < 0.30 and 0.066 < np.mean(b1b) < 0.30
    assert 0.066 < np.mean(b2s) < 0.25  # second Bragg blob
    assert 0.02 < np.mean(b2b) < 0.06  # start of a single electron
    assert np.mean(b2s) > 2.5 * np.mean(b2b)
    assert np.all(b2s <= b1s) and np.all(b1s + b2s <= 1.0 + 1e-6)


# --------------------------------------------------------------------------- ROI efficiency
def test_roi_efficiency_reported_and_sane(dataset, det):
    """0νββ: the ROI is Q −62.8/+62.2 keV = ±2.0 σ (3 % FWHM), i.e. 95.5 % of a Gaussian; wall
    escapes of uniformly placed vertices lower it. γ: the fraction of entering γ that interact is
    ≈ 1 − exp(−<L>/λ) with the mean chord <L> = 4V/S = 960 mm of the 160 × 120 cm cylinder
    (isotropic flux, Cauchy formula) and λ ≈ 4.5 m (XCOM), i.e. ≈ 0.19; ²¹⁴Bi needs (nearly) full
    absorption of 2447.7 keV, ²⁰⁸Tl a loss of 95-220 keV from 2614.5 keV, which single Compton
    scatters cannot give (the scattered γ keeps ≥ 233 keV): Tl is the rarer."""
    out, summary, a, _ = dataset
    on_disk = json.loads((out / "dataset.json").read_text())
    assert on_disk["roi_efficiency"] == summary["roi_efficiency"]
    eff = summary["roi_efficiency"]
    lo, hi, q = det.get("roi_min", "keV"), det.get("roi_max", "keV"), det.get("q_bb", "keV")
    sigma = 0.03 / 2.3548 * q
    gauss = ndtr((hi - q) / sigma) - ndtr((lo - q) / sigma)
    assert gauss == pytest.approx(0.955, abs=0.002)
    assert 0.70 < eff["0nubb"] <= gauss + 0.03
    assert 0.005 < eff["Bi214"] < 0.05
    assert 0.0005 < eff["Tl208"] < 0.01
    assert eff["Tl208"] < eff["Bi214"]
    for name in ("Bi214", "Tl208"):
        assert 0.15 < summary["interacting_fraction"][name] < 0.22
    assert summary["counts"] == {
        "signal": N_SIGNAL,
        "background": N_BACKGROUND,
        "0nubb": N_SIGNAL,
        "Bi214": N_BACKGROUND // 2,
        "Tl208": N_BACKGROUND // 2,
        "total": N_SIGNAL + N_BACKGROUND,
    }
    e = a["energy"]
    assert np.all((e >= lo) & (e <= hi))
    assert summary["events_per_second"] > 0


def test_xray_satellites_and_attenuation():
    """XCOM (embedded): μ/ρ(2 MeV) without coherent scattering = 0.04043 cm2/g; at the Kα energy
    29.8 keV μ/ρ ≈ 8.33 cm2/g, i.e. λ ≈ 2 cm in 58 kg/m3 gas ("a few cm"). After a K-shell
    photoabsorption (fraction 0.833 from the K-edge jump) a Kα is emitted with ω_K = 0.889
    (Krause 1979): ≈ 0.74 X-rays per photoabsorption."""
    c, pe, pp = materials._xcom(np.array([2000.0, 29.8]))
    assert (c + pe + pp)[0] == pytest.approx(0.04043, rel=1e-3)
    lam_mm = 10.0 / ((c + pe + pp)[1] * 0.058)
    assert 15.0 < lam_mm < 25.0
    xrays_per_photoabsorption = materials.XE_K_SHELL_FRACTION * materials.XE_K_FLUORESCENCE_YIELD
    assert xrays_per_photoabsorption == pytest.approx(0.74, abs=0.01)


def test_bi214_events_carry_k_xrays(dataset):
    """²¹⁴Bi ROI events end in a photoabsorption above the K edge almost always (full absorption):
    mean number of K X-rays between 0.6 and 0.85 (0.74 per photoabsorption, a few events with two)."""
    _, _, a, _ = dataset
    bi = a["source"] == 1
    assert 0.6 < np.mean(a["n_xrays"][bi]) < 0.85
    assert np.all(a["n_interactions"][bi] >= 1) and np.all(a["n_interactions"][a["label"] == 1] == 0)


def test_bb_energy_sharing_and_angular_correlation():
    """Primakoff-Rosen sharing is symmetric in T1 ↔ T2 (mean Q/2); dN/dcos θ ∝ 1 − k cos θ has
    mean cos θ = −k/3."""
    rng = np.random.default_rng(5)
    cdf, t = sources._bb_energy_sharing_table(2457.8)
    t1 = np.interp(rng.random(200_000), cdf, t)
    assert np.mean(t1) == pytest.approx(2457.8 / 2, rel=0.005)
    assert t1.min() >= 0 and t1.max() <= 2457.8
    k = np.full(200_000, 0.8)
    c = sources._sample_cos_correlation(rng, k)
    assert np.mean(c) == pytest.approx(-0.8 / 3, abs=0.005)
    assert c.min() >= -1 and c.max() <= 1


# --------------------------------------------------------------------------- readout grid
def test_hits_lie_on_the_strip_and_time_grid(dataset, det):
    """3 mm strips centred on the axis (n_strips_x/y), 200 ns samples, 512 per event with the first
    arrival in sample n_baseline_bins = 100 (PX3 Sec. 3.1); hits sorted by (plane, strip, time)."""
    _, _, a, branches = dataset
    pitch, dt = det.get("strip_pitch", "mm"), det.get("sampling_period", "us")
    n_bins, n_base = det.get_int("n_time_bins"), det.get_int("n_baseline_bins")
    n_strips = det.get_int("n_strips_x")
    origin = -0.5 * n_strips * pitch
    plane = np.concatenate(a["hit_plane"])
    strip = np.concatenate(a["hit_strip"]).astype(float)
    t = np.concatenate(a["hit_time"]).astype(float)
    q = np.concatenate(a["hit_charge"]).astype(float)
    assert set(np.unique(plane)) == {0, 1}
    idx = (strip - origin) / pitch - 0.5
    assert np.allclose(idx, np.round(idx), atol=1e-3)
    assert idx.min() >= -1e-3 and idx.max() <= n_strips - 1 + 1e-3
    tb = t / dt - 0.5
    assert np.allclose(tb, np.round(tb), atol=1e-3)
    assert tb.min() >= n_base - 1e-3 and tb.max() <= n_bins - 1 + 1e-3
    assert np.all(q > 0) and np.allclose(q, np.round(q))
    for i in range(len(a["event"])):
        assert a["nhit"][i] == a["n_hits"][i] == len(a["hit_plane"][i]) == len(a["hit_charge"][i])
        assert np.min(a["hit_time"][i]) == pytest.approx((n_base + 0.5) * dt)
        strip_i = np.round((a["hit_strip"][i] - origin) / pitch - 0.5).astype(np.int64)
        bin_i = np.floor(a["hit_time"][i] / dt).astype(np.int64)
        key = (a["hit_plane"][i].astype(np.int64) * 1024 + strip_i) * 1024 + bin_i
        assert np.all(np.diff(key) > 0)
    assert branches["hit_plane"] == "int32_t[]" and branches["hit_charge"] == "float[]"
    assert branches["nhit"] == "int32_t" and branches["event"] == "uint64_t"


def test_charge_conservation_and_fano(dataset, det):
    """Σ hit charge + charge lost = ionisation electrons exactly; electrons = E / W with Fano
    fluctuations (variance F N, F = 0.15); the X and Y planes get half each."""
    _, _, a, _ = dataset
    w = det.get("w_value", "keV")
    fano = det.get("fano_factor")
    q = np.array([c.sum() for c in a["hit_charge"]], dtype=float)
    assert np.allclose(q + a["charge_lost"], a["n_electrons"], rtol=0, atol=0.5)
    n_mean = a["energy_true"].astype(float) / w
    pull = (a["n_electrons"] - n_mean) / np.sqrt(fano * n_mean)
    assert abs(np.mean(a["n_electrons"] / n_mean) - 1) < 1e-3
    assert 0.8 < np.std(pull) < 1.25
    qx = np.array([c[p == 0].sum() for c, p in zip(a["hit_charge"], a["hit_plane"], strict=True)])
    assert abs(qx.sum() / q.sum() - 0.5) < 0.01
    # PX3 Sec. 3.1: 412 effective samples (15.4 cm of drift) contain 0νββ events
    sig = a["label"] == 1
    assert np.mean(a["charge_lost"][sig] / a["n_electrons"][sig]) < 0.01
    assert np.mean(a["charge_lost"][sig] == 0) > 0.9


def test_vertices_in_the_active_volume(dataset, det):
    _, _, a, _ = dataset
    r = np.hypot(a["vertex_x"], a["vertex_y"])
    z = a["vertex_z"]
    radius, length = det.get("active_radius", "mm"), det.get("drift_length", "mm")
    assert np.all(r <= radius + 1e-3) and np.all((z <= 1e-3) & (z >= -length - 1e-3))
    bkg = a["label"] == 0  # γ entry points: on the boundary
    on_wall = np.isclose(r[bkg], radius, atol=0.01) | np.isclose(z[bkg], 0, atol=0.01)
    on_wall |= np.isclose(z[bkg], -length, atol=0.01)
    assert np.all(on_wall)
    assert set(np.unique(a["source"])) == {0, 1, 2}
    assert np.all((a["label"] == 1) == (a["source"] == 0))


# --------------------------------------------------------------------------- reproducibility
def test_reproducible_for_a_seed_and_thread_count(tmp_path):
    import uproot

    def read(d):
        with uproot.open(d / "tracks.root") as f:
            return f["events"].arrays(library="np")

    sa = simulate_dataset(tmp_path / "a", 30, 30, seed=11, quiet=True)
    sb = simulate_dataset(tmp_path / "b", 30, 30, seed=11, quiet=True, threads=2)
    simulate_dataset(tmp_path / "c", 30, 30, seed=12, quiet=True)
    for key in ("counts", "generated_primaries", "generated_roi_events", "roi_efficiency"):
        assert sa[key] == sb[key], key
    a, b, c = read(tmp_path / "a"), read(tmp_path / "b"), read(tmp_path / "c")
    for k in a:
        if a[k].dtype == object:
            assert all(np.array_equal(x, y) for x, y in zip(a[k], b[k], strict=True)), k
        else:
            assert np.array_equal(a[k], b[k]), k
    assert not np.array_equal(a["energy"], c["energy"])


# --------------------------------------------------------------------------- errors
def test_bad_arguments_raise_naming_the_value(tmp_path, sim):
    with pytest.raises(ValueError, match=r"n_signal .*-1"):
        simulate_dataset(tmp_path, -1, 10, quiet=True)
    with pytest.raises(ValueError, match=r"n_background .*2\.5"):
        simulate_dataset(tmp_path, 10, 2.5, quiet=True)
    with pytest.raises(ValueError, match=r"threads .*0"):
        simulate_dataset(tmp_path, 1, 1, threads=0, quiet=True)
    with pytest.raises(ValueError, match="Co60"):
        sim.generate("Co60", 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown PandaX-III source 7"):
        sim.simulate_events(7, 10)
    with pytest.raises(ValueError, match=r"n_primaries .*-5"):
        sim.generate("Bi214", -5, np.random.default_rng(0))
    assert not (tmp_path / "tracks.root").exists()


def test_zero_events_give_an_empty_tree_with_the_schema(tmp_path):
    import uproot

    summary = simulate_dataset(tmp_path, 0, 0, quiet=True)
    assert summary["counts"]["total"] == 0
    with uproot.open(tmp_path / "tracks.root") as f:
        t = f["events"]
        assert t.num_entries == 0
        assert {"hit_plane", "hit_strip", "hit_time", "hit_charge", "nhit", "label", "source"} <= set(t.keys())


# --------------------------------------------------------------------------- ROOT
def test_file_readable_by_rdataframe_with_rvec_columns(dataset):
    import tpcml

    out, _, a, _ = dataset
    root = tpcml.load_root()
    df = root.RDataFrame("events", str(out / "tracks.root"))
    types = {str(c): str(df.GetColumnType(c)) for c in df.GetColumnNames()}
    assert types["hit_plane"] in ("ROOT::VecOps::RVec<int>", "ROOT::VecOps::RVec<Int_t>")
    for c in ("hit_strip", "hit_time", "hit_charge"):
        assert types[c] in ("ROOT::VecOps::RVec<float>", "ROOT::VecOps::RVec<Float_t>")
    assert types["event"] == "ULong64_t" and types["label"] == "Int_t"
    total = df.Define("q", "Sum(hit_charge)").Sum("q").GetValue()
    assert total == pytest.approx(sum(c.sum() for c in a["hit_charge"]), rel=1e-6)
    assert df.Filter("label == 1").Count().GetValue() == N_SIGNAL
    with open(out / "dataset.json") as f:
        assert json.load(f)["tree"] == "events"


def test_clusters_are_declared_for_implicit_mt(dataset):
    """ROOT sees the tree's clusters as written (CLUSTER_EVENTS entries each, baskets aligned), so
    RDataFrame's ImplicitMT can share even a small file among threads (uproot alone declares ~30 MB
    clusters: a whole test file would be one)."""
    import uproot

    import tpcml

    out, _, _, _ = dataset
    root = tpcml.load_root()
    f = root.TFile.Open(str(out / "tracks.root"))
    tree = f.Get("events")
    n = tree.GetEntries()
    it = tree.GetClusterIterator(0)
    starts = []
    while (s := it.Next()) < n:
        starts.append(s)
    f.Close()
    size = writer.CLUSTER_EVENTS
    assert starts == list(range(0, n, size))
    with uproot.open(out / "tracks.root") as uf:
        offsets = list(uf["events"]["hit_charge"].entry_offsets)
    assert offsets == [*range(0, n, size), n]  # every basket is one cluster
