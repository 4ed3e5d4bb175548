"""The optional LXe absorption length of the S1 light model (registry key lxe_absorption_length, LXeOptics).

Measured on XENON1T's optical model alone (its measured Kr83m light-yield map removed; LCE max/min over the FV
grid of test_lxe_detectors.py; S1 top fraction at r = 0 from 97 % to
3 % of the drift length below the gate):

=================  ===========  ===========  =================
lambda_A           LCE max/min  LCE min-max  top fraction
=================  ===========  ===========  =================
none (model)       1.40         0.35-0.49    0.14 -> 0.53
50 m               1.41         0.33-0.47    0.11 -> 0.53
10 m               1.55         0.27-0.41    0.09 -> 0.58
5 m                1.83         0.20-0.36    0.07 -> 0.63
3 m                2.05         0.16-0.32    0.06 -> 0.66
2 m                2.37         0.12-0.28    0.05 -> 0.77
=================  ===========  ===========  =================

Only an absorption length of ~3 m gives XENON1T's ~2x light-collection variation, and it pushes the top fraction
below the gate above the measured 0.4-0.5 and the absolute collection below the ~0.46 that g1 implies (docs
detector-format.md): absorption alone is not the missing effect, so no registry detector sets the key (XENON1T
takes the measured shape from its Kr83m map instead, s1_light_yield_map) (purified
LXe absorption lengths are believed to be metres or more; no XENON1T value is quoted in the cited material).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tpcml import _core
from tpcml.core import detectors

REGISTRY = Path(_core.DetectorConfig.registry_directory())


def _xenon1t_with_absorption(tmp_path: Path, cm: float | None):
    """A copy of xenon1t.toml (and its PMT table) with lxe_absorption_length added."""
    name = "x1tabs" if cm is not None else "x1tnone"
    shutil.copytree(REGISTRY / "xenon1t", tmp_path / "xenon1t", dirs_exist_ok=True)
    text = (REGISTRY / "xenon1t.toml").read_text().replace('name  = "xenon1t"', f'name  = "{name}"')
    # the optical model alone: without the measured Kr83m light-yield map, which would impose its own shape
    text = "\n".join(line for line in text.split("\n") if not line.startswith("s1_light_yield_map"))
    if cm is not None:
        text = text.replace(
            "# --- pulse model (tpcml::LXeResponse)",
            f'lxe_absorption_length = {{ value = {cm}, unit = "cm", source = "test value" }}\n\n'
            "# --- pulse model (tpcml::LXeResponse)",
        )
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return detectors.load(str(path))


def _grid(optics, det):
    length, radius = det.get("drift_length", "mm"), det.get("fiducial_radius", "mm")
    lce, top = [], []
    for r in np.linspace(0.0, radius, 3):
        for z in np.linspace(-0.95, -0.05, 5) * length:
            p = np.asarray(optics.s1_collection(r, 0.0, z))
            lce.append(p.sum())
            top.append(p[: optics.n_top].sum() / p.sum())
    return np.array(lce), np.array(top)


def test_absorption_lowers_the_light_collection_most_far_from_the_arrays(tmp_path):
    plain = _xenon1t_with_absorption(tmp_path, None)
    absorbing = _xenon1t_with_absorption(tmp_path, 300.0)
    lce0, top0 = _grid(_core.LXeOptics(plain), plain)
    lce1, top1 = _grid(_core.LXeOptics(absorbing), absorbing)
    # without the key the optics are the registry's own up to the measured map's (r, z) factor (the light map's
    # random stream is unchanged)
    registry = _core.LXeOptics(detectors.load("xenon1t"))
    lce_reg, _ = _grid(registry, plain)
    length, radius = plain.get("drift_length", "mm"), plain.get("fiducial_radius", "mm")
    factor = [
        registry.s1_light_yield_correction(r, z)
        for r in np.linspace(0.0, radius, 3)
        for z in np.linspace(-0.95, -0.05, 5) * length
    ]
    assert np.allclose(lce0 * np.array(factor), lce_reg)
    assert np.all(lce1 < lce0)
    assert lce1.max() / lce1.min() > 1.2 * (lce0.max() / lce0.min())
    # deep events lose more top light (longer path to the top array) than bottom light: top fraction falls there
    assert top1[0] < top0[0]
    assert np.all((top1 > 0.02) & (top1 < 0.9))
