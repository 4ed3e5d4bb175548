"""The LXe simulation driver (``Simulator``) and the PandaX-II data set built with it: calibrations,
isolated S1/S2 populations, accidentals, DM-search run.

P2-DNN = N. Shaheed et al., "Suppression of accidental backgrounds with deep neural networks in the
PandaX-II experiment".

Physics chain (every detector number from ``data/detectors/pandax2.toml`` with its source):
quanta from NEST (nestpy, with fluctuations) at the registry's drift field and density; the
detector response of the C++ engine ``tpcml::LXeResponse`` (light collection per PMT, S1 and
S2 pulse models, features of P2-DNN Table 1; see its header); position corrections
``tpcml::PositionCorrections``; accidental pairing ``tpcml::AccidentalPairer``.

Samples (docs/event-model.md §2-3):

* NR calibration: neutron-like exponential recoil spectrum, vertices uniform in the active
  volume; ER calibration: flat tritium-like beta spectrum. Both are generated until the
  number passing the P2-DNN §3 selection reaches the target (paper: 10,881 NR).
* Isolated S1s with the origins of P2-DNN §2: scatters below the cathode (no S2: the reverse
  field drives the electrons away), scatters in the charge-insensitive annulus at the wall,
  coincident PMT dark counts, single electrons taken for S1s. Isolated S2s: interactions in the
  gas / just below the surface (S1 merged or absent), delayed (stagnant) electrons, and
  interactions whose S1 failed the coincidence requirement (found by simulating low-energy
  events and keeping those without an S1). How many of each: the rates derived in
  :mod:`tpcml.sim.isolated` from the registry (issue 17); delayed-electron S2s are single-electron
  trains merged by the S2 clustering (their sizes: ``isolated.delayed_electron_counts``).
* Accidentals: the C++ pairing of the two populations, generated until the target number
  (paper: 43,719) pass the selection below the NR median; each pair weighs n_acc / N with
  n_acc = r1 r2 dt_w T eps (P2-DNN Eq. 2.1).
* DM-search run: flat ER background at the registry rate over the Run 11 exposure, accidentals
  drawn with Poisson(n_acc), optionally a WIMP signal (wimprates).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .. import _core
from ..core import detectors
from ..core.extras import require
from ..core.guards import u64
from ..core.rootio import check_format, provenance, write_tree
from ..report import progress
from . import isolated
from .quanta import ER, ER_CALIBRATION, NR, NR_CALIBRATION, Spectrum, er_recombination_fluctuation, nest_quanta

# sample codes and recoil types of the events tree (docs/event-model.md §3)
SAMPLE_NR, SAMPLE_ER, SAMPLE_ACCIDENTAL, SAMPLE_DM = 0, 1, 2, 3
RECOIL_ACCIDENTAL, RECOIL_WIMP = 2, 1
# origin codes of the s1 / s2 trees (docs/event-model.md §2)
S1_BELOW_CATHODE, S1_CHARGE_INSENSITIVE, S1_DARK_NOISE, S1_SINGLE_ELECTRON = 1, 2, 3, 4
S2_GAS, S2_DELAYED, S2_S1_BELOW_THRESHOLD = 1, 2, 3
#: P2-DNN Sec. 2: expected accidental events below the NR median in Run 11 before ML cuts.
PAPER_N_ACC_BELOW_MEDIAN = 2.93
#: P2-DNN Sec. 3: sizes after cuts of the accidental (below the NR median) and NR samples.
PAPER_N_ACCIDENTAL, PAPER_N_NR = 43719, 10881

#: Compton continuum of external gammas: flat at low energy (assumed 1-50 keVee, covering the
#: S1 window and beyond) for the scatters that make isolated S1s and gas/near-gate S2s.
ISOLATED_ER = Spectrum("flat", 1.0, 50.0)
#: Low-energy ER whose S1 may fail the coincidence: flat 0.1-3 keVee (assumed; NEST gives
#: ~1-30 photons there, around the 3-PMT threshold at g1 = 0.115).
SUB_THRESHOLD_ER = Spectrum("flat", 0.1, 3.0)
#: DM-search ER background: flat (Cui et al., PRL 119 (2017) 181302: flat low-energy ER
#: spectrum) between 0 and 25 keVee, well beyond the 45 PE S1 window at g1 = 0.115.
DM_ER_BACKGROUND = Spectrum("flat", 0.0, 25.0)
#: ER calibration target after cuts (P2-DNN does not give the CH3T sample size; assumed).
DEFAULT_N_ER = 10000


@dataclass
class Sizes:
    """Sample sizes. ``*_after_cuts``: generate until this many pass the selection."""

    nr_after_cuts: int = PAPER_N_NR
    er_after_cuts: int = DEFAULT_N_ER
    accidental_after_cuts: int = PAPER_N_ACCIDENTAL  # below the NR median
    isolated_s1: int = 50000
    isolated_s2: int = 50000
    dm_search: bool = True

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            nr_after_cuts=2000, er_after_cuts=1500, accidental_after_cuts=4000, isolated_s1=6000, isolated_s2=6000
        )

    def validate(self) -> None:
        for k, v in asdict(self).items():
            if k != "dm_search" and (not isinstance(v, int) or v < 1):
                raise ValueError(f"sample size {k} must be a positive integer, got {v!r}")


#: columns of the LXe ``events`` tree (issue 16; docs: tpcml/lxe/LXeEvents.h) and their dtypes; the 2-D ones
#: are (n, k) float32 arrays: k = n_pmt (``*_pmt_area``, top array first) or 200 samples (``*_waveform*``)
LXE_EVENT_DTYPES: dict[str, type] = {
    "run": np.uint32,
    "event": np.uint64,
    "recoil_type": np.int32,
    "component": np.int32,
    "energy_true": np.float32,
    "x_true": np.float32,
    "y_true": np.float32,
    "z_true": np.float32,
    "drift_time_true": np.float32,
    "n_photons": np.int32,
    "n_electrons": np.int32,
    "s1_area": np.float32,
    "s1_area_top": np.float32,
    "s2_area": np.float32,
    "s2_area_top": np.float32,
    "s1_n_channels": np.int32,
    "s1_width50": np.float32,
    "s1_rise_time": np.float32,
    "s2_width50": np.float32,
    "s2_rise_time": np.float32,
    "n_peaks": np.int32,
    "x": np.float32,
    "y": np.float32,
    "drift_time": np.float32,
    "z": np.float32,
    "cS1": np.float32,
    "cS2": np.float32,
    "cS2_bottom": np.float32,
    "s1_pmt_area": np.float32,
    "s2_pmt_area": np.float32,
    "s1_waveform": np.float32,
    "s1_waveform_top": np.float32,
    "s1_waveform_bottom": np.float32,
    "s2_waveform": np.float32,
    "s2_waveform_top": np.float32,
    "s2_waveform_bottom": np.float32,
    "s1_waveform_dt": np.float32,
    "s2_waveform_dt": np.float32,
    "s1_waveform_t0": np.float32,
    "s2_waveform_t0": np.float32,
}
#: columns of the ``pmt_waveforms`` tree (one row per event, signal (1 = S1, 2 = S2) and channel)
PMT_WAVEFORM_DTYPES: dict[str, type] = {
    "event": np.uint64,
    "signal": np.int32,
    "channel": np.int32,
    "t0": np.float32,
    "dt": np.float32,
    "samples": np.float32,
}
#: events per C++ call of :meth:`Simulator.detector_events` (the progress bar advances per batch)
EVENT_BATCH = 2000


@dataclass
class LXeEvents:
    """Full LXe events (:meth:`Simulator.detector_events`): the ``events`` tree (``LXE_EVENT_DTYPES``), the
    ``pmt_waveforms`` tree of the first events (None when not asked for), and how many events were generated
    (the kept ones triggered and have an S1 and an S2)."""

    events: dict[str, np.ndarray]
    pmt_waveforms: dict[str, np.ndarray] | None
    n_generated: int
    detector: str

    @property
    def n(self) -> int:
        return len(self.events["event"])


class Simulator:
    """Generates PandaX-II-like signals with NEST quanta and the C++ LXe response."""

    def __init__(self, detector: str | detectors.DetectorConfig = "pandax2", threads: int = 0):
        self.det = detectors.resolve(detector)
        self.response = _core.LXeResponse(self.det)
        self.corrections = self.response.corrections
        self.threads = int(threads) if threads else (os.cpu_count() or 1)
        d = self.det
        self.field = d.get("drift_field", "V/cm")
        self.density = d.get("liquid_density", "g/cm3")
        self.radius = d.get("tpc_radius", "mm")
        self.drift_length = d.get("drift_length", "mm")
        self.v_drift = d.get("drift_velocity", "mm/us")
        self.t_max = d.get("max_drift_time", "us")
        self.singlet = {ER: d.get("s1_singlet_fraction_er"), NR: d.get("s1_singlet_fraction_nr")}
        self.er_recombination_fluctuation = er_recombination_fluctuation(d)  # 0 = plain NEST (quanta.nest_quanta)

    # ------------------------------------------------------------------ helpers
    def _uniform_disc(self, rng, n, r_min=0.0, r_max=None):
        r_max = self.radius if r_max is None else r_max
        r = np.sqrt(rng.uniform(r_min**2, r_max**2, n))
        phi = rng.uniform(0.0, 2.0 * np.pi, n)
        return (r * np.cos(phi)).astype(np.float32), (r * np.sin(phi)).astype(np.float32)

    def _s1(self, recoil, x, y, z, n_ph, seed, pmt_areas=False):
        sf = np.full(len(x), self.singlet[recoil], dtype=np.float32)
        return self.response.scintillation_s1(
            x, y, z, n_ph, sf, seed=u64(seed), threads=self.threads, pmt_areas=pmt_areas
        )

    def _event_columns(self, s1, s2, energy, recoil, sample, keep):
        """Events tree columns from S1/S2 features (measured drift time and xy, corrections)."""
        n = int(keep.sum())
        t = s2["drift_time"][keep]
        x, y = s2["x"][keep], s2["y"][keep]
        corr = self.corrections.apply(s1["qS1"][keep], s2["qS2"][keep], t, x, y)
        cols = {
            "run": np.zeros(n, np.uint32),
            "event": np.arange(n, dtype=np.uint64),
            "sample": np.full(n, sample, np.int32),
            "recoil_type": (np.full(n, recoil, np.int32) if np.isscalar(recoil) else recoil[keep]),
            "s1_id": np.full(n, -1, np.int64),
            "s2_id": np.full(n, -1, np.int64),
            **{k: s1[k][keep] for k in _core.S1_COLUMNS},
            **{k: s2[k][keep] for k in _core.S2_COLUMNS},  # x, y: the S2's measured position
            "qS1c": corr["qS1c"],
            "qS2c": corr["qS2c"],
            "drift_time": t,
            "z": corr["z"],
            "energy_true": energy[keep],
            "below_nr_median": np.zeros(n, bool),
            "weight": np.ones(n, np.float32),
        }
        # the events schema (C++ EventSchema.h) fixes the order and the types of the columns
        return {k: np.asarray(cols[k]).astype(_core.EVENT_DTYPES[k], copy=False) for k in _core.EVENT_COLUMNS}

    # ------------------------------------------------------------------ physical events
    def interactions(
        self, recoil: int, spectrum: Spectrum | np.ndarray, n: int, seed: int, fiducial_only: bool = False
    ) -> dict[str, np.ndarray]:
        """The chain of every LXe sample: ``n`` vertices uniform in the active volume (or the FV),
        recoil energies, NEST quanta, and the C++ response's S1 and S2 (every event kept).

        ``spectrum``: recoil energies are drawn from it, or taken as given (an array of n keV).
        Returns the true vertex (``energy``, ``x``, ``y``, ``z``, ``drift_time``), the quanta
        (``n_photons``, ``n_electrons``) and the feature dicts ``s1`` and ``s2`` of ``LXeResponse``.
        """
        if recoil not in (ER, NR):
            raise ValueError(f"recoil must be {ER} (ER) or {NR} (NR), got {recoil!r}")
        if n < 0:
            raise ValueError(f"number of events must be >= 0, got {n}")
        rng = np.random.default_rng([seed, 1])
        energy = spectrum.sample(rng, n) if isinstance(spectrum, Spectrum) else np.asarray(spectrum, np.float64)
        x, y, z, t = self._vertices(rng, n, fiducial_only)
        n_ph, n_e = nest_quanta(
            recoil,
            energy,
            self.field,
            self.density,
            seed=seed,
            recombination_fluctuation=self.er_recombination_fluctuation,
        )
        s1 = self._s1(recoil, x, y, z, n_ph, seed)
        s2 = self.response.drifted_s2(x, y, t, n_e, seed=u64(seed), threads=self.threads)
        return {
            "energy": energy,
            "x": x,
            "y": y,
            "z": z,
            "drift_time": t,
            "n_photons": n_ph,
            "n_electrons": n_e,
            "s1": s1,
            "s2": s2,
        }

    def physical(
        self,
        recoil: int,
        spectrum: Spectrum | np.ndarray,
        n: int,
        seed: int,
        sample: int,
        fiducial_only: bool = False,
    ) -> dict[str, np.ndarray]:
        """``n`` interactions (:meth:`interactions`); the events with an S1 and an S2, with the
        measured features, drift time and position and their corrections (the PandaX-II events tree).
        """
        it = self.interactions(recoil, spectrum, n, seed, fiducial_only)
        s1, s2 = it["s1"], it["s2"]
        keep = s1["found"] & (s2["n_extracted"] > 0) & (s2["qS2"] > 0)
        return self._event_columns(s1, s2, it["energy"], recoil, sample, keep)

    def from_source(
        self, source, n: int, seed: int, sample: int = SAMPLE_DM, fiducial_only: bool = True
    ) -> dict[str, np.ndarray]:
        """``n`` interactions of an event source (:mod:`tpcml.sim.sources`: recoil energy and type per event),
        through :meth:`physical`; the ER events first, then the NR events, numbered anew. Events without an
        S1 and an S2 are dropped as in :meth:`physical`."""
        draw = source.draw(np.random.default_rng([seed, 2]), n)
        parts = []
        for k, recoil in enumerate((ER, NR)):
            m = draw.recoil == recoil
            if m.any():
                parts.append(self.physical(recoil, draw.energy[m], int(m.sum()), seed * 2 + k, sample, fiducial_only))
        if not parts:
            return self.physical(ER, np.zeros(0), 0, seed, sample, fiducial_only)
        cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        cols["event"] = np.arange(len(cols["event"]), dtype=cols["event"].dtype)
        return cols

    # ------------------------------------------------------------------ full events (issue 16)
    @property
    def event_simulator(self):
        """The C++ full-event kernel ``tpcml::LXeEventSimulator`` of this detector (built on first use)."""
        if getattr(self, "_event_simulator", None) is None:
            self._event_simulator = _core.LXeEventSimulator(self.det)
        return self._event_simulator

    def _vertices(self, rng, n: int, fiducial_only: bool):
        """n vertices uniform in the FV (radius and drift-time window of the registry) or the active volume."""
        if fiducial_only:
            x, y = self._uniform_disc(rng, n, r_max=self.det.get("fiducial_radius", "mm"))
            t = rng.uniform(
                self.det.get("fiducial_drift_time_min", "us"), self.det.get("fiducial_drift_time_max", "us"), n
            )
        else:
            x, y = self._uniform_disc(rng, n)
            t = rng.uniform(0.0, self.t_max, n)
        t = t.astype(np.float32)
        return x, y, (-self.v_drift * t).astype(np.float32), t

    def _exciton_photons(self, energy: np.ndarray, n_ph: np.ndarray, n_e: np.ndarray) -> np.ndarray:
        """ER photons from direct excitation: N_ex = alpha / (1 + alpha) (n_ph + n_e), alpha = NEST's exciton
        ratio N_ex / N_i of the beta model at this field and density (nestpy GetYields ExcitonRatio, tabulated at
        64 log-spaced energies 0.1-1000 keV and interpolated in log E); the rest of the photons are recombination
        photons (ScintillationTiming delays them). Clipped to [0, n_ph]."""
        if getattr(self, "_alpha_table", None) is None:
            import nestpy

            calc = nestpy.NESTcalc(nestpy.detectors.VDetector())
            grid = np.logspace(-1, 3, 64)
            alpha = [
                calc.GetYields(nestpy.interactions.beta, float(e), self.density, self.field).ExcitonRatio for e in grid
            ]
            self._alpha_table = (np.log(grid), np.asarray(alpha))
        lg, alpha = self._alpha_table
        a = np.interp(np.log(np.maximum(energy, 1e-3)), lg, alpha)
        n_ex = np.rint(a / (1.0 + a) * (n_ph + n_e))
        return np.clip(n_ex, 0, n_ph).astype(np.int32)

    def detector_events(
        self,
        source,
        n: int,
        seed: int,
        *,
        fiducial_only: bool = True,
        pmt_waveforms: int = 0,
        quiet: bool = False,
    ) -> LXeEvents:
        """``n`` interactions of ``source`` (:mod:`tpcml.sim.sources`; its ``component`` index is kept) at vertices
        uniform in the FV (or the active volume), NEST quanta (nestpy, per event: see ``nest_quanta``), and the
        C++ full-event kernel ``LXeEventSimulator`` (per-PMT S1/S2 areas, peak waveforms, reconstructed position,
        cS1 / cS2 / cS2_bottom; tpcml/lxe/LXeEvents.h). Only triggered events with an S1 and an S2 are returned
        (``n_generated`` says how many were made); ``event`` is the generated index. Per-PMT waveforms of the
        kept events among the first ``pmt_waveforms`` generated ones come back in ``pmt_waveforms``.
        Deterministic in (seed, event index): the thread count does not change the events."""
        if n < 0:
            raise ValueError(f"number of events must be >= 0, got {n}")
        if pmt_waveforms < 0:
            raise ValueError(f"pmt_waveforms must be >= 0 events, got {pmt_waveforms}")
        draw = source.draw(np.random.default_rng([seed, 2]), n)
        energy = np.asarray(draw.energy, np.float64)
        recoil = np.asarray(draw.recoil, np.int32)
        component = np.asarray(draw.component, np.int32)
        x, y, z, t = self._vertices(np.random.default_rng([seed, 1]), n, fiducial_only)
        sim = self.event_simulator
        parts, rows = [], []
        with progress.bar(n, f"{self.det.name} events", unit="event", quiet=quiet or n < EVENT_BATCH) as shown:
            for b in range(0, n, EVENT_BATCH):
                sl = slice(b, min(n, b + EVENT_BATCH))
                e, r = energy[sl], recoil[sl]
                n_ph = np.zeros(len(e), np.int32)
                n_e = np.zeros(len(e), np.int32)
                for k in (ER, NR):
                    m = r == k
                    if m.any():  # NEST seeds per batch and recoil type: the same draws for a given (seed, batch)
                        n_ph[m], n_e[m] = nest_quanta(
                            k,
                            e[m],
                            self.field,
                            self.density,
                            seed=u64(seed * 4099 + b + k),
                            recombination_fluctuation=self.er_recombination_fluctuation,  # ER only; 0 = plain NEST
                        )
                n_ex = np.where(r == ER, self._exciton_photons(e, n_ph, n_e), n_ph).astype(np.int32)
                out = sim.simulate(
                    x[sl],
                    y[sl],
                    z[sl],
                    t[sl],
                    n_ph,
                    n_e,
                    r,
                    e.astype(np.float32),
                    n_excitons=n_ex,
                    seed=u64(seed),
                    threads=self.threads,
                    pmt_waveform_events=max(0, min(pmt_waveforms - b, len(e))),
                    first_index=b,
                )
                keep = out["kept"]
                cols = {k: out[k][keep] for k in LXE_EVENT_DTYPES if k in out}
                cols.update(
                    run=np.zeros(int(keep.sum()), np.uint32),
                    event=np.arange(sl.start, sl.stop, dtype=np.uint64)[keep],
                    recoil_type=r[keep],
                    component=component[sl][keep],
                    energy_true=e[keep],
                    x_true=x[sl][keep],
                    y_true=y[sl][keep],
                    z_true=z[sl][keep],
                    drift_time_true=t[sl][keep],
                    n_photons=n_ph[keep],
                    n_electrons=n_e[keep],
                )
                parts.append(cols)
                w = out["pmt_waveforms"]
                if len(w["event"]):
                    kept_ids = cols["event"]
                    m = np.isin(w["event"], kept_ids)
                    rows.append({k: v[m] for k, v in w.items()})
                shown.update(sl.stop - sl.start)
        n_pmt = sim.n_pmt
        events = {}
        for k, dtype in LXE_EVENT_DTYPES.items():
            if parts:
                v = np.concatenate([p[k] for p in parts])
            else:
                width = (
                    n_pmt
                    if k.endswith("_pmt_area")
                    else 200
                    if "_waveform" in k and k[-3:] not in ("_dt", "_t0")
                    else 0
                )
                v = np.zeros((0, width) if width else 0)
            events[k] = np.ascontiguousarray(v, dtype=dtype)
        waves = None
        if pmt_waveforms:
            waves = {
                k: np.ascontiguousarray(
                    np.concatenate([r[k] for r in rows]) if rows else np.zeros((0, 200) if k == "samples" else 0),
                    dtype=dt,
                )
                for k, dt in PMT_WAVEFORM_DTYPES.items()
            }
        return LXeEvents(events=events, pmt_waveforms=waves, n_generated=n, detector=self.det.name)

    def raw_events(
        self, recoil: int, n: int, seed: int, spectrum: Spectrum | None = None, run: int = 0
    ) -> dict[str, np.ndarray]:
        """``n`` calibration interactions uniform in the fiducial volume, every one kept, as raw
        S1/S2 areas with the true vertex and quanta: the ``events`` tree of ``tpcml run quickstart``
        (docs/event-model.md). ``spectrum`` defaults to the ER / NR calibration spectrum.
        ``drift_time``, ``x``, ``y``, ``z`` are the true vertex; ``qS1`` and ``qS2`` come from the
        C++ ``LXeResponse`` (0 when no light or no electron reaches the PMTs), so the electron
        survival exp(-t / electron_lifetime) is the C++ one.
        """
        spectrum = spectrum or (ER_CALIBRATION if recoil == ER else NR_CALIBRATION)
        it = self.interactions(recoil, spectrum, n, seed, fiducial_only=True)
        return {
            "run": np.full(n, run, dtype=np.uint32),
            "event": np.arange(n, dtype=np.uint64),
            "recoil_type": np.full(n, recoil, dtype=np.int32),
            "energy_true": it["energy"].astype(np.float32),
            "x": it["x"],
            "y": it["y"],
            "z": it["z"],
            "drift_time": it["drift_time"],
            "n_photons": it["n_photons"].astype(np.int32),
            "n_electrons": it["n_electrons"].astype(np.int32),
            "qS1": it["s1"]["qS1"].astype(np.float32),
            "qS2": it["s2"]["qS2"].astype(np.float32),
        }

    def generate_until(
        self,
        make: Callable[[int, int], dict],
        accept: Callable[[dict], np.ndarray],
        target: int,
        seed: int,
        say,
        quiet: bool = False,
    ) -> tuple[dict, int]:
        """Batches of ``make(n, seed)`` until ``target`` events pass ``accept``; the prefix up to the
        target-th accepted event is returned (an unbiased sample) with the number generated. A progress bar
        on stderr counts the accepted events (none when ``quiet``)."""
        parts, passed, batch, k = [], 0, max(2000, 3 * target), 0
        with progress.bar(target, "events passing the selection", unit="event", quiet=quiet) as shown:
            while passed < target:
                cols = make(batch, seed * 1000 + k)
                m = accept(cols)
                parts.append((cols, m))
                passed += int(m.sum())
                shown.update(min(passed, target) - shown.n)
                say(f"  batch {k}: {len(m)} events, {int(m.sum())} pass ({passed}/{target})")
                k += 1
                frac = max(passed, 1) / sum(len(p[1]) for p in parts)
                batch = max(1000, int(1.2 * (target - passed) / frac) + 100)
        out, last = _cut_at_target(parts, target)
        out["event"] = np.arange(last, dtype=np.uint64)
        return out, last

    # ------------------------------------------------------------------ isolated signals
    def isolated_s1(self, n: int, seed: int) -> dict[str, np.ndarray]:
        d = self.det
        rng = np.random.default_rng([seed, 2])
        counts = rng.multinomial(n, isolated.s1_origin_rates(d).fractions)  # derived rates (tpcml.sim.isolated)
        parts = []
        # below the cathode: z between the bottom array and the cathode, no S2
        bottom_gap = d.get("bottom_array_distance", "mm")

        def scatter(k, origin, s, annulus):
            outs, have, j = [], 0, 0
            while have < k or not outs:  # one batch at least: an origin with no signals still has its columns
                m = int(1.3 * (k - have)) + 50
                r2 = np.random.default_rng([s, j, 3])
                e = ISOLATED_ER.sample(r2, m)
                if annulus:
                    x, y = self._uniform_disc(r2, m, self.radius - d.get("charge_insensitive_width", "mm"))
                    z = r2.uniform(-self.drift_length, 0.0, m).astype(np.float32)
                else:
                    x, y = self._uniform_disc(r2, m)
                    z = r2.uniform(-self.drift_length - bottom_gap + 1.0, -self.drift_length, m).astype(np.float32)
                n_ph, _ = self._er_quanta(e, s * 100 + j)
                s1 = self._s1(ER, x, y, z, n_ph, s * 100 + j)
                keep = s1["found"]
                outs.append(
                    {key: v[keep] for key, v in s1.items()} | {"origin": np.full(int(keep.sum()), origin, np.int32)}
                )
                have += int(keep.sum())
                j += 1
            cat = {key: np.concatenate([o[key] for o in outs])[:k] for key in outs[0]}
            return cat

        parts.append(scatter(counts[0], S1_BELOW_CATHODE, seed * 10 + 1, annulus=False))
        parts.append(scatter(counts[1], S1_CHARGE_INSENSITIVE, seed * 10 + 2, annulus=True))
        # coincident dark counts: the coincidence level, plus Poisson extra PMTs in the window
        n_pmt = self.response.n_pmt
        lam = n_pmt * d.get("pmt_dark_rate", "Hz") * d.get("s1_coincidence_window", "us") * 1e-6
        k = d.get_int("s1_coincidence_level") + rng.poisson(lam, counts[2])
        dn = self.response.dark_noise_s1(k.astype(np.int32), seed=u64(seed * 10 + 3), threads=self.threads)
        parts.append(dn | {"origin": np.full(counts[2], S1_DARK_NOISE, np.int32)})
        x, y = self._uniform_disc(rng, counts[3])
        se = self.response.single_electron_s1(x, y, seed=u64(seed * 10 + 4), threads=self.threads)
        parts.append(se | {"origin": np.full(counts[3], S1_SINGLE_ELECTRON, np.int32)})
        return self._isolated_tree(parts, [*_core.S1_COLUMNS, "origin"], "s1_id", rng)

    def isolated_s2(self, n: int, seed: int) -> dict[str, np.ndarray]:
        d = self.det
        rng = np.random.default_rng([seed, 4])
        counts = rng.multinomial(n, isolated.s2_origin_rates(d, self.no_s1_fraction()).fractions)
        el_us = d.get("s2_electroluminescence_time", "us")
        parts = []

        def drifted(k, origin, s, make):
            outs, have, j = [], 0, 0
            while have < k or not outs:  # one batch at least: an origin with no signals still has its columns
                m = int(1.5 * (k - have)) + 50
                r2 = np.random.default_rng([s, j, 5])
                x, y, t, n_e, ok = make(r2, m, s * 100 + j)
                s2 = self.response.drifted_s2(x, y, t, n_e, seed=u64(s * 100 + j), threads=self.threads)
                keep = ok & (s2["n_extracted"] > 0) & (s2["qS2"] > 0)
                outs.append(
                    {key: v[keep] for key, v in s2.items()} | {"origin": np.full(int(keep.sum()), origin, np.int32)}
                )
                have += int(keep.sum())
                j += 1
            return {key: np.concatenate([o[key] for o in outs])[:k] for key in outs[0]}

        def gas(r2, m, s):
            # S1 merged with its S2: drift shorter than twice the electroluminescence time
            x, y = self._uniform_disc(r2, m)
            t = r2.uniform(0.0, 2.0 * el_us, m).astype(np.float32)
            _, n_e = self._er_quanta(ISOLATED_ER.sample(r2, m), s)
            return x, y, t, n_e, np.ones(m, bool)

        def below_threshold(r2, m, s):
            x, y = self._uniform_disc(r2, m)
            t = r2.uniform(0.0, self.t_max, m).astype(np.float32)
            n_ph, n_e = self._er_quanta(SUB_THRESHOLD_ER.sample(r2, m), s)
            s1 = self._s1(ER, x, y, (-self.v_drift * t).astype(np.float32), n_ph, s)
            return x, y, t, n_e, ~s1["found"]  # keep the S2s whose S1 was not found

        parts.append(drifted(counts[0], S2_GAS, seed * 10 + 1, gas))
        # single-electron trains (tpcml.sim.isolated); capped at 10 x the largest S2 of the selection
        n_max = int(10 * d.get("s2_max_pe") / d.get("single_electron_gain"))
        n_e = isolated.delayed_electron_counts(rng, counts[1], n_max)
        x, y = self._uniform_disc(rng, counts[1])
        # arrivals uniform over the span (LXeResponse::electronTrainS2; registry delayed_electron_train_span)
        de = self.response.electron_train_s2(
            x, y, n_e, d.get("delayed_electron_train_span", "us"), seed=u64(seed * 10 + 2), threads=self.threads
        )
        parts.append(de | {"origin": np.full(counts[1], S2_DELAYED, np.int32)})
        parts.append(drifted(counts[2], S2_S1_BELOW_THRESHOLD, seed * 10 + 3, below_threshold))
        return self._isolated_tree(parts, [*_core.S2_COLUMNS, "origin"], "s2_id", rng)

    def _er_quanta(self, energy: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """NEST photons and electrons of ER deposits (keVee) at the drift field, with the detector's ER
        recombination fluctuation: the quanta of the isolated signals' scatters."""
        return nest_quanta(
            ER, energy, self.field, self.density, seed=seed, recombination_fluctuation=self.er_recombination_fluctuation
        )

    def no_s1_fraction(self, n: int = 4000, seed: int = 0) -> float:
        """Fraction of SUB_THRESHOLD_ER events, uniform in the active volume, whose S1 fails the coincidence (a
        pilot simulation with a fixed seed: a property of the detector, for the rate of the isolated S2s whose S1 is
        below threshold, tpcml.sim.isolated.s2_origin_rates)."""
        rng = np.random.default_rng([seed, 6])
        x, y = self._uniform_disc(rng, n)
        z = (-self.v_drift * rng.uniform(0.0, self.t_max, n)).astype(np.float32)
        n_ph, _ = self._er_quanta(SUB_THRESHOLD_ER.sample(rng, n), seed + 7)
        return float(np.mean(~self._s1(ER, x, y, z, n_ph, seed + 7)["found"]))

    def _isolated_tree(self, parts, keys, id_name, rng) -> dict[str, np.ndarray]:
        """The s1 / s2 tree of isolated signals: the origins' ``parts`` mixed in time order, with
        timestamps uniform over the live time (sorted) and ``id_name`` numbering the signals."""
        cols = {key: np.concatenate([p[key] for p in parts]) for key in keys}
        m = len(cols[keys[0]])
        order = rng.permutation(m)  # mix origins in time order
        cols = {key: v[order] for key, v in cols.items()}
        return {
            "run": np.zeros(m, np.uint32),
            "event": np.arange(m, dtype=np.uint64),
            id_name: np.arange(m, dtype=np.int64),
            "timestamp": np.sort(rng.uniform(0.0, self.det.get("live_time", "s"), m)),
            **{k_: (v.astype(np.int32) if v.dtype.kind in "iu" else v.astype(np.float32)) for k_, v in cols.items()},
        }


