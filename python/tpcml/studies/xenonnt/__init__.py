"""XENONnT semi-supervised anomaly study (nT-CVAE): HitPeak images of ER background and WIMP NR events of the
xenonnt model, the paper's CVAE (trained on ER only) and CNN, the anomaly score TS = (SSE + beta KL) + R H_B
(Eqs. 10-11), the Pearson chi2 / Wilks p-value (Eqs. 12-13) vs R and vs exposure, the 5 sigma contour, ONNX export
and TS from tpcml's C++ engine.

``tpcml run xenonnt``: this package gives the run fields (:data:`RUN`) to the xenonnt registration of
:mod:`tpcml.studies.lxe` (which keeps ``tpcml simulate xenonnt`` and ``tpcml plot xenonnt``).
"""

from __future__ import annotations

from tpcml.studies import Step, lazy

__all__ = ["PROFILES", "RUN"]

#: ``tpcml run xenonnt`` configurations. The paper (nT-CVAE Sec. IV A, VI B): 20,000 ER + 20,000 NR images, CVAE 200
#: epochs on 16,000 ER, test 4,000 (``full``). The CPU default is minutes on 2 cores: 2,000 ER and 2,000 WIMP
#: interactions, 15 CVAE and 6 CNN epochs; ``quick`` a smoke run. ``experiments``: Poisson pseudo-experiments
#: per hypothesis for the H0-calibrated p-values (tpcml's addition).
PROFILES = {
    "default": {"events": 2000, "epochs_cvae": 15, "epochs_cnn": 6, "experiments": 2000, "masses": "10,50,500,1000"},
    "quick": {"events": 240, "epochs_cvae": 2, "epochs_cnn": 2, "experiments": 200, "masses": "10,50,500,1000"},
    "full": {
        "events": 20000,
        "epochs_cvae": 200,
        "epochs_cnn": 20,
        "experiments": 10000,
        "masses": "10,20,50,100,200,500,1000",
    },
}

_PKG = "tpcml.studies.xenonnt"

#: the Study fields of ``tpcml run xenonnt`` (passed to ``tpcml.studies.lxe.lxe_study("xenonnt", **RUN)``)
RUN = {
    "description": "Simulate XENONnT ER background (er-background) and WIMP NR events (wimprates, 10-1000 GeV, "
    "sigma = 1e-45 cm2) with the LXe engine, draw them as 75 x 75 x 3 HitPeak images, train the paper's CVAE on "
    "ER only and the CNN ER vs NR, compute TS = (SSE + beta KL) + R H_B per event, scan R (Fig. 7), p-value vs "
    "exposure (Fig. 8), the 5 sigma contour at 50 GeV (Fig. 9), export to ONNX and check TS from tpcml's C++ "
    "engine. CPU default: 2,000 + 2,000 events, 15 CVAE / 6 CNN epochs (minutes); --full the paper's scale.",
    "profiles": PROFILES,
    "profile_help": {
        "quick": "a smoke run (240 + 240 events, 2 epochs each)",
        "full": "the paper's scale: 20,000 ER + 20,000 NR, 200 CVAE epochs (hours on a CPU)",
    },
    "default_out": "tpcml-xenonnt",
    "add_arguments": lazy(f"{_PKG}.cli", "add_run_arguments"),
    "configure": lazy(f"{_PKG}.cli", "configure"),
    "steps": (
        Step("simulation", lazy(f"{_PKG}.study", "step_simulation")),
        Step("training", lazy(f"{_PKG}.study", "step_training")),
        Step("anomaly", lazy(f"{_PKG}.study", "step_anomaly")),
        Step("export_and_inference", lazy(f"{_PKG}.study", "step_export")),
    ),
    "report": lazy(f"{_PKG}.study_report", "report"),
}
