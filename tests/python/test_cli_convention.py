"""One CLI convention (issue 15, item 7): every ``--help`` text -- the ``tpcml`` subcommands and the C++
executables -- is parsed and the shared options must read the same; the conventions themselves (positional
inputs with the --input alias, -n/--events, --threads 0 = all cores, --drift-window A,B, -h/--help) are run;
``tpcml inspect FILE | head`` ends without a traceback; columns in file order; progress bars honour --quiet."""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import uproot

from tpcml import cli
from tpcml.core import options as a

from .conftest import BIN, run

EXECUTABLES = sorted(cli.EXECUTABLES)
REPO = Path(__file__).resolve().parents[2]
SCRIPTS = ("score_events.py", "lifetime_bands.py", "pandax2_accidentals.py")  # PyROOT scripts in macros/


# ------------------------------------------------------------------------------------------ parsing a help text
def help_entries(text: str) -> dict[str, dict]:
    """The options of a help text (argparse's or CLI11's layout): {name: {"names", "metavar", "help"}} for each
    of its names (-q and --quiet map to the same entry). An entry starts on a line indented by two spaces with
    a dash; deeper-indented lines continue its description."""
    entries: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^  (-[^\s].*?)(?:\s{2,}(.*))?$", line)
        if m and not line.startswith("   "):
            left, desc = m.group(1), m.group(2) or ""
            names = re.findall(r"(?<![\w-])-{1,2}[A-Za-z][\w-]*", left)
            rest = re.sub(r"(?<![\w-])-{1,2}[A-Za-z][\w-]*,? ?", "", left).strip()
            metavar = rest.split(" ")[0].rstrip(",") if rest else None
            current = {"names": set(names), "metavar": metavar, "help": desc}
            for n in names:
                entries[n] = current
        elif current is not None and line.startswith("   ") and line.strip():
            current["help"] = f"{current['help']} {line.strip()}".strip()
        elif not line.strip():
            current = None
    return entries


def python_helps() -> dict[str, str]:
    """``tpcml <...> --help`` of every leaf subcommand, by its command line."""
    out: dict[str, str] = {}

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        subs = [x for x in parser._actions if isinstance(x, argparse._SubParsersAction)]
        if not subs:
            out[path] = parser.format_help()
        for action in subs:
            for name, sub in action.choices.items():
                walk(sub, f"{path} {name}")

    walk(cli.build_parser(), "tpcml")
    return out


@pytest.fixture(scope="module")
def all_helps() -> dict[str, str]:
    helps = python_helps()
    for exe in EXECUTABLES:
        res = run([exe, "--help"])
        assert res.returncode == 0, res.stderr
        helps[exe] = res.stdout
        short = run([exe, "-h"])
        assert short.returncode == 0 and short.stdout == res.stdout  # -h is --help
    for script in SCRIPTS:
        res = run([sys.executable, str(REPO / "macros" / script), "--help"])
        assert res.returncode == 0, res.stderr
        helps[script] = res.stdout
    return helps


def test_help_parser_reads_both_layouts():
    argparse_text = "options:\n  -q, --quiet           no progress\n  --threads N           threads; 0 = all\n"
    argparse_text += "                        cores (default: 1)\n"
    cli11_text = "options:\n  -q,--quiet                    no progress\n  --threads N                   threads\n"
    e = help_entries(argparse_text)
    assert e["-q"] is e["--quiet"] and e["--quiet"]["help"] == "no progress"
    assert e["--threads"] == {"names": {"--threads"}, "metavar": "N", "help": "threads; 0 = all cores (default: 1)"}
    assert help_entries(cli11_text)["--quiet"]["names"] == {"-q", "--quiet"}


def test_shared_options_read_the_same_in_every_help(all_helps):
    assert len(all_helps) > 20 and set(EXECUTABLES) <= set(all_helps)
    seen = {"--threads": 0, "--quiet": 0, "--input": 0, "--tree": 0, "--events": 0, "--drift-window": 0}
    for command, text in all_helps.items():
        e = help_entries(text)
        assert {"-h", "--help"} <= e["--help"]["names"], command
        if "--threads" in e:
            seen["--threads"] += 1
            assert e["--threads"]["metavar"] == "N", command
            assert e["--threads"]["help"].startswith(a.THREADS_HELP), (command, e["--threads"]["help"])
        if "--quiet" in e:
            seen["--quiet"] += 1
            assert e["--quiet"]["names"] == {"-q", "--quiet"} and e["--quiet"]["help"] == a.QUIET_HELP, command
        if "--input" in e:
            seen["--input"] += 1
            assert e["--input"]["metavar"] == "FILE" and e["--input"]["help"] == a.INPUT_ALIAS_HELP, command
            assert re.search(r"^  FILE\b", text, re.M), f"{command}: inputs are positional FILE"
        if "--tree" in e:
            seen["--tree"] += 1
            assert e["--tree"]["metavar"] == "NAME", command
        if "--events" in e:
            seen["--events"] += 1
            assert e["--events"]["names"] == {"-n", "--events"} and e["--events"]["metavar"] == "N", command
        if "--drift-window" in e:
            seen["--drift-window"] += 1
            assert e["--drift-window"]["metavar"] == "TMIN,TMAX", command
    assert all(seen.values()), seen  # each shared option was found somewhere
    for exe in EXECUTABLES:  # every executable: inputs, threads
        e = help_entries(all_helps[exe])
        assert {"--input", "--threads", "--version"} <= set(e), exe