# ---------------------------------------------------------------------- accidental rates
def accidental_expectation(det: detectors.DetectorConfig) -> float:
    """n_acc before any cut (P2-DNN Eq. 2.1) from the registry's rates, window, live time, eps."""
    window = det.get("fiducial_drift_time_max", "us") - det.get("fiducial_drift_time_min", "us")
    return _core.accidental_count(
        det.get("isolated_s1_rate", "Hz"),
        det.get("isolated_s2_rate", "Hz"),
        window,
        det.get("live_time", "s"),
        det.get("data_quality_efficiency"),
    )


def tuned_s2_rate(
    det: detectors.DetectorConfig, fraction_below: float, target: float = PAPER_N_ACC_BELOW_MEDIAN
) -> float:
    """Isolated-S2 rate (Hz) that makes the Run 11 exposure expect ``target`` accidentals below the
    NR median, given the fraction of pairs that pass the selection below the median."""
    if not fraction_below > 0:
        raise ValueError(f"fraction of pairs below the NR median must be > 0, got {fraction_below}")
    per_unit_r2 = accidental_expectation(det) / det.get("isolated_s2_rate", "Hz")
    return target / (per_unit_r2 * fraction_below)


# ---------------------------------------------------------------------- the whole data set
@dataclass
class DatasetSummary:
    detector: str
    seed: int
    files: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    generated: dict[str, int] = field(default_factory=dict)
    isolated_s1_rate_hz: float = 0.0
    isolated_s2_rate_hz: float = 0.0
    live_time_s: float = 0.0
    drift_window_us: float = 0.0
    n_acc_total: float = 0.0
    fraction_pairs_selected_below_median: float = 0.0
    n_acc_below_median: float = 0.0
    tuned_isolated_s2_rate_hz: float = 0.0
    dm_search: dict[str, float] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


