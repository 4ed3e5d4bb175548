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

Exit status: 0 ok, 1 invalid input or configuration, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__
from .errors import ArgumentError


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


def _cmd_run(args) -> int:
    if args.job == "quickstart":
        from . import quickstart

        n_er, n_nr = (4000, 2000) if args.quick else (args.n_er, args.n_nr)
        out = _out_dir(args.out)
        _check_events_memory(n_er + n_nr, "--n-er + --n-nr")
        refuse_overwrite([out / n for n in quickstart.OUTPUTS], [_detector_file(args.detector)], "--out")
        quickstart.run(
            Path(args.out), detector=args.detector, n_er=n_er, n_nr=n_nr, seed=args.seed, threads=args.threads
        )
        return 0
    raise AssertionError(f"unhandled job {args.job!r}")  # argparse restricts the choices


DEFAULT_ARCHITECTURES_HINT = ("4A", "4C", "5C")


def _labels(text: str | None, default: tuple[str, ...], what: str) -> tuple[str, ...]:
    from .ml.architectures import PANDAX2_MLP_LAYERS

    if text is None:
        return default
    labels = tuple(t.strip().upper() for t in text.split(",") if t.strip())
    if not labels and what == "--architectures":
        raise _UsageError(f"{what}: expected at least one Table 2 label; known: {', '.join(PANDAX2_MLP_LAYERS)}")
    unknown = [t for t in labels if t not in PANDAX2_MLP_LAYERS]
    if unknown:
        raise _UsageError(
            f"{what}: unknown Table 2 label(s) {', '.join(unknown)}; known: {', '.join(PANDAX2_MLP_LAYERS)}"
        )
    return labels


def _cmd_run_accidental(args) -> int:
    out = _out_dir(args.out)  # the checks that need no TensorFlow first
    data = _data_dir(args.data, ("nr_calibration.root", "er_calibration.root", "accidentals.root", "dm_search.root"))
    refuse_overwrite([out / "results.json", out / "report.md"], data, "--out")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    from .ml.architectures import PANDAX2_MLP_LAYERS
    from .pandax2 import Sizes
    from .pandax2.study import DEFAULT_ARCHITECTURES, DEFAULT_U_ARCHITECTURES, StudyConfig, run_study

    if args.quick and args.full:
        raise _UsageError("--quick and --full exclude each other")
    if args.full:
        arch, uarch, replicas = tuple(PANDAX2_MLP_LAYERS), ("4C", "4E"), 100
    elif args.quick:
        arch, uarch, replicas = ("4C",), ("4C",), 4
    else:
        arch, uarch, replicas = DEFAULT_ARCHITECTURES, DEFAULT_U_ARCHITECTURES, 10
    cfg = StudyConfig(
        out=out,
        data_dir=Path(args.data) if args.data else None,
        quick=args.quick,
        seed=args.seed,
        replicas=replicas if args.replicas is None else args.replicas,
        architectures=_labels(args.architectures, arch, "--architectures"),
        u_architectures=_labels(args.u_architectures, uarch, "--u-architectures"),
        batch_size=args.batch_size,
        max_epochs=(100 if args.quick else 1500) if args.max_epochs is None else args.max_epochs,
        patience=(10 if args.quick else 20) if args.patience is None else args.patience,
        threads=args.threads,
        sizes=Sizes.quick() if args.quick else None,
        verbose=not args.quiet,
    )
    widest = max(_mlp_parameters(PANDAX2_MLP_LAYERS[a]) for a in (*cfg.architectures, *cfg.u_architectures))
    from .guards import check_memory

    # the replicas of one model train together: weights, gradients and two Adam moments in float32
    check_memory(cfg.replicas * widest * 16.0, f"--replicas {cfg.replicas} x {widest} parameters x 16 bytes")
    res = run_study(cfg)
    print(f"report: {res['report']}")
    return 0


def _mlp_parameters(hidden, n_inputs: int = 13) -> int:
    from itertools import pairwise

    return sum((a + 1) * b for a, b in pairwise([n_inputs, *hidden, 1]))


