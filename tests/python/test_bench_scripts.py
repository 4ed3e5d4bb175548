"""The benchmark scripts stay runnable: each answers --help, and the rasteriser benchmark completes a small run.

Their timings are never asserted (docs/benchmarks.md): the machines are shared and noisy.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(p.name for p in BENCH.glob("bench_*.py"))


def run(*args, timeout=300):
    return subprocess.run(
        [sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_help(script):
    res = run(BENCH / script, "--help", timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.startswith("usage:") and "--" in res.stdout


def test_track_benchmark_quick_run():
    res = run(BENCH / "bench_tracks.py", "--quick", "--no-training", "--repeat", "1")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    rows = [line for line in res.stdout.splitlines() if "|" in line]
    assert any(line.startswith("rasteriser kernel 64x64, 1 thread") for line in rows)
    assert any(line.startswith("RDataFrame: 2 threads vs 1") for line in rows)


def test_hitpeak_benchmark_quick_run():
    res = run(BENCH / "bench_hitpeak.py", "--quick", "--events", "600")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    rows = [line for line in res.stdout.splitlines() if "|" in line]
    assert any(line.startswith("HitPeak kernel 75x75x3, 1 thread, 16-event blocks (CPU)") for line in rows)
    assert any(line.startswith("RDataFrame: 2 threads vs 1") for line in rows)


def test_stats_benchmark_quick_run():
    res = run(BENCH / "bench_stats.py", "--experiments", "100", "--sample", "1000", "--repeat", "1")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    rows = [line for line in res.stdout.splitlines() if "|" in line]
    assert any(line.startswith("q under H0, 100 x 6,500 ev") and "<= 10 s" in line for line in rows)
    assert any(line.startswith("median Z, binned q0 (model-dep.) / Asimov") for line in rows)
