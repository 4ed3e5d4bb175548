"""The quickstart study's configuration, options, step and report (the chain: :mod:`.study`)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from tpcml.core import options as a
from tpcml.studies import profile_value
from tpcml.studies.quickstart import PROFILES


@dataclass
class QuickstartConfig:
    out: Path
    detector: str = "pandax2"
    n_er: int = PROFILES["default"]["n_er"]
    n_nr: int = PROFILES["default"]["n_nr"]
    seed: int = 1
    threads: int = 0  # threads of the simulation and ROOT ImplicitMT (0: all cores, 1: ImplicitMT off)
    quiet: bool = False


def add_arguments(q: argparse.ArgumentParser) -> None:
    q.add_argument("--detector", default="pandax2", help="detector name or TOML file (default: %(default)s)")
    q.add_argument("--n-er", type=a.count, help=f"ER events (default: {PROFILES['default']['n_er']})")
    q.add_argument("--n-nr", type=a.count, help=f"NR events (default: {PROFILES['default']['n_nr']})")


def configure(args: argparse.Namespace, profile: str) -> QuickstartConfig:
    from tpcml.studies.quickstart.study import OUTPUTS

    a.check_detector(args.detector, ("lxe_dual_phase",), "quickstart")
    n_er, n_nr = (profile_value(args, k, PROFILES, profile) for k in ("n_er", "n_nr"))
    out = a.out_dir(args.out)
    a.check_events_memory(n_er + n_nr, "--n-er + --n-nr")
    a.refuse_overwrite([out / n for n in OUTPUTS], [a.detector_file(args.detector)], "--out")
    return QuickstartConfig(
        out=out, detector=args.detector, n_er=n_er, n_nr=n_nr, seed=args.seed, threads=args.threads, quiet=args.quiet
    )


def step_chain(ctx) -> None:
    from tpcml.studies.quickstart.study import run

    c = ctx.config
    ctx.results.update(
        run(Path(ctx.out), detector=c.detector, n_er=c.n_er, n_nr=c.n_nr, seed=c.seed, threads=c.threads, quiet=c.quiet)
    )


def report(ctx) -> Path:
    """The chain writes its report itself (``report.md``, with ``summary.json``)."""
    return Path(ctx.out) / "report.md"