def _cmd_simulate(args) -> int:
    if args.study == "pandax3":
        return _cmd_simulate_pandax3(args)
    from .pandax2 import Sizes, simulate_dataset

    sizes = Sizes.quick() if args.quick else Sizes()
    for key in ("nr", "er", "accidental"):
        value = getattr(args, f"{key}_events")
        if value is not None:
            setattr(sizes, f"{key}_after_cuts", value)
    if args.isolated is not None:
        sizes.isolated_s1 = sizes.isolated_s2 = args.isolated
    sizes.dm_search = not args.no_search_run
    out = _out_dir(args.out)
    _check_events_memory(
        sizes.nr_after_cuts + sizes.er_after_cuts + sizes.accidental_after_cuts + 2 * sizes.isolated_s1,
        "the sample sizes (--nr-events, --er-events, --accidental-events, --isolated)",
        bytes_per_event=4096,  # measured: 2.2 kB per requested event (generated before the cuts, float64)
    )
    refuse_overwrite([out / n for n in SIMULATION_OUTPUTS], [_detector_file(args.detector)], "--out")
    try:
        s = simulate_dataset(
            Path(args.out),
            sizes,
            seed=args.seed,
            detector=args.detector,
            threads=args.threads,
            quiet=args.quiet,
            wimp_mass_gev=args.wimp_mass,
            wimp_cross_section_cm2=args.wimp_cross_section,
        )
    except ArgumentError:
        raise
    except ValueError as err:
        raise _input_error(str(err)) from None
    print(
        f"n_acc = {s.n_acc_total:.3g} accidental events before cuts (P2-DNN Eq. 2.1), "
        f"{s.n_acc_below_median:.3g} below the NR median; files in {args.out} (see dataset.json)"
    )
    if args.plots:
        from .pandax2.plots import plot_dataset

        for path in plot_dataset(args.out):
            print(f"plot: {path}")
    return 0


def _cmd_simulate_pandax3(args) -> int:
    from .pandax3 import simulate_dataset

    n = (1000 if args.quick else 20000) if args.events is None else args.events
    background = n if args.background is None else args.background
    out = _out_dir(args.out)
    # measured: about 16 kB per event above a fixed 330 MB (2,000 and 8,000 events)
    _check_events_memory(n + background, "--events + --background", bytes_per_event=32 * 1024)
    refuse_overwrite([out / "tracks.root", out / "dataset.json"], [_detector_file(args.detector)], "--out")
    try:
        s = simulate_dataset(
            out,
            n,
            background,
            seed=args.seed,
            quiet=args.quiet,
            threads=max(1, args.threads),
            detector=args.detector if args.detector != "pandax2" else "pandax3",
        )
    except ArgumentError:
        raise
    except ValueError as err:
        raise _input_error(str(err)) from None
    c = s["counts"]
    print(f"{c['signal']} 0nubb and {c['background']} gamma events in the ROI -> {args.out}/tracks.root")
    return 0


def _cmd_raster(args) -> int:
    from .pandax3.images import rasterise_file

    summary = rasterise_file(
        args.input,
        args.output,
        upscale=args.upscale,
        channels_first=args.layout == "nchw",
        threads=args.threads,
        drop_hits=args.drop_hits,
        detector=args.detector,
    )
    print(
        f"{summary['entries']} images ({summary['side']} x {summary['side']} x 3, {args.layout}) -> {args.output}; "
        f"{summary['outside']} hits outside the windows"
    )
    return 0


