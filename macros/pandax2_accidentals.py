#!/usr/bin/env python3
"""PyROOT: accidental events paired in RDataFrame, the P2-DNN selection as named filters.

    python macros/pandax2_accidentals.py DIR out.root [--pairs 200000] [--seed 1] [--threads 2]

``DIR`` is the output of ``tpcml simulate pandax2`` (or any directory holding ``isolated.root``
with trees s1/s2 and ``nr_calibration.root`` with the NR median TGraph). The script builds a
``tpcml::AccidentalPairer`` in cling, takes its RDataFrame door, applies the selection of
``tpcml.studies.pandax2.selection`` (named filters: fiducial volume, S1 range, S2 threshold, S2 upper,
below NR median), prints the cut flow of ``Report()`` and the expected number of accidentals
below the NR median (sum of the weights n_acc / N, P2-DNN Eq. 2.1), and writes the
log10(qS2c/qS1c) vs qS1c histogram of the selected pairs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tpcml
from tpcml.core import detectors
from tpcml.core.errors import ArgumentError, cpp_message
from tpcml.core.guards import SEED_MAX, parse_int, refuse_overwrite
from tpcml.core.options import THREADS_HELP, imt_threads
from tpcml.core.rootio import atomic_path, require_file
from tpcml.pairing import read_isolated
from tpcml.studies.pandax2 import selection


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("directory", help="directory with isolated.root and nr_calibration.root")
    ap.add_argument("output", help="ROOT file for the histogram")
    ap.add_argument(
        "--pairs", type=_int(1, 2**63 - 1), default=200000, help="accidental pairs to make (default: %(default)s)"
    )
    ap.add_argument("--seed", type=_int(0, SEED_MAX), default=1, help="pairing seed (default: %(default)s)")
    ap.add_argument("--detector", default="pandax2", help="detector name or TOML (default: %(default)s)")
    ap.add_argument("--threads", type=_int(0, 1024), default=1, metavar="N", help=THREADS_HELP + " (default: 1)")
    args = ap.parse_args(argv)

    d = Path(args.directory)
    isolated, nr = d / "isolated.root", d / "nr_calibration.root"
    try:
        if not d.is_dir():
            raise tpcml.InputError(f"{d}: {'is a file' if d.exists() else 'no such directory'}; expected a directory")
        refuse_overwrite(args.output, [isolated, nr, args.detector if Path(args.detector).is_file() else None])
        det = detectors.load(args.detector)
        read_isolated(isolated)  # TTree or RNTuple; names a missing file, tree, column or a wrong type
        require_file(nr)
        tpcml._core.NRMedianCurve.from_file(str(nr))  # names the file and the missing TGraph
    except ArgumentError as err:
        print(f"pandax2_accidentals.py: error: {err}", file=sys.stderr)
        return 2
    except (tpcml.InputError, tpcml.ConfigError, tpcml.UsageError) as err:
        print(f"pandax2_accidentals.py: error: {err}", file=sys.stderr)
        return 1
    try:
        return _pair(args, det, isolated, nr)
    except Exception as err:  # C++ exceptions through PyROOT: one line, exit 1
        print(f"pandax2_accidentals.py: error: {cpp_message(err)}", file=sys.stderr)
        return 1


def _int(minimum: int, maximum: int):
    def convert(text: str) -> int:
        try:
            return parse_int(text, minimum=minimum, maximum=maximum)
        except ArgumentError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    return convert


def _pair(args, det, isolated: Path, nr: Path) -> int:
    ROOT = tpcml.load_root()
    if imt_threads(args.threads):  # 1: ImplicitMT off; 0: all cores
        ROOT.EnableImplicitMT(imt_threads(args.threads))
    t0, t1 = det.get("fiducial_drift_time_min", "us"), det.get("fiducial_drift_time_max", "us")
    ROOT.gInterpreter.Declare(
        "namespace tpcml_script { std::unique_ptr<tpcml::AccidentalPairer> pairer; "
        "std::unique_ptr<tpcml::PositionCorrections> corr; }"
    )
    # the pairer and its weights (n_acc / N from the rates stored with the populations)
    ok = ROOT.gInterpreter.ProcessLine(
        f"""{{
        const auto det = tpcml::DetectorConfig::load("{det.file}");
        const auto s1 = tpcml::IsolatedS1Table::fromTree("{isolated}", "s1");
        const auto s2 = tpcml::IsolatedS2Table::fromTree("{isolated}", "s2");
        tpcml::AccidentalPairer::Options opt;
        opt.driftTimeMin = {t0!r}; opt.driftTimeMax = {t1!r}; opt.seed = {args.seed}ULL;
        const auto rates = tpcml::isolatedRates("{isolated}", s1.size(), s2.size());
        if (rates.known()) opt.weight = float(rates.expected({t1 - t0!r}) / {args.pairs}.);
        tpcml_script::corr = std::make_unique<tpcml::PositionCorrections>(det);
        tpcml_script::pairer = std::make_unique<tpcml::AccidentalPairer>(s1, s2, *tpcml_script::corr, opt);
        }}"""
    )
    if ok != 0:
        print("pandax2_accidentals.py: error: could not build the pairer (see above)", file=sys.stderr)
        return 1
    df = ROOT.tpcml_script.pairer.dataFrame(args.pairs)
    sel = selection.apply_rdf(df, det, nr_median=str(nr), below_median=True)
    n_acc_below = sel.Sum("weight")
    hist = sel.Define("log_s2s1", "std::log10(qS2c / qS1c)").Histo2D(
        ("h_acc", "accidentals below the NR median;qS1c [PE];log_{10}(qS2c/qS1c)", 42, 3.0, 45.0, 60, 0.5, 3.5),
        "qS1c",
        "log_s2s1",
    )
    report = sel.Report()
    for cut in report:
        print(f"{cut.GetName():<18} {cut.GetAll():>10} {cut.GetPass():>10} {cut.GetEff():7.2f} %")
    print(f"expected accidentals below the NR median (P2-DNN Eq. 2.1 x selection): {n_acc_below.GetValue():.4g}")
    with atomic_path(args.output) as tmp:
        f = ROOT.TFile.Open(str(tmp), "RECREATE")
        hist.GetValue().Write()
        ROOT.TParameter["double"]("n_acc_below_nr_median", n_acc_below.GetValue()).Write()
        f.Close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
