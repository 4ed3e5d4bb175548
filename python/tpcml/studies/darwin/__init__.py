"""DARWIN model-independent anomaly search (DARWIN-VAE): the event vector built in C++ (tpcml::EventVectorBuilder),
a VAE trained on ER and an ER-vs-NR classifier, the anomaly score TS = -ELBO + R H_B computed event by event in
C++ inside RDataFrame from the exported ONNX graphs, and the extended-Poisson pseudo-experiments of
:mod:`tpcml.stats` (sensitivity vs exposure, the binned (cS1, cS2) likelihood beside it).

``tpcml run darwin`` is the run of the ``darwin`` registration of :mod:`tpcml.studies.lxe` (which also owns
``tpcml simulate darwin`` and ``tpcml plot darwin``); this package holds its steps (:mod:`.study`), options
(:mod:`.cli`), models (:mod:`.models`), the C++ score (:mod:`.score`, tpcml::AnomalyScore) and report
(:mod:`.study_report`).
"""

from __future__ import annotations

__all__ = ["PROFILES", "RUN"]

#: the configurations of ``tpcml run darwin``. default: minutes on 2 CPU cores; quick: a smoke run; full: the
#: paper's scale (DARWIN-VAE Sec. 3.3: 2 x 10^4 ER and NR training events, 30 % held out; Sec. 3.2: 10^4 ER and
#: 10^4 NR background events; Sec. 3.4: 10^4 pseudo-experiments under H0 and H1). An option given wins.
PROFILES = {
    "default": {
        "train_events": 4000,  # per class (paper: 2 x 10^4, Sec. 3.3)
        "background_events": 4000,  # per class ER / NR (paper: 10^4 each, Sec. 3.2)
        "epochs": 15,
        "experiments": 2000,  # paper: 10^4 (Sec. 3.4)
        "exposures": "20,50,100,200,400",
        "grid": True,  # Fig. 4 right, coarse: 5 masses x 6 cross-sections
    },
    "quick": {
        "train_events": 500,
        "background_events": 600,
        "epochs": 3,
        "experiments": 200,
        "exposures": "50,200",
        "grid": False,
    },
    "full": {
        "train_events": 20000,
        "background_events": 10000,
        "epochs": 40,  # paper: ~40 s at ~1 s/epoch for the VAE (Sec. 3.3)
        "experiments": 10000,
        "exposures": "10,20,50,100,150,200,300,400,600",
        "grid": True,
    },
}


def _run_fields() -> dict:
    from tpcml.studies import Step, lazy

    study = "tpcml.studies.darwin.study"
    steps = ("simulation", "vectors", "training", "export", "score", "statistics")
    return {
        "configure": lazy("tpcml.studies.darwin.cli", "configure"),
        "add_arguments": lazy("tpcml.studies.darwin.cli", "add_run_arguments"),
        "steps": tuple(Step(s, lazy(study, f"step_{s}")) for s in steps),
        "report": lazy("tpcml.studies.darwin.study_report", "report"),
        "profiles": PROFILES,
        "profile_help": {
            "quick": "a smoke run: 500 ER + 500 NR training events, 3 epochs, 200 pseudo-experiments",
            "full": "the paper's scale: 2 x 10^4 ER and NR training events, 10^4 pseudo-experiments, (m, sigma) grid",
        },
        "description": "DARWIN-VAE end to end: DARWIN ER/NR training events (uniform 1-100 keV, N4T200 trigger, 31.5 t "
        "FV), event vectors in C++, a VAE on ER and an ER/NR classifier, TS = -ELBO + R H_B in C++ inside RDataFrame "
        "from the ONNX graphs, the background components and WIMPs at their expected rates, extended-Poisson "
        "pseudo-experiments: median sensitivity vs exposure, and the binned (cS1, cS2) likelihood beside it.",
        "threads": 2,
    }


RUN = _run_fields()
