"""Markdown pages: written atomically, with the same tail (timings, pointer to ``results.json``) in every
study's report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["timings_tail", "write_page"]


def write_page(path: Path, lines: Sequence[str]) -> Path:
    """Write ``lines`` joined by newlines to ``path`` atomically; returns ``path``."""
    from tpcml.core.rootio import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines))
    return Path(path)


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