def _with_median(cols: Mapping[str, np.ndarray], curve) -> dict:
    out = dict(cols)
    out["below_nr_median"] = curve.below(cols["qS1c"], cols["qS2c"])
    return out


def simulate_dataset(
    out: Path,
    sizes: Sizes | None = None,
    seed: int = 1,
    detector: str = "pandax2",
    threads: int = 0,
    quiet: bool = False,
    wimp_mass_gev: float | None = None,
    wimp_cross_section_cm2: float = 1e-45,
    format: str = "ttree",
) -> DatasetSummary:
    """Simulate every PandaX-II sample into ``out`` (ROOT files + dataset.json); ``format``: the trees as TTrees
    ("ttree", the default) or RNTuples ("rntuple")."""
    sizes = sizes or Sizes()
    sizes.validate()
    if wimp_mass_gev and sizes.dm_search:
        require("ml", "wimprates")  # before any work: WIMP spectra need the tpcml[ml] extra
    say = progress.printer("simulate pandax2", quiet)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_format(format)
    run = _DatasetRun(out, sizes, seed, Simulator(detector, threads), say, quiet)
    run.format = format
    run.nr_calibration()
    run.er_calibration()
    run.isolated()
    run.accidentals()
    if sizes.dm_search:
        run.dm_search(wimp_mass_gev, wimp_cross_section_cm2)
    return run.finish()