@pytest.mark.parametrize(
    ("exe", "command"), [("tpcml-pair", "pair"), ("tpcml-infer", "infer"), ("tpcml-raster", "raster")]
)
def test_subcommand_has_the_options_of_its_executable(all_helps, exe, command):
    cpp = set(help_entries(all_helps[exe])) - {"--version"}
    py = set(help_entries(all_helps[f"tpcml {command}"]))
    assert cpp <= py, f"tpcml {command} lacks {sorted(cpp - py)}"


def test_epilog_lists_every_executable():
    text = cli.build_parser().format_help()
    for exe in EXECUTABLES:
        assert re.search(rf"^  {exe}\s", text, re.M), exe
    installed = sorted(p.name for p in BIN.glob("tpcml-*"))
    assert installed == EXECUTABLES  # no executable left out of the list


# ------------------------------------------------------------------------------------------ the conventions, run
@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    """An events tree whose columns are not in alphabetical order, and a second tree."""
    path = tmp_path_factory.mktemp("conv") / "small.root"
    with uproot.recreate(path) as f:
        f.mktree("events", {"zeta": "f4", "alpha": "f8", "mid": "i8"})
        f["events"].extend({"zeta": np.arange(5, dtype=np.float32), "alpha": np.ones(5), "mid": np.arange(5)})
        f.mktree("other", {"x": "f8"})
        f["other"].extend({"x": np.arange(3.0)})
    return path


def test_inspect_lists_columns_in_file_order_and_takes_the_input_alias(small_file):
    for argv in (["inspect", str(small_file)], ["inspect", "--input", str(small_file)]):
        res = run(["tpcml", *argv, "--tree", "events"])
        assert res.returncode == 0, res.stderr
        names = [line.split()[0] for line in res.stdout.splitlines()[1:]]
        assert names == ["zeta", "alpha", "mid"]
    res = run(["tpcml", "inspect", str(small_file), str(small_file)])
    assert res.returncode == 2 and "expected one input FILE, got 2" in res.stderr
    res = run(["tpcml", "inspect"])
    assert res.returncode == 2 and "missing the input FILE" in res.stderr


def test_inspect_piped_into_head_ends_without_a_traceback(small_file):
    """`tpcml inspect FILE | head -1`: head closes the pipe; no BrokenPipeError traceback, exit 0 like a tool."""
    tpcml_exe = str(BIN / "tpcml")
    proc = subprocess.run(
        f"'{tpcml_exe}' inspect '{small_file}' --tree events | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode == 0


def test_cli_main_survives_a_closed_stdout(small_file, monkeypatch):
    """The same in process: printing into a closed pipe is the end of the output, not an error."""

    class ClosedPipe(io.StringIO):
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert cli.main(["inspect", str(small_file), "--tree", "events"]) == 0


def test_threads_zero_means_all_cores_in_the_executables(small_file):
    res = run(["tpcml-info", "--threads", "0"])
    assert res.returncode == 0, res.stderr
    cores = a.all_cores(0)
    if cores > 1:
        assert f"ImplicitMT on, {cores} thread(s)" in res.stdout
    res = run(["tpcml-info", "--threads", "1025"])
    assert res.returncode == 2 and "must be in [0, 1024]" in res.stderr


def test_positional_input_and_alias_are_the_same_in_executables(small_file):
    a1 = run(["tpcml-info", str(small_file), "--tree", "events"])
    a2 = run(["tpcml-info", "--input", str(small_file), "--tree", "events"])
    assert a1.returncode == a2.returncode == 0, a1.stderr + a2.stderr
    assert a1.stdout == a2.stdout and "events: 5 entries, 3 columns" in a1.stdout
    res = run(["tpcml-pair", "--output", "x.root", "-n", "5"])
    assert res.returncode == 2 and "missing the input FILE" in res.stderr


def test_drift_window_is_one_a_comma_b_value():
    p = cli.build_parser()
    args = p.parse_args(["pair", "iso.root", "--output", "o.root", "-n", "5", "--drift-window", "18,310"])
    assert args.drift_window == (18.0, 310.0) and args.events == 5
    with pytest.raises(SystemExit):
        p.parse_args(["pair", "iso.root", "--output", "o.root", "-n", "5", "--drift-window", "18"])
    with pytest.raises(SystemExit):
        p.parse_args(["pair", "iso.root", "--output", "o.root", "-n", "5", "--drift-window", "nan,3"])


def test_imt_threads_and_all_cores():
    assert a.imt_threads(1) == 0 and a.imt_threads(3) == 3 and a.imt_threads(0) == a.all_cores(0) >= 1


# ------------------------------------------------------------------------------------------ progress
def test_progress_bar_draws_on_its_stream_and_quiet_silences_it():
    from tpcml.report import progress

    out = io.StringIO()
    with progress.bar(4, "epoch 1/1", unit="batch", file=out, delay=0, mininterval=0) as b:
        for _ in range(4):
            b.update()
    assert "epoch 1/1" in out.getvalue() and "4/4" in out.getvalue()
    out = io.StringIO()
    with progress.bar(4, "epoch 1/1", file=out, quiet=True, delay=0) as b:
        b.update(4)
    assert out.getvalue() == ""
