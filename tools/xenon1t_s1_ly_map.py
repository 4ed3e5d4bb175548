#!/usr/bin/env python3
"""Azimuthally averaged XENON1T S1 light-yield maps for tpcml's optics (registry key s1_light_yield_map).

    venv/bin/python tools/xenon1t_s1_ly_map.py [--check]

Reads the XENON1T Kr83m S1 relative light-yield maps shipped in data/detectors/xenon1t/ (unchanged copies of
XENON1T/pax pax/data/XENON1T_s1_xyz_ly_kr83m_SR{0,1}_pax-680_fdc-3d_v0.json: points (x, y, z) in cm, z = 0 at the
gate, on rings of equal radius per z slice) and writes, beside each, a CSV with columns r_cm, z_cm, relative_ly:
the mean over each ring's points (the maps' azimuthal variation is a few per cent), on the full (ring radius, z
slice) grid, sorted by r then z. tpcml::LXeOptics reads the CSV (bilinear in r and z). ``--check`` exits non-zero
when a shipped CSV differs from what the JSON gives (the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "data" / "detectors" / "xenon1t"
MAPS = ("XENON1T_s1_xyz_ly_kr83m_SR0_pax-680_fdc-3d_v0", "XENON1T_s1_xyz_ly_kr83m_SR1_pax-680_fdc-3d_v0")


def ring_average(path: Path) -> str:
    """The CSV text of the (r, z) ring averages of one pax map."""
    data = json.loads(path.read_text())
    xyz = np.asarray(data["coordinate_system"], dtype=float)
    ly = np.asarray(data["map"], dtype=float)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or len(ly) != len(xyz):
        raise SystemExit(f"{path}: expected an irregular pax map of (x, y, z) points and one value per point")
    r = np.round(np.hypot(xyz[:, 0], xyz[:, 1]), 3)
    z = np.round(xyz[:, 2], 3)
    radii, slices = np.unique(r), np.unique(z)
    lines = ["r_cm,z_cm,relative_ly"]
    for rv in radii:
        for zv in slices:
            sel = (r == rv) & (z == zv)
            if not sel.any():
                raise SystemExit(f"{path}: no point at r = {rv} cm, z = {zv} cm; expected a full ring grid")
            lines.append(f"{rv:.3f},{zv:.3f},{ly[sel].mean():.5f}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the shipped CSVs instead of writing")
    args = parser.parse_args(argv)
    status = 0
    for name in MAPS:
        text = ring_average(DATA / f"{name}.json")
        out = DATA / f"{name}_rz.csv"
        if args.check:
            if not out.exists() or out.read_text() != text:
                print(f"{out}: differs from the ring averages of {name}.json; rerun tools/xenon1t_s1_ly_map.py")
                status = 1
        else:
            tmp = out.with_suffix(".csv.tmp")
            tmp.write_text(text)
            tmp.replace(out)
            print(f"wrote {out} ({text.count(chr(10)) - 1} nodes)")
    return status


if __name__ == "__main__":
    sys.exit(main())
