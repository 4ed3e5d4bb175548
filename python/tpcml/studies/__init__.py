"""The study protocol and registry: what ``tpcml run <study>`` and ``tpcml run all`` run.

A study is one paper reproduced end to end. It declares (:class:`Study`):

* its ``name`` (and ``aliases``: ``tpcml run accidental`` is the PandaX-II study), a one-line ``title`` and
  its :class:`Paper` (title and citation);
* its configurations: ``profiles`` maps ``"default"``, ``"quick"`` (``--quick``, a smoke run) and ``"full"``
  (``--full``, the paper's protocol) to the configuration values each sets, and ``configure(args, profile)``
  turns the parsed command line into the study's configuration object (an explicit option wins over the
  profile);
* its command-line options (``add_arguments``: only its own; ``--out``, ``--quick``, ``--full``, ``--seed``,
  ``--threads`` and ``--quiet`` are the CLI's, shared by every study);
* its ``steps`` (:class:`Step`, run in order on one :class:`Context`) and its ``report`` (writes the report
  page from the context and returns its path);
* optionally the other verbs it answers: ``simulate`` and ``plot`` (:class:`Verb`).

A registration may start with its verbs only (no ``steps``, ``configure`` or ``report`` yet: ``runnable`` is
False): ``tpcml simulate`` and ``tpcml plot`` offer it, ``tpcml run`` and ``run all`` do not until its steps are
added to the same registration (the LXe detectors: :mod:`tpcml.studies.lxe`).

Every subpackage of :mod:`tpcml.studies` registers its study on import (``register(Study(...))`` in its
``__init__``, or ``register(package_study(...))`` for a package with the usual ``cli``, ``study`` and
``study_report`` modules); :func:`studies` imports them all. Adding a study therefore touches its own folder
only. A test registers a study of its own with :func:`register` (and removes it with :func:`unregister`).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "PROFILES",
    "Context",
    "Paper",
    "Step",
    "Study",
    "Verb",
    "get",
    "lazy",
    "package_study",
    "profile_value",
    "register",
    "run",
    "studies",
    "unregister",
    "write_index",
]

PROFILES = ("default", "quick", "full")


@dataclass(frozen=True)
class Paper:
    """The paper a study reproduces: its title (help texts), its full citation (authors, title, journal and
    arXiv or DOI: what every report and index cites) and the short tag the code and reports use after it."""

    title: str
    citation: str
    short: str = ""  # the tag the code cites, e.g. "P2-DNN"

    def markdown(self) -> str:
        """The citation with the title in italics, and its short tag: ``A. Author, *Title*, J. 1 (2023) 1 (TAG)``."""
        text = self.citation.replace(self.title, f"*{self.title}*", 1)
        return f"{text} ({self.short})" if self.short else text


@dataclass
class Context:
    """What the steps of one run share: the configuration, the output folder, the progress printer, the
    timings of every step, and whatever a step leaves for the next ones in ``state``."""

    config: Any
    out: Path
    say: Callable[[str], None]
    timings: dict[str, float] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)  # perf_counter() at the start of the run


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Context], None]
    timing: str | None = None  # key of Context.timings (default: ``name``; "" for a step that times itself)


@dataclass(frozen=True)
class Verb:
    """A study's answer to ``tpcml simulate <study>`` or ``tpcml plot <study>``: its options and its job."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str = ""
    #: ``simulate`` only: the default of --detector and the help of --quick. Every ``tpcml simulate <study>`` has
    #: --out (required), --detector, --seed (default 1), --threads (default 0: all cores), --quick and -q.
    detector: str | None = None
    quick_help: str = "small sizes (a smoke run)"


@dataclass(frozen=True, eq=False)  # one study is one object: hashed and compared by identity
class Study:
    name: str
    title: str
    paper: Paper | None
    configure: Callable[[argparse.Namespace, str], Any] | None = None
    steps: Sequence[Step] = ()
    report: Callable[[Context], Path] | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    profile_help: Mapping[str, str] = field(default_factory=dict)  # help of --quick / --full
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    default_out: str | None = None  # default of --out (``tpcml-<name>``)
    seed: int = 1  # default of --seed
    threads: int = 2  # default of --threads
    log_name: str | None = None  # the job name of its progress lines (default: ``name``)
    simulate: Verb | None = None
    plot: Verb | None = None

    def out_default(self) -> str:
        return self.default_out or f"tpcml-{self.name}"

    @property
    def runnable(self) -> bool:
        """Whether ``tpcml run <study>`` can run it: it has steps, a configuration and a report."""
        return bool(self.steps) and self.configure is not None and self.report is not None


