"""The command line of the LXe detectors: ``tpcml simulate xenon1t|xenonnt|darwin`` and ``tpcml plot ...``
(registered by :mod:`tpcml.studies.lxe`; the common options --out, --detector, --seed, --threads, --quick and -q
are the CLI's)."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from tpcml.core import options as a
from tpcml.core.errors import ArgumentError

LXE_KINDS = ("lxe_dual_phase",)
#: events of a run without --events or --exposure (and with --quick)
DEFAULT_EVENTS, QUICK_EVENTS = 1000, 100
#: default WIMP-nucleon cross-section (cm2) of --cross-section: the default of tpcml.sim.sources.make
DEFAULT_CROSS_SECTION = 1e-45


def energy_range(text: str) -> tuple[float, float]:
    """``--energy-range LO,HI``: two numbers in keV with 0 <= LO < HI."""
    from tpcml.core.guards import parse_float

    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ArgumentError(f"expected LO,HI in keV (e.g. 1,100), got {text!r}")
        lo, hi = parse_float(parts[0].strip()), parse_float(parts[1].strip())
    except ArgumentError as err:
        raise argparse.ArgumentTypeError(f"--energy-range expects two numbers LO,HI in keV: {err}") from None
    if not 0 <= lo < hi:
        raise argparse.ArgumentTypeError(f"--energy-range expects 0 <= LO < HI keV, got {text!r}")
    return lo, hi


def add_simulate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        required=True,
        metavar="KIND",
        help="event source (tpcml.sim.sources): er, nr (uniform 1-100 keV training sets), wimp, cevns, "
        "er-background, background, and the detector's components (DARWIN: kr85, pb214, materials, neutrons)",
    )
    p.add_argument("--wimp-mass", type=a.positive_float, metavar="GEV", help="WIMP mass in GeV/c^2 (--source wimp)")
    p.add_argument(
        "--cross-section",
        type=a.positive_float,
        metavar="CM2",
        help=f"SI WIMP-nucleon cross-section in cm^2 (--source wimp; default {DEFAULT_CROSS_SECTION:g})",
    )
    p.add_argument(
        "--energy-range",
        type=energy_range,
        metavar="LO,HI",
        help="recoil-energy window in keV (default: 1,100; the PandaX-II-like flat ER background: 0,25)",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "-n",
        "--events",
        type=a.count,
        metavar="N",
        help=f"interactions generated in the fiducial volume (default: {DEFAULT_EVENTS}; {QUICK_EVENTS} with "
        "--quick); those that trigger with an S1 and an S2 are kept",
    )
    size.add_argument(
        "--exposure",
        type=a.positive_float,
        metavar="T_Y",
        help="an exposure in t*y: a Poisson number of interactions with the source's expected count as mean "
        "(sources with a rate only); prints the expected counts per component",
    )
    keep = "also keep the per-PMT S1/S2 waveforms of the first K events (tree pmt_waveforms; default 0)"
    p.add_argument("--pmt-waveforms", type=a._int_type(0, 10_000, "event count"), default=0, metavar="K", help=keep)
    a.add_output_contract(p)


def _source(args: argparse.Namespace, det):
    """The source of the command line, checked before any work (ArgumentError: exit 2)."""
    from tpcml.sim import sources

    kinds = sources.kinds(det.name)
    if args.source not in kinds:
        import difflib

        near = difflib.get_close_matches(args.source, kinds, n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise ArgumentError(f"--source {args.source!r}: unknown for {det.name}{hint}; valid: {', '.join(kinds)}")
    if args.source == "wimp" and args.wimp_mass is None:
        raise ArgumentError("--source wimp needs --wimp-mass GEV (and optionally --cross-section CM2)")
    if args.source != "wimp" and (args.wimp_mass is not None or args.cross_section is not None):
        raise ArgumentError(f"--wimp-mass and --cross-section are for --source wimp, not {args.source!r}")
    warnings.filterwarnings("ignore", message="Default WIMP parameters", category=UserWarning)  # wimprates' notice
    return sources.make(det, args.source, **_source_options(args))


def _source_options(args: argparse.Namespace) -> dict:
    """The options of ``tpcml.sim.sources.make`` and ``expected_counts`` of the command line."""
    lo, hi = args.energy_range or (None, None)
    cross_section = args.cross_section or DEFAULT_CROSS_SECTION
    return {"e_min": lo, "e_max": hi, "wimp_mass_gev": args.wimp_mass, "wimp_cross_section_cm2": cross_section}


def _detector_file(spec: str) -> str | None:
    """The TOML file a --detector names (``FILE`` or ``FILE:RUN``), or None for a registry name."""
    if Path(spec).is_file() or ":" not in spec:
        return a.detector_file(spec)
    return a.detector_file(spec.rsplit(":", 1)[0])


def simulate(args: argparse.Namespace) -> int:
    """``tpcml simulate <detector>``: one source's events into OUT/<detector>[_<run>]_<source>.root."""
    from tpcml.core import detectors
    from tpcml.sim import lxe, sources
    from tpcml.studies.lxe import events

    a.check_detector(args.detector, LXE_KINDS, f"simulate {args.study}")
    det = detectors.load(args.detector)
    source = _source(args, det)
    out = a.out_dir(args.out)
    path = out / events.output_name(det, args.source)
    inputs = [f for f in [_detector_file(args.detector)] if f]
    a.refuse_overwrite([path], inputs, "--out")
    say = (lambda text: None) if args.quiet else (lambda text: print(f"tpcml: {text}", file=sys.stderr))
    expected: dict[str, float] = {}
    if args.exposure is not None:
        try:
            expected = events.expected(source, args.exposure)
        except ArgumentError as err:  # a training set (er, nr) has no rate
            raise ArgumentError(f"--exposure with --source {args.source}: {err}; use -n/--events N") from None
        mean = sum(expected.values())
        n = events.poisson_count(args.seed, mean)
        lo, hi = args.energy_range or sources.DEFAULT_WINDOW
        counts = sources.expected_counts(det, args.exposure, **_source_options(args))
        print(f"expected events in {args.exposure:g} t*y, {lo:g}-{hi:g} keV (before the detector response):")
        for name, mu in counts.items():
            print(f"  {name:<16} {mu:12.4g}")
        print(f"source {args.source}: {mean:.4g} expected ({', '.join(f'{k} {v:.4g}' for k, v in expected.items())})")
        print(f"drawn: {n} interactions (Poisson)")
    else:
        n = args.events or (QUICK_EVENTS if args.quick else DEFAULT_EVENTS)
    a.check_events_memory(n, "--events / --exposure", bytes_per_event=8192)  # ~1.2 kB of arrays per PMT pattern
    sim = lxe.Simulator(det, threads=a.all_cores(args.threads))
    if not hasattr(sim, "detector_events"):
        raise a.input_error("this tpcml has no LXe event engine (Simulator.detector_events, issue 16)")
    with a.value_errors_are_input_errors():
        result = events.simulate(sim, source, n, args.seed, pmt_waveforms=args.pmt_waveforms, quiet=args.quiet)
    result.expected = expected
    info = {
        "source": args.source,
        "seed": args.seed,
        "generated": n,
        "energy_range_kev": list(args.energy_range) if args.energy_range else None,
        "exposure_t_y": args.exposure,
        "wimp_mass_gev": args.wimp_mass,
        "wimp_cross_section_cm2": (args.cross_section or DEFAULT_CROSS_SECTION) if args.source == "wimp" else None,
        "components": list(source.components),
        "expected_events": expected or None,
    }
    out.mkdir(parents=True, exist_ok=True)
    events.write(path, result, det, inputs=inputs, format=args.format, info=info)
    events.summary_line(result, path, say=print)
    say("read it with uproot or ROOT (tree `events`); plots: tpcml plot " + f"{args.study} event-display --file {path}")
    return 0