class _DatasetRun:
    """The steps of :func:`simulate_dataset`, in the order it calls them; each writes its file(s) into ``out``
    and fills ``summary`` (the NR median, the isolated signals and the pairer are kept for the later steps)."""

    curve: _core.NRMedianCurve  # by nr_calibration
    s1: dict[str, np.ndarray]  # by isolated, with s2 and the files' rate parameters
    s2: dict[str, np.ndarray]
    params: dict[str, float]
    n_acc: float  # by accidentals, with the pairer the DM-search run draws its accidentals from
    pairer: _core.AccidentalPairer
    format: str = "ttree"  # of every file written

    def __init__(
        self, out: Path, sizes: Sizes, seed: int, sim: Simulator, say: Callable[[str], None], quiet: bool = False
    ):
        from ..studies.pandax2 import selection  # the study's selection; imported here: the study imports this module

        self.selection = selection
        self.out, self.sizes, self.seed, self.sim, self.say = out, sizes, seed, sim, say
        self.quiet = quiet  # no progress bars
        self.det = sim.det
        self.summary = DatasetSummary(detector=self.det.name, seed=seed)
        self.timings = self.summary.timings_s
        self.prov = provenance(seed=seed, sizes=asdict(sizes))
        self.t_all = time.perf_counter()

    def _calibration(self, recoil, spectrum, sample, target, stream):
        """Events of a calibration sample, generated until ``target`` pass the selection."""
        sim = self.sim
        return sim.generate_until(
            lambda n, s: sim.physical(recoil, spectrum, n, s, sample),
            lambda cols: self.selection.mask(cols, self.det),
            target,
            self.seed * 7 + stream,
            self.say,
            quiet=self.quiet,
        )

    def _write(self, name, tree, cols, **kw):
        path = self.out / name
        write_tree(
            path,
            tree,
            cols,
            detector=self.det.name,
            provenance_info=self.prov,
            auto_flush=5000,
            finish=lambda tmp: self.curve.write_to(str(tmp)),
            format=self.format,
            **kw,
        )
        self.summary.files[name.removesuffix(".root")] = str(path)
        return path

    def nr_calibration(self) -> None:
        """The NR calibration and the NR median fitted on it."""
        t0 = time.perf_counter()
        target = self.sizes.nr_after_cuts
        self.say(f"NR calibration: generating until {target} events pass the selection")
        nr, n_gen = self._calibration(NR, NR_CALIBRATION, SAMPLE_NR, target, 1)
        self.summary.generated["nr_calibration"] = n_gen
        self.curve = self.selection.fit_nr_median(nr, self.det)
        nr = _with_median(nr, self.curve)
        self.timings["nr_calibration"] = time.perf_counter() - t0
        self._write("nr_calibration.root", "events", nr)
        self.say(f"NR calibration: {n_gen} events written, NR median fitted on {target} selected")

    def er_calibration(self) -> None:
        t0 = time.perf_counter()
        er, n_gen = self._calibration(ER, ER_CALIBRATION, SAMPLE_ER, self.sizes.er_after_cuts, 2)
        self.summary.generated["er_calibration"] = n_gen
        self._write("er_calibration.root", "events", _with_median(er, self.curve))
        self.timings["er_calibration"] = time.perf_counter() - t0
        self.say(f"ER calibration: {n_gen} events written")

    def isolated(self) -> None:
        """The isolated S1 and S2 populations, with the rates, live time and efficiency of the detector."""
        t0 = time.perf_counter()
        sizes, sim, det = self.sizes, self.sim, self.det
        self.say(f"isolated signals: {sizes.isolated_s1} S1, {sizes.isolated_s2} S2")
        self.s1 = sim.isolated_s1(sizes.isolated_s1, self.seed * 7 + 3)
        self.s2 = sim.isolated_s2(sizes.isolated_s2, self.seed * 7 + 4)
        self.params = {
            "tpcml_livetime": det.get("live_time", "s"),
            "tpcml_isolated_s1_rate": det.get("isolated_s1_rate", "Hz"),
            "tpcml_isolated_s2_rate": det.get("isolated_s2_rate", "Hz"),
            "tpcml_data_quality_efficiency": det.get("data_quality_efficiency"),
        }
        self._write("isolated.root", "s1", self.s1, extra_trees={"s2": self.s2}, parameters=self.params)
        self.timings["isolated"] = time.perf_counter() - t0

    def accidentals(self) -> None:
        """Accidentals (C++ pairing) selected below the NR median, weighted by n_acc / N."""
        t0 = time.perf_counter()
        det, sim, summary, target = self.det, self.sim, self.summary, self.sizes.accidental_after_cuts
        p = self.params
        r1, r2, live = p["tpcml_isolated_s1_rate"], p["tpcml_isolated_s2_rate"], p["tpcml_livetime"]
        window = det.get("fiducial_drift_time_max", "us") - det.get("fiducial_drift_time_min", "us")
        self.n_acc = n_acc = _core.accidental_count(r1, r2, window, live, p["tpcml_data_quality_efficiency"])
        self.pairer = _core.AccidentalPairer(
            self.s1,
            self.s2,
            sim.corrections,
            det.get("fiducial_drift_time_min", "us"),
            det.get("fiducial_drift_time_max", "us"),
            with_replacement=True,
            seed=u64(self.seed * 7 + 5),
        )
        self.pairer.set_nr_median(self.curve)
        acc, n_pairs = _pairs_until(
            self.pairer, lambda cols: self.selection.mask(cols, det) & cols["below_nr_median"], target, sim
        )
        frac = target / n_pairs
        acc["weight"] = np.full(n_pairs, n_acc / n_pairs, np.float32)
        self._write("accidentals.root", "events", acc, parameters=p | {"tpcml_n_acc": n_acc})
        summary.generated["accidentals"] = n_pairs
        summary.isolated_s1_rate_hz, summary.isolated_s2_rate_hz = r1, r2
        summary.live_time_s, summary.drift_window_us = live, window
        summary.n_acc_total = n_acc
        summary.fraction_pairs_selected_below_median = frac
        summary.n_acc_below_median = n_acc * frac
        summary.tuned_isolated_s2_rate_hz = tuned_s2_rate(det, frac)
        self.timings["accidentals"] = time.perf_counter() - t0
        self.say(
            f"accidentals: {n_pairs} pairs, {target} selected below the NR median (fraction {frac:.4f}); "
            f"n_acc = {n_acc:.2f} total, {n_acc * frac:.2f} below the NR median "
            f"(paper: {PAPER_N_ACC_BELOW_MEDIAN}; tuned r2 = {summary.tuned_isolated_s2_rate_hz:.5g} Hz)"
        )

    def dm_search(self, wimp_mass_gev: float | None, wimp_cross_section_cm2: float) -> None:
        """The DM-search run: ER background + Poisson(n_acc) accidentals (+ WIMPs)."""
        t0 = time.perf_counter()
        summary = self.summary
        dm, summary.dm_search = _dm_search_run(
            self.sim, self.pairer, self.n_acc, self.seed, wimp_mass_gev, wimp_cross_section_cm2
        )
        n_er, n_acc_dm = summary.dm_search["n_er_generated"], summary.dm_search["n_accidental"]
        dm = _with_median(dm, self.curve)
        self._write("dm_search.root", "events", dm, parameters=self.params)
        sel = self.selection.mask(dm, self.det)
        summary.dm_search["candidates_selected"] = int(sel.sum())
        summary.dm_search["accidentals_selected"] = int((sel & (dm["recoil_type"] == RECOIL_ACCIDENTAL)).sum())
        self.timings["dm_search"] = time.perf_counter() - t0
        self.say(f"DM-search run: {n_er} ER + {n_acc_dm} accidentals; {int(sel.sum())} candidates pass the selection")

    def finish(self) -> DatasetSummary:
        """The counts and the total time into the summary, written as dataset.json."""
        from tpcml.core.rootio import atomic_path

        sizes, summary = self.sizes, self.summary
        summary.counts = {
            "nr_selected": sizes.nr_after_cuts,
            "er_selected": sizes.er_after_cuts,
            "accidental_selected_below_median": sizes.accidental_after_cuts,
            "isolated_s1": len(self.s1["qS1"]),
            "isolated_s2": len(self.s2["qS2"]),
        }
        self.timings["total"] = time.perf_counter() - self.t_all
        with atomic_path(self.out / "dataset.json") as tmp:
            tmp.write_text(json.dumps(asdict(summary), indent=2) + "\n")
        self.say(f"done in {self.timings['total']:.1f} s -> {self.out}")
        return summary


