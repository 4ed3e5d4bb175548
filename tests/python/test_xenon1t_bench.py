"""bench/bench_xenon1t.py stays runnable: a small run prints its table (timings never asserted: shared machines)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_xenon1t.py"


def test_xenon1t_benchmark_quick_run():
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    res = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--repeat", "1"], capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    rows = [line for line in res.stdout.splitlines() if "|" in line]
    for batch in (1, 64):
        assert any(line.startswith(f"X1T CNN hitpeak 75x75x3 batch {batch}, per image") for line in rows)
    chain = [line for line in rows if line.startswith("RDF chain: HitPeak image + CNN score")]
    assert chain and float(chain[0].split("|")[1].split()[0]) > 0
