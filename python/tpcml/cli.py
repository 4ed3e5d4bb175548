"""The ``tpcml`` command line.

    tpcml info [--json]                       versions, CPU features, GPU visibility
    tpcml detectors list                      registered detectors
    tpcml detectors show NAME|FILE            validated parameters with units and sources
    tpcml detectors validate FILE [FILE ...]  check detector TOML files
    tpcml inspect FILE [--tree T]             trees, entries and columns of a ROOT file
    tpcml simulate pandax2 --out DIR [...]    PandaX-II NR/ER calibration, isolated S1/S2, accidentals, search run
    tpcml simulate xenon1t|xenonnt|darwin --source KIND --out DIR [-n N | --exposure T]
                                              LXe events with hit patterns and peak waveforms (tpcml.studies.lxe)
    tpcml pair FILE --output F -n N           accidental events from isolated S1/S2 trees (C++ pairer)
    tpcml select FILE [FILE ...]              the P2-DNN selection in RDataFrame, with its cut flow
    tpcml infer FILE [...] --model M --output F
                                              add an ONNX model's score to every entry (C++ engine)
    tpcml export M.onnx --sofie --output M.hxx [--batch N]
                                              standalone TMVA SOFIE C++, checked against tpcml's engine
    tpcml nr-median fit NR.root --out F       fit the NR median on your NR calibration (select/plot/run --nr-median)
    tpcml plot pandax2 DIR                    Fig. 1 analogue and the 13 Table 1 feature distributions
    tpcml plot xenon1t event-display|bands --file F --out DIR
                                              X1T-CNN Fig. 3 analogue (hit patterns, waveforms); ER/NR bands
    tpcml run accidental [--out DIR] [--quick|--full] [--data DIR]
                                              the PandaX-II MLP-vs-BDT study (P2-DNN Sec. 4): the main job
    tpcml run tracks [--out DIR] [--quick]    PandaX-III EfficientNet track classification (P3-CNN)
    tpcml simulate pandax3 --out DIR          PandaX-III 0nubb and gamma tracks (strip hits)
    tpcml raster FILE [...] --output F        track images in RDataFrame (C++ rasteriser)
    tpcml run quickstart [--out DIR]          electron-lifetime correction and ER/NR bands end to end
    tpcml run all [--out DIR] [--quick] [--only S,..]
                                              every study, and DIR/index.md linking their reports

``simulate``, ``run`` and ``plot`` dispatch to the studies of :mod:`tpcml.studies` (each adds its own options;
``tpcml run pandax2`` = ``run accidental``, ``run pandax3`` = ``run tracks``).

One convention for these subcommands and the executables tpcml-info, tpcml-pair, tpcml-infer, tpcml-raster,
tpcml-hitpeak
(docs/cli.md): input files are positional (``--input`` is kept as an alias), ``-n/--events N``, ``--tree NAME``,
``--threads N`` with 0 = all cores everywhere, ``--drift-window TMIN,TMAX``, ``-q/--quiet`` for no progress.

Exit status: 0 ok, 1 invalid input or configuration, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import io
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
    """The trees of a ROOT file with their entries, or one tree's columns in the file's order."""
    from tpcml.core import rootio

    (file,) = args.inputs
    rootio.require_file(file)  # a directory, FIFO or missing file is named as what it is
    if args.tree is None:
        trees = rootio.list_trees(file)
        print(f"{file}: {len(trees)} tree(s)")
        for t in trees:
            s = rootio.describe_tree(file, t)
            print(f"  {t:<20} {s['entries']} entries, {len(s['columns'])} columns")
        return 0
    s = rootio.describe_tree(file, args.tree)
    print(f"{s['file']} / {s['tree']}: {s['entries']} entries")
    order = {name: k for k, name in enumerate(_stored_order(file, args.tree))}
    lengths = s.get("lengths", {})  # the fixed-length array columns (TTree x[k], RNTuple std::array)
    for name, typ in sorted(s["columns"].items(), key=lambda c: order.get(c[0], len(order))):
        print(f"  {name:<28} {typ}" + (f"  ({lengths[name]} per entry)" if name in lengths else ""))
    return 0


def _stored_order(file: str, tree: str) -> list[str]:
    """The top-level branches (fields) of a TTree (RNTuple) in the order the file stores them (RDataFrame lists
    them sorted by name); empty when uproot cannot read them."""
    import uproot

    try:
        with uproot.open(file) as f:
            return [str(k) for k in f[tree].keys(recursive=False)]
    except Exception:  # the order is cosmetic: describe_tree has already named any real problem
        return []


def _cmd_raster(args) -> int:
    """Add to every entry of a tracks file the image made by the C++ tpcml::TrackRasteriser inside RDataFrame
    (P3-CNN Sec. 3.2: XZ red, YZ green, 64 x 64 pixels of 3 mm aligned on each projection's charge centre, charges
    normalised) and image_outside (hits outside the window). Same kernel as tpcml-raster."""
    from tpcml.studies.pandax3.images import rasterise_file

    summary = rasterise_file(
        args.inputs,
        args.output,
        channels_first=args.layout == "nchw",
        threads=a.all_cores(args.threads),
        **a.pick(args, "upscale", "drop_hits", "detector", "tree", "pixels", "pixel_size", "format"),
        **a.pick(args, "allow_detector_mismatch"),
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

    with a.value_errors_are_input_errors():
        r = pair_file(
            args.inputs[0],
            args.output,
            args.events,
            threads=a.all_cores(args.threads),
            with_replacement=not args.without_replacement,
            livetime_s=args.livetime,
            **a.pick(args, "seed", "detector", "nr_median", "drift_window", "efficiency", "s1_tree", "s2_tree"),
            **a.pick(args, "quiet", "format", "allow_detector_mismatch"),
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
        a.refuse_overwrite(args.output, [*args.inputs, args.nr_median, a.detector_file(args.detector)])
    flow = selection.cutflow(
        args.inputs,
        det,
        below_median=args.below_nr_median,
        threads=a.imt_threads(args.threads),
        say=lambda text: print(f"tpcml: {text}", file=sys.stderr),
        # nr_median None: the policy of tpcml.nr_median.resolve (input file, detector default)
        **a.pick(args, "tree", "nr_median", "output", "format", "allow_detector_mismatch"),
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


def _cmd_infer(args) -> int:
    """Add the score of an ONNX model (tpcml's C++ engine) to every entry of ROOT trees: every input column plus
    the score, in input order, written under a temporary name renamed when complete. The job tpcml-infer runs
    (tpcml::onnx::scoreFiles, through tpcml.inference.score_files); the input columns default to the model's
    tpcml.inputs metadata."""
    from tpcml.inference import score_files

    columns = None
    if args.columns is not None:
        columns = [c.strip() for c in ",".join(args.columns).split(",") if c.strip()]
        if not columns:  # "--columns=,," must not fall back to the model's metadata
            raise ArgumentError(f"--columns names no column, got {','.join(args.columns)!r}")
    from tpcml.core.errors import UsageError

    try:
        s = score_files(
            args.inputs,
            args.model,
            args.output,
            columns=columns,
            threads=a.all_cores(args.threads),
            progress=not args.quiet,
            **a.pick(args, "tree", "name", "format", "allow_detector_mismatch"),
        )
    except UsageError as err:  # the job's checks before any work (tpcml::onnx::checkScoreFilesJob): exit 2
        if isinstance(err, ArgumentError):
            raise
        raise ArgumentError(str(err)) from None
    print(
        f"wrote {s['entries']} entries with column {s['output_column']!r} (inputs: {', '.join(s['columns'])}) "
        f"to {args.output} in {s['seconds']:.3g} s"
    )
    return 0


def _cmd_export(args) -> int:
    """Write an ONNX model as standalone C++ for TMVA SOFIE (the optional package ``sofie``: pip install sofie):
    a header M.hxx and its weights M.dat (no tpcml at run time; the header needs a BLAS sgemm_). The model gets
    the pre-pass SOFIE needs (explicit pads, the batch named bs, GlobalMaxPool -> ReduceMax, constant Flatten
    shapes; tpcml.ml.sofie), SOFIE generates code for a fixed batch, and the generated code is compiled and
    checked against tpcml's engine on random events before anything is written (a temporary name, then a
    rename): a model SOFIE would get wrong is refused (exit 1) and no file is left."""
    if not args.sofie:
        raise ArgumentError("tpcml export needs a target: --sofie (the only one so far)")
    from tpcml.ml import sofie

    sofie.export_header(
        args.inputs[0],
        args.output,
        batch=args.batch,
        tolerance=args.tolerance,
        log=(lambda *_: None) if args.quiet else print,
    )
    return 0


def _command(sub, name: str, func, help_text: str) -> argparse.ArgumentParser:
    """The subcommand ``name`` running ``func``; its description is ``func``'s docstring (none without one)."""
    s = sub.add_parser(name, help=help_text, description=func.__doc__)
    s.set_defaults(func=func)
    return s