def _cut_at_target(parts: list[tuple[dict, np.ndarray]], target: int) -> tuple[dict, int]:
    """The (columns, accepted) batches joined and cut after the ``target``-th accepted event (an
    unbiased sample), with the number of events kept."""
    out = {key: np.concatenate([p[0][key] for p in parts]) for key in parts[0][0]}
    m = np.concatenate([p[1] for p in parts])
    last = int(np.flatnonzero(m)[target - 1]) + 1
    return {key: v[:last] for key, v in out.items()}, last


def _pairs_until(pairer, accept: Callable[[dict], np.ndarray], target: int, sim: Simulator) -> tuple[dict, int]:
    """Accidental pairs of the C++ pairer, in chunks, until ``target`` pass ``accept``; cut there."""
    chunks, passed, first, chunk = [], 0, 0, max(100000, 10 * target)
    while passed < target:
        cols = pairer.pair(chunk, first=first, threads=sim.threads)
        m = accept(cols)
        chunks.append((cols, m))
        passed += int(m.sum())
        first += chunk
    return _cut_at_target(chunks, target)


def _dm_search_run(sim, pairer, n_acc, seed, wimp_mass_gev, wimp_cross_section_cm2) -> tuple[dict, dict]:
    """The DM-search run: flat ER background over the Run 11 exposure, Poisson(n_acc) accidentals
    (pairs disjoint from the training pairs) and, with a WIMP mass, WIMP NR events; mixed in random
    order. Returns the events and the counts for dataset.json."""
    det = sim.det
    rng = np.random.default_rng([seed, 99])
    mass_fv = det.get("fiducial_mass", "kg")
    exposure_kg_d = mass_fv * det.get("live_time", "d")
    mu_er = (
        det.get("er_background_rate", "/(kg d keV)") * exposure_kg_d * (DM_ER_BACKGROUND.e_max - DM_ER_BACKGROUND.e_min)
    )
    n_er = int(rng.poisson(mu_er))
    dm_er = sim.physical(ER, DM_ER_BACKGROUND, n_er, seed * 7 + 6, SAMPLE_DM, fiducial_only=True)
    n_acc_dm = int(rng.poisson(n_acc))
    dm_acc = pairer.pair(n_acc_dm, first=10**12, threads=sim.threads)  # draws disjoint from training pairs
    dm_acc["sample"][:] = SAMPLE_DM
    dm_acc["weight"][:] = 1.0
    parts = [dm_er, dm_acc]
    info = {"expected_er": mu_er, "n_er_generated": n_er, "n_accidental": n_acc_dm}
    if wimp_mass_gev:
        parts.append(_wimps(sim, det, wimp_mass_gev, wimp_cross_section_cm2, exposure_kg_d, rng, seed))
        info["n_wimp"] = len(parts[-1]["qS1"])
    dm = {k: np.concatenate([p[k].astype(parts[0][k].dtype) for p in parts]) for k in parts[0]}
    order = rng.permutation(len(dm["qS1"]))
    dm = {k: v[order] for k, v in dm.items()}
    dm["event"] = np.arange(len(dm["qS1"]), dtype=np.uint64)
    return dm, info


