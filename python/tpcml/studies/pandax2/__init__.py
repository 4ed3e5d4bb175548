"""PandaX-II accidental-background study (P2-DNN): selection, BDT baseline, the MLP study, plots and report.

Registers the study ``pandax2`` (alias ``accidental``: ``tpcml run accidental``) with :mod:`tpcml.studies`;
``tpcml simulate pandax2`` and ``tpcml plot pandax2`` are its other verbs. The LXe simulation it runs is
:mod:`tpcml.sim.lxe` (``Simulator``, ``Sizes`` and ``simulate_dataset`` stay importable from here).
"""

from __future__ import annotations

import importlib
from typing import Any

from tpcml.studies import Paper, package_study, register

__all__ = ["PROFILES", "STUDY", "Simulator", "Sizes", "selection", "simulate_dataset"]


#: the configurations of ``tpcml run pandax2``: default (about 10 minutes on 2 CPU cores), --quick (a smoke
#: run) and --full (P2-DNN Sec. 4: all 18 Table 2 architectures, 100 trainings each, at most 1500 epochs,
#: patience 20); an option given on the command line wins
PROFILES = {
    "default": {
        "architectures": ("4A", "4C", "5C"),
        "u_architectures": ("4C",),
        "replicas": 10,
        "max_epochs": 1500,
        "patience": 20,
    },
    "quick": {"architectures": ("4C",), "u_architectures": ("4C",), "replicas": 4, "max_epochs": 100, "patience": 10},
    "full": {
        "architectures": "all",
        "u_architectures": ("4C", "4E"),
        "replicas": 100,
        "max_epochs": 1500,
        "patience": 20,
    },
}

STUDY = register(
    package_study(
        "tpcml.studies.pandax2",
        name="pandax2",
        aliases=("accidental",),
        log_name="accidental",
        title="PandaX-II accidental background: MLPs vs BDT (P2-DNN Sec. 4), the main job",
        paper=Paper(
            title="Suppression of accidental backgrounds with deep neural networks in the PandaX-II experiment",
            # authors and title from the paper's title page; journal and arXiv from its publication record
            citation="N. Shaheed, X. Chen and M. Wang, Suppression of accidental backgrounds with deep neural "
            "networks in the PandaX-II experiment, JINST 18 (2023) T06002, arXiv:2303.05088",
            short="P2-DNN",
        ),
        description="Simulate the PandaX-II samples (or read yours with --data), select (P2-DNN Sec. 3), train "
        "the Table 2 MLPs N times each with early stopping in both training strategies (original: NR below the NR "
        "median; 'u': all NR) and the BDT baseline, maximise the significance S (Eq. 4.1), measure the ER "
        "efficiency vs qS1, select models as the paper does, export them to ONNX and score the dark-matter-search "
        "run with tpcml's C++ engine inside RDataFrame; write report.md (Table 2 and 3 analogues, Figs. 1-5), "
        "results.json, the ONNX models and the scored ROOT files. Defaults finish in about 10 minutes on 2 CPU "
        "cores; --full runs the paper's protocol (all 18 architectures x 100 trainings, hours).",
        profiles=PROFILES,
        profile_help={
            "quick": "small samples and few trainings (a smoke run, ~1-2 min)",
            "full": "the paper's protocol: all of Table 2, 100 trainings each",
        },
        default_out="tpcml-accidental",
        steps=(
            ("data", "step_data"),
            ("mlp_training", "step_mlps"),
            ("bdt", "step_bdts"),
            ("separability", "step_separability"),
            ("export_and_inference", "step_export"),
            ("search_run", "step_search_run", ""),
        ),
        simulate=dict(
            help="PandaX-II NR/ER calibration, isolated S1/S2, accidentals, search run",
            description="NR calibration (neutron-like recoils), ER calibration (flat beta-like), isolated S1 and S2 "
            "populations, C++-paired accidentals below the NR median, and a Run-11-like dark-matter search run (ER "
            "background + Poisson accidentals, optional WIMPs). Quanta from NEST (nestpy); detector response from "
            "the registry (docs/event-model.md). Default sizes follow P2-DNN: 10,881 NR and 43,719 accidentals "
            "after cuts.",
            detector="pandax2",
            quick_help="small sizes (a smoke run of a few seconds)",
        ),
        plot=dict(
            help="Fig. 1 analogue and the 13 Table 1 feature distributions",
            description="log10(qS2/qS1) vs qS1 with the NR median (P2-DNN Fig. 1 analogue) and accidental-vs-NR "
            "distributions of the 13 Table 1 features.",
        ),
    )
)


def __getattr__(name: str) -> Any:
    if name in ("Simulator", "Sizes", "simulate_dataset"):
        return getattr(importlib.import_module("tpcml.sim.lxe"), name)
    if name == "selection":
        return importlib.import_module("tpcml.studies.pandax2.selection")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