#: the C++ executables installed with tpcml (listed in ``tpcml --help``)
EXECUTABLES = {
    "tpcml-info": "versions, threads, detector registry, trees and columns of a ROOT file",
    "tpcml-pair": "accidental events from isolated S1/S2 trees (= tpcml pair)",
    "tpcml-infer": "add an ONNX model's score to every entry (= tpcml infer)",
    "tpcml-raster": "XZ/YZ track images of strip-hit events (= tpcml raster)",
    "tpcml-hitpeak": "Hit/Peak/HitPeak images of LXe events (XENON1T CNN study)",
    "tpcml-vector": "DARWIN-VAE event vectors and the anomaly score TS of LXe events",
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tpcml",
        description="Machine-learning background suppression for rare-event TPCs.",
        epilog="batch executables (C++, each with -h/--help, the same options as the subcommands):\n"
        + "".join(f"  {name:<14} {text}\n" for name, text in EXECUTABLES.items())
        + "\nconvention: input files are positional (--input is an alias), -n/--events N, --tree NAME, "
        "--threads N (0 = all cores), --drift-window TMIN,TMAX, -q/--quiet (docs/cli.md)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"tpcml {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = _command(sub, "info", _cmd_info, "versions, installed extras, CPU features, GPU visibility")
    s.add_argument("--json", action="store_true", help="print JSON instead of text")

    s = _command(sub, "detectors", _cmd_detectors, "list, show or validate detector configurations")
    s.add_argument("action", choices=["list", "show", "validate"])
    s.add_argument("targets", nargs="*", metavar="NAME|FILE")

    s = _command(sub, "inspect", _cmd_inspect, "trees, entries and columns of a ROOT file")
    a.add_inputs(s, "ROOT file", multiple=False)
    a.add_tree(s, "describe this tree (default: list all trees)", default=None)

    s = _command(sub, "pair", _cmd_pair, "accidental events from isolated S1/S2 trees")
    a.add_inputs(s, "ROOT file with the isolated-S1 and -S2 trees", multiple=False)
    s.add_argument("--output", required=True, help="output ROOT file (written atomically)")
    a.add_events(s, "number of accidental events to make (>= 1; checked against the memory)", required=True)
    s.add_argument("--seed", type=a.seed, default=0, help="random seed (default: %(default)s)")
    s.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    a.add_threads(s)
    s.add_argument("--s1-tree", default="s1", help="isolated-S1 tree (default: %(default)s)")
    s.add_argument("--s2-tree", default="s2", help="isolated-S2 tree (default: %(default)s)")
    s.add_argument(
        "--drift-window",
        type=a.drift_window,
        metavar="TMIN,TMAX",
        help="drift-time window in us (default: the detector's fiducial window)",
    )
    s.add_argument("--nr-median", help="ROOT file with the NR median TGraph: fills below_nr_median")
    s.add_argument("--livetime", type=a.positive_float, help="live time (s): rates = N / T")
    s.add_argument("--efficiency", type=a.positive_float, help="data-quality efficiency epsilon of Eq. 2.1")
    s.add_argument("--without-replacement", action="store_true", help="use each S1 and each S2 at most once")
    a.add_quiet(s)
    a.add_output_contract(s)

    s = _command(sub, "select", _cmd_select, "the P2-DNN event selection in RDataFrame, with its cut flow")
    a.add_inputs(s, "ROOT file(s)")
    a.add_tree(s, "tree to select from")
    s.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    s.add_argument("--below-nr-median", action="store_true", help="also require log10(qS2c/qS1c) < NR median")
    s.add_argument(
        "--nr-median",
        metavar="FILE",
        help="ROOT file with the NR median TGraph tpcml_nr_median (`tpcml nr-median fit`); default: the curve "
        "carried in the first input that has one, else the detector default",
    )
    s.add_argument("--output", help="write the selected events here (Snapshot, atomic)")
    a.add_threads(s)
    a.add_output_contract(s)

    s = _command(sub, "infer", _cmd_infer, "add an ONNX model's score to every entry of ROOT trees (C++ engine)")
    a.add_inputs(s, "input ROOT file(s)")
    s.add_argument("--model", required=True, metavar="M.onnx", help="ONNX model (float32 graph, e.g. from tf2onnx)")
    s.add_argument("--output", required=True, metavar="OUT.root", help="output ROOT file (written atomically)")
    a.add_tree(s, "tree to score")
    s.add_argument(
        "--columns",
        action="append",
        metavar="A,B,...",
        help="input columns in model order (default: the model's tpcml.inputs metadata)",
    )
    s.add_argument("--name", default="score", help="name of the score column (default: %(default)s)")
    a.add_threads(s)
    a.add_quiet(s)
    a.add_output_contract(s)

    s = _command(sub, "export", _cmd_export, "standalone C++ of an ONNX model (--sofie: TMVA SOFIE), parity-checked")
    a.add_inputs(s, "ONNX model", multiple=False)
    s.add_argument("--sofie", action="store_true", help="generate TMVA SOFIE code (needs: pip install sofie)")
    s.add_argument("--output", required=True, metavar="OUT.hxx", help="header to write; the weights go to OUT.dat")
    batch = a._int_type(1, 65536, "batch size")
    s.add_argument("--batch", type=batch, default=1, metavar="N", help="events per call of the code (default: 1)")
    s.add_argument(
        "--tolerance",
        type=a.positive_float,
        default=1e-4,
        metavar="T",
        help="largest |SOFIE - tpcml| accepted, times max(1, max |output|) (default: %(default)s)",
    )
    a.add_quiet(s)

    s = _command(sub, "raster", _cmd_raster, "XZ/YZ track images of strip-readout events (PandaX-III)")
    a.add_inputs(s, "ROOT file(s) with hit_plane, hit_strip, hit_time, hit_charge")
    s.add_argument("--output", required=True, metavar="OUT.root", help="output ROOT file (written atomically)")
    a.add_tree(s, "tree with the strip hits")
    s.add_argument(
        "--detector", default="pandax3", help="detector for pixels and drift velocity (default: %(default)s)"
    )
    s.add_argument(
        "--pixels",
        type=a._int_type(2, 4096, "pixel count"),
        metavar="N",
        help="pixels per side before upscaling (default: the detector's image_pixels)",
    )
    s.add_argument(
        "--pixel-size", type=a.positive_float, metavar="MM", help="pixel size in mm (default: the detector's)"
    )
    s.add_argument(
        "--upscale",
        type=a._int_type(1, 8, "upscaling factor"),
        default=1,
        metavar="K",
        help="nearest-neighbour upscaling factor in [1, 8] (P3-CNN: 2 for 128 x 128)",
    )
    s.add_argument("--layout", choices=["nhwc", "nchw"], default="nhwc", help="image layout (default: %(default)s)")
    a.add_threads(s)
    s.add_argument("--drop-hits", action="store_true", help="do not copy the hit_* branches")
    a.add_quiet(s)
    a.add_output_contract(s)
    from tpcml import nr_median

    nr_median.add_command(sub)
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
                    _add_common_simulate_arguments(t, v, key)
                v.add_arguments(t)
                t.set_defaults(func=v.run)

    runnable = studies.studies(runnable=True)  # a registration with verbs only has no `tpcml run` yet
    s = sub.add_parser(
        "run",
        help="run a study end to end (or all of them)",
        description="End-to-end studies, each the reproduction of one paper: "
        + "; ".join(
            f"`{st.name}`" + (f" (= {', '.join(st.aliases)})" if st.aliases else "") + f": {st.title}"
            for st in runnable
        )
        + ". `all` runs every study and writes an index page. `tpcml run STUDY --help` for each.",
    )
    jobs = s.add_subparsers(dest="job", required=True, metavar="STUDY")
    for st in runnable:
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
    a.add_quiet(j)
    j.set_defaults(func=_cmd_run_all)


def _add_common_simulate_arguments(p: argparse.ArgumentParser, v, key: str) -> None:
    """The options every ``tpcml simulate <study>`` has (``--threads 0`` is all cores for every study); an alias
    naming a run configuration of the study's detector (``xenon1t:sr0``) is the default of --detector."""
    detector = key if v.detector and key.startswith(f"{v.detector}:") else v.detector
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument(
        "--detector",
        default=detector,
        help="detector name (with a run configuration: NAME:RUN) or TOML file (default: %(default)s)",
    )
    p.add_argument("--seed", type=a.seed, default=1, help="random seed (default: %(default)s)")
    a.add_threads(p, default=0)
    p.add_argument("--quick", action="store_true", help=v.quick_help)
    a.add_quiet(p)


def _add_common_run_arguments(p: argparse.ArgumentParser, st) -> None:
    """The options every ``tpcml run <study>`` has; the study adds its own."""
    p.add_argument("--out", default=st.out_default(), help="output directory (default: %(default)s)")
    if "quick" in st.profiles:
        p.add_argument("--quick", action="store_true", help=st.profile_help.get("quick", "a smoke run"))
    if "full" in st.profiles:
        p.add_argument("--full", action="store_true", help=st.profile_help.get("full", "the paper's protocol"))
    p.add_argument("--seed", type=a.seed, default=st.seed, help="random seed (default: %(default)s)")
    a.add_threads(p, default=st.threads)
    a.add_quiet(p)


def study_config(st, args: argparse.Namespace):
    """The configuration object ``st.configure`` makes of a parsed ``tpcml run <study>`` command line
    (``--threads 0`` is resolved to all cores here, for every study)."""
    args.threads = a.all_cores(args.threads)
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
    selected = studies.studies(runnable=True)
    if args.only is not None:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        if not names:
            known = ", ".join(st.name for st in selected)
            raise CommandLineError(f"--only: expected at least one study name; known: {known}")
        try:
            selected = list(dict.fromkeys(studies.get(n) for n in names))
        except KeyError as err:
            raise CommandLineError(f"--only: {err.args[0]}") from None
        idle = [st.name for st in selected if not st.runnable]
        if idle:
            known = ", ".join(st.name for st in studies.studies(runnable=True))
            raise CommandLineError(f"--only: {', '.join(idle)} has no `tpcml run` yet; runnable: {known}")
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
        a.merge_inputs(args)
        return args.func(args)
    except CommandLineError as err:
        parser.error(str(err))
    except ArgumentError as err:  # a bad argument value, found before any work
        print(f"tpcml: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader closed the pipe (`tpcml inspect FILE | head`): the output ends there
        _stdout_to_devnull()
        return 0
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


def _stdout_to_devnull() -> None:
    """After a broken pipe: stdout goes to /dev/null, so that the interpreter's final flush raises nothing."""
    import contextlib

    with contextlib.suppress(AttributeError, OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


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
