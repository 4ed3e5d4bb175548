"""The ``tpcml`` command line.

    tpcml info [--json]                       versions, CPU features, GPU visibility
    tpcml detectors list                      registered detectors
    tpcml detectors show NAME|FILE            validated parameters with units and sources
    tpcml detectors validate FILE [FILE ...]  check detector TOML files
    tpcml inspect FILE [--tree T]             trees, entries and columns of a ROOT file
    tpcml run quickstart [--out DIR]          the end-to-end chain that exists today

Exit status: 0 ok, 1 invalid input or configuration, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__


def _cmd_info(args) -> int:
    from . import info

    data = info.collect()
    from . import _core

    data["root_runtime"] = _core.root_version()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(info.format_report(data))
        print(f"ROOT runtime {data['root_runtime']}")
    return 0


def _cmd_detectors(args) -> int:
    from . import detectors

    if args.action == "list":
        for name in detectors.available():
            d = detectors.load(name)
            print(f"{name:<10} {d.kind:<16} {d.title}")
        return 0
    if args.action == "show":
        if len(args.targets) != 1:
            raise _UsageError("detectors show takes exactly one NAME or FILE")
        d = detectors.load(args.targets[0])
        print(f"{d.name}: {d.title} [{d.kind}]\n  file: {d.file}")
        for key, p in detectors.as_dict(d).items():
            val = p["value"] if not isinstance(p["value"], float) else f"{p['value']:.6g}"
            print(f"  {key:<30} {val!s:>12} {p['unit']:<10} {p['source']}")
        return 0
    # validate
    if not args.targets:
        raise _UsageError("detectors validate needs at least one FILE")
    bad = 0
    for target in args.targets:
        try:
            d = detectors.load(target)
            print(f"ok       {target} ({d.name}, {len(d.keys())} parameters)")
        except ValueError as err:
            bad += 1
            print(f"INVALID  {err}", file=sys.stderr)
    return 1 if bad else 0


def _cmd_inspect(args) -> int:
    from . import rootio

    if args.tree is None:
        trees = rootio.list_trees(args.file)
        print(f"{args.file}: {len(trees)} tree(s)")
        for t in trees:
            s = rootio.describe_tree(args.file, t)
            print(f"  {t:<20} {s['entries']} entries, {len(s['columns'])} columns")
        return 0
    s = rootio.describe_tree(args.file, args.tree)
    print(f"{s['file']} / {s['tree']}: {s['entries']} entries")
    for name, typ in s["columns"].items():
        print(f"  {name:<28} {typ}")
    return 0


def _cmd_run(args) -> int:
    if args.job == "quickstart":
        from . import quickstart

        n_er, n_nr = (4000, 2000) if args.quick else (args.n_er, args.n_nr)
        quickstart.run(
            Path(args.out), detector=args.detector, n_er=n_er, n_nr=n_nr, seed=args.seed, threads=args.threads
        )
        return 0
    raise AssertionError(f"unhandled job {args.job!r}")  # argparse restricts the choices


class _UsageError(Exception):
    pass


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tpcml",
        description="Machine-learning background suppression for rare-event TPCs.",
        epilog="Batch executables: tpcml-info (see `tpcml-info --help`).",
    )
    p.add_argument("--version", action="version", version=f"tpcml {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser(
        "info",
        help="versions, CPU features, GPU visibility",
        description="Print versions of tpcml, ROOT, TensorFlow, Keras, onnx, onnxruntime, "
        "nestpy; CPU features; whether a GPU is visible.",
    )
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.set_defaults(func=_cmd_info)

    s = sub.add_parser(
        "detectors",
        help="list, show or validate detector configurations",
        description="The detector registry: data/detectors/*.toml, validated against schema.toml.",
    )
    s.add_argument("action", choices=["list", "show", "validate"])
    s.add_argument("targets", nargs="*", metavar="NAME|FILE")
    s.set_defaults(func=_cmd_detectors)

    s = sub.add_parser("inspect", help="trees, entries and columns of a ROOT file")
    s.add_argument("file", help="ROOT file")
    s.add_argument("--tree", help="describe this tree (default: list all trees)")
    s.set_defaults(func=_cmd_inspect)

    s = sub.add_parser(
        "run",
        help="run an end-to-end job",
        description="quickstart: simulate ER/NR events with NEST in a registry detector, "
        "correct S2 for electron lifetime in C++ inside RDataFrame, measure the ER leakage "
        "below the NR median, and write plots and a report.",
    )
    s.add_argument("job", choices=["quickstart"])
    s.add_argument("--out", default="tpcml-quickstart", help="output directory (default: %(default)s)")
    s.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    s.add_argument("--n-er", type=_positive_int, default=20000, help="ER events (default: %(default)s)")
    s.add_argument("--n-nr", type=_positive_int, default=10000, help="NR events (default: %(default)s)")
    s.add_argument("--seed", type=_positive_int, default=1, help="random seed (default: %(default)s)")
    s.add_argument("--threads", type=_positive_int, default=0, help="ROOT ImplicitMT threads (0: off)")
    s.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    s.set_defaults(func=_cmd_run)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .errors import ConfigError, InputError, TpcmlError, UsageError

    try:
        return args.func(args)
    except _UsageError as err:
        parser.error(str(err))
    except (ConfigError, InputError, UsageError, TpcmlError, FileNotFoundError) as err:
        print(f"tpcml: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tpcml: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
