"""Xenon material tables of the gas-TPC track simulation (:mod:`tpcml.sim.gas`).

Photon cross sections (NIST XCOM), the electron collision stopping power (NIST ESTAR) and the CSDA
range derived from it, the K-shell constants of xenon, and the fast log-log interpolation the
transport uses. Each constant cites its table of origin.
"""

from __future__ import annotations

import numpy as np

ELECTRON_MASS_KEV = 510.99895  # CODATA 2018
#: Radiation length of xenon, 8.48 g/cm2 (PDG Atomic and Nuclear Properties, xenon gas).
XE_RADIATION_LENGTH_G_CM2 = 8.48
#: Highland constant 13.6 MeV (PDG RPP "Passage of particles through matter", Eq. 34.15), in keV.
HIGHLAND_KEV = 13.6e3

#: NIST XCOM (M. J. Berger et al., NIST Standard Reference Database 8), xenon (Z = 54), photon
#: energy in MeV and partial mass attenuation coefficients in cm2/g: incoherent (Compton),
#: photoelectric absorption, pair production in the nuclear field, pair production in the electron
#: field. Rows from 10 keV to 3 MeV; the K edge (34.56 keV) appears twice, below and above.
XCOM_XE = np.array(
    [
        # E (MeV)   incoherent photoelectric pair_nuc  pair_el
        [1.000e-02, 5.848e-02, 1.662e02, 0.0, 0.0],
        [1.500e-02, 7.440e-02, 5.550e01, 0.0, 0.0],
        [2.000e-02, 8.486e-02, 2.510e01, 0.0, 0.0],
        [3.000e-02, 9.729e-02, 8.078e00, 0.0, 0.0],
        [3.456e-02, 1.008e-01, 5.417e00, 0.0, 0.0],  # K edge, below
        [3.456e-02, 1.008e-01, 3.244e01, 0.0, 0.0],  # K edge, above
        [4.000e-02, 1.038e-01, 2.211e01, 0.0, 0.0],
        [5.000e-02, 1.073e-01, 1.227e01, 0.0, 0.0],
        [6.000e-02, 1.091e-01, 7.454e00, 0.0, 0.0],
        [8.000e-02, 1.096e-01, 3.363e00, 0.0, 0.0],
        [1.000e-01, 1.081e-01, 1.793e00, 0.0, 0.0],
        [1.500e-01, 1.019e-01, 5.651e-01, 0.0, 0.0],
        [2.000e-01, 9.555e-02, 2.490e-01, 0.0, 0.0],
        [3.000e-01, 8.495e-02, 8.009e-02, 0.0, 0.0],
        [4.000e-01, 7.688e-02, 3.699e-02, 0.0, 0.0],
        [5.000e-01, 7.064e-02, 2.088e-02, 0.0, 0.0],
        [6.000e-01, 6.559e-02, 1.338e-02, 0.0, 0.0],
        [8.000e-01, 5.784e-02, 6.940e-03, 0.0, 0.0],
        [1.000e00, 5.211e-02, 4.335e-03, 0.0, 0.0],
        [1.022e00, 5.156e-02, 4.126e-03, 0.0, 0.0],
        [1.250e00, 4.665e-02, 2.782e-03, 1.914e-04, 0.0],
        [1.500e00, 4.244e-02, 1.991e-03, 8.853e-04, 0.0],
        [2.000e00, 3.625e-02, 1.211e-03, 2.971e-03, 0.0],
        [2.044e00, 3.580e-02, 1.169e-03, 3.173e-03, 0.0],
        [3.000e00, 2.854e-02, 6.422e-04, 7.458e-03, 9.981e-06],
    ]
)
#: Xe K-shell binding energy 34.56 keV (the XCOM K edge above; 34.561 keV in R. D. Deslattes et
#: al., Rev. Mod. Phys. 75 (2003) 35).
XE_K_EDGE_KEV = 34.56
#: Mean L-shell binding energy deposited on the spot after an L photoabsorption (XCOM L edges
#: 4.78, 5.10, 5.45 keV).
XE_L_BINDING_KEV = 5.0
#: Fraction of photoabsorptions above the K edge that are on the K shell: 1 − 1/J with the XCOM
#: jump ratio J = 32.44 / 5.417 at 34.56 keV.
XE_K_SHELL_FRACTION = 1.0 - 5.417 / 32.44
#: K fluorescence yield of xenon, 0.889 (M. O. Krause, J. Phys. Chem. Ref. Data 8 (1979) 307).
XE_K_FLUORESCENCE_YIELD = 0.889
#: Kα X-ray energy (Kα1 29.78, Kα2 29.46 keV: X-ray Data Booklet, LBNL, Table 1-2).
XE_K_ALPHA_KEV = 29.8

