"""The measured S1 light-yield map of the LXe optics (registry key s1_light_yield_map; issue 16, item 2).

XENON1T ships its Kr83m S1 relative light-yield maps (data/detectors/xenon1t/README.md). The optics take the (r, z)
shape of the light collection from the map and keep their own top/bottom split and per-PMT pattern.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tpcml
from tpcml import _core
from tpcml.core import detectors

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = Path(_core.DetectorConfig.registry_directory())  # the installed copy (the JSON sources stay in data/)
SR0_JSON = ROOT / "data" / "detectors" / "xenon1t" / "XENON1T_s1_xyz_ly_kr83m_SR0_pax-680_fdc-3d_v0.json"


def test_the_shipped_ring_averages_are_those_of_the_shipped_maps():
    tool = ROOT / "tools" / "xenon1t_s1_ly_map.py"
    done = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def _detector_copy(tmp_path: Path, name: str, edit=None) -> Path:
    """xenon1t.toml (SR0 run) and its data folder copied under a new name, with an optional text edit."""
    shutil.copytree(REGISTRY / "xenon1t", tmp_path / "xenon1t", dirs_exist_ok=True)
    text = (REGISTRY / "xenon1t.toml").read_text().replace('name  = "xenon1t"', f'name  = "{name}"')
    if edit is not None:
        text = edit(text)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def _without_map(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not line.startswith("s1_light_yield_map"))


def test_sr0_light_collection_follows_the_kr83m_map_inside_the_fiducial_volume():
    det = detectors.load("xenon1t:sr0")
    optics = _core.LXeOptics(det)
    assert optics.has_s1_light_yield_map
    data = json.loads(SR0_JSON.read_text())
    xyz, ly = np.asarray(data["coordinate_system"]) * 10.0, np.asarray(data["map"])  # cm -> mm
    r, z = np.hypot(xyz[:, 0], xyz[:, 1]), xyz[:, 2]
    fv = (r < det.get("fiducial_radius", "mm")) & (z > -929.0) & (z < -90.0)  # SR0 FV (PRL 119 (2017) 181301)
    model = np.array([sum(optics.s1_collection(x, y, zz)) for x, y, zz in xyz[fv]])
    rel_model, rel_data = model / model.mean(), ly[fv] / ly[fv].mean()
    # point by point within the map's own azimuthal spread (the optics use ring averages): rms < 3 %
    assert np.sqrt(np.mean((rel_model / rel_data - 1.0) ** 2)) < 0.03
    # the spread over the FV: the data's max/min 1.91
    assert model.max() / model.min() == pytest.approx(ly[fv].max() / ly[fv].min(), rel=0.08)
    # deepest / shallowest slice at r < 10 cm, 1.42 / 0.77 in the data
    deep = np.array([sum(optics.s1_collection(0.0, 0.0, zz)) for zz in (-920.0, -95.0)])
    assert deep[0] / deep[1] == pytest.approx(1.84, rel=0.06)


def test_the_map_scales_the_collection_and_keeps_the_top_fraction_and_pattern(tmp_path):
    with_map = detectors.load("xenon1t:sr0")
    without = detectors.load(str(_detector_copy(tmp_path, "x1tnomap", _without_map)) + ":sr0")
    a, b = _core.LXeOptics(with_map), _core.LXeOptics(without)
    assert not b.has_s1_light_yield_map and b.s1_light_yield_correction(100.0, -300.0) == 1.0
    for x, y, zz in ((0.0, 0.0, -900.0), (250.0, -100.0, -500.0), (-300.0, 200.0, -60.0)):
        pa, pb = np.asarray(a.s1_collection(x, y, zz)), np.asarray(b.s1_collection(x, y, zz))
        c = a.s1_light_yield_correction(np.hypot(x, y), zz)
        np.testing.assert_allclose(pa, c * pb, rtol=1e-12)
    # the model alone varies ~1.3x, the map ~1.9x: the correction is largest deep in the liquid
    assert a.s1_light_yield_correction(0.0, -920.0) > 1.1 > 0.95 > a.s1_light_yield_correction(0.0, -60.0)


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("r,z,ly\n1,2,3\n", "expected columns r_cm, z_cm, relative_ly"),
        ("r_cm,z_cm,relative_ly\n1,-2,1\n1,-3,1\n2,-2,1\n", "3 rows on 2 radii x 2 depths"),
        ("r_cm,z_cm,relative_ly\n1,-2,1\n1,-3,x\n2,-2,1\n2,-3,1\n", r":3: relative_ly 'x' is not a finite number"),
        ("r_cm,z_cm,relative_ly\n1,-2,1\n1,-3,0\n2,-2,1\n2,-3,1\n", r":3: relative_ly 0\.0+; expected a value > 0"),
    ],
)
def test_a_bad_light_yield_map_is_named_with_what_was_expected(tmp_path, csv, message):
    (tmp_path / "map.csv").write_text(csv)

    def edit(text: str) -> str:
        lines = _without_map(text).split("\n")
        i = next(k for k, line in enumerate(lines) if line.startswith("rayleigh_scattering_length"))
        lines.insert(i + 1, 's1_light_yield_map = { value = "map.csv", unit = "", source = "test" }')
        return "\n".join(lines)

    det = detectors.load(str(_detector_copy(tmp_path, "x1tbadmap", edit)))
    with pytest.raises(tpcml.ConfigError, match=message) as err:
        _core.LXeOptics(det)
    assert "map.csv" in str(err.value)


def test_a_missing_light_yield_map_is_named(tmp_path):
    def edit(text: str) -> str:
        return text.replace("XENON1T_s1_xyz_ly_kr83m_SR1_pax-680_fdc-3d_v0_rz.csv", "nowhere.csv")

    det = detectors.load(str(_detector_copy(tmp_path, "x1tnomapfile", edit)))
    with pytest.raises(tpcml.ConfigError, match=r"cannot read S1 light-yield map '.*nowhere\.csv': no such file"):
        _core.LXeOptics(det)
