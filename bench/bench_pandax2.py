#!/usr/bin/env python3
"""PandaX-II benchmarks: accidental pairing throughput and simulation wall time.

    make bench                         # or: venv/bin/python bench/bench_pandax2.py [--quick]

Measured in one run and printed as a table (figure, target, ratio):

* pairing kernel (C++ ``AccidentalPairer::pairInto`` on reused buffers, called from cling so
  that no Python sits in the timed region): events/s on 1 thread and on 2 threads, and the
  2-thread speed-up;
* the same through the pybind11 door (numpy arrays out) and the RDataFrame door (an n-entry
  dataframe reduced with Sum, 1 thread) for comparison;
* the simulation of every default PandaX-II sample (P2-DNN sizes) on 2 threads.

Targets (issue 3): >= 10 M pairs/s per core, near-linear with 2 threads; all default samples
in <= 60 s on 2 cores. Each timing is the best of ``--repeat`` runs (these machines are shared).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from _common import best_seconds, parse_options, print_table

#: the printed table: its columns after "figure" (header, format) and the line under it
TABLE_COLUMNS = (("measured", ">12"), ("target", ">18"), ("ratio to target", ">15"))
TABLE_FOOTER = "ratio to target > 1 means the target is met."


#: the options after --quick (``_common.parse_options``): flag -> (default, value under --quick, help)
OPTIONS = {
    "--pairs": (4_000_000, 200_000, "pairs per timing (default: %(default)s)"),
    "--repeat": (5, 2, "repetitions; the best is kept (default: %(default)s)"),
    "--skip-simulation": (None, None, "do not time the default-size simulation"),
}


def main(argv: list[str] | None = None) -> int:
    args = parse_options(argv, __doc__, "smaller workloads (a smoke run, figures less stable)", OPTIONS)
    n, repeat = args.pairs, args.repeat

    import tpcml
    from tpcml import _core
    from tpcml.core import detectors
    from tpcml.pairing import read_isolated
    from tpcml.sim.lxe import Sizes, simulate_dataset

    det = detectors.load("pandax2")
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="tpcml-bench-") as tmp:
        tmp = Path(tmp)
        print("[bench] simulating isolated populations for the pairing benchmark", flush=True)
        small = Sizes(nr_after_cuts=1500, er_after_cuts=200, accidental_after_cuts=500, dm_search=False)
        small.isolated_s1 = small.isolated_s2 = 20000
        simulate_dataset(tmp / "data", small, seed=3, threads=2, quiet=True)
        iso, nr = tmp / "data" / "isolated.root", tmp / "data" / "nr_calibration.root"

        ROOT = tpcml.load_root()
        ROOT.gInterpreter.Declare(
            """
            #include <chrono>
            namespace tpcml_bench {
            std::unique_ptr<tpcml::PositionCorrections> corr;
            std::unique_ptr<tpcml::AccidentalPairer> pairer;
            tpcml::PairedColumns columns;
            double pairSeconds(std::size_t n, unsigned threads) {
               const auto t0 = std::chrono::steady_clock::now();
               pairer->pairInto(columns, 0, n, threads);
               return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            }
            }
            """
        )
        ok = ROOT.gInterpreter.ProcessLine(
            f"""{{
            const auto det = tpcml::DetectorConfig::load("pandax2");
            tpcml::AccidentalPairer::Options opt;
            opt.driftTimeMin = det.get("fiducial_drift_time_min", "us");
            opt.driftTimeMax = det.get("fiducial_drift_time_max", "us");
            tpcml_bench::corr = std::make_unique<tpcml::PositionCorrections>(det);
            tpcml_bench::pairer = std::make_unique<tpcml::AccidentalPairer>(
                tpcml::IsolatedS1Table::fromTree("{iso}", "s1"), tpcml::IsolatedS2Table::fromTree("{iso}", "s2"),
                *tpcml_bench::corr, opt);
            tpcml_bench::pairer->setNRMedian(tpcml::NRMedianCurve::fromFile("{nr}"));
            }}"""
        )
        if ok != 0:
            print("bench: could not build the pairer in cling", file=sys.stderr)
            return 1
        bench = ROOT.tpcml_bench
        bench.pairSeconds(n, 1)  # warm-up: buffers allocated, pages touched
        t1 = min(bench.pairSeconds(n, 1) for _ in range(repeat))
        t2 = min(bench.pairSeconds(n, 2) for _ in range(repeat))
        r1, r2 = n / t1, n / t2
        rows.append(("pairing kernel, 1 thread", f"{r1 / 1e6:.2f} M/s", ">= 10 M/s", f"{r1 / 10e6:.2f}"))
        rows.append(("pairing kernel, 2 threads", f"{r2 / 1e6:.2f} M/s", "", ""))
        rows.append(("  speed-up 2 / 1 threads", f"{r2 / r1:.2f}x", "near 2x (>= 1.8x)", f"{r2 / r1 / 1.8:.2f}"))

        s1, s2 = read_isolated(iso)
        window = (det.get("fiducial_drift_time_min", "us"), det.get("fiducial_drift_time_max", "us"))
        p = _core.AccidentalPairer(s1, s2, _core.PositionCorrections(det), *window, True, 0, 1.0)
        p.set_nr_median(_core.NRMedianCurve.from_file(str(nr)))
        tp = best_seconds(lambda: p.pair(n, threads=1), repeat)
        rows.append(("pybind11 door (numpy out), 1 thread", f"{n / tp / 1e6:.2f} M/s", "", ""))
        df_time = best_seconds(lambda: bench.pairer.dataFrame(n).Sum["float"]("qS1c").GetValue(), repeat)
        rows.append(("RDataFrame door (Sum), 1 thread", f"{n / df_time / 1e6:.2f} M/s", "", ""))

        if not args.skip_simulation:
            sizes = Sizes.quick() if args.quick else Sizes()
            print(f"[bench] simulating every {'quick' if args.quick else 'default'} PandaX-II sample", flush=True)
            t0 = time.perf_counter()
            summary = simulate_dataset(tmp / "full", sizes, seed=1, threads=2, quiet=True)
            wall = time.perf_counter() - t0
            parts = ", ".join(f"{k} {v:.1f} s" for k, v in summary.timings_s.items() if k != "total")
            label = "simulation, quick sizes" if args.quick else "simulation, default sizes (P2-DNN)"
            rows.append((f"{label}, 2 threads", f"{wall:.1f} s", "<= 60 s", f"{60.0 / wall:.2f}"))
            rows.append(("  of which", parts, "", ""))

    print_table(
        f"tpcml {tpcml.__version__} PandaX-II benchmarks ({os.cpu_count()} CPUs visible, {n} pairs per timing)",
        TABLE_COLUMNS,
        rows,
        "  ",
        TABLE_FOOTER,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