def lazy(module: str, name: str) -> Callable[..., Any]:
    """A function calling ``module.name``, imported on first call: a study registers its steps, options and
    report without importing NumPy-heavy modules or TensorFlow."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


def package_study(
    package: str,
    *,
    steps: Sequence[tuple[str, str] | tuple[str, str, str | None]],
    simulate: Mapping[str, Any] | None = None,
    plot: Mapping[str, Any] | None = None,
    **fields: Any,
) -> Study:
    """A :class:`Study` laid out as a package of the usual modules, all imported lazily: ``<package>.cli`` has its
    ``add_run_arguments`` and ``configure`` (and, for the verbs given, ``add_simulate_arguments`` / ``simulate``
    and ``add_plot_arguments`` / ``plot``), ``<package>.study`` its steps and ``<package>.study_report`` its
    ``report``.

    ``steps`` lists ``(step name, function of <package>.study[, timing])``; ``simulate`` and ``plot``, where given,
    are the other fields of their :class:`Verb`; ``fields`` are the Study's own (name, title, paper, ...).
    """
    cli, study = f"{package}.cli", f"{package}.study"

    def verb(name: str, options: Mapping[str, Any] | None) -> Verb | None:
        if options is None:
            return None
        return Verb(add_arguments=lazy(cli, f"add_{name}_arguments"), run=lazy(cli, name), **options)

    return Study(
        add_arguments=lazy(cli, "add_run_arguments"),
        configure=lazy(cli, "configure"),
        steps=tuple(Step(name, lazy(study, function), *timing) for name, function, *timing in steps),
        report=lazy(f"{package}.study_report", "report"),
        simulate=verb("simulate", simulate),
        plot=verb("plot", plot),
        **fields,
    )


_REGISTRY: dict[str, Study] = {}
_DISCOVERED = False


def register(study: Study) -> Study:
    """Add ``study`` to the registry (its name and aliases must be free); returns it."""
    for key in (study.name, *study.aliases):
        owner = _REGISTRY.get(key)
        if owner is not None and owner.name != study.name:
            raise ValueError(f"study name {key!r} is taken by study {owner.name!r}")
    if study.name in _REGISTRY and _REGISTRY[study.name] is not study:
        raise ValueError(f"a study named {study.name!r} is already registered")
    if study.name == "all":
        raise ValueError("'all' is the verb that runs every study, not a study name")
    _REGISTRY[study.name] = study
    for alias in study.aliases:
        _REGISTRY[alias] = study
    return study


def unregister(name: str) -> None:
    """Remove the study ``name`` (and its aliases) from the registry: for tests."""
    study = _REGISTRY.get(name)
    if study is None:
        return
    for key in (study.name, *study.aliases):
        _REGISTRY.pop(key, None)


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            importlib.import_module(f"{__name__}.{info.name}")


def studies(runnable: bool = False) -> list[Study]:
    """Every registered study once (aliases folded), in registration order; with ``runnable`` only those
    ``tpcml run`` can run."""
    _discover()
    seen: dict[str, Study] = {}
    for s in _REGISTRY.values():
        seen.setdefault(s.name, s)
    return [s for s in seen.values() if s.runnable or not runnable]


def get(name: str) -> Study:
    """The study called ``name`` (or one of its aliases); KeyError names the known ones."""
    _discover()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"no study {name!r}; known: {known}") from None


def profile_value(args: argparse.Namespace, name: str, profiles: Mapping[str, Mapping[str, Any]], profile: str):
    """``args.<name>`` if the user gave it, else the value the profile (falling back to ``"default"``) sets."""
    given = getattr(args, name, None)
    if given is not None:
        return given
    table = profiles.get(profile, profiles.get("default", {}))
    return table[name] if name in table else profiles["default"][name]


def run(study: Study, config: Any, out: Path, quiet: bool = False) -> Context:
    """Run ``study``'s steps in order into ``out`` with ``config``, then its report; returns the context
    (``ctx.results["report"]`` is the report's path)."""
    from tpcml.report.progress import printer

    out = Path(out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(config=config, out=out, say=printer(study.log_name or study.name, quiet))
    try:
        for step in study.steps:
            t0 = time.perf_counter()
            step.run(ctx)
            key = step.name if step.timing is None else step.timing
            if key:
                ctx.timings[key] = time.perf_counter() - t0
    except BaseException:
        if created and not any(out.iterdir()):
            out.rmdir()  # a failed run leaves no empty output directory behind
        raise
    report = study.report(ctx)
    ctx.results.setdefault("report", str(report))
    return ctx


def write_index(out: Path, reports: Sequence[tuple[Study, Path | None, str]]) -> Path:
    """``out/index.md``: one line per study with its paper and a link to its report (relative to ``out``),
    or why it has none. ``reports``: (study, report path or None, note)."""
    from tpcml.report.markdown import write_page

    out = Path(out)
    lines = ["# tpcml studies", "", "| study | paper | report |", "|---|---|---|"]
    for study, report, note in reports:
        paper = study.paper.markdown() if study.paper else "-"
        if report is not None:
            rel = Path(report).resolve().relative_to(out.resolve()) if _inside(report, out) else Path(report)
            link = f"[{rel.as_posix()}]({rel.as_posix()})"
        else:
            link = note or "not run"
        lines.append(f"| {study.name}: {study.title} | {paper} | {link} |")
    return write_page(out / "index.md", [*lines, ""])


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False
