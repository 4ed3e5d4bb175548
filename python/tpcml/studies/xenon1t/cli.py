"""The options of ``tpcml run xenon1t`` and its configuration (checked before any work)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from tpcml.core import options as a
from tpcml.studies import profile_value
from tpcml.studies.xenon1t import PROFILES

__all__ = ["add_run_arguments", "configure", "parse_list"]


def add_run_arguments(t: argparse.ArgumentParser) -> None:
    t.add_argument("--train", type=a.count, metavar="N", help="training events per class after the selection")
    t.add_argument("--test", type=a.count, metavar="N", help="test events per class (a separate simulation)")
    t.add_argument("--conv", metavar="LIST", help="grid: convolution layers, comma-separated (paper: 1,2,3)")
    t.add_argument("--epochs", metavar="LIST", help="grid: epochs, comma-separated (paper: 20,30,40,50,60)")
    t.add_argument("--batch", metavar="LIST", help="grid: batch sizes, comma-separated (paper: 100,200,300)")
    t.add_argument("--alphas", metavar="LIST", help="LeakyReLU alphas of the Table II scan (paper: 0.001,...,0.1)")
    t.add_argument(
        "--learning-rates", metavar="LIST", help="Adam learning rates of the Table III scan (paper: 0.001,0.005,0.01)"
    )
    t.add_argument("--folds", type=a._int_type(2, 20, "fold count"), help="stratified k-fold CV folds (paper: 3)")
    t.add_argument(
        "--png",
        type=a._int_type(0, 1000, "event count"),
        metavar="K",
        help="write the images of the first K test events per class and kind as PNGs (OUT/png/) for a person to "
        "look at (default: 4; 0: none)",
    )


def parse_list(text: str, option: str, convert: Callable[[str], float], check: Callable[[float], bool], what: str):
    """A comma-separated option as a sorted list of unique values; CommandLineError naming the option and value."""
    values = []
    for part in str(text).split(","):
        try:
            v = convert(part.strip())
        except ValueError:
            v = None
        if v is None or not check(v):
            raise a.CommandLineError(f"{option}: expected comma-separated {what}, got {part.strip()!r} in {text!r}")
        values.append(v)
    return sorted(set(values))


def configure(args: argparse.Namespace, profile: str):
    """The :class:`~tpcml.studies.xenon1t.study.X1TConfig` of a command line."""
    out = a.out_dir(args.out)
    a.refuse_overwrite([out / "results.json", out / "report.md", out / "test_events.root"], [], "--out")

    def value(name):
        return profile_value(args, name, PROFILES, profile)

    ints = dict(convert=int, check=lambda v: v >= 1)
    conv = parse_list(value("conv"), "--conv", convert=int, check=lambda v: 1 <= v <= 3, what="integers in 1-3")
    epochs = parse_list(value("epochs"), "--epochs", what="integers >= 1", **ints)
    batch = parse_list(value("batch"), "--batch", what="integers >= 1", **ints)
    alphas = parse_list(value("alphas"), "--alphas", float, lambda v: 0 <= v < 1, "numbers in [0, 1)")
    rates = parse_list(value("learning_rates"), "--learning-rates", float, lambda v: 0 < v < 1, "numbers in (0, 1)")
    train, test = value("train"), value("test")
    if train < 3 * value("folds"):
        raise a.CommandLineError(f"--train {train}: needs at least 3 events per class per fold ({value('folds')})")
    # images of 3 kinds (75x75x3 + 2 x 100x50x3 floats = 247 kB) and the event arrays (~5 kB) per event
    a.check_events_memory(2 * (train + test), "--train + --test (two classes)", bytes_per_event=260 * 1024)
    from tpcml.ml.backend import silence_tensorflow_logs

    silence_tensorflow_logs()
    from tpcml.studies.xenon1t.study import X1TConfig

    return X1TConfig(
        out=out,
        train=train,
        test=test,
        conv=tuple(conv),
        epochs=tuple(epochs),
        batch=tuple(batch),
        alphas=tuple(alphas),
        learning_rates=tuple(rates),
        folds=value("folds"),
        png=value("png"),
        seed=args.seed,
        threads=args.threads,
        quick=profile == "quick",
        full=profile == "full",
        verbose=not args.quiet,
    )
