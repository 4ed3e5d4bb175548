"""Markdown pages: written atomically, with the same tail (timings, pointer to ``results.json``) in every
study's report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["abbreviations", "caveat", "timings_tail", "write_page"]


def write_page(path: Path, lines: Sequence[str]) -> Path:
    """Write ``lines`` joined by newlines to ``path`` atomically; returns ``path``."""
    from tpcml.core.rootio import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines))
    return Path(path)


def abbreviations(terms: Mapping[str, str]) -> list[str]:
    """One paragraph defining every abbreviation a report uses (``{"ER": "electron recoil", ...}``), for the top of
    the page so that each is defined before its first use."""
    return ["Abbreviations: " + "; ".join(f"**{k}** {v}" for k, v in terms.items()) + ".", ""]


def caveat(text: str) -> list[str]:
    """A block quote starting with **Caveat**: what a reader must know before reading the numbers (a ``--quick``
    run, a result without separation)."""
    return [f"> **Caveat:** {text}", ""]


def timings_tail(timings: Mapping[str, float], underscores_as_spaces: bool = False) -> list[str]:
    """The tail of every study report: a ``## Timings`` section (one line, ``name N s | ...``) and the pointer
    to ``results.json``."""
    fmt = (lambda k: k.replace("_", " ")) if underscores_as_spaces else (lambda k: k)
    return [
        "",
        "## Timings",
        "",
        " | ".join(f"{fmt(k)} {v:.0f} s" for k, v in timings.items()),
        "",
        "All numbers: `results.json`.",
        "",
    ]