def _wimps(sim, det, mass_gev, sigma_cm2, exposure_kg_d, rng, seed):
    """WIMP NR events (standard halo, wimprates) over the exposure, in the FV."""
    wimprates = require("ml", "wimprates")

    e = np.linspace(0.5, 60.0, 400)  # keVnr; the 45 PE S1 window ends well below 60 keVnr
    dr = wimprates.rate_wimp_std(e, mw=mass_gev, sigma_nucleon=sigma_cm2)  # /(t yr keV)
    per_kg_day = dr / 1000.0 / 365.25
    mu = float(np.trapezoid(per_kg_day, e) * exposure_kg_d)
    from tpcml.core.guards import check_memory

    # about 2.2 kB per simulated event (measured on the calibration samples); before the Poisson draw
    check_memory(
        mu * 4096, f"--wimp-mass {mass_gev:g} --wimp-cross-section {sigma_cm2:g}: {mu:.3g} expected WIMP events"
    )
    n = int(rng.poisson(mu))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (per_kg_day[1:] + per_kg_day[:-1]) * np.diff(e))])
    energies = np.interp(rng.uniform(0, cdf[-1], n), cdf, e)
    return sim.physical(NR, energies, n, seed * 7 + 8, SAMPLE_DM, fiducial_only=True)