# ------------------------------------------------------------------------------------------------------ plot
PLOT_KINDS = ("event-display", "bands")


def add_plot_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=PLOT_KINDS, help="event-display (X1T-CNN Fig. 3 analogue) or bands")
    p.add_argument("--file", required=True, metavar="F", help="a `tpcml simulate` file (tree events)")
    p.add_argument("--file-nr", metavar="G", help="bands: an NR file drawn beside the ER band of --file")
    p.add_argument(
        "--event",
        type=a._int_type(0, None, "entry"),
        default=0,
        metavar="I",
        help="event-display: the entry of the events tree to draw (default 0)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="where to write the PNGs (created)")


def plot(args: argparse.Namespace) -> int:
    """``tpcml plot <detector> event-display|bands``."""
    from tpcml.core import rootio
    from tpcml.studies.lxe import plots

    inputs = [args.file] + ([args.file_nr] if args.file_nr else [])
    for f in inputs:
        rootio.require_file(f)
    if args.what == "event-display" and args.file_nr:
        raise ArgumentError("--file-nr is for `bands`, not `event-display`")
    out = a.out_dir(args.out)
    name = plots.output_name(args.what, args.file, args.event)
    a.refuse_overwrite([out / name], inputs, "--out")
    out.mkdir(parents=True, exist_ok=True)
    if args.what == "event-display":
        path = plots.event_display(args.file, args.event, out / name, study=args.study)
    else:
        path = plots.bands(args.file, args.file_nr, out / name, study=args.study)
    print(f"plot: {path}")
    return 0
