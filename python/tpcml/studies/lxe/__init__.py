"""The LXe TPC studies of XENON1T, XENONnT and DARWIN: one registration per detector, sharing its verbs.

Each detector of :data:`DETECTORS` is registered once, by :func:`lxe_study`, with the verbs every LXe study
answers the same way:

* ``tpcml simulate <detector> --source KIND ...``: the LXe engine's events (``Simulator.detector_events``: S1/S2
  features, per-PMT hit patterns and peak waveforms, truth) of one event source (:mod:`tpcml.sim.sources`) into
  one ROOT file (:mod:`tpcml.studies.lxe.cli`, :mod:`tpcml.studies.lxe.events`);
* ``tpcml plot <detector> event-display|bands --file F``: the X1T-CNN Fig. 3 analogue (hit patterns of both
  arrays on the real PMT positions and the S1/S2 peak waveforms) and the ER/NR bands
  (:mod:`tpcml.studies.lxe.plots`).

A run configuration is a positional alias (``tpcml simulate xenon1t:sr0`` = ``tpcml simulate xenon1t --detector
xenon1t:sr0``; see docs/detector-format.md).

The end-to-end studies of the three papers (``tpcml run xenon1t`` and the others) extend these registrations:
they pass their ``steps``, ``configure``, ``report`` (and run options) to :func:`lxe_study` here -- e.g.
``**package_run("tpcml.studies.lxe.xenon1t")`` -- so that the simulate and plot verbs stay one. Until then the
registrations have verbs only (``Study.runnable`` is False: ``tpcml run`` does not list them).
"""

from __future__ import annotations

import functools
from typing import Any

from tpcml.studies import Paper, Study, Verb, lazy, register

__all__ = ["DETECTORS", "STUDIES", "lxe_study"]

_CLI = "tpcml.studies.lxe.cli"

#: the detectors registered here: (title, run configurations offered as positional aliases, paper)
DETECTORS: dict[str, tuple[str, tuple[str, ...], Paper]] = {
    "xenon1t": (
        "XENON1T: per-PMT hit patterns and S1/S2 waveforms (X1T-CNN)",
        ("sr0", "sr1"),  # data/detectors/xenon1t.toml [runs.sr0], [runs.sr1]
        Paper(
            # title and authors from the paper's title page (../shared/papers/xenon1t-cnn-hitpeak.md)
            title="Convolutional Neural Networks for Direct Detection of Dark Matter",
            citation="C. K. Khosa, L. Mars, J. Richards and V. Sanz, Convolutional Neural Networks for Direct "
            "Detection of Dark Matter",
            short="X1T-CNN",
        ),
    ),
    "xenonnt": (
        "XENONnT: semi-supervised dark-matter search on S1/S2 data (nT-CVAE)",
        (),
        Paper(
            # title and authors from the paper's title page (../shared/papers/xenonnt-cvae-semisupervised.md)
            title="A semi-supervised approach to dark matter searches in direct detection data with machine learning",
            citation="J. Herrero-Garcia, R. Patrick and A. Scaffidi, A semi-supervised approach to dark matter "
            "searches in direct detection data with machine learning",
            short="nT-CVAE",
        ),
    ),
    "darwin": (
        "DARWIN: model-independent anomaly search with deep learning (DARWIN-VAE)",
        (),
        Paper(
            # title and collaboration from the paper's title page (../shared/papers/darwin-vae-anomaly.md)
            title="Model-independent searches of new physics in DARWIN with deep learning",
            citation="DARWIN collaboration (J. Aalbers et al.), Model-independent searches of new physics in DARWIN "
            "with deep learning",
            short="DARWIN-VAE",
        ),
    ),
}


@functools.cache  # one Verb object per detector, whichever registration asks
def _simulate_verb(detector: str) -> Verb:
    return Verb(
        help=f"{detector}: LXe events (hit patterns, peak waveforms, cS1/cS2) of one event source",
        description=f"Simulate {detector} events of one source (--source) with tpcml's LXe engine: NEST quanta, the "
        "detector's optics on its PMT positions, digitised S1/S2 peaks; the events that trigger with an S1 and an "
        "S2 are written to OUT/<detector>[_<run>]_<source>.root (tree `events`: features, per-PMT areas, peak "
        "waveforms, truth; tree `pmt_waveforms` with --pmt-waveforms K). --events N generates N interactions in "
        "the fiducial volume; --exposure T draws a Poisson number for T t*y and prints the expected counts of "
        "every background component.",
        add_arguments=lazy(_CLI, "add_simulate_arguments"),
        run=lazy(_CLI, "simulate"),
        detector=detector,
        quick_help="100 events (a smoke run)",
    )


@functools.cache
def _plot_verb(detector: str) -> Verb:
    return Verb(
        help=f"{detector}: event display (X1T-CNN Fig. 3 analogue) or ER/NR bands of a simulated file",
        description="event-display: the S1 and S2 hit patterns of the top and bottom PMT arrays on the real PMT "
        "positions (area per PMT, log colour scale) and the S1 and S2 peak waveforms (summed, top, bottom) of one "
        "event of a `tpcml simulate` file; bands: the ER (and, with --file-nr, NR) band in (cS1, log10 cS2_bottom) "
        "with the per-bin median and the 16/84 % quantiles.",
        add_arguments=lazy(_CLI, "add_plot_arguments"),
        run=lazy(_CLI, "plot"),
    )


def lxe_study(detector: str, **run: Any) -> Study:
    """The registration of the LXe detector ``detector`` (a key of :data:`DETECTORS`): its simulate and plot verbs,
    its run configurations as aliases, and ``run`` -- the Study fields of its end-to-end run (``steps``,
    ``configure``, ``report``, ``add_arguments``, ``description``, ``profiles`` ...) once it has one."""
    title, runs, paper = DETECTORS[detector]
    return Study(
        name=detector,
        title=title,
        paper=paper,
        aliases=tuple(f"{detector}:{r}" for r in runs),
        simulate=_simulate_verb(detector),
        plot=_plot_verb(detector),
        **run,
    )


#: the packages whose ``RUN`` dict gives a detector's ``tpcml run`` fields (steps, configure, report, ...); each
#: package's __init__ imports no NumPy/TensorFlow
RUNS: dict[str, str] = {
    "xenon1t": "tpcml.studies.xenon1t",
    "xenonnt": "tpcml.studies.xenonnt",
    "darwin": "tpcml.studies.darwin",
}


def _run_fields(detector: str) -> dict[str, Any]:
    """The end-to-end run fields of ``detector`` (``<package>.RUN`` of :data:`RUNS`; none: verbs only)."""
    import importlib

    package = RUNS.get(detector)
    return dict(importlib.import_module(package).RUN) if package else {}


STUDIES = {name: register(lxe_study(name, **_run_fields(name))) for name in DETECTORS}
