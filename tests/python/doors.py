"""Table-driven bad-input cases for every door of tpcml (issue 13).

A *door* is an entry point a user reaches: a batch executable (``tpcml-infer``), a CLI
command (``tpcml select``), a ROOT macro (``score_events.C``), a PyROOT script or a Python
API call run through ``python -c``. Each door test module defines

    CASES: list[DoorCase]
    def build_fixtures(tmp: Path) -> None      # writes the files the cases name into tmp

and runs every case through :func:`check` (a parametrised test). ``scripts/bad_input_table.py``
imports the same modules and prints the observed table (entry point, input, exit status,
message) in Markdown, so the table in docs and closing notes is measured, never typed.

The contract every case checks: the exit status is the promised one (0 ok, 1 bad input,
2 bad arguments), the first error line matches the case's pattern (it names the file,
tree, column, key or value), and the output never holds a traceback, a C++ ``terminate``
or a signal death.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .conftest import REPO, run

FORBIDDEN = ("Traceback (most recent call last)", "terminate called", "Segmentation fault", "core dumped")


@dataclass(frozen=True)
class DoorCase:
    door: str  # entry point as a user types it, e.g. "tpcml-infer", "tpcml select", "score_events.C"
    what: str  # the bad input in a few words, e.g. "--output equal to --input"
    argv: Callable[[Path], list[str]]  # the command line, given the fixtures directory
    rc: int  # expected exit status
    message: str  # regex searched in stdout + stderr (case-sensitive)
    cwd: Callable[[Path], Path] | None = None  # default: the repository root
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 120.0
    # files (relative to the fixtures directory) that must be byte-identical after the run
    unchanged: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return re.sub(r"[^A-Za-z0-9]+", "-", f"{self.door} {self.what}").strip("-").lower()


@dataclass
class Observed:
    rc: int
    message: str  # the first line of output that mentions "error" (else the last non-empty line)
    output: str


def observe(case: DoorCase, fixtures: Path) -> Observed:
    cwd = case.cwd(fixtures) if case.cwd else REPO
    before = {name: (fixtures / name).read_bytes() for name in case.unchanged}
    res = run(case.argv(fixtures), cwd=cwd, env=case.env or None, timeout=case.timeout)
    out = (res.stdout or "") + (res.stderr or "")
    lines = [ln.strip() for ln in out.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()]
    first = errors[0] if errors else (lines[-1] if lines else "")
    for name, data in before.items():
        if not (fixtures / name).exists() or (fixtures / name).read_bytes() != data:
            out += f"\n[doors] INPUT CHANGED: {name}"
    return Observed(res.returncode, first, out)


def check(case: DoorCase, fixtures: Path) -> Observed:
    """Runs a case and asserts the contract; returns what was observed."""
    obs = observe(case, fixtures)
    for bad in FORBIDDEN:
        assert bad not in obs.output, f"{case.id}: output holds {bad!r}:\n{obs.output[-3000:]}"
    assert "[doors] INPUT CHANGED" not in obs.output, f"{case.id}: an input was modified:\n{obs.output[-3000:]}"
    assert obs.rc == case.rc, f"{case.id}: exit {obs.rc}, expected {case.rc}:\n{obs.output[-3000:]}"
    assert re.search(case.message, obs.output), f"{case.id}: no match for {case.message!r} in:\n{obs.output[-3000:]}"
    return obs
