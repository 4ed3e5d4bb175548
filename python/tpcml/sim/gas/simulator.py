"""The gas-TPC track simulator (:mod:`tpcml.sim.gas`): one generation chunk from primaries to ROI
events with truth features and hits, and the chunk plan that makes a seed reproducible whatever the
number of threads.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ...core import detectors
from .materials import _LOG_R, _LOG_T, XE_RADIATION_LENGTH_G_CM2, _LogLogTable
from .readout import _Readout
from .sources import (
    SOURCE_BI214,
    SOURCE_TL208,
    SOURCE_ZERO_NU_BB,
    SOURCES,
    _bb_energy_sharing_table,
    source_code,
)
from .transport import _distance_to_surface, _Transport

#: Radius of the sphere around a track end for the blob energies (truth features).
BLOB_RADIUS_MM = 10.0
#: Largest generation chunk per source, in primaries (about 800, 1000 and 500 ROI events; memory
#: stays below ~0.5 GB). See chunk_primaries for the plan.
CHUNK_PRIMARIES = {SOURCE_ZERO_NU_BB: 1000, SOURCE_BI214: 60_000, SOURCE_TL208: 200_000}
#: ROI events per primary measured with this model (seeds 1-3), used only to plan the chunks.
NOMINAL_ROI_EFFICIENCY = {SOURCE_ZERO_NU_BB: 0.82, SOURCE_BI214: 0.0163, SOURCE_TL208: 0.0026}

SIGMA_PER_FWHM = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))


# ----------------------------------------------------------------------------- results
@dataclass
class Chunk:
    """Events of one generation chunk that passed the ROI selection (flat hits + per-event scalars)."""

    source: int
    n_primaries: int
    scalars: dict[str, np.ndarray]
    hits: dict[str, np.ndarray]
    nhit: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)
    n_interacting: int = 0

    @property
    def n_events(self) -> int:
        return int(self.nhit.size)

    def head(self, k: int) -> Chunk:
        """The first k events."""
        k = min(int(k), self.n_events)
        n_h = int(self.nhit[:k].sum())
        return Chunk(
            self.source,
            self.n_primaries,
            {key: v[:k] for key, v in self.scalars.items()},
            {key: v[:n_h] for key, v in self.hits.items()},
            self.nhit[:k],
            dict(self.timings),
            self.n_interacting,
        )

    @staticmethod
    def concatenate(chunks: list[Chunk]) -> Chunk:
        c0 = chunks[0]
        return Chunk(
            c0.source if len({c.source for c in chunks}) == 1 else -1,
            sum(c.n_primaries for c in chunks),
            {k: np.concatenate([c.scalars[k] for c in chunks]) for k in c0.scalars},
            {k: np.concatenate([c.hits[k] for c in chunks]) for k in c0.hits},
            np.concatenate([c.nhit for c in chunks]),
            {},
            sum(c.n_interacting for c in chunks),
        )


# ----------------------------------------------------------------------------- simulator
class TrackSimulator(_Transport, _Readout):
    """PandaX-III track simulator (see the :mod:`tpcml.sim.gas` docstring for the physics)."""

    def __init__(self, detector: str | detectors.DetectorConfig = "pandax3"):
        self.det = detectors.resolve(detector)
        d = self.det
        self.radius = d.get("active_radius", "mm")
        self.length = d.get("drift_length", "mm")
        self.density = d.get("gas_density", "g/cm3")
        self.v_drift = d.get("drift_velocity", "mm/us")
        self.d_t = d.get("diffusion_transverse_sqrt", "mm/sqrt(cm)")
        self.d_l = d.get("diffusion_longitudinal_sqrt", "mm/sqrt(cm)")
        self.w_kev = d.get("w_value", "keV")
        self.fano = d.get("fano_factor") if "fano_factor" in d.keys() else 0.15  # noqa: SIM118 (C++ method)
        self.pitch = d.get("strip_pitch", "mm")
        self.n_strips = (d.get_int("n_strips_x"), d.get_int("n_strips_y"))
        self.dt = d.get("sampling_period", "us")
        self.n_bins = d.get_int("n_time_bins")
        self.n_baseline = d.get_int("n_baseline_bins")
        self.q_bb = d.get("q_bb", "keV")
        self.roi = (d.get("roi_min", "keV"), d.get("roi_max", "keV"))
        self.fwhm_at_q = d.get("energy_resolution_fwhm_at_qbb")
        self.gamma_energy = {
            SOURCE_BI214: d.get("bi214_gamma_energy", "keV"),
            SOURCE_TL208: d.get("tl208_gamma_energy", "keV"),
        }
        self.x0_mm = 10.0 * XE_RADIATION_LENGTH_G_CM2 / self.density
        self._bb_cdf, self._bb_t = _bb_energy_sharing_table(self.q_bb)
        # CSDA range in mm at this density, and its inverse
        log_r_mm = _LOG_R + np.log(10.0 / self.density)
        self._range = _LogLogTable(_LOG_T, log_r_mm)
        self._energy_at_range = _LogLogTable(log_r_mm, _LOG_T)
        self.strip_origin = tuple(-0.5 * n * self.pitch for n in self.n_strips)

    # ------------------------------------------------------------------ energies
    def sigma_energy(self, e_kev):
        """Gaussian σ of the smeared energy: (FWHM/2.3548)·√(Q·E), 3 % FWHM at Q (PX3 Sec. 3.1)."""
        return self.fwhm_at_q * SIGMA_PER_FWHM * np.sqrt(self.q_bb * np.maximum(e_kev, 0.0))

    def smear(self, e_kev, z):
        """Smeared energy for standard-normal deviates z."""
        return e_kev + z * self.sigma_energy(e_kev)

    def _energy_smeared_to(self, e_smeared, z):
        """The deposited energy E with smear(E, z) = e_smeared (smear is increasing in E)."""
        c = self.fwhm_at_q * SIGMA_PER_FWHM * np.sqrt(self.q_bb)
        root = 0.5 * (-z * c + np.sqrt((z * c) ** 2 + 4.0 * e_smeared))
        return root**2

    # ------------------------------------------------------------------ one chunk
    def generate(self, source: int | str, n_primaries: int, rng: np.random.Generator) -> Chunk:
        """Simulate n_primaries decays (0νββ) or entering γ and keep the events in the ROI."""
        source = source_code(source)
        if isinstance(n_primaries, bool) or not isinstance(n_primaries, (int, np.integer)) or n_primaries < 0:
            raise ValueError(f"n_primaries must be a non-negative integer, got {n_primaries!r}")
        n_primaries = int(n_primaries)
        tm: dict[str, float] = {}
        t0 = time.perf_counter()
        if source == SOURCE_ZERO_NU_BB:
            el, info = self._signal_primaries(rng, n_primaries)
        else:
            el, info = self._gamma_primaries(rng, n_primaries, self.gamma_energy[source])
        tm["primaries"] = time.perf_counter() - t0
        n_interacting = int((info["n_interactions"] > 0).sum()) if source else n_primaries
        z_smear = rng.standard_normal(n_primaries)
        # --- pre-selection on the uncontained deposited energy (containment only lowers it)
        e_unc = np.asarray(info["e_total"], dtype=float)
        e_s = self.smear(e_unc, z_smear)
        lo, hi = self.roi
        cand = (e_s >= lo) & (e_unc > 0)
        above = cand & (e_s > hi)
        if above.any():
            # above the ROI: keep only events that can lose enough energy through the boundary. An
            # electron starting at distance d from the surface can take out at most the energy it
            # has left after a straight path d: E(R(T) - d).
            r_left = self._range(el.t) - _distance_to_surface(el.pos, self.radius, self.length)
            e_out = np.where(r_left > 0, self._energy_at_range(np.maximum(r_left, 1e-12)), 0.0)
            e_min = e_unc - np.bincount(el.ev, weights=e_out, minlength=n_primaries)
            cand &= ~above | (self.smear(np.maximum(e_min, 0.0), z_smear) <= hi)
        cand_ev = np.flatnonzero(cand)
        remap = np.full(n_primaries, -1, np.int64)
        remap[cand_ev] = np.arange(cand_ev.size)
        el = el.select(remap[el.ev] >= 0)
        el.ev = remap[el.ev]
        t0 = time.perf_counter()
        # an "above" candidate must lose at least E_unc − E* through the boundary, smear(E*) = roi_max;
        # the transport drops it as soon as that has become impossible
        need = np.full(cand_ev.size, -np.inf)
        ab = above[cand_ev]
        if ab.any():
            need[ab] = e_unc[cand_ev][ab] - self._energy_smeared_to(hi, z_smear[cand_ev][ab])
        steps, end, dropped = self.transport(el, rng, need_loss=need)
        tm["transport"] = time.perf_counter() - t0
        # --- containment and final ROI selection
        t0 = time.perf_counter()
        sev = el.ev[steps["el"]]
        mx, my, mz = (0.5 * (steps[f"{c}0"] + steps[f"{c}1"]) for c in "xyz")
        inside = (mx * mx + my * my <= self.radius**2) & (mz <= 0) & (mz >= -self.length)
        e_true = np.bincount(sev[inside], weights=steps["de"][inside], minlength=cand_ev.size)
        e_smeared = self.smear(e_true, z_smear[cand_ev])
        acc = (e_smeared >= lo) & (e_smeared <= hi)
        if dropped.any():  # tracking stopped early: cannot reach the ROI (their e_true is incomplete)
            acc[np.unique(el.ev[dropped])] = False
        acc_ev = np.flatnonzero(acc)
        remap2 = np.full(cand_ev.size, -1, np.int64)
        remap2[acc_ev] = np.arange(acc_ev.size)
        keep = np.flatnonzero(inside & acc[sev])
        # steps grouped by event, in step order (a stable radix sort on 16-bit keys when they fit)
        ev_key = remap2[sev[keep]]
        ev_key = ev_key.astype(np.uint16) if acc_ev.size < 65536 else ev_key
        keep = keep[np.argsort(ev_key, kind="stable")]
        seg = {k: v[keep] for k, v in steps.items()}
        seg_ev = remap2[sev[keep]]
        n_acc = acc_ev.size
        scalars = {
            "label": np.full(n_acc, 1 if source == SOURCE_ZERO_NU_BB else 0, np.int32),
            "source": np.full(n_acc, source, np.int32),
            "energy_true": e_true[acc_ev].astype(np.float32),
            "energy": e_smeared[acc_ev].astype(np.float32),
        }
        vtx = info["vertex"][cand_ev[acc_ev]]
        for k, c in zip(("vertex_x", "vertex_y", "vertex_z"), vtx.T, strict=True):
            scalars[k] = c.astype(np.float32)
        scalars.update(self._features(source, el, end, seg, seg_ev, acc_ev, remap2, n_acc, e_true[acc_ev]))
        scalars["n_interactions"] = info["n_interactions"][cand_ev[acc_ev]]
        scalars["n_xrays"] = info["n_xrays"][cand_ev[acc_ev]]
        tm["features"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        hits, nhit, extra = self._readout(seg, seg_ev, n_acc, rng)
        scalars.update(extra)
        scalars["n_hits"] = nhit
        tm["readout"] = time.perf_counter() - t0
        return Chunk(source, int(n_primaries), scalars, hits, nhit, tm, n_interacting)

    def _features(self, source, el, end, seg, seg_ev, acc_ev, remap2, n_acc, e_true):
        """Truth features of the accepted events: track length and extent, end-blob fractions."""
        out = {}
        out["track_length_mm"] = np.bincount(seg_ev, weights=seg["len"], minlength=n_acc).astype(np.float32)
        extent2 = np.zeros(n_acc)
        if n_acc:
            starts = np.searchsorted(seg_ev, np.arange(n_acc))
            for c in "xyz":
                a, b = seg[f"{c}0"], seg[f"{c}1"]
                lo = np.minimum.reduceat(np.minimum(a, b), starts)
                hi = np.maximum.reduceat(np.maximum(a, b), starts)
                extent2 += (hi - lo) ** 2
        out["track_extent_mm"] = np.sqrt(extent2).astype(np.float32)
        # the two track ends. 0νββ: the end points of the two electrons (electron c and c + n_cand of
        # candidate event c, see _signal_primaries); γ: start and end of the most energetic electron
        if source == SOURCE_ZERO_NU_BB:
            n_cand = el.t.size // 2
            end_a, end_b = end[acc_ev], end[acc_ev + n_cand]
        else:
            ev_acc = remap2[el.ev]
            e_idx = np.flatnonzero(ev_acc >= 0)
            e_idx = e_idx[np.lexsort((-el.t[e_idx], ev_acc[e_idx]))]
            first = np.ones(e_idx.size, bool)
            first[1:] = ev_acc[e_idx][1:] != ev_acc[e_idx][:-1]
            main = e_idx[first]  # most energetic electron of each accepted event, in event order
            end_a, end_b = el.pos[main], end[main]
        mid = [0.5 * (seg[f"{c}0"] + seg[f"{c}1"]) for c in "xyz"]
        blobs = []
        for pt in (end_a, end_b):
            dist2 = sum((mid[c] - pt[:, c][seg_ev]) ** 2 for c in range(3))
            near = dist2 <= BLOB_RADIUS_MM**2
            blobs.append(np.bincount(seg_ev[near], weights=seg["de"][near], minlength=n_acc))
        with np.errstate(invalid="ignore", divide="ignore"):
            b1 = np.where(e_true > 0, np.maximum(blobs[0], blobs[1]) / e_true, 0.0)
            b2 = np.where(e_true > 0, np.minimum(blobs[0], blobs[1]) / e_true, 0.0)
        out["blob1_fraction"] = b1.astype(np.float32)
        out["blob2_fraction"] = b2.astype(np.float32)
        return out

    # ------------------------------------------------------------------ convenience
    def simulate_events(self, source: int | str, n_events: int, seed: int = 1, threads: int = 1) -> Chunk:
        """Generate chunks of ``source`` until ``n_events`` pass the ROI; the first n_events (in memory)."""
        n_events = _check_count("n_events", n_events)
        chunks, _run = _generate_until(self, source_code(source), n_events, seed, int(threads))
        if not chunks:
            return self.generate(source, 0, np.random.default_rng(0))
        return Chunk.concatenate(chunks).head(n_events)


def _chunk_rng(seed: int, source: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), 3, int(source), int(index)]))


def chunk_primaries(source: int, target: int, index: int) -> int:
    """Primaries of generation chunk ``index`` for ``target`` ROI events of ``source``.

    Planned from the nominal ROI efficiency (a planning number only): 97 % of the expected
    primaries in equal chunks of at most ``CHUNK_PRIMARIES``, then top-up chunks of a tenth of
    that until the target is reached, so little is generated beyond it. The sizes depend on
    (source, target, index) only, so a seed gives the same events whatever the number of threads.
    """
    full = CHUNK_PRIMARIES[source]
    plan = 0.97 * target / NOMINAL_ROI_EFFICIENCY[source]
    n_planned = math.ceil(plan / full) if plan > 0 else 0
    if index < n_planned:
        return max(1, math.ceil(plan / n_planned))
    return max(full // 10, 1)


class _SourceRun:
    """Generation of one source chunk by chunk, in index order, until ``target`` ROI events."""

    def __init__(self, sim: TrackSimulator, source: int, target: int, seed: int):
        self.sim, self.source, self.target, self.seed = sim, source, target, seed
        self.index = 0
        self.got = 0
        self.primaries = 0
        self.interacting = 0
        self.roi_events = 0
        self.seconds = 0.0
        self.stage_seconds: dict[str, float] = {}
        self._queue: list[Chunk] = []

    @property
    def done(self) -> bool:
        return self.got >= self.target

    def _run(self, i: int) -> Chunk:
        n = chunk_primaries(self.source, self.target, i)
        return self.sim.generate(self.source, n, _chunk_rng(self.seed, self.source, i))

    def next_chunk(self, pool: ThreadPoolExecutor | None, threads: int) -> Chunk | None:
        """The next chunk in index order, cut at the target (None once the target is reached).

        With a pool, ``threads`` chunks are generated at a time and handed out one by one, so the
        events, their order and the statistics do not depend on the number of threads.
        """
        if self.done:
            return None
        if not self._queue:
            t0 = time.perf_counter()
            batch = range(self.index, self.index + threads)
            self._queue = list(pool.map(self._run, batch)) if pool is not None else [self._run(i) for i in batch]
            self.index += threads
            self.seconds += time.perf_counter() - t0
            if self.index > 100_000:
                raise RuntimeError(f"no ROI events for source {SOURCES[self.source]} after {self.index} chunks")
        c = self._queue.pop(0)
        self.primaries += c.n_primaries
        self.interacting += c.n_interacting
        self.roi_events += c.n_events
        for k, v in c.timings.items():
            self.stage_seconds[k] = self.stage_seconds.get(k, 0.0) + v
        take = c.head(self.target - self.got) if c.n_events > self.target - self.got else c
        self.got += take.n_events
        if self.done:
            self._queue = []
        return take

    @property
    def roi_efficiency(self) -> float | None:
        return self.roi_events / self.primaries if self.primaries else None


def _generate_until(sim, source, target, seed, threads):
    """All chunks (cut at the target) of ``source`` until ``target`` ROI events."""
    run = _SourceRun(sim, source, target, seed)
    pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None
    chunks = []
    try:
        while not run.done:
            chunks.append(run.next_chunk(pool, threads))
    finally:
        if pool is not None:
            pool.shutdown()
    return chunks, run


def _check_count(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)
