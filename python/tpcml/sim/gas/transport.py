"""Particle transport of the gas-TPC track simulation (:mod:`tpcml.sim.gas`): primaries, photon
interactions and CSDA + Highland electron transport (the physics is described in the package docstring).

``_Transport`` holds the stages of :class:`tpcml.sim.gas.simulator.TrackSimulator` that turn a
source into electron steps in the gas; it reads the simulator's detector attributes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .materials import (
    ELECTRON_MASS_KEV,
    HIGHLAND_KEV,
    XE_K_ALPHA_KEV,
    XE_K_EDGE_KEV,
    XE_K_FLUORESCENCE_YIELD,
    XE_K_SHELL_FRACTION,
    XE_L_BINDING_KEV,
    _xcom,
)
from .sources import _beta, _sample_cos_correlation

# ----------------------------------------------------------------------------- model settings
#: Transport step as a fraction of the residual CSDA range (adaptive steps; ≈ 12 % of the kinetic
#: energy per step, since R ∝ T^1.7 roughly).
RANGE_FRACTION = 0.2
#: Longest transport step (the Highland formula holds for x/X0 >~ 1e-3, i.e. >~ 1.5 mm here).
MAX_STEP_MM = 3.0
#: Electrons below this kinetic energy are stopped and deposit the rest on the spot (CSDA range of
#: 10 keV in 10 bar Xe: 13 um).
TRACKING_CUT_KEV = 10.0
#: Steps between two checks of the ``need_loss`` condition in TrackSimulator.transport.
PRUNE_EVERY = 6
#: Photons below this energy are absorbed on the spot (XCOM: mean free path 1.7 mm at 10 keV).
PHOTON_CUT_KEV = 10.0

#: uniform deviates (i + 1/2) / 65536 for 16 random bits
_UNIFORM16_F64 = (np.arange(65536) + 0.5) / 65536
#: Rayleigh deviates sqrt(-2 ln u) and unit-circle points for 16 random bits (multiple scattering)
_RAYLEIGH16 = np.sqrt(-2.0 * np.log((np.arange(65536) + 0.5) / 65536))
_COS16 = np.cos(2 * np.pi * (np.arange(65536) + 0.5) / 65536)
_SIN16 = np.sin(2 * np.pi * (np.arange(65536) + 0.5) / 65536)


# ----------------------------------------------------------------------------- geometry helpers
def _isotropic(rng, n):
    cost = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2 * np.pi, n)
    sint = np.sqrt(1.0 - cost**2)
    return np.stack([sint * np.cos(phi), sint * np.sin(phi), cost], axis=1)


def _rotate(d, cost, phi):
    """Directions at polar angle arccos(cost), azimuth phi around the unit vectors d (n, 3)."""
    u, v, w = d[:, 0], d[:, 1], d[:, 2]
    sint = np.sqrt(np.maximum(0.0, 1.0 - cost**2))
    cphi, sphi = np.cos(phi), np.sin(phi)
    perp = np.sqrt(np.maximum(1e-30, 1.0 - w**2))
    near_pole = perp < 1e-6
    a = sint / perp
    nu = u * cost + a * (u * w * cphi - v * sphi)
    nv = v * cost + a * (v * w * cphi + u * sphi)
    nw = w * cost - sint * cphi * perp
    if near_pole.any():
        sgn = np.sign(w[near_pole])
        nu[near_pole] = sint[near_pole] * cphi[near_pole]
        nv[near_pole] = sint[near_pole] * sphi[near_pole]
        nw[near_pole] = sgn * cost[near_pole]
    out = np.stack([nu, nv, nw], axis=1)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def _rotate3(u, v, w, cost, sint, cphi, sphi):
    """_rotate on component arrays (the transport loop's hot path). The rotation keeps |d| = 1 up to
    rounding (~1e-16 per step), so no renormalisation is needed over a few hundred steps."""
    perp = np.sqrt(np.maximum(1.0 - w * w, 1e-30))
    a = sint / perp
    b = a * cphi
    nu = u * cost + b * u * w - a * v * sphi
    nv = v * cost + b * v * w + a * u * sphi
    nw = w * cost - sint * cphi * perp
    pole = perp < 1e-6
    if pole.any():
        nu[pole] = sint[pole] * cphi[pole]
        nv[pole] = sint[pole] * sphi[pole]
        nw[pole] = np.sign(w[pole]) * cost[pole]
    return nu, nv, nw


def _distance_to_exit(p, d, radius, length):
    """Path length from p (inside) along d to the cylinder r = radius, -length <= z <= 0."""
    a = d[:, 0] ** 2 + d[:, 1] ** 2
    b = p[:, 0] * d[:, 0] + p[:, 1] * d[:, 1]
    c = p[:, 0] ** 2 + p[:, 1] ** 2 - radius**2
    disc = np.maximum(b**2 - a * np.minimum(c, 0.0), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_r = np.where(a > 1e-15, (-b + np.sqrt(disc)) / a, np.inf)
        s_z = np.where(d[:, 2] > 0, -p[:, 2] / d[:, 2], np.where(d[:, 2] < 0, (-length - p[:, 2]) / d[:, 2], np.inf))
    return np.maximum(np.minimum(s_r, s_z), 0.0)


# ----------------------------------------------------------------------------- sampling helpers
def _klein_nishina(rng, e_kev):
    """Scattered-photon energy fractions eps = E'/E (Butcher-Messel, as in G4KleinNishinaCompton)."""
    k = e_kev / ELECTRON_MASS_KEV
    eps0 = 1.0 / (1.0 + 2.0 * k)
    eps0sq = eps0**2
    alpha1 = -np.log(eps0)
    alpha2 = alpha1 + 0.5 * (1.0 - eps0sq)
    eps = np.empty_like(e_kev)
    todo = np.arange(e_kev.size)
    while todo.size:
        u1, u2, u3 = rng.random((3, todo.size))
        a1, a2, e0sq, kk = alpha1[todo], alpha2[todo], eps0sq[todo], k[todo]
        first = a1 > a2 * u1
        e = np.where(first, np.exp(-a1 * u2), np.sqrt(e0sq + (1.0 - e0sq) * u2))
        onecost = (1.0 - e) / (e * kk)
        sint2 = onecost * (2.0 - onecost)
        accept = 1.0 - e * sint2 / (1.0 + e**2) >= u3
        eps[todo[accept]] = e[accept]
        todo = todo[~accept]
    return eps


def _sauter_cost(rng, t_kev):
    """Photoelectron polar angle cosines (Sauter-Gavrila; Geant4 G4SauterGavrilaAngularDistribution)."""
    tau = t_kev / ELECTRON_MASS_KEV
    gamma = tau + 1.0
    beta = np.sqrt(tau * (tau + 2.0)) / gamma
    a = (1.0 - beta) / beta
    ap2 = a + 2.0
    b = 0.5 * beta * gamma * (gamma - 1.0) * (gamma - 2.0)
    grej = 2.0 * (1.0 + a * b) / a
    cost = np.ones_like(t_kev)
    todo = np.arange(t_kev.size)
    for _ in range(1000):
        if not todo.size:
            break
        q, r = rng.random((2, todo.size))
        aa, bb, app = a[todo], b[todo], ap2[todo]
        z = 2.0 * aa * (2.0 * q + app * np.sqrt(q)) / (app**2 - 4.0 * q)
        g = (2.0 - z) * (1.0 / (aa + z) + bb)
        accept = g >= r * grej[todo]
        cost[todo[accept]] = 1.0 - z[accept]
        todo = todo[~accept]
    return np.clip(cost, -1.0, 1.0)


def _photoabsorption(rng, ev, pos, dirs, e):
    """Photoabsorption of photons of energy e: the photoelectron (Sauter), the binding energy left
    on the spot and, after a K-shell absorption with fluorescence, a Kα X-ray (isotropic).
    Returns ([photoelectrons, local deposits], X-ray photons (ev, pos, dir, energy) or None)."""
    n = e.size
    k_shell = (e >= XE_K_EDGE_KEV) & (rng.random(n) < XE_K_SHELL_FRACTION)
    binding = np.where(k_shell, XE_K_EDGE_KEV, np.minimum(XE_L_BINDING_KEV, e))
    t_pe = e - binding
    cost = _sauter_cost(rng, np.maximum(t_pe, 1e-3))
    d_pe = _rotate(dirs, cost, rng.uniform(0, 2 * np.pi, n))
    electrons = [_Electrons(ev, pos, d_pe, t_pe)]
    fluo = k_shell & (rng.random(n) < XE_K_FLUORESCENCE_YIELD)
    local = binding - np.where(fluo, XE_K_ALPHA_KEV, 0.0)
    electrons.append(_Electrons(ev, pos, _isotropic(rng, n), local))
    if not fluo.any():
        return electrons, None
    k = int(fluo.sum())
    return electrons, (ev[fluo], pos[fluo], _isotropic(rng, k), np.full(k, XE_K_ALPHA_KEV))


def _compton_scattering(rng, ev, pos, dirs, e):
    """Compton scattering (Klein-Nishina) of photons of energy e: (recoil electrons, scattered
    photons (ev, pos, dir, energy)); the electron takes the momentum the photon gave up."""
    eps = _klein_nishina(rng, e)
    cost = 1.0 - (1.0 - eps) / (eps * e / ELECTRON_MASS_KEV)
    d_new = _rotate(dirs, np.clip(cost, -1, 1), rng.uniform(0, 2 * np.pi, e.size))
    e_new = eps * e
    p_e = e[:, None] * dirs - e_new[:, None] * d_new  # electron momentum (keV/c)
    norm = np.linalg.norm(p_e, axis=1, keepdims=True)
    d_e = np.where(norm > 0, p_e / np.maximum(norm, 1e-12), dirs)
    return _Electrons(ev, pos, d_e, e - e_new), (ev, pos, d_new, e_new)


def _pair_production(rng, ev, pos, dirs, e):
    """Pair production by photons of energy e: electron and positron along the photon sharing
    E - 2m uniformly, and the two back-to-back 511 keV annihilation photons at the vertex."""
    t_kin = e - 2.0 * ELECTRON_MASS_KEV
    share = rng.random(e.size)
    pair = _Electrons(
        np.concatenate([ev, ev]),
        np.concatenate([pos, pos]),
        np.concatenate([dirs, dirs]),
        np.concatenate([share * t_kin, (1.0 - share) * t_kin]),
    )
    d_a = _isotropic(rng, e.size)
    annihilation = np.full(e.size, ELECTRON_MASS_KEV)
    return pair, [(ev, pos, d_a, annihilation), (ev, pos, -d_a, annihilation)]


@dataclass
class _Electrons:
    """Primary electrons (and positrons, tracked alike) of a set of events, before transport."""

    ev: np.ndarray
    pos: np.ndarray
    dir: np.ndarray
    t: np.ndarray

    @staticmethod
    def cat(parts: list[_Electrons]) -> _Electrons:
        parts = [p for p in parts if p.ev.size]
        if not parts:
            return _Electrons(np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0))
        return _Electrons(
            np.concatenate([p.ev for p in parts]),
            np.concatenate([p.pos for p in parts]),
            np.concatenate([p.dir for p in parts]),
            np.concatenate([p.t for p in parts]),
        )

    def select(self, mask_or_idx) -> _Electrons:
        return _Electrons(self.ev[mask_or_idx], self.pos[mask_or_idx], self.dir[mask_or_idx], self.t[mask_or_idx])


