"""The PandaX-II study's command line: ``tpcml run pandax2`` (alias ``accidental``), ``tpcml simulate pandax2``
and ``tpcml plot pandax2``."""

from __future__ import annotations

import argparse
from pathlib import Path

from tpcml.core import options as a
from tpcml.studies import profile_value
from tpcml.studies.pandax2 import PROFILES

LXE_KINDS = ("lxe_dual_phase",)

DATA_FILES = ("nr_calibration.root", "er_calibration.root", "accidentals.root", "dm_search.root")


def _data_help() -> str:
    from tpcml.studies.pandax2.study import DATA_COLUMNS, FILES

    every = " ".join(DATA_COLUMNS["nr"])
    return (
        f"use your ROOT files in DIR instead of simulating: {FILES['nr']}, {FILES['er']}, {FILES['acc']} and "
        f"optionally {FILES['dm']}, each with the tree --tree holding the float or double scalar branches {every} "
        f"({FILES['acc']} also weight: expected events per pair, P2-DNN Eq. 2.1); the events schema of "
        "docs/event-model.md. Branches of other names: --column. Checked before any training starts"
    )


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    from tpcml.core.columns import add_options

    p.add_argument("--data", metavar="DIR", help=_data_help())
    add_options(
        p,
        "tree or RNTuple of the --data files",
        "with --data: read the column NAME (e.g. qS1) from your branch BRANCH (e.g. --column qS1=my_s1); repeatable",
    )
    p.add_argument(
        "--nr-median",
        metavar="FILE",
        help="ROOT file with the NR median TGraph tpcml_nr_median (`tpcml nr-median fit`); default: the curve in "
        "nr_calibration.root, else fitted on it",
    )
    p.add_argument(
        "--replicas",
        type=a.count,
        help="independent trainings per model (default: 10; 4 with --quick, 100 with --full)",
    )
    p.add_argument(
        "--architectures",
        help="comma-separated Table 2 labels trained with the original strategy "
        f"(default: {','.join(PROFILES['default']['architectures'])})",
    )
    p.add_argument("--u-architectures", help="labels also trained with the 'u' strategy (default: 4C)")
    p.add_argument("--batch-size", type=a.count, help="minibatch size (default: tpcml.ml.ensemble's, 256)")
    p.add_argument("--max-epochs", type=a.count, help="epoch limit (default: 1500, the paper's; 100 with --quick)")
    p.add_argument(
        "--patience", type=a.count, help="early-stopping patience (default: 20, the paper's; 10 with --quick)"
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue a killed run in the same --out: each finished model is checkpointed in OUT/checkpoints "
        "(atomically); with --resume those whose data and options match are loaded, not retrained (a checkpoint "
        "of other data or options is refused, naming the difference)",
    )


def _labels(text: str | None, default, what: str) -> tuple[str, ...]:
    from tpcml.ml.architectures import PANDAX2_MLP_LAYERS

    if text is None:
        return tuple(PANDAX2_MLP_LAYERS) if default == "all" else tuple(default)
    labels = tuple(t.strip().upper() for t in text.split(",") if t.strip())
    if not labels and what == "--architectures":
        raise a.CommandLineError(f"{what}: expected at least one Table 2 label; known: {', '.join(PANDAX2_MLP_LAYERS)}")
    unknown = [t for t in labels if t not in PANDAX2_MLP_LAYERS]
    if unknown:
        raise a.CommandLineError(
            f"{what}: unknown Table 2 label(s) {', '.join(unknown)}; known: {', '.join(PANDAX2_MLP_LAYERS)}"
        )
    return labels


def _mlp_parameters(hidden, n_inputs: int = 13) -> int:
    from itertools import pairwise

    return sum((a + 1) * b for a, b in pairwise([n_inputs, *hidden, 1]))


def configure(args: argparse.Namespace, profile: str):
    """The :class:`~tpcml.studies.pandax2.study.StudyConfig` of a command line (checked before any work)."""
    from tpcml.core.columns import aliases
    from tpcml.studies.pandax2.study import DATA_COLUMNS, check_data

    out = a.out_dir(args.out)  # the checks that need no TensorFlow first
    data = a.data_dir(args.data, DATA_FILES)
    columns = aliases(args.column, DATA_COLUMNS["acc"])
    if args.data is None and (columns or args.tree != "events"):
        raise a.CommandLineError("--tree and --column apply to --data DIR (your files)")
    if args.data is not None:
        check_data(args.data, args.tree, columns)  # files, tree and branches, with the nearest names
    if args.nr_median is not None:
        from tpcml.nr_median import resolve

        resolve(args.nr_median)  # the file and its TGraph tpcml_nr_median
    a.refuse_overwrite([out / "results.json", out / "report.md"], [*data, args.nr_median], "--out")
    from tpcml.ml.backend import silence_tensorflow_logs

    silence_tensorflow_logs()  # TensorFlow's start-up chatter, before anything imports it
    from tpcml.core.guards import check_memory
    from tpcml.ml.architectures import PANDAX2_MLP_LAYERS
    from tpcml.sim.lxe import Sizes
    from tpcml.studies.pandax2.study import StudyConfig

    table = PROFILES[profile]
    quick = profile == "quick"
    cfg = StudyConfig(
        out=out,
        data_dir=Path(args.data) if args.data else None,
        tree=args.tree,
        columns=columns,
        nr_median=args.nr_median,
        quick=quick,
        seed=args.seed,
        replicas=profile_value(args, "replicas", PROFILES, profile),
        architectures=_labels(args.architectures, table["architectures"], "--architectures"),
        u_architectures=_labels(args.u_architectures, table["u_architectures"], "--u-architectures"),
        batch_size=args.batch_size,
        max_epochs=profile_value(args, "max_epochs", PROFILES, profile),
        patience=profile_value(args, "patience", PROFILES, profile),
        threads=args.threads,
        sizes=Sizes.quick() if quick else None,
        verbose=not args.quiet,
        resume=args.resume,
    )
    widest = max(_mlp_parameters(PANDAX2_MLP_LAYERS[x]) for x in (*cfg.architectures, *cfg.u_architectures))
    # the replicas of one model train together: weights, gradients and two Adam moments in float32
    check_memory(cfg.replicas * widest * 16.0, f"--replicas {cfg.replicas} x {widest} parameters x 16 bytes")
    return cfg


