"""Ionisation, drift, diffusion and strip/time readout of the gas-TPC track simulation
(:mod:`tpcml.sim.gas`; the model is described in the package docstring).

``_Readout`` holds the readout stage of :class:`tpcml.sim.gas.simulator.TrackSimulator`; it reads
the simulator's detector attributes.
"""

from __future__ import annotations

import numpy as np

#: Macro-electrons of the drift and readout stage: each step gets max(1, ⌈ΔE / MACRO_ENERGY_KEV⌉,
#: ⌈length / MACRO_SPACING_MM⌉) of them (about 500 per 2.5 MeV event; their number sets the cost).
MACRO_ENERGY_KEV = 6.0
MACRO_SPACING_MM = 0.75
#: Readout batches: <= 2048 events (the event index takes 11 bits of the packed cell key) and about
#: this many macro-electrons (memory).
READOUT_BATCH_EVENTS = 2048
READOUT_BATCH_MACROS = 2_000_000


def _normal_table() -> np.ndarray:
    """Standard-normal quantiles at (i + 1/2) / 65536: 16 random bits -> one Gaussian deviate."""
    from scipy.special import ndtri

    return ndtri((np.arange(65536) + 0.5) / 65536).astype(np.float32)


_NORMAL16 = _normal_table()
#: uniform deviates (i + 1/2) / 65536 for 16 random bits (float32: the readout's precision)
_UNIFORM16 = ((np.arange(65536) + 0.5) / 65536).astype(np.float32)
#: cell bits (strip 1023, sample 511) of the per-event "lost charge" cell in _readout_batch
_LOST_CELL = (1023 << 9) | 511