class _Transport:
    """Primaries and transport stages of ``TrackSimulator`` (see the package docstring for the physics)."""

    # ------------------------------------------------------------------ primaries
    def _uniform_volume(self, rng, n):
        r = self.radius * np.sqrt(rng.random(n))
        phi = rng.uniform(0, 2 * np.pi, n)
        z = -self.length * rng.random(n)
        return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=1)

    def _signal_primaries(self, rng, n):
        vertex = self._uniform_volume(rng, n)
        t1 = np.interp(rng.random(n), self._bb_cdf, self._bb_t)
        t2 = self.q_bb - t1
        d1 = _isotropic(rng, n)
        cost = _sample_cos_correlation(rng, _beta(t1) * _beta(t2))
        d2 = _rotate(d1, cost, rng.uniform(0, 2 * np.pi, n))
        ev = np.arange(n)
        electrons = _Electrons(
            np.concatenate([ev, ev]),
            np.concatenate([vertex, vertex]),
            np.concatenate([d1, d2]),
            np.concatenate([t1, t2]),
        )
        info = {
            "vertex": vertex,
            "n_interactions": np.zeros(n, np.int32),
            "n_xrays": np.zeros(n, np.int32),
            "escaped": np.zeros(n),
            "e_total": np.full(n, self.q_bb),
        }
        return electrons, info

    def _boundary_entry(self, rng, n):
        """Entry points on the active-volume boundary and inward cosine-law directions."""
        r, h = self.radius, self.length
        area = np.array([2 * np.pi * r * h, np.pi * r**2, np.pi * r**2])  # barrel, readout cap, cathode cap
        # 2 x 64 random bits per γ: face, azimuth, position along the face, polar and azimuthal
        # direction angles (16 bits each: 0.08 mm on the barrel, 0.02 mm along z; enough here)
        bits = rng.bit_generator.random_raw(2 * n).view(np.uint16).reshape(-1, 8)
        u_face, u_pos, u_cos = (_UNIFORM16_F64[bits[:, k]] for k in (0, 2, 3))
        face = np.searchsorted(np.cumsum(area)[:2] / area.sum(), u_face, side="right")
        barrel, top = face == 0, face == 1
        cphi, sphi = _COS16[bits[:, 1]], _SIN16[bits[:, 1]]
        rho = np.where(barrel, r, r * np.sqrt(u_pos))
        pos = np.stack([rho * cphi, rho * sphi, np.where(barrel, -h * u_pos, np.where(top, 0.0, -h))], axis=1)
        # local frame (inward normal n, tangents t1, t2); barrel: n = -(cos, sin, 0), t1 = (-sin, cos, 0),
        # t2 = z; caps: n = -+z, t1 = x, t2 = y
        cost = np.sqrt(u_cos)  # cosine law: isotropic flux crossing the surface
        sint = np.sqrt(1.0 - u_cos)
        a, b = sint * _COS16[bits[:, 4]], sint * _SIN16[bits[:, 4]]
        nz = np.where(top, -1.0, 1.0)
        d = np.stack(
            [
                np.where(barrel, -cost * cphi - a * sphi, a),
                np.where(barrel, -cost * sphi + a * cphi, b),
                np.where(barrel, b, cost * nz),
            ],
            axis=1,
        )
        return pos, d

    def _gamma_primaries(self, rng, n, e_gamma):
        """Photon transport of n γ of energy e_gamma entering the gas: electrons and per-event info."""
        rho = self.density
        # first flight, all photons at e_gamma: most cross the gas without interacting (λ ≈ 4.5 m).
        # A flight longer than the longest chord of the cylinder leaves for sure, whatever the entry
        # point: only the others need an entry point and their chord (exact, and ~3x less work).
        mu0 = sum(c[0] for c in _xcom(np.array([float(e_gamma)]))) * rho * 0.1  # 1/mm
        s0 = rng.exponential(1.0, n) / mu0
        longest_chord = math.hypot(2.0 * self.radius, self.length)
        near = np.flatnonzero(s0 < longest_chord)
        vertex = np.zeros((n, 3))
        v_near, d_near = self._boundary_entry(rng, near.size)
        vertex[near] = v_near
        hit_near = s0[near] < _distance_to_exit(v_near, d_near, self.radius, self.length)
        ev = near[hit_near]
        escaped = np.full(n, float(e_gamma))
        escaped[ev] = 0.0
        dirs = d_near[hit_near]
        pos, energy = vertex[ev] + s0[ev, None] * dirs, np.full(ev.size, float(e_gamma))
        first = True
        esc_ev, esc_e, int_ev, xray_ev = [], [], [], []  # summed per event at the end
        e_parts: list[_Electrons] = []
        for _ in range(10_000):
            if not ev.size:
                break
            low = energy < PHOTON_CUT_KEV
            if low.any():  # absorbed on the spot
                e_parts.append(_Electrons(ev[low], pos[low], dirs[low], energy[low]))
                keep = ~low
                ev, pos, dirs, energy = ev[keep], pos[keep], dirs[keep], energy[keep]
                if not ev.size:
                    break
            mu_c, mu_pe, mu_pp = _xcom(energy)
            if first:  # already moved to the first interaction point
                first = False
            else:
                mu_tot = (mu_c + mu_pe + mu_pp) * rho * 0.1  # 1/mm
                s = rng.exponential(1.0, ev.size) / mu_tot
                out = s >= _distance_to_exit(pos, dirs, self.radius, self.length)
                if out.any():
                    esc_ev.append(ev[out])
                    esc_e.append(energy[out])
                    keep = ~out
                    ev, pos, dirs, energy, s = ev[keep], pos[keep], dirs[keep], energy[keep], s[keep]
                    mu_c, mu_pe, mu_pp = mu_c[keep], mu_pe[keep], mu_pp[keep]
                    if not ev.size:
                        break
                pos = pos + s[:, None] * dirs
            int_ev.append(ev)
            u = rng.random(ev.size) * (mu_c + mu_pe + mu_pp)
            compton = u < mu_c
            photo = ~compton & (u < mu_c + mu_pe)
            pair = ~compton & ~photo
            new_ph: list[tuple] = []
            # --- photoabsorption
            if photo.any():
                i = np.flatnonzero(photo)
                electrons, xrays = _photoabsorption(rng, ev[i], pos[i], dirs[i], energy[i])
                e_parts += electrons
                if xrays is not None:
                    xray_ev.append(xrays[0])
                    new_ph.append(xrays)
            # --- Compton scattering
            if compton.any():
                i = np.flatnonzero(compton)
                electron, photon = _compton_scattering(rng, ev[i], pos[i], dirs[i], energy[i])
                e_parts.append(electron)
                new_ph.append(photon)
            # --- pair production
            if pair.any():
                i = np.flatnonzero(pair)
                electrons, photons = _pair_production(rng, ev[i], pos[i], dirs[i], energy[i])
                e_parts.append(electrons)
                new_ph += photons
            if new_ph:
                ev = np.concatenate([p[0] for p in new_ph])
                pos = np.concatenate([p[1] for p in new_ph])
                dirs = np.concatenate([p[2] for p in new_ph])
                energy = np.concatenate([p[3] for p in new_ph])
            else:
                break
        electrons = _Electrons.cat(e_parts)

        def count(parts, weights=None):
            if not parts:
                return np.zeros(n)
            w = np.concatenate(weights) if weights is not None else None
            return np.bincount(np.concatenate(parts), weights=w, minlength=n)

        escaped = escaped + count(esc_ev, esc_e)
        info = {
            "vertex": vertex,
            "n_interactions": count(int_ev).astype(np.int32),
            "n_xrays": count(xray_ev).astype(np.int32),
            "escaped": escaped,
            "e_total": float(e_gamma) - escaped,
        }
        return electrons, info

    # ------------------------------------------------------------------ electron transport
    def transport(self, el: _Electrons, rng, need_loss: np.ndarray | None = None):
        """CSDA + Highland transport of the electrons: (steps, end points, dropped).

        Steps: dict of 1-D arrays ``el`` (electron index), ``x0 y0 z0`` (start), ``x1 y1 z1`` (end),
        ``len`` (mm) and ``de`` (keV), in step order (all first steps, then all second steps, ...).
        A step is ``RANGE_FRACTION`` of the residual CSDA range, at most ``MAX_STEP_MM``; its energy
        loss follows from the range table, so the CSDA range is reproduced exactly.

        ``need_loss`` (per event of ``el.ev``, keV; −inf = no condition): energy the event must lose
        outside the active volume to be of use. Every ``PRUNE_EVERY`` steps, events for which even
        the loss so far plus everything their live electrons could still carry out (E(R − d) for an
        electron a distance d from the wall with residual range R) stays below it are no longer
        tracked; their electrons are flagged in ``dropped`` (a bool array over the electrons).
        """
        n = el.t.size
        end = el.pos.copy()
        idx = np.arange(n)
        e = el.t.astype(float)
        px, py, pz = (np.ascontiguousarray(el.pos[:, k], dtype=float) for k in range(3))
        dx, dy, dz = (np.ascontiguousarray(el.dir[:, k], dtype=float) for k in range(3))
        r = self._range(e)
        r_cut = float(self._range(np.array([TRACKING_CUT_KEV]))[0])
        rec: list[tuple] = []
        inv_x0 = 1.0 / self.x0_mm
        m = ELECTRON_MASS_KEV
        first = True
        dropped = np.zeros(n, bool)
        prune = need_loss is not None and bool(np.isfinite(need_loss).any())
        if prune:
            n_ev = need_loss.size
            lost = np.zeros(n_ev)
            n_checked, it = 0, 0
        while idx.size:
            if prune and it > 0 and it % PRUNE_EVERY == 0:
                for row in rec[n_checked:]:  # energy deposited outside since the last check
                    mx, my, mz = 0.5 * (row[1] + row[4]), 0.5 * (row[2] + row[5]), 0.5 * (row[3] + row[6])
                    out = (mx * mx + my * my > self.radius**2) | (mz > 0) | (mz < -self.length)
                    if out.any():
                        lost += np.bincount(el.ev[row[0][out]], weights=row[8][out], minlength=n_ev)
                n_checked = len(rec)
                d = _distance_to_surface_xyz(px, py, pz, self.radius, self.length)
                r_left = r - d
                pot = np.where(d <= 0, e, np.where(r_left > 0, self._energy_at_range(np.maximum(r_left, 1e-12)), 0.0))
                ev_live = el.ev[idx]
                hopeless = lost + np.bincount(ev_live, weights=pot, minlength=n_ev) < need_loss
                kill = hopeless[ev_live]
                if kill.any():
                    dropped[idx[kill]] = True
                    go = np.flatnonzero(~kill)
                    idx, e, r, px, py, pz = idx[go], e[go], r[go], px[go], py[go], pz[go]
                    dx, dy, dz = dx[go], dy[go], dz[go]
                    if not idx.size:
                        break
            if prune:
                it += 1
            step = np.minimum(MAX_STEP_MM, RANGE_FRACTION * r)
            r1 = r - step
            stop = r1 < r_cut
            if first:  # below the cut from the start: deposited on the spot
                step[e < TRACKING_CUT_KEV] = 0.0
                first = False
            any_stop = bool(stop.any())
            if any_stop:
                step[stop] = r[stop]
            e1 = self._energy_at_range(r1)
            if any_stop:
                e1[stop] = 0.0
            qx, qy, qz = px + step * dx, py + step * dy, pz + step * dz
            rec.append((idx, px, py, pz, qx, qy, qz, step, e - e1))
            if any_stop:
                end[idx[stop]] = np.stack([qx[stop], qy[stop], qz[stop]], axis=1)
                go = np.flatnonzero(~stop)
                if not go.size:
                    break
                idx, e, e1, r1, step = idx[go], e[go], e1[go], r1[go], step[go]
                qx, qy, qz, dx, dy, dz = qx[go], qy[go], qz[go], dx[go], dy[go], dz[go]
            # Highland (PDG RPP Eq. 34.15) at the mean energy of the step,
            # θ0 = 13.6 MeV / (β c p) √(x/X0) (1 + 0.038 ln(x / (X0 β²))); the space angle is
            # Rayleigh-distributed with width θ0 (two independent Gaussian projected angles)
            e_mid = 0.5 * (e + e1)
            pc2 = e_mid * (e_mid + 2.0 * m)
            beta2 = pc2 / (e_mid + m) ** 2
            x = step * inv_x0
            theta0 = HIGHLAND_KEV * np.sqrt(x / (beta2 * pc2)) * np.maximum(1.0 + 0.038 * np.log(x / beta2), 0.0)
            bits = rng.bit_generator.random_raw(idx.size).view(np.uint16).reshape(-1, 4)
            cost = np.cos(theta0 * _RAYLEIGH16[bits[:, 0]])
            sint = np.sqrt(1.0 - cost * cost)  # θ folded into [0, π]: the same directions, as φ is uniform
            j = bits[:, 1]
            dx, dy, dz = _rotate3(dx, dy, dz, cost, sint, _COS16[j], _SIN16[j])
            e, r, px, py, pz = e1, r1, qx, qy, qz
        names = ("el", "x0", "y0", "z0", "x1", "y1", "z1", "len", "de")
        if not rec:
            return {name: np.zeros(0, np.int64 if name == "el" else float) for name in names}, end, dropped
        steps = {name: np.concatenate([row[k] for row in rec]) for k, name in enumerate(names)}
        return steps, end, dropped


def _distance_to_surface_xyz(x, y, z, radius, length):
    """Signed shortest distance from points to the cylinder surface (negative outside)."""
    return np.minimum(np.minimum(radius - np.sqrt(x * x + y * y), -z), z + length)


def _distance_to_surface(p, radius, length):
    """Shortest distance from points p inside the cylinder to its surface."""
    r = np.sqrt(p[:, 0] ** 2 + p[:, 1] ** 2)
    return np.minimum.reduce([radius - r, -p[:, 2], p[:, 2] + length])
