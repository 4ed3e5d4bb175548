#!/usr/bin/env python3
"""Score a tree with an ONNX model in PyROOT: RDataFrame + tpcml's C++ engine (docs/inference.md).

    python macros/score_events.py events.root mlp.onnx [--tree events] [--threads 2] [--cut 0.5]

The score column is defined by ``tpcml.inference.define_score`` (compiled C++ functor; input columns
from the model's ``tpcml.inputs`` metadata unless ``--columns`` is given), then a named filter at the
working point (``--cut``, default: the model's ``tpcml.working_point``) prints a cut-flow report.
"""

from __future__ import annotations

import argparse
import sys

import tpcml
from tpcml.core.errors import ArgumentError, cpp_message
from tpcml.core.guards import parse_float, parse_int
from tpcml.core.options import THREADS_HELP, imt_threads
from tpcml.core.rootio import require_file
from tpcml.inference import Model, define_score


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input", help="ROOT file")
    p.add_argument("model", help="ONNX model")
    p.add_argument("--tree", default="events", metavar="NAME", help="tree to score (default: events)")
    p.add_argument("--threads", type=_threads, default=1, metavar="N", help=THREADS_HELP + " (default: 1)")
    p.add_argument("--columns", default="", help="comma-separated input columns (default: model metadata)")
    p.add_argument("--cut", type=_cut, default=None, help="score cut (default: the model's working point)")
    args = p.parse_args(argv)
    ROOT = tpcml.load_root()
    if imt_threads(args.threads):  # 1: ImplicitMT off; 0: all cores
        ROOT.EnableImplicitMT(imt_threads(args.threads))
    try:
        require_file(args.input)
        require_file(args.model, "an ONNX model file")
        model = Model(args.model)
        cut = args.cut if args.cut is not None else model.working_point
        cols = [c for c in args.columns.split(",") if c]
        df = define_score(ROOT.RDataFrame(args.tree, args.input), "score", args.model, cols or None)
        mean = df.Mean("score")
        if cut is not None:
            df = df.Filter(f"score > {cut!r}", f"score > {cut:g}")
        report = df.Report()
        print(f"mean score {mean.GetValue():.6g}")
        report.Print()
    except Exception as err:  # tpcml's errors and C++ exceptions through PyROOT: one line, exit 1
        print(f"score_events.py: error: {cpp_message(err)}", file=sys.stderr)
        return 1
    return 0


def _threads(text: str) -> int:
    try:
        return parse_int(text, minimum=0, maximum=1024)
    except ArgumentError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _cut(text: str) -> float:
    try:
        return parse_float(text)
    except ArgumentError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


if __name__ == "__main__":
    sys.exit(main())
