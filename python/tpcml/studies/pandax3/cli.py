"""The PandaX-III study's command line: ``tpcml run pandax3`` (alias ``tracks``) and ``tpcml simulate pandax3``."""

from __future__ import annotations

import argparse
from pathlib import Path

from tpcml.core import options as a
from tpcml.studies import profile_value
from tpcml.studies.pandax3 import PROFILES

GAS_KINDS = ("gxe_strip_tpc",)


def add_run_arguments(t: argparse.ArgumentParser) -> None:
    t.add_argument("--data", metavar="DIR", help="use DIR/tracks.root instead of simulating")
    t.add_argument("-n", "--events", type=a.count, metavar="N", help="0nubb events (and as many gamma events)")
    t.add_argument("--variant", default="B0", help="EfficientNet B0 or B4 (default: %(default)s)")
    t.add_argument(
        "--top-channels", help="comma-separated n of the top 1x1 convolution, 'default' = Keras' (default: 8,default)"
    )
    t.add_argument("--resnet", action="store_true", help="also train the ResNet50 baseline (P3-CNN Table 1)")
    t.add_argument("--input-size", type=int, choices=[64, 128, 256], help="network input (64; 128 = x2 upscaling)")
    t.add_argument("--epochs", type=a.count, help="epochs per training (default: 4)")
    t.add_argument("--repeats", type=a.count, help="independent trainings per model (paper: 6)")
    t.add_argument(
        "--batch-size",
        type=a.count,
        help="minibatch (default: 32 on CPU; 256, the paper's, with --full)",
    )


def _top_channels(text: str) -> list[int | None]:
    tops = []
    for t in text.split(","):
        t = t.strip().lower()
        if t in ("default", "none"):
            tops.append(None)
        elif t.isdigit() and 0 < int(t) <= 4096:
            tops.append(int(t))
        else:
            raise a.CommandLineError(f"--top-channels: expected integers in [1, 4096] or 'default', got {t!r}")
    return tops


def configure(args: argparse.Namespace, profile: str):
    """The :class:`~tpcml.studies.pandax3.study.TracksConfig` of a command line (checked before any work)."""
    out = a.out_dir(args.out)  # the checks that need no TensorFlow first
    data = a.data_dir(args.data, ("tracks.root",))
    a.refuse_overwrite([out / "results.json", out / "report.md", out / "test_images.root"], data, "--out")
    from tpcml.ml.backend import silence_tensorflow_logs

    silence_tensorflow_logs()  # TensorFlow's start-up chatter, before anything imports it
    variant = args.variant.upper()
    if variant not in ("B0", "B4"):
        raise a.CommandLineError(f"--variant: expected B0 or B4, got {args.variant!r}")
    from tpcml.studies.pandax3.study import ModelSpec, TracksConfig

    def value(name):
        return profile_value(args, name, PROFILES, profile)

    models = [ModelSpec("efficientnet", variant, n) for n in _top_channels(value("top_channels"))]
    if args.resnet:
        models.append(ModelSpec("resnet50"))
    events = value("events")
    if args.data is None:
        a.check_events_memory(2 * events, "--events (0nubb and as many gamma)", bytes_per_event=32 * 1024)
    return TracksConfig(
        out=out,
        data_dir=Path(args.data) if args.data else None,
        events=events,
        models=tuple(models),
        input_size=value("input_size"),
        epochs=value("epochs"),
        repeats=value("repeats"),
        batch_size=value("batch_size"),
        bn_momentum=PROFILES[profile]["bn_momentum"],
        quick=profile == "quick",
        seed=args.seed,
        threads=args.threads,
        verbose=not args.quiet,
    )


# ------------------------------------------------------------------------------------------------ tpcml simulate
def add_simulate_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument(
        "-n", "--events", type=a.count, metavar="N", help="0nubb events in the ROI (and as many gamma events)"
    )
    s.add_argument("--background", type=a.count, help="gamma events in the ROI (default: --events)")


def simulate(args: argparse.Namespace) -> int:
    from tpcml.sim.gas import simulate_dataset

    a.check_detector(args.detector, GAS_KINDS, "simulate pandax3")
    n = (1000 if args.quick else 20000) if args.events is None else args.events
    background = n if args.background is None else args.background
    out = a.out_dir(args.out)
    # measured: about 16 kB per event above a fixed 330 MB (2,000 and 8,000 events)
    a.check_events_memory(n + background, "--events + --background", bytes_per_event=32 * 1024)
    a.refuse_overwrite([out / "tracks.root", out / "dataset.json"], [a.detector_file(args.detector)], "--out")
    with a.value_errors_are_input_errors():
        s = simulate_dataset(
            out,
            n,
            background,
            seed=args.seed,
            quiet=args.quiet,
            threads=a.all_cores(args.threads),
            detector=args.detector,
        )
    c = s["counts"]
    print(f"{c['signal']} 0nubb and {c['background']} gamma events in the ROI -> {args.out}/tracks.root")
    return 0