#: Collision stopping power of xenon in MeV cm2/g, for electrons of kinetic energy T (keV):
#: NIST ESTAR (M. J. Berger, J. S. Coursey, M. A. Zucker, J. Chang, NIST Standard Reference
#: Database 124, material "XENON", I = 482 eV), i.e. the ICRU Report 37 formula that ESTAR
#: evaluates, without the density-effect correction, which is negligible in gas; the values
#: agree to < 1 % below 200 keV with NEST's fit to the ESTAR xenon table (NESTcalc::
#: CalcElectronLET, which there is the total, collision + radiative, stopping power).
ESTAR_XE_COLLISION = np.array(
    [
        # T (keV)  S_col (MeV cm2/g)
        [1.0, 28.54],
        [2.0, 25.54],
        [3.0, 21.46],
        [4.0, 18.48],
        [5.0, 16.28],
        [6.0, 14.59],
        [8.0, 12.19],
        [10.0, 10.54],
        [15.0, 8.022],
        [20.0, 6.583],
        [30.0, 4.973],
        [40.0, 4.083],
        [50.0, 3.513],
        [60.0, 3.115],
        [80.0, 2.594],
        [100.0, 2.267],
        [150.0, 1.815],
        [200.0, 1.584],
        [300.0, 1.355],
        [400.0, 1.249],
        [500.0, 1.192],
        [600.0, 1.159],
        [800.0, 1.130],
        [1000.0, 1.122],
        [1250.0, 1.126],
        [1500.0, 1.135],
        [2000.0, 1.160],
        [2500.0, 1.186],
        [3000.0, 1.211],
    ]
)


def _range_table() -> tuple[np.ndarray, np.ndarray]:
    """log T (keV) and log CSDA range (g/cm2) on a fine grid, from ESTAR_XE_COLLISION."""
    lt, ls = np.log(ESTAR_XE_COLLISION[:, 0]), np.log(ESTAR_XE_COLLISION[:, 1])
    t = np.geomspace(ESTAR_XE_COLLISION[0, 0], ESTAR_XE_COLLISION[-1, 0], 4000)
    inv_s = 1.0 / (1e3 * np.exp(np.interp(np.log(t), lt, ls)))  # g/cm2 per keV
    # below 1 keV: range ~ T / S(1 keV) (negligible: 10 nm at 10 bar)
    r = t[0] * inv_s[0] + np.concatenate([[0.0], np.cumsum(0.5 * (inv_s[1:] + inv_s[:-1]) * np.diff(t))])
    return np.log(t), np.log(r)


_LOG_T, _LOG_R = _range_table()


def csda_range_mm(kinetic_kev, density_g_cm3: float) -> np.ndarray:
    """CSDA range (mm) of electrons in xenon of the given density, from ESTAR_XE_COLLISION."""
    t = np.asarray(kinetic_kev, dtype=float)
    return 10.0 * np.exp(np.interp(np.log(np.maximum(t, 1e-3)), _LOG_T, _LOG_R)) / density_g_cm3


class _LogLogTable:
    """y(x) by linear interpolation in (log x, log y) on a uniform log-x grid: a fast np.interp."""

    def __init__(self, log_x: np.ndarray, log_y: np.ndarray, n: int = 4096):
        self.l0, self.l1 = float(log_x[0]), float(log_x[-1])
        grid = np.linspace(self.l0, self.l1, n)
        self.g = np.interp(grid, log_x, log_y)
        self.slope = np.append(np.diff(self.g), 0.0)
        self.inv_h = (n - 1) / (self.l1 - self.l0)
        self.n = n

    def __call__(self, x: np.ndarray) -> np.ndarray:
        t = (np.log(np.maximum(x, 1e-300)) - self.l0) * self.inv_h
        np.clip(t, 0.0, self.n - 1.0, out=t)
        i = t.astype(np.int64)
        return np.exp(self.g[i] + (t - i) * self.slope[i])


def _xcom_split():
    e = XCOM_XE[:, 0] * 1e3
    k = int(np.flatnonzero(np.diff(e) == 0)[0])  # the K edge: rows k (below) and k + 1 (above)
    below, above = XCOM_XE[: k + 1], XCOM_XE[k + 1 :]
    return below, above


_XCOM_BELOW_K, _XCOM_ABOVE_K = _xcom_split()


def _xcom_tables():
    tables = []
    for rows in (_XCOM_BELOW_K, _XCOM_ABOVE_K):
        le = np.log(rows[:, 0] * 1e3)
        tables.append((_LogLogTable(le, np.log(rows[:, 1]), 512), _LogLogTable(le, np.log(rows[:, 2]), 512)))
    return tables


def _xcom(e_kev: np.ndarray):
    """(incoherent, photoelectric, pair) mass attenuation coefficients (cm2/g) at e_kev: XCOM_XE
    interpolated log-log (pair production linearly, zero below 1.022 MeV)."""
    e = np.clip(np.asarray(e_kev, dtype=float), 10.0, 3000.0)
    (lo_c, lo_pe), (hi_c, hi_pe) = _XCOM_TABLES
    mu_c, mu_pe = hi_c(e), hi_pe(e)
    below = e < XE_K_EDGE_KEV
    if below.any():
        mu_c[below], mu_pe[below] = lo_c(e[below]), lo_pe(e[below])
    pair = np.interp(e, XCOM_XE[:, 0] * 1e3, XCOM_XE[:, 3] + XCOM_XE[:, 4])
    return mu_c, mu_pe, pair


_XCOM_TABLES = _xcom_tables()
