"""``tpcml run darwin``'s options and configuration (the simulate and plot verbs are tpcml.studies.lxe's)."""

from __future__ import annotations

import argparse

from tpcml.core import options as a
from tpcml.studies import profile_value
from tpcml.studies.darwin import PROFILES


def add_run_arguments(t: argparse.ArgumentParser) -> None:
    t.add_argument("-n", "--train-events", type=a.count, metavar="N", help="training events per class (ER, NR)")
    t.add_argument("--background-events", type=a.count, metavar="N", help="evaluation events per class (ER, NR)")
    t.add_argument("--epochs", type=a.count, help="training epochs of the VAE and the classifier")
    t.add_argument("--experiments", type=a.count, help="pseudo-experiments per hypothesis (paper: 10^4)")
    t.add_argument("--exposures", help="comma-separated exposures in t y for the sensitivity curve")
    t.add_argument(
        "--cs1-window",
        metavar="LO,HI",
        help="signal region in cS1 (PE; default 3,20: an assumption, see docs/studies.md)",
    )
    t.add_argument("--R", dest="r_values", help="comma-separated R values to scan (default 0,1,3,...,1000)")


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise a.CommandLineError(f"{what}: expected comma-separated numbers, got {text!r}") from None
    if not values or any(not (v >= 0) for v in values):
        raise a.CommandLineError(f"{what}: expected numbers >= 0, got {text!r}")
    return values


def configure(args: argparse.Namespace, profile: str):
    out = a.out_dir(args.out)
    a.refuse_overwrite([out / "results.json", out / "report.md"], [], "--out")
    from tpcml.ml.backend import silence_tensorflow_logs

    silence_tensorflow_logs()
    from tpcml.studies.darwin.study import DarwinConfig

    def value(name):
        return profile_value(args, name, PROFILES, profile)

    exposures = _floats(value("exposures"), "--exposures")
    if any(e == 0 for e in exposures):
        raise a.CommandLineError(f"--exposures: expected exposures > 0 t y, got {value('exposures')!r}")
    extra = {"r_values": _floats(args.r_values, "--R")} if args.r_values else {}
    if args.cs1_window:
        window = _floats(args.cs1_window, "--cs1-window")
        if len(window) != 2 or not window[0] < window[1]:
            raise a.CommandLineError(f"--cs1-window: expected LO,HI with LO < HI (PE), got {args.cs1_window!r}")
        extra["cs1_window"] = window
    if profile == "quick" and not args.r_values:
        extra["r_values"] = (0.0, 10.0, 100.0)
    train, background = value("train_events"), value("background_events")
    a.check_events_memory(2 * (train + background), "--train-events/--background-events", bytes_per_event=24 * 1024)
    return DarwinConfig(
        out=out,
        train_events=train,
        background_events=background,
        epochs=value("epochs"),
        experiments=value("experiments"),
        exposures=exposures,
        grid=bool(PROFILES[profile]["grid"]),
        seed=args.seed,
        threads=a.all_cores(args.threads),
        quick=profile == "quick",
        verbose=not args.quiet,
        **extra,
    )
