"""Command-line options: what every command of the ``tpcml`` CLI shares -- argument types (their errors are
argparse's exit 2), checks of output and input directories, memory estimates and the refusal of a detector a
study cannot use. The studies declare their own options with these (``tpcml.studies.<name>.cli``)."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "FORMAT_HELP",
    "INPUT_ALIAS_HELP",
    "MISMATCH_HELP",
    "QUIET_HELP",
    "SIMULATION_OUTPUTS",
    "THREADS_HELP",
    "CommandLineError",
    "add_events",
    "add_inputs",
    "add_output_contract",
    "add_quiet",
    "add_threads",
    "add_tree",
    "all_cores",
    "check_detector",
    "check_events_memory",
    "count",
    "data_dir",
    "detector_file",
    "drift_window",
    "finite_float",
    "imt_threads",
    "input_error",
    "merge_inputs",
    "out_dir",
    "positive_float",
    "profile_of",
    "refuse_overwrite",
    "seed",
    "threads",
    "value_errors_are_input_errors",
]


class CommandLineError(Exception):
    """A command line that cannot mean anything: argparse's usage message and exit 2."""


# ------------------------------------------------------------------------------------ the shared options
# One convention for the ``tpcml`` subcommands and the C++ executables (src/apps/Cli.h, docs/cli.md): inputs are
# positional (``--input`` kept as an alias), ``-n/--events``, ``--tree``, ``--threads`` (0 = all cores),
# ``--drift-window A,B``, ``-q/--quiet``. The help texts are the executables' words (tests/python/
# test_cli_convention.py compares every --help).
THREADS_HELP = "threads; 0 = all cores"
QUIET_HELP = "no progress bars or lines"
INPUT_ALIAS_HELP = "same as the positional FILE (kept for older scripts)"
FORMAT_HELP = "output tree format: ttree (a TTree, the default) or rntuple (an RNTuple)"
MISMATCH_HELP = "read inputs tagged (tpcml_detector) with another detector than the job's"


def add_inputs(p: argparse.ArgumentParser, help_text: str, multiple: bool = True, required: bool = True) -> None:
    """Input files: positional ``FILE ...`` (one with ``multiple=False``) and the alias ``--input FILE ...``; the
    two are joined into ``args.inputs`` by :func:`merge_inputs`."""
    p.add_argument("inputs", nargs="*", metavar="FILE", help=help_text + (" (required)" if required else ""))
    p.add_argument("--input", dest="input_alias", action="extend", nargs="+", metavar="FILE", help=INPUT_ALIAS_HELP)
    p.set_defaults(inputs_multiple=multiple, inputs_required=required)


def merge_inputs(args: argparse.Namespace) -> None:
    """``args.inputs``: the positional files, then those of ``--input``; CommandLineError (exit 2) when a
    required input is missing or a command taking one file got several."""
    if not hasattr(args, "input_alias"):
        return
    args.inputs = [*(args.inputs or []), *(args.input_alias or [])]
    if args.inputs_required and not args.inputs:
        raise CommandLineError("missing the input FILE (positional, or --input FILE)")
    if not args.inputs_multiple and len(args.inputs) > 1:
        raise CommandLineError(f"expected one input FILE, got {len(args.inputs)}: {', '.join(args.inputs)}")


def add_threads(p: argparse.ArgumentParser, default: int = 1) -> None:
    p.add_argument("--threads", type=threads, default=default, metavar="N", help=f"{THREADS_HELP} (default: {default})")


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)


def add_output_contract(p: argparse.ArgumentParser) -> None:
    """The file contract's options of every command that writes a ROOT file (docs/event-model.md §1):
    ``--format ttree|rntuple`` (``args.format``) and ``--allow-detector-mismatch``."""
    p.add_argument("--format", choices=["ttree", "rntuple"], default="ttree", help=FORMAT_HELP)
    p.add_argument("--allow-detector-mismatch", action="store_true", help=MISMATCH_HELP)


def add_events(p: argparse.ArgumentParser, help_text: str, required: bool = False) -> None:
    """``-n/--events N`` (``args.events``)."""
    p.add_argument("-n", "--events", type=count, required=required, metavar="N", help=help_text)


def add_tree(p: argparse.ArgumentParser, help_text: str, default: str | None = "events") -> None:
    suffix = f" (default: {default})" if default else ""
    p.add_argument("--tree", default=default, metavar="NAME", help=help_text + suffix)


#: the files ``tpcml simulate pandax2`` writes (inputs of ``tpcml plot pandax2``)
SIMULATION_OUTPUTS = (
    "nr_calibration.root",
    "er_calibration.root",
    "isolated.root",
    "accidentals.root",
    "dm_search.root",
    "dataset.json",
)


def refuse_overwrite(outputs, inputs, what: str = "--output") -> None:
    from tpcml.core.guards import refuse_overwrite as refuse

    refuse(outputs, inputs, what)


def detector_file(name: str) -> str | None:
    """The detector TOML file an option names (an input of the command), or None for a registry name."""
    return name if Path(name).is_file() else None