def _cmd_run_tracks(args) -> int:
    out = _out_dir(args.out)  # the checks that need no TensorFlow first
    data = _data_dir(args.data, ("tracks.root",))
    refuse_overwrite([out / "results.json", out / "report.md", out / "test_images.root"], data, "--out")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.quick and args.full:
        raise _UsageError("--quick and --full exclude each other")
    variant = args.variant.upper()
    if variant not in ("B0", "B4"):
        raise _UsageError(f"--variant: expected B0 or B4, got {args.variant!r}")
    tops = []
    for t in (args.top_channels or ("8,default" if not args.full else "2,4,6,8,10,default")).split(","):
        t = t.strip().lower()
        if t in ("default", "none"):
            tops.append(None)
        elif t.isdigit() and 0 < int(t) <= 4096:
            tops.append(int(t))
        else:
            raise _UsageError(f"--top-channels: expected integers in [1, 4096] or 'default', got {t!r}")
    from .pandax3.study import ModelSpec, TracksConfig, run_tracks

    models = [ModelSpec("efficientnet", variant, n) for n in tops]
    if args.resnet:
        models.append(ModelSpec("resnet50"))
    if args.full:
        events, size, epochs, repeats = 320000, 128, 30, 6
    elif args.quick:
        events, size, epochs, repeats = 1000, 64, 5, 1
    else:
        events, size, epochs, repeats = 3000, 64, 4, 1
    events = events if args.events is None else args.events
    size = size if args.input_size is None else args.input_size
    epochs = epochs if args.epochs is None else args.epochs
    if args.data is None:
        _check_events_memory(2 * events, "--events (0nubb and as many gamma)", bytes_per_event=32 * 1024)
    cfg = TracksConfig(
        out=out,
        data_dir=Path(args.data) if args.data else None,
        events=events,
        models=tuple(models),
        input_size=size,
        epochs=epochs,
        repeats=repeats if args.repeats is None else args.repeats,
        batch_size=(256 if args.full else 32) if args.batch_size is None else args.batch_size,
        bn_momentum=None if args.full else 0.9,
        seed=args.seed,
        threads=args.threads,
        verbose=not args.quiet,
    )
    res = run_tracks(cfg)
    print(f"report: {res['report']}")
    return 0


def _cmd_pair(args) -> int:
    from .pairing import pair as pair_file

    window = None if args.drift_window is None else tuple(args.drift_window)
    try:
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
        )
    except ArgumentError:
        raise
    except ValueError as err:
        raise _input_error(str(err)) from None
    if r["n_acc"] is not None:
        print(f"n_acc = {r['n_acc']:.4g} (P2-DNN Eq. 2.1); weight per pair {r['weight']:.4g}")
    return 0


def _cmd_select(args) -> int:
    from . import detectors
    from .pandax2 import selection

    det = detectors.load(args.detector)
    if args.output is not None:
        refuse_overwrite(args.output, [*args.files, args.nr_median, _detector_file(args.detector)])
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


def _cmd_plot(args) -> int:
    from .pandax2.plots import PLOTS, plot_dataset

    inputs = _data_dir(args.directory, SIMULATION_OUTPUTS)
    out = _out_dir(args.out) if args.out else Path(args.directory)
    refuse_overwrite([out / n for n in PLOTS], inputs, "--out")
    for path in plot_dataset(args.directory, args.out):
        print(f"plot: {path}")
    return 0


class _UsageError(Exception):
    pass


SIMULATION_OUTPUTS = (
    "nr_calibration.root",
    "er_calibration.root",
    "isolated.root",
    "accidentals.root",
    "dm_search.root",
    "dataset.json",
)


def refuse_overwrite(outputs, inputs, what: str = "--output") -> None:
    from .guards import refuse_overwrite as refuse

    refuse(outputs, inputs, what)


def _detector_file(name: str) -> str | None:
    """The detector TOML file an option names (an input of the command), or None for a registry name."""
    return name if Path(name).is_file() else None


def _out_dir(path: str) -> Path:
    """An output directory option: refused (exit 2) when it exists and is not a directory."""
    from .errors import ArgumentError

    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ArgumentError(f"--out '{path}': is a file; expected a directory (created when missing)")
    if p.is_dir() and not os.access(p, os.W_OK | os.X_OK):
        raise ArgumentError(f"--out '{path}': directory is not writable")
    return p