class _Readout:
    """Readout stage of ``TrackSimulator``: macro-electrons, diffusion, strips and time samples."""

    # ------------------------------------------------------------------ ionisation, drift, readout
    def _readout(self, seg, seg_ev, n_acc, rng):
        """Ionisation, drift, diffusion and strip/time binning of the accepted events' steps.

        ``seg_ev`` (the accepted-event index of each step) must be sorted. Returns (hits, nhit,
        per-event extras). Cells are summed by sorting packed (cell key << 32 | electrons) integers.
        """
        de = seg["de"]
        n_mean = de / self.w_kev
        n_e = np.maximum(np.rint(n_mean + np.sqrt(self.fano * n_mean) * rng.standard_normal(de.size)), 0.0)
        n_e = n_e.astype(np.int64)
        extra = {
            "n_electrons": np.bincount(seg_ev, weights=n_e, minlength=n_acc).astype(np.float32),
            "window_start": np.zeros(n_acc, np.float32),
            "charge_lost": np.zeros(n_acc, np.float32),
        }
        n_macro = np.maximum(np.ceil(de / MACRO_ENERGY_KEV), np.ceil(seg["len"] / MACRO_SPACING_MM))
        n_macro = np.maximum(n_macro, 1).astype(np.int64)
        seg_start = np.searchsorted(seg_ev, np.arange(n_acc + 1))
        macro_cum = np.concatenate([[0], np.cumsum(n_macro)])
        parts = []
        e_lo = 0
        while e_lo < n_acc:  # batches of <= READOUT_BATCH_EVENTS events and ~READOUT_BATCH_MACROS macros
            e_hi = min(e_lo + READOUT_BATCH_EVENTS, n_acc)
            lim = macro_cum[seg_start[e_lo]] + READOUT_BATCH_MACROS
            e_hi = max(e_lo + 1, min(e_hi, int(np.searchsorted(macro_cum[seg_start], lim, side="right")) - 1))
            parts.append(self._readout_batch(seg, seg_ev, n_e, n_macro, seg_start[e_lo], seg_start[e_hi], e_lo, rng))
            ws, lost = parts[-1][-2:]
            extra["window_start"][e_lo:e_hi] = ws
            extra["charge_lost"][e_lo:e_hi] = lost
            e_lo = e_hi
        if parts:
            ev_h = np.concatenate([q[0] for q in parts])
            hits = {k: np.concatenate([q[1][k] for q in parts]) for k in ("plane", "strip", "time", "charge")}
        else:
            ev_h = np.zeros(0, np.int64)
            hits = {
                "plane": np.zeros(0, np.int32),
                "strip": np.zeros(0, np.float32),
                "time": np.zeros(0, np.float32),
                "charge": np.zeros(0, np.float32),
            }
        nhit = np.bincount(ev_h, minlength=n_acc).astype(np.int32)
        return hits, nhit, extra

    def _readout_batch(self, seg, seg_ev, n_e, n_macro, s_lo, s_hi, e_lo, rng):
        sl = slice(s_lo, s_hi)
        nm = n_macro[sl]
        ne = n_e[sl]
        ev = seg_ev[sl] - e_lo
        n_ev = int(ev[-1]) + 1
        m = int(nm.sum())
        # k = index of the macro-electron within its step (float32 is exact below 2^24)
        k = np.arange(m, dtype=np.float32) - np.repeat((np.cumsum(nm) - nm).astype(np.float32), nm)
        # integer split of the step's electrons over its macro-electrons, then half to each plane
        q = np.repeat((ne // nm).astype(np.int32), nm) + (k < np.repeat((ne % nm).astype(np.float32), nm))
        q_x = (q + (k.astype(np.int32) & 1)) >> 1  # the odd electron alternates between X and Y
        q_y = q - q_x
        bits = rng.bit_generator.random_raw(m).view(np.uint16).reshape(-1, 4)  # 4 x 16 random bits
        u = (k + _UNIFORM16[bits[:, 0]]) * np.repeat((1.0 / nm).astype(np.float32), nm)  # stratified
        p0 = [seg[f"{c}0"][sl].astype(np.float32) for c in "xyz"]
        dp = [seg[f"{c}1"][sl].astype(np.float32) - p0[i] for i, c in enumerate("xyz")]
        z = np.repeat(p0[2], nm) + u * np.repeat(dp[2], nm)
        sq = np.sqrt(np.maximum(z * np.float32(-0.1), 0.0))  # sqrt(drift length in cm)
        s_t = np.float32(self.d_t) * sq
        x = np.repeat(p0[0], nm) + u * np.repeat(dp[0], nm) + s_t * _NORMAL16[bits[:, 1]]
        y = np.repeat(p0[1], nm) + u * np.repeat(dp[1], nm) + s_t * _NORMAL16[bits[:, 2]]
        t = np.maximum(np.float32(self.d_l) * sq * _NORMAL16[bits[:, 3]] - z, 0.0) * np.float32(1.0 / self.v_drift)
        ev_start = np.searchsorted(ev, np.arange(n_ev))
        t0 = np.minimum.reduceat(t, np.concatenate([[0], np.cumsum(nm)])[ev_start])
        per_ev = np.add.reduceat(nm, ev_start)
        tb = ((t - np.repeat(t0, per_ev)) * np.float32(1.0 / self.dt)).astype(np.int32) + self.n_baseline
        ok_t = tb < self.n_bins
        base = np.repeat(ev.astype(np.int64) << 52, nm)
        keys = []
        for plane, (coord, qp) in enumerate(((x, q_x), (y, q_y))):
            v = (coord - np.float32(self.strip_origin[plane])) * np.float32(1.0 / self.pitch)
            s = v.astype(np.int32)
            ok = ok_t & (v >= 0) & (s < self.n_strips[plane])
            # packed (event 11 bits | plane 1 | strip 10 | sample 9) << 32 | electrons; charge outside
            # the window or the strip planes goes to the event's "lost" cell (strip 1023, sample 511)
            cell = np.where(ok, (s << 9) | tb, _LOST_CELL).astype(np.int64)
            keys.append((base | (plane << 51)) | (cell << 32) | qp)
        packed = np.sort(np.concatenate(keys))
        cell = packed >> 32
        starts = np.concatenate([[0], np.flatnonzero(cell[1:] != cell[:-1]) + 1])
        charge = np.add.reduceat(packed & 0xFFFFFFFF, starts)
        cell = cell[starts]
        lost_cell = (cell & 0x7FFFF) == _LOST_CELL
        lost = np.bincount(cell[lost_cell] >> 20, weights=charge[lost_cell], minlength=n_ev)
        keep = ~lost_cell & (charge > 0)
        cell, charge = cell[keep], charge[keep]
        strip_h = (cell >> 9) & 0x3FF
        ev_h = cell >> 20
        plane_h = ((cell >> 19) & 1).astype(np.int32)
        origin = np.where(plane_h == 0, self.strip_origin[0], self.strip_origin[1])
        hits = {
            "plane": plane_h,
            "strip": (origin + (strip_h + 0.5) * self.pitch).astype(np.float32),
            "time": (((cell & 0x1FF) + 0.5) * self.dt).astype(np.float32),
            "charge": charge.astype(np.float32),
        }
        window_start = (t0 - self.n_baseline * self.dt).astype(np.float32)
        return ev_h + e_lo, hits, window_start, lost.astype(np.float32)