# ------------------------------------------------------------------------------------------------ tpcml simulate
def add_simulate_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--nr-events", type=a.count, help="NR calibration events after cuts")
    s.add_argument("--er-events", type=a.count, help="ER calibration events after cuts")
    s.add_argument("--accidental-events", type=a.count, help="accidentals after cuts, below the NR median")
    s.add_argument("--isolated", type=a.count, help="isolated S1s and S2s to simulate (each)")
    s.add_argument("--no-search-run", action="store_true", help="skip the dark-matter search run")
    s.add_argument("--wimp-mass", type=a.positive_float, help="add WIMPs of this mass (GeV/c^2) to the search run")
    s.add_argument(
        "--wimp-cross-section", type=a.positive_float, default=1e-45, help="SI WIMP-nucleon cross section (cm^2)"
    )
    s.add_argument("--plots", action="store_true", help="also write the plots (as `tpcml plot pandax2`)")
    s.add_argument(
        "--format", choices=["ttree", "rntuple"], default="ttree", help="tree format of the files (default: ttree)"
    )


def simulate(args: argparse.Namespace) -> int:
    from tpcml.sim.lxe import Sizes, simulate_dataset

    a.check_detector(args.detector, LXE_KINDS, "simulate pandax2")
    sizes = Sizes.quick() if args.quick else Sizes()
    for key in ("nr", "er", "accidental"):
        value = getattr(args, f"{key}_events")
        if value is not None:
            setattr(sizes, f"{key}_after_cuts", value)
    if args.isolated is not None:
        sizes.isolated_s1 = sizes.isolated_s2 = args.isolated
    sizes.dm_search = not args.no_search_run
    out = a.out_dir(args.out)
    a.check_events_memory(
        sizes.nr_after_cuts + sizes.er_after_cuts + sizes.accidental_after_cuts + 2 * sizes.isolated_s1,
        "the sample sizes (--nr-events, --er-events, --accidental-events, --isolated)",
        bytes_per_event=4096,  # measured: 2.2 kB per requested event (generated before the cuts, float64)
    )
    a.refuse_overwrite([out / n for n in a.SIMULATION_OUTPUTS], [a.detector_file(args.detector)], "--out")
    with a.value_errors_are_input_errors():
        s = simulate_dataset(
            Path(args.out),
            sizes,
            seed=args.seed,
            detector=args.detector,
            threads=args.threads,  # 0: all cores (Simulator)
            quiet=args.quiet,
            wimp_mass_gev=args.wimp_mass,
            wimp_cross_section_cm2=args.wimp_cross_section,
            format=args.format,
        )
    print(
        f"n_acc = {s.n_acc_total:.3g} accidental events before cuts (P2-DNN Eq. 2.1), "
        f"{s.n_acc_below_median:.3g} below the NR median; files in {args.out} (see dataset.json)"
    )
    if args.plots:
        from tpcml.studies.pandax2.plots import plot_dataset

        for path in plot_dataset(args.out):
            print(f"plot: {path}")
    return 0


# ---------------------------------------------------------------------------------------------------- tpcml plot
def add_plot_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("directory", help="output directory of `tpcml simulate pandax2`")
    s.add_argument("--out", help="where to write the PNGs (default: DIRECTORY)")
    s.add_argument(
        "--nr-median",
        metavar="FILE",
        help="ROOT file with the NR median TGraph tpcml_nr_median (`tpcml nr-median fit`); default: the curve in "
        "DIRECTORY/nr_calibration.root, else fitted on it",
    )


def plot(args: argparse.Namespace) -> int:
    import sys

    from tpcml.studies.pandax2.plots import PLOTS, plot_dataset

    inputs = a.data_dir(args.directory, a.SIMULATION_OUTPUTS)
    out = a.out_dir(args.out) if args.out else Path(args.directory)
    a.refuse_overwrite([out / n for n in PLOTS], [*inputs, args.nr_median], "--out")
    say = lambda text: print(f"tpcml: {text}", file=sys.stderr)  # noqa: E731
    for path in plot_dataset(args.directory, args.out, nr_median=args.nr_median, say=say):
        print(f"plot: {path}")
    return 0
