"""``tpcml run xenonnt``'s options and configuration."""

from __future__ import annotations

import argparse

from tpcml.core import options as a
from tpcml.studies import profile_value
from tpcml.studies.xenonnt import PROFILES


def add_run_arguments(t: argparse.ArgumentParser) -> None:
    t.add_argument(
        "-n",
        "--events",
        type=a.count,
        metavar="N",
        help="ER interactions to simulate (and as many WIMP interactions over the masses)",
    )
    t.add_argument("--masses", metavar="GEV,...", help="WIMP masses in GeV (default: 10,50,500,1000)")
    t.add_argument("--epochs-cvae", type=a.count, help="CVAE epochs (paper: 200)")
    t.add_argument("--epochs-cnn", type=a.count, help="CNN epochs")
    t.add_argument("--experiments", type=a.count, help="pseudo-experiments per hypothesis (calibrated p-values)")


def _masses(text: str) -> tuple[float, ...]:
    out = []
    for part in text.split(","):
        try:
            m = float(part)
        except ValueError:
            raise a.CommandLineError(f"--masses: expected GeV numbers separated by commas, got {part!r}") from None
        if not 5.0 <= m <= 1e4:
            raise a.CommandLineError(f"--masses: {m:g} GeV outside 5-10000 GeV (the paper: 10-1000)")
        out.append(m)
    return tuple(dict.fromkeys(out))


def configure(args: argparse.Namespace, profile: str):
    """The :class:`~tpcml.studies.xenonnt.study.XenonntConfig` of a command line, every option checked before any
    work (CommandLineError: exit 2)."""
    from tpcml.studies.xenonnt.study import XenonntConfig  # NumPy only: TensorFlow comes with the steps

    def value(name):
        return profile_value(args, name, PROFILES, profile)

    events = value("events")
    if events < 20:
        raise a.CommandLineError(f"--events: at least 20 interactions are needed, got {events}")
    a.check_events_memory(2 * events, "--events (ER and as many NR)", bytes_per_event=96 * 1024)
    masses = _masses(value("masses"))
    out = a.out_dir(args.out)
    a.refuse_overwrite([out / "results.json", out / "report.md"], [], "--out")
    from tpcml.ml.backend import silence_tensorflow_logs

    silence_tensorflow_logs()  # before the steps import TensorFlow
    sizes = {k: value(k) for k in ("epochs_cvae", "epochs_cnn", "experiments")}
    run = {"seed": args.seed, "threads": a.all_cores(args.threads), "quick": profile == "quick"}
    return XenonntConfig(out=out, events=events, masses=masses, verbose=not args.quiet, **sizes, **run)
