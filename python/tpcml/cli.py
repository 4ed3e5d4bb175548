"""The ``tpcml`` command line.

    tpcml info [--json]                       versions, CPU features, GPU visibility
    tpcml detectors list                      registered detectors
    tpcml detectors show NAME|FILE            validated parameters with units and sources
    tpcml detectors validate FILE [FILE ...]  check detector TOML files
    tpcml inspect FILE [--tree T]             trees, entries and columns of a ROOT file
    tpcml simulate pandax2 --out DIR [...]    PandaX-II NR/ER calibration, isolated S1/S2, accidentals, search run
    tpcml pair --input F --output F -n N      accidental events from isolated S1/S2 trees (C++ pairer)
    tpcml select FILE [FILE ...]              the P2-DNN selection in RDataFrame, with its cut flow
    tpcml plot pandax2 DIR                    Fig. 1 analogue and the 13 Table 1 feature distributions
    tpcml run accidental [--out DIR] [--quick|--full] [--data DIR]
                                              the PandaX-II MLP-vs-BDT study (P2-DNN Sec. 4): the main job
    tpcml run tracks [--out DIR] [--quick]    PandaX-III EfficientNet track classification (P3-CNN)
    tpcml simulate pandax3 --out DIR          PandaX-III 0nubb and gamma tracks (strip hits)
    tpcml raster --input F --output F         track images in RDataFrame (C++ rasteriser)
    tpcml run quickstart [--out DIR]          electron-lifetime correction and ER/NR bands end to end
    tpcml run all [--out DIR] [--quick] [--only S,..]
                                              every study, and DIR/index.md linking their reports

``simulate``, ``run`` and ``plot`` dispatch to the studies of :mod:`tpcml.studies` (each adds its own options;
``tpcml run pandax2`` = ``run accidental``, ``run pandax3`` = ``run tracks``). ``--threads 0`` means all cores
for every ``simulate``; for ``run quickstart`` and ``select`` it means ROOT's ImplicitMT off.

Exit status: 0 ok, 1 invalid input or configuration, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from tpcml import __version__
from tpcml.core import options as a
from tpcml.core.errors import ArgumentError
from tpcml.core.options import CommandLineError


def _cmd_info(args) -> int:
    """Print versions of tpcml, ROOT, TensorFlow, Keras, onnx, onnxruntime, nestpy; CPU features; whether a GPU is
    visible."""
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
    """The detector registry: data/detectors/*.toml, validated against schema.toml."""
    from tpcml.core import detectors

    if args.action == "list":
        for name in detectors.available():
            d = detectors.load(name)
            print(f"{name:<10} {d.kind:<16} {d.title}")
        return 0
    if args.action == "show":
        if len(args.targets) != 1:
            raise CommandLineError("detectors show takes exactly one NAME or FILE")
        d = detectors.load(args.targets[0])
        print(f"{d.name}: {d.title} [{d.kind}]\n  file: {d.file}")
        for key, p in detectors.as_dict(d).items():
            val = p["value"] if not isinstance(p["value"], float) else f"{p['value']:.6g}"
            print(f"  {key:<30} {val!s:>12} {p['unit']:<10} {p['source']}")
        return 0
    # validate
    if not args.targets:
        raise CommandLineError("detectors validate needs at least one FILE")
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
    from tpcml.core import rootio

    rootio.require_file(args.file)  # a directory, FIFO or missing file is named as what it is
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


def _contract_options(s) -> None:
    """The file contract's options of every command that writes a ROOT file (docs/event-model.md §1)."""
    s.add_argument(
        "--format",
        choices=["ttree", "rntuple"],
        default="ttree",
        help="output tree format: a TTree (default) or an RNTuple",
    )
    s.add_argument(
        "--allow-detector-mismatch",
        action="store_true",
        help="read files tagged (tpcml_detector) with another detector than the job's",
    )


def _cmd_raster(args) -> int:
    """Add to every entry of a tracks file the image made by the C++ tpcml::TrackRasteriser inside RDataFrame
    (P3-CNN Sec. 3.2: XZ red, YZ green, 64 x 64 pixels of 3 mm aligned on each projection's charge centre, charges
    normalised) and image_outside (hits outside the window). Same kernel as tpcml-raster."""
    from tpcml.studies.pandax3.images import rasterise_file

    summary = rasterise_file(
        args.input,
        args.output,
        upscale=args.upscale,
        channels_first=args.layout == "nchw",
        threads=args.threads,
        drop_hits=args.drop_hits,
        detector=args.detector,
        format=args.format,
        allow_detector_mismatch=args.allow_detector_mismatch,
    )
    print(
        f"{summary['entries']} images ({summary['side']} x {summary['side']} x 3, {args.layout}) -> {args.output}; "
        f"{summary['outside']} hits outside the windows"
    )
    return 0


def _cmd_pair(args) -> int:
    """Randomly pair isolated S1 and S2 signals (C++ tpcml::AccidentalPairer, the kernel behind tpcml-pair and the
    RDataFrame source), assign a drift time uniform in the window and recompute the position-dependent quantities.
    Output: an `events` tree in the schema of physical events, with weight = n_acc / N when the rates are known
    (P2-DNN Eq. 2.1)."""
    from .pairing import pair as pair_file

    window = None if args.drift_window is None else tuple(args.drift_window)
    with a.value_errors_are_input_errors():
        r = pair_file(
            args.input,
            args.output,
            args.n,
            seed=args.seed,
            detector=args.detector,
            threads=max(args.threads, 1),
            with_replacement=not args.without_replacement,
            nr_median=args.nr_median,
            drift_window=window,
            livetime_s=args.livetime,
            efficiency=args.efficiency,
            s1_tree=args.s1_tree,
            s2_tree=args.s2_tree,
            quiet=args.quiet,
            format=args.format,
            allow_detector_mismatch=args.allow_detector_mismatch,
        )
    if r["n_acc"] is not None:
        print(f"n_acc = {r['n_acc']:.4g} (P2-DNN Eq. 2.1); weight per pair {r['weight']:.4g}")
    return 0


def _cmd_select(args) -> int:
    """Named RDataFrame filters (fiducial volume, 3 <= qS1 <= 45 PE, qS2 > 100 PE, qS2c < 10,000 PE, optionally
    below the NR median); prints the cut flow of Report()."""
    from tpcml.core import detectors
    from tpcml.studies.pandax2 import selection

    det = detectors.load(args.detector)
    if args.output is not None:
        a.refuse_overwrite(args.output, [*args.files, args.nr_median, a.detector_file(args.detector)])
    nr_median = args.nr_median
    if args.below_nr_median and nr_median is None:
        nr_median = args.files[0]  # tpcml files carry the curve they were selected with
    flow = selection.cutflow(
        args.files,
        det,
        tree=args.tree,
        nr_median=nr_median,
        below_median=args.below_nr_median,
        threads=args.threads,
        output=args.output,
        format=args.format,
        allow_detector_mismatch=args.allow_detector_mismatch,
    )
    print(f"{'cut':<20} {'all':>10} {'pass':>10} {'eff %':>8} {'cumul. %':>9}")
    total = flow[0][1] if flow else 0
    for name, n_all, n_pass in flow:
        eff = 100.0 * n_pass / n_all if n_all else 0.0
        cum = 100.0 * n_pass / total if total else 0.0
        print(f"{name:<20} {n_all:>10} {n_pass:>10} {eff:>8.2f} {cum:>9.2f}")
    if args.output:
        print(f"selected events written to {args.output}")
    return 0


def _command(sub, name: str, func, help_text: str) -> argparse.ArgumentParser:
    """The subcommand ``name`` running ``func``; its description is ``func``'s docstring (none without one)."""
    s = sub.add_parser(name, help=help_text, description=func.__doc__)
    s.set_defaults(func=func)
    return s


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tpcml",
        description="Machine-learning background suppression for rare-event TPCs.",
        epilog="Batch executables: tpcml-info, tpcml-pair (each with --help).",
    )
    p.add_argument("--version", action="version", version=f"tpcml {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = _command(sub, "info", _cmd_info, "versions, CPU features, GPU visibility")
    s.add_argument("--json", action="store_true", help="print JSON instead of text")

    s = _command(sub, "detectors", _cmd_detectors, "list, show or validate detector configurations")
    s.add_argument("action", choices=["list", "show", "validate"])
    s.add_argument("targets", nargs="*", metavar="NAME|FILE")

    s = _command(sub, "inspect", _cmd_inspect, "trees, entries and columns of a ROOT file")
    s.add_argument("file", help="ROOT file")
    s.add_argument("--tree", help="describe this tree (default: list all trees)")

    s = _command(sub, "pair", _cmd_pair, "accidental events from isolated S1/S2 trees")
    s.add_argument("--input", required=True, help="ROOT file with the isolated-S1 and -S2 trees")
    s.add_argument("--output", required=True, help="output ROOT file (written atomically)")
    s.add_argument("-n", type=a.count, required=True, help="number of pairs (>= 1; checked against the memory)")
    s.add_argument("--seed", type=a.seed, default=0, help="random seed (default: %(default)s)")
    s.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    s.add_argument("--threads", type=a.threads, default=1, help="threads (output independent of it)")
    s.add_argument("--s1-tree", default="s1", help="isolated-S1 tree (default: %(default)s)")
    s.add_argument("--s2-tree", default="s2", help="isolated-S2 tree (default: %(default)s)")
    s.add_argument("--drift-window", nargs=2, type=a.finite_float, metavar=("TMIN", "TMAX"), help="drift window in us")
    s.add_argument("--nr-median", help="ROOT file with the NR median TGraph: fills below_nr_median")
    s.add_argument("--livetime", type=a.positive_float, help="live time (s): rates = N / T")
    s.add_argument("--efficiency", type=a.positive_float, help="data-quality efficiency epsilon of Eq. 2.1")
    s.add_argument("--without-replacement", action="store_true", help="use each S1 and each S2 at most once")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    _contract_options(s)

    s = _command(sub, "select", _cmd_select, "the P2-DNN event selection in RDataFrame, with its cut flow")
    s.add_argument("files", nargs="+", help="ROOT files")
    s.add_argument("--tree", default="events", help="tree name (default: %(default)s)")
    s.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    s.add_argument("--below-nr-median", action="store_true", help="also require log10(qS2c/qS1c) < NR median")
    s.add_argument("--nr-median", help="ROOT file with the NR median TGraph (default: the first input)")
    s.add_argument("--output", help="write the selected events here (Snapshot, atomic)")
    s.add_argument("--threads", type=a.threads, default=0, help="ROOT ImplicitMT threads (0: off)")
    _contract_options(s)

    s = _command(sub, "raster", _cmd_raster, "XZ/YZ track images of strip-readout events (PandaX-III)")
    s.add_argument("--input", required=True, nargs="+", help="ROOT file(s) with tree events and hit_* branches")
    s.add_argument("--output", required=True, help="output ROOT file (written atomically)")
    s.add_argument("--upscale", type=int, choices=[1, 2, 4], default=1, help="nearest-neighbour factor (2: 128 x 128)")
    s.add_argument("--layout", choices=["nhwc", "nchw"], default="nhwc", help="image layout (default: %(default)s)")
    s.add_argument("--threads", type=a.threads, default=1, help="ROOT ImplicitMT threads (0/1: off)")
    s.add_argument("--drop-hits", action="store_true", help="do not copy the hit_* branches")
    _contract_options(s)
    s.add_argument(
        "--detector", default="pandax3", help="detector for pixels and drift velocity (default: %(default)s)"
    )
    _add_study_verbs(sub)
    return p


# ------------------------------------------------------------------------------- simulate / run / plot: studies
def _add_study_verbs(sub) -> None:
    """``simulate``, ``run`` and ``plot``: one subcommand per registered study (and alias) answering the verb,
    with the study's own options; ``run all`` runs every study."""
    from tpcml import studies

    registered = studies.studies()
    for verb, help_text in (("simulate", "simulate a study's data sets"), ("plot", "plots of a simulated data set")):
        owners = [st for st in registered if getattr(st, verb) is not None]
        s = sub.add_parser(
            verb, help=help_text, description="; ".join(f"{st.name}: {getattr(st, verb).help}" for st in owners)
        )
        targets = s.add_subparsers(dest="study", required=True, metavar="STUDY")
        for st in owners:
            v = getattr(st, verb)
            for key in (st.name, *st.aliases):
                t = targets.add_parser(
                    key, help=v.help if key == st.name else f"= {st.name}", description=v.description
                )
                if verb == "simulate":
                    _add_common_simulate_arguments(t, v)
                v.add_arguments(t)
                t.set_defaults(func=v.run)

    s = sub.add_parser(
        "run",
        help="run a study end to end (or all of them)",
        description="End-to-end studies, each the reproduction of one paper: "
        + "; ".join(
            f"`{st.name}`" + (f" (= {', '.join(st.aliases)})" if st.aliases else "") + f": {st.title}"
            for st in registered
        )
        + ". `all` runs every study and writes an index page. `tpcml run STUDY --help` for each.",
    )
    jobs = s.add_subparsers(dest="job", required=True, metavar="STUDY")
    for st in registered:
        for key in (st.name, *st.aliases):
            j = jobs.add_parser(key, help=st.title if key == st.name else f"= {st.name}", description=st.description)
            _add_common_run_arguments(j, st)
            if st.add_arguments is not None:
                st.add_arguments(j)
            j.set_defaults(func=_cmd_run_study, study_name=st.name)
    j = jobs.add_parser(
        "all",
        help="every study (or those of --only), each into OUT/<study>, and OUT/index.md linking their reports",
        description="Run every registered study with its default options (or its --quick / --full configuration) "
        "into OUT/<study>/, then write OUT/index.md: one line per study with its paper and a link to its report.",
    )
    j.add_argument("--out", default="tpcml-studies", help="output directory (default: %(default)s)")
    j.add_argument("--only", help="comma-separated studies to run (default: all of them)")
    j.add_argument("--quick", action="store_true", help="each study's smoke-run configuration")
    j.add_argument("--full", action="store_true", help="each study's paper-scale configuration (where it has one)")
    j.add_argument("--keep-going", action="store_true", help="run the next study after one fails")
    j.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    j.set_defaults(func=_cmd_run_all)


def _add_common_simulate_arguments(p: argparse.ArgumentParser, v) -> None:
    """The options every ``tpcml simulate <study>`` has (``--threads 0`` is all cores for every study)."""
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument("--detector", default=v.detector, help="detector name or TOML file (default: %(default)s)")
    p.add_argument("--seed", type=a.seed, default=1, help="random seed (default: %(default)s)")
    p.add_argument("--threads", type=a.threads, default=0, help="threads (0: all cores)")
    p.add_argument("--quick", action="store_true", help=v.quick_help)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def _add_common_run_arguments(p: argparse.ArgumentParser, st) -> None:
    """The options every ``tpcml run <study>`` has; the study adds its own."""
    p.add_argument("--out", default=st.out_default(), help="output directory (default: %(default)s)")
    if "quick" in st.profiles:
        p.add_argument("--quick", action="store_true", help=st.profile_help.get("quick", "a smoke run"))
    if "full" in st.profiles:
        p.add_argument("--full", action="store_true", help=st.profile_help.get("full", "the paper's protocol"))
    p.add_argument("--seed", type=a.seed, default=st.seed, help="random seed (default: %(default)s)")
    p.add_argument("--threads", type=a.threads, default=st.threads, help=st.threads_help)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def study_config(st, args: argparse.Namespace):
    """The configuration object ``st.configure`` makes of a parsed ``tpcml run <study>`` command line."""
    return st.configure(args, a.profile_of(args))


def _cmd_run_study(args) -> int:
    from tpcml import studies

    st = studies.get(args.study_name)
    cfg = study_config(st, args)
    ctx = studies.run(st, cfg, Path(args.out), quiet=args.quiet)
    print(f"report: {ctx.results['report']}")
    return 0


def _cmd_run_all(args) -> int:
    """Each selected study with its default command line (plus --quick / --full) into OUT/<name>; OUT/index.md."""
    from tpcml import studies

    profile = a.profile_of(args)
    selected = studies.studies()
    if args.only is not None:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        if not names:
            known = ", ".join(st.name for st in selected)
            raise CommandLineError(f"--only: expected at least one study name; known: {known}")
        try:
            selected = list(dict.fromkeys(studies.get(n) for n in names))
        except KeyError as err:
            raise CommandLineError(f"--only: {err.args[0]}") from None
    out = a.out_dir(args.out)
    reports, failed = [], []
    for st in selected:
        argv = ["run", st.name, "--out", str(out / st.name)]
        if profile != "default" and profile in st.profiles:
            argv.append(f"--{profile}")
        if args.quiet:
            argv.append("-q")
        sub_args = build_parser().parse_args(argv)
        try:
            ctx = studies.run(st, study_config(st, sub_args), out / st.name, quiet=args.quiet)
            reports.append((st, Path(ctx.results["report"]), ""))
        except Exception as err:
            if not args.keep_going:
                raise
            failed.append(st.name)
            reports.append((st, None, f"failed: {_one_line(err)}"))
            print(f"tpcml: error: {st.name}: {_one_line(err)}", file=sys.stderr)
    index = studies.write_index(out, reports)
    print(f"index: {index}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from tpcml.core.errors import TpcmlError

    try:
        return args.func(args)
    except CommandLineError as err:
        parser.error(str(err))
    except ArgumentError as err:  # a bad argument value, found before any work
        print(f"tpcml: error: {err}", file=sys.stderr)
        return 2
    except (TpcmlError, ValueError, OSError) as err:  # tpcml's errors (ConfigError is a ValueError, InputError
        # an OSError) and the standard ones for bad values and files: one line, exit 1
        print(f"tpcml: error: {_one_line(err)}", file=sys.stderr)
        return 1
    except MemoryError:
        print("tpcml: error: out of memory: use smaller sizes or fewer events per file", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tpcml: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # e.g. a C++ exception through PyROOT (cppyy): still one line, never a traceback
        if os.environ.get("TPCML_DEBUG"):
            raise
        print(f"tpcml: error: {_one_line(err)} (TPCML_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    return 0


def _one_line(err: BaseException) -> str:
    """An exception's message on one line; C++ exceptions through PyROOT lose their call-site prefix."""
    from tpcml.core.errors import TpcmlError, cpp_message

    if type(err).__module__ == "builtins" and isinstance(err, OSError) and err.filename and err.strerror:
        return f"{err.filename}: {err.strerror}"
    own = isinstance(err, TpcmlError | ValueError | OSError)  # their text holds no cppyy call-site prefix
    text = " ".join(str(err).split()) if own else cpp_message(err)
    return text or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
