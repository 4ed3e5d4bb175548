#!/usr/bin/env python3
"""PyROOT version of lifetime_bands.C: S2 electron-lifetime correction in a jitted Define.

    python macros/lifetime_bands.py events.root bands.root [--detector pandax2] [--threads 2]

``tpcml.load_root()`` makes libtpcml and its headers known to cling, so the
jitted string ``tpcml::ElectronLifetimeCorrection(tau)(qS2, drift_time)`` compiles.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tpcml
from tpcml.core import detectors
from tpcml.core.errors import ArgumentError, cpp_message
from tpcml.core.guards import parse_int, refuse_overwrite
from tpcml.core.options import THREADS_HELP, imt_threads
from tpcml.core.rootio import atomic_path, check_columns, read_provenance
from tpcml.corrections import ElectronLifetimeCorrection


def threads_type(text: str) -> int:
    try:
        return parse_int(text, minimum=0, maximum=1024)
    except ArgumentError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="ROOT file with an `events` tree (qS1, qS2, drift_time, recoil_type)")
    ap.add_argument("output", help="ROOT file to write the band histograms to")
    ap.add_argument("--detector", help="detector name or TOML (default: the one recorded in the input)")
    ap.add_argument("--threads", type=threads_type, default=1, metavar="N", help=THREADS_HELP + " (default: 1)")
    args = ap.parse_args(argv)

    try:
        refuse_overwrite(args.output, [args.input, args.detector if Path(str(args.detector)).is_file() else None])
        # TTree or RNTuple; float or double columns (recoil_type: any integer type)
        kinds = {"qS1": "float", "qS2": "float", "drift_time": "float", "recoil_type": "int"}
        check_columns(args.input, "events", kinds)
        det_name = args.detector or read_provenance(args.input)[0]
        if not det_name:
            ap.error(f"{args.input} does not record its detector; pass --detector")
        tau = ElectronLifetimeCorrection.from_detector(detectors.load(det_name)).lifetime
    except ArgumentError as err:
        print(f"lifetime_bands.py: error: {err}", file=sys.stderr)
        return 2
    except (tpcml.InputError, tpcml.ConfigError) as err:
        print(f"lifetime_bands.py: error: {err}", file=sys.stderr)
        return 1
    try:
        return _bands(args, det_name, tau)
    except Exception as err:  # C++ exceptions through PyROOT (e.g. a corrupted file): one line, exit 1
        print(f"lifetime_bands.py: error: {args.input}: {cpp_message(err)}", file=sys.stderr)
        return 1


def _bands(args, det_name: str, tau: float) -> int:
    ROOT = tpcml.load_root()
    if imt_threads(args.threads):  # 1: ImplicitMT off; 0: all cores
        ROOT.EnableImplicitMT(imt_threads(args.threads))
    df = ROOT.RDataFrame("events", args.input)
    # the correction made here; an input that already has a qS2c column (tpcml's event files) keeps it
    qs2c = "tpcml_qS2c" if "qS2c" in [str(c) for c in df.GetColumnNames()] else "qS2c"
    corrected = (
        df.Define(qs2c, f"tpcml::ElectronLifetimeCorrection({tau!r})(qS2, drift_time)")
        .Filter(f"qS1 > 0 && {qs2c} > 0", "Non-zero S1 and S2")
        .Define("log_s2s1", f"std::log10({qs2c} / qS1)")
    )
    # qS1 3-45 PE: the PandaX-II signal window (pandax2-accidental-dnn, Sec. 3)
    axes = (42, 3.0, 45.0, 100, 0.0, 3.0)
    title = ";qS1 [PE];log_{10}(qS2c/qS1)"
    h_er = corrected.Filter("recoil_type == 0", "ER events").Histo2D(
        ("h_er", "ER band" + title, *axes), "qS1", "log_s2s1"
    )
    h_nr = corrected.Filter("recoil_type == 1", "NR events").Histo2D(
        ("h_nr", "NR band" + title, *axes), "qS1", "log_s2s1"
    )
    with atomic_path(args.output) as tmp:
        f = ROOT.TFile(str(tmp), "RECREATE")
        h_er.Write()
        h_nr.Write()
        ROOT.TNamed("tpcml_detector", det_name).Write()
        f.Close()
    df.Report().Print()
    print(f"lifetime_bands.py: tau = {tau} us; ER {h_er.GetEntries():.0f}, NR {h_nr.GetEntries():.0f} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