def _data_dir(path: str | None, names: tuple[str, ...]) -> list[Path]:
    """The input files ``names`` of an input directory option (--data, plot's DIRECTORY); InputError when
    the path is not a directory."""
    if path is None:
        return []
    p = Path(path)
    if not p.exists():
        raise _input_error(f"{path}: no such directory")
    if not p.is_dir():
        raise _input_error(f"{path}: is a file; expected a directory")
    return [p, *(p / n for n in names)]


def _check_events_memory(n: int, what: str, bytes_per_event: int = 1024) -> None:
    from .guards import check_memory

    check_memory(float(n) * bytes_per_event, f"{what} = {n} events x about {bytes_per_event} bytes")


def _input_error(message: str) -> Exception:
    from .errors import InputError

    return InputError(message)


def _argument_type(parse, name: str):
    """An argparse ``type`` from a tpcml.guards parser (its ArgumentError becomes argparse's exit 2)."""

    def convert(text: str):
        from .errors import ArgumentError

        try:
            return parse(text)
        except ArgumentError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = name  # argparse names the type in "invalid <name> value"
    return convert


def _int_type(minimum: int, maximum: int | None = None, name: str = "integer"):
    from .guards import parse_int

    return _argument_type(lambda t: parse_int(t, minimum=minimum, maximum=maximum), name)


_threads = _int_type(0, 1024, name="thread count")  # 0 has a documented meaning (off / all cores)
_count = _int_type(1, name="count")  # sizes: 0 is refused, never replaced by a default


def _seed(text: str) -> int:
    from .guards import SEED_MAX

    return _int_type(0, SEED_MAX, "seed")(text)


def _positive_float(text: str) -> float:
    from .guards import parse_float

    return _argument_type(lambda t: parse_float(t, positive=True), "positive number")(text)