def check_detector(name: str, valid_kinds: Sequence[str], study: str) -> str:
    """``name`` (a registry name or TOML file) if its detector kind is one ``study`` can use; else an
    ArgumentError listing the registry detectors it can use (``--detector pandax2`` for a gas-TPC study
    was silently replaced by ``pandax3`` before)."""
    from tpcml.core import detectors
    from tpcml.core.errors import ArgumentError

    det = detectors.load(name)  # an unknown name or a bad file: ConfigError naming it (exit 1)
    if det.kind in valid_kinds:
        return name
    usable = [d for d in detectors.available() if detectors.load(d).kind in valid_kinds]
    raise ArgumentError(
        f"--detector {name!r}: {study} cannot use a {det.kind} detector; valid: {', '.join(usable) or 'none'} "
        "(or a TOML file of that kind)"
    )


def out_dir(path: str) -> Path:
    """An output directory option: refused (exit 2) when it exists and is not a directory."""
    from tpcml.core.errors import ArgumentError

    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ArgumentError(f"--out '{path}': is a file; expected a directory (created when missing)")
    if p.is_dir() and not os.access(p, os.W_OK | os.X_OK):
        raise ArgumentError(f"--out '{path}': directory is not writable")
    return p


def data_dir(path: str | None, names: tuple[str, ...]) -> list[Path]:
    """The input files ``names`` of an input directory option (--data, plot's DIRECTORY); InputError when
    the path is not a directory."""
    if path is None:
        return []
    p = Path(path)
    if not p.exists():
        raise input_error(f"{path}: no such directory")
    if not p.is_dir():
        raise input_error(f"{path}: is a file; expected a directory")
    return [p, *(p / n for n in names)]


def check_events_memory(n: int, what: str, bytes_per_event: int = 1024) -> None:
    from tpcml.core.guards import check_memory

    check_memory(float(n) * bytes_per_event, f"{what} = {n} events x about {bytes_per_event} bytes")


def input_error(message: str) -> Exception:
    from tpcml.core.errors import InputError

    return InputError(message)


@contextlib.contextmanager
def value_errors_are_input_errors():
    """Inside: a ValueError of the job (a bad input found while working, not an ArgumentError) becomes an
    InputError (exit 1, one line)."""
    from tpcml.core.errors import ArgumentError

    try:
        yield
    except ArgumentError:
        raise
    except ValueError as err:
        raise input_error(str(err)) from None


def profile_of(args: argparse.Namespace) -> str:
    """``"quick"``, ``"full"`` or ``"default"`` from the --quick / --full flags (which exclude each other)."""
    quick, full = getattr(args, "quick", False), getattr(args, "full", False)
    if quick and full:
        raise CommandLineError("--quick and --full exclude each other")
    return "quick" if quick else "full" if full else "default"


def _argument_type(parse, name: str):
    """An argparse ``type`` from a tpcml.core.guards parser (its ArgumentError becomes argparse's exit 2)."""

    def convert(text: str):
        from tpcml.core.errors import ArgumentError

        try:
            return parse(text)
        except ArgumentError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    convert.__name__ = name  # argparse names the type in "invalid <name> value"
    return convert


def _int_type(minimum: int, maximum: int | None = None, name: str = "integer"):
    from tpcml.core.guards import parse_int

    return _argument_type(lambda t: parse_int(t, minimum=minimum, maximum=maximum), name)


threads = _int_type(0, 1024, name="thread count")  # 0 has a documented meaning per option (off / all cores)
count = _int_type(1, name="count")  # sizes: 0 is refused, never replaced by a default


def seed(text: str) -> int:
    from tpcml.core.guards import SEED_MAX

    return _int_type(0, SEED_MAX, "seed")(text)


def positive_float(text: str) -> float:
    from tpcml.core.guards import parse_float

    return _argument_type(lambda t: parse_float(t, positive=True), "positive number")(text)


def finite_float(text: str) -> float:
    from tpcml.core.guards import parse_float

    return _argument_type(parse_float, "number")(text)


def drift_window(text: str) -> tuple[float, float]:
    """``--drift-window A,B``: two finite numbers in us, as the executables take them."""
    from tpcml.core.errors import ArgumentError
    from tpcml.core.guards import parse_float

    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ArgumentError(f"expected TMIN,TMAX in us (e.g. 18,310), got {text!r}")
        return parse_float(parts[0].strip()), parse_float(parts[1].strip())
    except ArgumentError as err:
        raise argparse.ArgumentTypeError(f"--drift-window expects two finite numbers TMIN,TMAX: {err}") from None


def pick(args: argparse.Namespace, *names: str) -> dict:
    """The options ``names`` of ``args`` as keyword arguments of the same names (for the job functions the
    subcommands call, whose parameters are spelled as the options' destinations)."""
    return {name: getattr(args, name) for name in names}


def imt_threads(n: int) -> int:
    """A --threads value as ROOT ImplicitMT threads: 1 = off (returns 0), 0 = all cores."""
    return 0 if n == 1 else all_cores(n)


def all_cores(n: int) -> int:
    """A --threads value with 0 meaning every core this process may use (the meaning of 0 for every
    ``tpcml simulate``)."""
    if n > 0:
        return n
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
