"""Regenerate darwin/pmt_positions.csv: the documented DARWIN baseline PMT layout (see README.md).

955 positions per array on a hexagonal grid of 78 mm pitch, the 955 nearest the axis (ties broken by
azimuth), identical for the top and bottom arrays. Run: python data/detectors/darwin/make_pmt_positions.py
"""

import math
from pathlib import Path

PITCH_MM = 78.0  # 76 mm (3-inch) PMTs with a 2 mm gap; the 955th position lies at r = 1256 mm < 1300 - 38 mm
N_PER_ARRAY = 955  # JCAP 11 (2016) 017: ~1910 3-inch PMTs in total, matched top/bottom arrays (approx.)


def positions(n: int, pitch: float) -> list[tuple[float, float]]:
    k = 0
    while 1 + 3 * k * (k + 1) < n:
        k += 1
    pos = []
    for q in range(-k, k + 1):
        for r in range(-k, k + 1):
            if abs(q + r) > k:
                continue
            x, y = pitch * (q + 0.5 * r), pitch * (0.5 * math.sqrt(3.0) * r)
            phi = math.atan2(y, x) % (2 * math.pi)
            pos.append((round(math.hypot(x, y), 6), round(phi, 9), x, y))
    pos.sort()
    return [(p[2], p[3]) for p in pos[:n]]


def main() -> None:
    out = Path(__file__).with_name("pmt_positions.csv")
    rows = ["i,array,x_mm,y_mm"]
    xy = positions(N_PER_ARRAY, PITCH_MM)
    for a, array in enumerate(("top", "bottom")):
        rows += [f"{a * N_PER_ARRAY + i},{array},{x:.3f},{y:.3f}" for i, (x, y) in enumerate(xy)]
    out.write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