def _finite_float(text: str) -> float:
    from .guards import parse_float

    return _argument_type(parse_float, "number")(text)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tpcml",
        description="Machine-learning background suppression for rare-event TPCs.",
        epilog="Batch executables: tpcml-info, tpcml-pair (each with --help).",
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
        "simulate",
        help="simulate a detector's data sets (PandaX-II: the P2-DNN samples)",
        description="pandax3: 0nubb two-electron tracks and 214Bi/208Tl gamma backgrounds in the ROI of a 10 bar "
        "xenon TPC with X/Y strip readout (tracks.root: one entry per event, jagged hit branches; "
        "docs/event-model.md Sec. 5). "
        "pandax2: NR calibration (neutron-like recoils), ER calibration (flat beta-like), "
        "isolated S1 and S2 populations, C++-paired accidentals below the NR median, and a "
        "Run-11-like dark-matter search run (ER background + Poisson accidentals, optional WIMPs). "
        "Quanta from NEST (nestpy); detector response from the registry (docs/event-model.md). "
        "Default sizes follow P2-DNN: 10,881 NR and 43,719 accidentals after cuts.",
    )
    s.add_argument("study", choices=["pandax2", "pandax3"])
    s.add_argument("--out", required=True, help="output directory (created)")
    s.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    s.add_argument("--seed", type=_seed, default=1, help="random seed (default: %(default)s)")
    s.add_argument("--threads", type=_threads, default=0, help="C++ threads (0: all cores)")
    s.add_argument("--quick", action="store_true", help="small sizes (a smoke run of a few seconds)")
    s.add_argument("--events", type=_count, help="pandax3: 0nubb events in the ROI (and as many gamma events)")
    s.add_argument("--background", type=_count, help="pandax3: gamma events in the ROI (default: --events)")
    s.add_argument("--nr-events", type=_count, help="NR calibration events after cuts")
    s.add_argument("--er-events", type=_count, help="ER calibration events after cuts")
    s.add_argument("--accidental-events", type=_count, help="accidentals after cuts, below the NR median")
    s.add_argument("--isolated", type=_count, help="isolated S1s and S2s to simulate (each)")
    s.add_argument("--no-search-run", action="store_true", help="skip the dark-matter search run")
    s.add_argument("--wimp-mass", type=_positive_float, help="add WIMPs of this mass (GeV/c^2) to the search run")
    s.add_argument(
        "--wimp-cross-section", type=_positive_float, default=1e-45, help="SI WIMP-nucleon cross section (cm^2)"
    )
    s.add_argument("--plots", action="store_true", help="also write the plots (as `tpcml plot pandax2`)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    s.set_defaults(func=_cmd_simulate)

    s = sub.add_parser(
        "pair",
        help="accidental events from isolated S1/S2 trees",
        description="Randomly pair isolated S1 and S2 signals (C++ tpcml::AccidentalPairer, the kernel "
        "behind tpcml-pair and the RDataFrame source), assign a drift time uniform in the window and "
        "recompute the position-dependent quantities. Output: an `events` tree in the schema of "
        "physical events, with weight = n_acc / N when the rates are known (P2-DNN Eq. 2.1).",
    )
    s.add_argument("--input", required=True, help="ROOT file with the isolated-S1 and -S2 trees")
    s.add_argument("--output", required=True, help="output ROOT file (written atomically)")
    s.add_argument("-n", type=_count, required=True, help="number of pairs (>= 1; checked against the memory)")
    s.add_argument("--seed", type=_seed, default=0, help="random seed (default: %(default)s)")
    s.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    s.add_argument("--threads", type=_threads, default=1, help="threads (output independent of it)")
    s.add_argument("--s1-tree", default="s1", help="isolated-S1 tree (default: %(default)s)")
    s.add_argument("--s2-tree", default="s2", help="isolated-S2 tree (default: %(default)s)")
    s.add_argument("--drift-window", nargs=2, type=_finite_float, metavar=("TMIN", "TMAX"), help="drift window in us")
    s.add_argument("--nr-median", help="ROOT file with the NR median TGraph: fills below_nr_median")
    s.add_argument("--livetime", type=_positive_float, help="live time (s): rates = N / T")
    s.add_argument("--efficiency", type=_positive_float, help="data-quality efficiency epsilon of Eq. 2.1")
    s.add_argument("--without-replacement", action="store_true", help="use each S1 and each S2 at most once")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    s.set_defaults(func=_cmd_pair)

    s = sub.add_parser(
        "select",
        help="the P2-DNN event selection in RDataFrame, with its cut flow",
        description="Named RDataFrame filters (fiducial volume, 3 <= qS1 <= 45 PE, qS2 > 100 PE, "
        "qS2c < 10,000 PE, optionally below the NR median); prints the cut flow of Report().",
    )
    s.add_argument("files", nargs="+", help="ROOT files")
    s.add_argument("--tree", default="events", help="tree name (default: %(default)s)")
    s.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    s.add_argument("--below-nr-median", action="store_true", help="also require log10(qS2c/qS1c) < NR median")
    s.add_argument("--nr-median", help="ROOT file with the NR median TGraph (default: the first input)")
    s.add_argument("--output", help="write the selected events here (Snapshot, atomic)")
    s.add_argument("--threads", type=_threads, default=0, help="ROOT ImplicitMT threads (0: off)")
    s.set_defaults(func=_cmd_select)

    s = sub.add_parser(
        "raster",
        help="XZ/YZ track images of strip-readout events (PandaX-III)",
        description="Add to every entry of a tracks file the image made by the C++ tpcml::TrackRasteriser inside "
        "RDataFrame (P3-CNN Sec. 3.2: XZ red, YZ green, 64 x 64 pixels of 3 mm aligned on each projection's charge "
        "centre, charges normalised) and image_outside (hits outside the window). Same kernel as tpcml-raster.",
    )
    s.add_argument("--input", required=True, nargs="+", help="ROOT file(s) with tree events and hit_* branches")
    s.add_argument("--output", required=True, help="output ROOT file (written atomically)")
    s.add_argument("--upscale", type=int, choices=[1, 2, 4], default=1, help="nearest-neighbour factor (2: 128 x 128)")
    s.add_argument("--layout", choices=["nhwc", "nchw"], default="nhwc", help="image layout (default: %(default)s)")
    s.add_argument("--threads", type=_threads, default=1, help="ROOT ImplicitMT threads (0/1: off)")
    s.add_argument("--drop-hits", action="store_true", help="do not copy the hit_* branches")
    s.add_argument(
        "--detector", default="pandax3", help="detector for pixels and drift velocity (default: %(default)s)"
    )
    s.set_defaults(func=_cmd_raster)

    s = sub.add_parser(
        "plot",
        help="plots of a simulated data set",
        description="pandax2: log10(qS2/qS1) vs qS1 with the NR median (P2-DNN Fig. 1 analogue) and "
        "accidental-vs-NR distributions of the 13 Table 1 features.",
    )
    s.add_argument("study", choices=["pandax2"])
    s.add_argument("directory", help="output directory of `tpcml simulate pandax2`")
    s.add_argument("--out", help="where to write the PNGs (default: DIRECTORY)")
    s.set_defaults(func=_cmd_plot)

    s = sub.add_parser(
        "run",
        help="run an end-to-end job",
        description="End-to-end jobs: `accidental` (the PandaX-II MLP/BDT study of P2-DNN Sec. 4, tpcml's main "
        "job) and `quickstart` (electron-lifetime correction and ER/NR bands). `tpcml run JOB --help` for each.",
    )
    jobs = s.add_subparsers(dest="job", required=True, metavar="JOB")
    q = jobs.add_parser(
        "quickstart",
        help="electron-lifetime correction and ER/NR bands end to end",
        description="quickstart: simulate ER/NR events with NEST in a registry detector, "
        "correct S2 for electron lifetime in C++ inside RDataFrame, measure the ER leakage "
        "below the NR median, and write plots and a report.",
    )
    q.add_argument("--out", default="tpcml-quickstart", help="output directory (default: %(default)s)")
    q.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    q.add_argument("--n-er", type=_count, default=20000, help="ER events (default: %(default)s)")
    q.add_argument("--n-nr", type=_count, default=10000, help="NR events (default: %(default)s)")
    q.add_argument("--seed", type=_seed, default=1, help="random seed (default: %(default)s)")
    q.add_argument("--threads", type=_threads, default=0, help="ROOT ImplicitMT threads (0: off)")
    q.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    q.set_defaults(func=_cmd_run)

    a = jobs.add_parser(
        "accidental",
        help="PandaX-II accidental background: MLPs vs BDT (P2-DNN Sec. 4), the main job",
        description="Simulate the PandaX-II samples (or read yours with --data), select (P2-DNN Sec. 3), train "
        "the Table 2 MLPs N times each with early stopping in both training strategies (original: NR below the NR "
        "median; 'u': all NR) and the BDT baseline, maximise the significance S (Eq. 4.1), measure the ER "
        "efficiency vs qS1, select models as the paper does, export them to ONNX and score the dark-matter-search "
        "run with tpcml's C++ engine inside RDataFrame; write report.md (Table 2 and 3 analogues, Figs. 1-5), "
        "results.json, the ONNX models and the scored ROOT files. Defaults finish in about 10 minutes on 2 CPU "
        "cores; --full runs the paper's protocol (all 18 architectures x 100 trainings, hours).",
    )
    a.add_argument("--out", default="tpcml-accidental", help="output directory (default: %(default)s)")
    a.add_argument(
        "--data",
        metavar="DIR",
        help="use the ROOT files in DIR (nr_calibration.root, er_calibration.root, accidentals.root, optionally "
        "dm_search.root; events schema of docs/event-model.md) instead of simulating",
    )
    a.add_argument("--quick", action="store_true", help="small samples and few trainings (a smoke run, ~1-2 min)")
    a.add_argument("--full", action="store_true", help="the paper's protocol: all of Table 2, 100 trainings each")
    a.add_argument(
        "--replicas",
        type=_count,
        help="independent trainings per model (default: 10; 4 with --quick, 100 with --full)",
    )
    a.add_argument(
        "--architectures",
        help="comma-separated Table 2 labels trained with the original strategy "
        f"(default: {','.join(DEFAULT_ARCHITECTURES_HINT)})",
    )
    a.add_argument("--u-architectures", help="labels also trained with the 'u' strategy (default: 4C)")
    a.add_argument("--batch-size", type=_count, help="minibatch size (default: tpcml.ml.ensemble's, 256)")
    a.add_argument("--max-epochs", type=_count, help="epoch limit (default: 1500, the paper's; 100 with --quick)")
    a.add_argument(
        "--patience", type=_count, help="early-stopping patience (default: 20, the paper's; 10 with --quick)"
    )
    a.add_argument("--seed", type=_seed, default=1, help="random seed (default: %(default)s)")
    a.add_argument("--threads", type=_threads, default=2, help="CPU threads (default: %(default)s)")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    a.set_defaults(func=_cmd_run_accidental)

    t = jobs.add_parser(
        "tracks",
        help="PandaX-III 0nubb vs gamma from track images with EfficientNet (P3-CNN)",
        description="Simulate 0nubb and gamma tracks in the ROI (or read --data DIR/tracks.root), rasterise them in "
        "RDataFrame with the C++ kernel, train EfficientNet(s) with n top-convolution channels and a max-pool head "
        "(P3-CNN Sec. 4.3; optionally ResNet50), score with the paper's protocol, measure Xi = max eps_s/sqrt(eps_b), "
        "export the best model to ONNX and score the test events with tpcml's C++ engine in RDataFrame; write "
        "report.md with example images (Fig. 5), Xi vs n (Fig. 11) and efficiency curves. CPU defaults (B0 at 64 x "
        "64, 3000 events per class, 4 epochs) take some minutes; --full is the paper's scale (GPU).",
    )
    t.add_argument("--out", default="tpcml-tracks", help="output directory (default: %(default)s)")
    t.add_argument("--data", metavar="DIR", help="use DIR/tracks.root instead of simulating")
    t.add_argument("--quick", action="store_true", help="a smoke run (1000 events per class, 5 epochs, a few minutes)")
    t.add_argument(
        "--full", action="store_true", help="the paper's scale: 320,000 per class, 128 x 128, 30 epochs, 6 trainings"
    )
    t.add_argument("--events", type=_count, help="0nubb events (and as many gamma events)")
    t.add_argument("--variant", default="B0", help="EfficientNet B0 or B4 (default: %(default)s)")
    t.add_argument(
        "--top-channels", help="comma-separated n of the top 1x1 convolution, 'default' = Keras' (default: 8,default)"
    )
    t.add_argument("--resnet", action="store_true", help="also train the ResNet50 baseline (P3-CNN Table 1)")
    t.add_argument("--input-size", type=int, choices=[64, 128, 256], help="network input (64; 128 = x2 upscaling)")
    t.add_argument("--epochs", type=_count, help="epochs per training (default: 4)")
    t.add_argument("--repeats", type=_count, help="independent trainings per model (paper: 6)")
    t.add_argument("--batch-size", type=_count, default=256, help="minibatch (default: %(default)s, the paper's)")
    t.add_argument("--seed", type=_seed, default=1, help="random seed (default: %(default)s)")
    t.add_argument("--threads", type=_threads, default=2, help="CPU threads (default: %(default)s)")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    t.set_defaults(func=_cmd_run_tracks)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .errors import ArgumentError, TpcmlError

    try:
        return args.func(args)
    except _UsageError as err:
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
    from .errors import TpcmlError, cpp_message

    if type(err).__module__ == "builtins" and isinstance(err, OSError) and err.filename and err.strerror:
        return f"{err.filename}: {err.strerror}"
    own = isinstance(err, TpcmlError | ValueError | OSError)  # their text holds no cppyy call-site prefix
    text = " ".join(str(err).split()) if own else cpp_message(err)
    return text or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
