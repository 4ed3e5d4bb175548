"""The PandaX-II accidental-background study end to end -- tpcml's main job (``tpcml run accidental``).

Reproduces *Suppression of accidental backgrounds with deep neural networks in the PandaX-II experiment*
(P2-DNN) Sec. 4 on tpcml's simulated PandaX-II data, or on a user's own
files of the same schema (docs/event-model.md):

1. data: ``tpcml simulate pandax2`` (NR and ER calibration, isolated S1/S2 populations, accidentals paired in C++,
   a dark-matter-search run) or the user's directory; the P2-DNN Sec. 3 selection and the NR median stored with
   the data;
2. training samples (Sec. 4): accidentals below the NR median (label 0) against NR calibration (label 1), either
   NR below the NR median (strategy ``below_median``, the original one of Table 2) or all NR (``all_nr``, the
   paper's "u" models 4Cu/4Eu); ER calibration is only used to evaluate. Each population is split once 80/10/10
   into training/validation/test (Sec. 3), so both strategies are tested on the same held-out events;
3. MLPs by the labels of Table 2, N independent trainings each (:func:`tpcml.ml.ensemble.train_ensemble`: own
   initialisation, shuffling and early stopping, patience 20, at most 1500 epochs, Adam 1e-3, binary
   cross-entropy, min-max scaling inside the model); the BDT baseline (:mod:`tpcml.studies.pandax2.bdt`) on the same
   splits;
4. metrics: S = eps_s n_s / sqrt(eps_s n_s + eps_b n_b) with n_s = n_b (Eq. 4.1) maximised over the cut, on the
   held-out NR below the NR median (signal) and accidentals (background) -- the region the paper evaluates for
   both strategies; ER efficiency vs qS1 on the ER calibration (Figs. 4-5) with Clopper-Pearson intervals;
5. model selection as the paper does: among the replicas of one architecture, the highest S among those whose ER
   efficiency is close to 100 % (:data:`ER_EFFICIENCY_OK`);
6. the search run (Table 3 analogue): BDT and selected MLPs applied to the DM-search run -- candidates before and
   after the cut, expected accidentals below the NR median before and after (weights n_acc / N of the paired
   sample, Eq. 2.1), NR efficiency below the median;
7. export of the selected MLPs to ONNX (tf2onnx, with the tpcml metadata) and scoring of the search run and the
   accidentals with tpcml's C++ engine inside RDataFrame; the scores are checked against the Keras/NumPy ones;
8. a report (Markdown) with the Table 2 and Table 3 analogues and the Figs. 1-5 analogues.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tpcml import _core
from tpcml.core import detectors
from tpcml.core.errors import InputError
from tpcml.stats.summary import moments
from tpcml.studies.pandax2 import PROFILES, selection

__all__ = [
    "DEFAULT_ARCHITECTURES",
    "FEATURES",
    "STRATEGIES",
    "Dataset",
    "StudyConfig",
    "load_dataset",
    "run_study",
]

#: P2-DNN Table 1: the 13 features, in the order every tpcml PandaX-II model takes them (the events schema of
#: C++, tpcml/pairing/EventSchema.h).
FEATURES = tuple(_core.FEATURES)
#: Training strategies (P2-DNN Sec. 4; the names of docs/event-model.md, tpcml.strategy).
STRATEGIES = {
    "below_median": "accidentals and NR below the NR median (P2-DNN Table 2, the original strategy)",
    "all_nr": 'accidentals below the NR median and all NR (P2-DNN Sec. 4, the "u" models 4Cu/4Eu)',
}
#: Table 2 architectures trained by default (2 CPU cores, <= 10 min for the whole job); --full: all of Table 2.
DEFAULT_ARCHITECTURES = PROFILES["default"]["architectures"]
#: Architectures also trained with the "u" strategy by default (P2-DNN: 4Cu, 4Eu; 4E is a GPU-sized network).
DEFAULT_U_ARCHITECTURES = PROFILES["default"]["u_architectures"]
#: A replica's ER efficiency counts as "close to 100 %" (P2-DNN Sec. 4, the selection of model 4C) when its
#: efficiency over the ER calibration in the S1 window is at least this, and at least ER_BIN_EFFICIENCY_OK in every
#: qS1 bin (our thresholds: the paper shows the curves, Figs. 4-5, and names no number).
ER_EFFICIENCY_OK = 0.98
ER_BIN_EFFICIENCY_OK = 0.9
#: qS1 bins of the efficiency curves: the S1 window of P2-DNN Sec. 3 (3-45 PE) in 3 PE bins (Figs. 4-5 use S1).
QS1_EDGES = np.arange(3.0, 45.0 + 1e-9, 3.0)
#: Split fractions (P2-DNN Sec. 3: 80/10/10).
SPLIT = (0.8, 0.1, 0.1)
#: Paper values the report compares with (P2-DNN Table 2, Table 3 and Sec. 2).
PAPER = {
    "bdt_significance": 26.2,
    "4C_significance": 26.90,
    "4C_stop_epoch": 131.7,
    "4Cu_significance": 26.82,
    "n_acc_below_median_before": 2.93,
    "n_acc_below_median_after_bdt": 0.77,
    "nr_efficiency_bdt": 0.907,
    "candidates": 708,
    "candidates_after_bdt": 693,
    "candidates_after_4c": 676,
    "candidates_after_4cu": 698,
}

FILES = {
    "nr": "nr_calibration.root",
    "er": "er_calibration.root",
    "acc": "accidentals.root",
    "dm": "dm_search.root",
}
#: the columns the study reads from each file (Table 1 features, the selection's drift time and position; the
#: accidental pairs' weight n_acc / N of Eq. 2.1)
_EVENT_COLUMNS = (*FEATURES, "drift_time", "x", "y")
DATA_COLUMNS = {"nr": _EVENT_COLUMNS, "er": _EVENT_COLUMNS, "acc": (*_EVENT_COLUMNS, "weight"), "dm": _EVENT_COLUMNS}


# ------------------------------------------------------------------------------------------------------------ data
@dataclass
class Dataset:
    """The selected samples of one study (columns as numpy arrays, all events passing the P2-DNN selection)."""

    directory: Path
    detector: detectors.DetectorConfig
    curve: object  # _core.NRMedianCurve
    curve_source: str  # where the curve came from (tpcml.nr_median.NRMedian.describe)
    nr: dict  # selected NR calibration
    er: dict  # selected ER calibration
    acc: dict  # selected accidental pairs below the NR median (with weight = n_acc / N)
    dm: dict | None  # selected DM-search events (None when the directory has no search run)
    n_acc_total: float | None  # n_acc of Eq. 2.1 (all pairs), when the file says
    hashes: dict[str, str]
    raw: dict = field(default_factory=dict)  # every event of each file, before the selection
    tree: str = "events"  # the tree of the files
    columns: dict = field(default_factory=dict)  # {tpcml name: the files' branch} (--column)

    @property
    def n_acc_below_median(self) -> float:
        """Expected accidentals below the NR median before any ML cut (sum of the pair weights)."""
        return float(np.sum(self.acc["weight"]))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _kinds(columns: Sequence[str]) -> dict[str, str]:
    """What each column must hold (tpcml.core.rootio.read_columns kinds): S1NPeaks any number, the rest floats."""
    return {c: "number" if c == "S1NPeaks" else "float" for c in columns}


def _read_events(path: Path, columns: Sequence[str], tree: str = "events", names=None) -> dict:
    """Float columns of ``tree`` (TTree or RNTuple; float or double, read as float32), ``names`` mapping tpcml names
    to the file's branches (tpcml.core.columns.read_aliased)."""
    from tpcml.core.columns import read_aliased

    cols = read_aliased(path, tree, _kinds(columns), names)
    out = {k: np.asarray(v) for k, v in cols.items()}
    for k in FEATURES:
        if k in out and not np.all(np.isfinite(out[k])):
            bad = np.flatnonzero(~np.isfinite(out[k]))
            raise InputError(
                f"{path}: branch {(names or {}).get(k, k)} has non-finite values at entries {bad[:5].tolist()}"
            )
    return out


def check_data(directory: str | os.PathLike, tree: str = "events", columns=None) -> dict[str, Path]:
    """The files of a ``--data`` directory, checked without reading their data (no TensorFlow needed): the
    required files exist, hold ``tree`` and the branches of :data:`DATA_COLUMNS` (through ``columns``, {tpcml
    name: branch}) as numbers. InputError names the file, the tree or branch and the nearest names."""
    from tpcml.core.columns import check_aliased

    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory (expected the output of `tpcml simulate pandax2`)")
    missing = [n for k, n in FILES.items() if k != "dm" and not (directory / n).is_file()]
    if missing:
        raise InputError(
            f"{directory}: missing {', '.join(missing)}; expected the output of "
            f"`tpcml simulate pandax2 --out {directory}` or files with the same names"
        )
    files = {k: directory / n for k, n in FILES.items() if (directory / n).is_file()}
    for k, path in files.items():
        check_aliased(path, tree, _kinds(DATA_COLUMNS[k]), columns)
    return files


def load_dataset(
    directory: str | os.PathLike,
    detector: str | None = None,
    *,
    tree: str = "events",
    columns=None,
    nr_median: str | os.PathLike | None = None,
) -> Dataset:
    """The selected samples of a directory written by ``tpcml simulate pandax2`` (or the user's own files with
    the same names, tree ``tree``, branches of :data:`DATA_COLUMNS` or their ``columns`` aliases): nr_calibration.root,
    er_calibration.root, accidentals.root (with ``weight`` = expected events per pair) and optionally dm_search.root.
    The NR median: :func:`tpcml.nr_median.resolve` (``nr_median`` file > the TGraph tpcml_nr_median of
    nr_calibration.root > fitted on the NR calibration)."""
    from tpcml.core.rootio import read_parameter, read_provenance
    from tpcml.nr_median import resolve

    columns = dict(columns or {})
    files = check_data(directory, tree, columns)
    directory = Path(directory)
    det_name, _ = read_provenance(files["nr"])
    det = detectors.load(detector or det_name or "pandax2")
    raw = {k: _read_events(path, DATA_COLUMNS[k], tree, columns) for k, path in files.items()}
    choice = resolve(nr_median, [files["nr"]], det, calibration=(str(files["nr"]), raw["nr"]))
    curve = choice.curve

    def sel(cols, below=False):
        m = selection.mask(cols, det, curve if below else None)
        return {k: v[m] for k, v in cols.items()}

    nr, er = sel(raw["nr"]), sel(raw["er"])
    acc = sel(raw["acc"], below=True)
    for name, cols, what in ((FILES["nr"], nr, "NR"), (FILES["er"], er, "ER"), (FILES["acc"], acc, "accidental")):
        if len(cols["qS1"]) < 50:
            raise InputError(
                f"{directory / name}: only {len(cols['qS1'])} {what} events pass the P2-DNN selection; at least 50 "
                "are needed to train and test"
            )
    hashes = {n: _sha256(directory / n) for n in FILES.values() if (directory / n).is_file()}
    return Dataset(
        directory=directory,
        detector=det,
        curve=curve,
        curve_source=choice.describe(),
        nr=nr,
        er=er,
        acc=acc,
        dm=sel(raw["dm"]) if "dm" in raw else None,
        n_acc_total=read_parameter(files["acc"], "tpcml_n_acc"),
        hashes=hashes,
        raw=raw,
        tree=tree,
        columns=columns,
    )


def features(cols: dict) -> np.ndarray:
    """The [N, 13] float32 feature matrix of Table 1."""
    return np.stack([np.asarray(cols[k], dtype=np.float32) for k in FEATURES], axis=1)


@dataclass
class Splits:
    """Index splits (train, validation, test) of the NR and accidental samples, and the NR below-median mask."""

    nr: tuple[np.ndarray, np.ndarray, np.ndarray]
    acc: tuple[np.ndarray, np.ndarray, np.ndarray]
    nr_below: np.ndarray  # [N_nr] bool


def make_splits(data: Dataset, seed: int) -> Splits:
    """80/10/10 splits drawn once per population (both strategies see the same held-out events)."""
    from tpcml.ml.splits import split_indices

    nr_below = np.asarray(data.curve.below(data.nr["qS1c"], data.nr["qS2c"]), dtype=bool)
    return Splits(
        nr=tuple(split_indices(len(data.nr["qS1"]), seed, SPLIT)),
        acc=tuple(split_indices(len(data.acc["qS1"]), seed + 1, SPLIT)),
        nr_below=nr_below,
    )


def training_arrays(data: Dataset, splits: Splits, strategy: str) -> dict[str, np.ndarray]:
    """x/y arrays of one strategy: train and validation from the strategy's populations, test always NR below the
    NR median (signal, 1) vs accidentals (background, 0)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    xn, xa = features(data.nr), features(data.acc)
    out = {}
    for part, k in (("train", 0), ("val", 1), ("test", 2)):
        ni, ai = splits.nr[k], splits.acc[k]
        if part == "test" or strategy == "below_median":
            ni = ni[splits.nr_below[ni]]
        out[f"x_{part}"] = np.concatenate([xn[ni], xa[ai]])
        out[f"y_{part}"] = np.concatenate([np.ones(len(ni), np.int8), np.zeros(len(ai), np.int8)])
    return out


# -------------------------------------------------------------------------------------------------------- config
@dataclass
class StudyConfig:
    """What one run of the study does (``tpcml run accidental --help`` documents each option)."""

    out: Path
    data_dir: Path | None = None  # user's files instead of a fresh simulation
    tree: str = "events"  # the tree of the data_dir files
    columns: dict = field(default_factory=dict)  # {tpcml name: branch of the data_dir files} (--column)
    nr_median: Path | None = None  # a file with the NR median TGraph (--nr-median)
    quick: bool = False
    seed: int = 1
    replicas: int = 10
    architectures: tuple[str, ...] = DEFAULT_ARCHITECTURES
    u_architectures: tuple[str, ...] = DEFAULT_U_ARCHITECTURES
    batch_size: int | None = None
    max_epochs: int = 1500
    patience: int = 20
    threads: int = 2
    sizes: object = None  # simulation.Sizes
    verbose: bool = True
    resume: bool = False  # load the finished models' checkpoints of an earlier run into the same out (--resume)

    def runs(self) -> list[tuple[str, str]]:
        """(architecture label, strategy) pairs, Table 2 order then the "u" models."""
        return [(a, "below_median") for a in self.architectures] + [(a, "all_nr") for a in self.u_architectures]


def label_of(arch: str, strategy: str) -> str:
    """Table 2 label of a trained model: 4C, or 4Cu for the all-NR strategy."""
    return arch + ("u" if strategy == "all_nr" else "")


# ------------------------------------------------------------------------------------------------------ training
@dataclass
class ModelResult:
    """One architecture x strategy: R replicas, their S on the test split and ER efficiencies."""

    label: str
    arch: str
    strategy: str
    hidden: tuple[int, ...]
    replicas: int
    significance: np.ndarray  # [R]
    threshold: np.ndarray  # [R]
    eps_s: np.ndarray
    eps_b: np.ndarray
    best_epoch: np.ndarray
    stopped_epoch: np.ndarray
    er_efficiency: np.ndarray  # [R] overall, S1 window
    er_curve: np.ndarray  # [R, bins]
    er_ok: np.ndarray  # [R] bool
    selected: int
    wall_time_s: float
    ensemble: object = field(repr=False, default=None)

    def row(self) -> dict:
        return {
            "label": self.label,
            "hidden": "x".join(map(str, self.hidden)),
            "strategy": self.strategy,
            "replicas": self.replicas,
            **moments("S_{}", self.significance, "mean", "std", "max"),
            **moments("{}_best_epoch", self.best_epoch, "mean"),
            **moments("{}_stopped_epoch", self.stopped_epoch, "mean"),
            **moments("er_eff_{}", self.er_efficiency, "mean", "min"),
            "er_ok_fraction": float(np.mean(self.er_ok)),
            "selected_replica": int(self.selected),
            "selected_S": float(self.significance[self.selected]),
            "selected_threshold": float(self.threshold[self.selected]),
            "selected_er_eff": float(self.er_efficiency[self.selected]),
            "wall_time_s": float(self.wall_time_s),
        }


def select_replica(significance: np.ndarray, er_ok: np.ndarray, er_eff: np.ndarray) -> int:
    """P2-DNN Sec. 4 model selection: highest S among replicas with ER efficiency close to 100 % (all replicas
    when none is, then the highest ER efficiency breaks ties within 0.1 % of it)."""
    idx = np.flatnonzero(er_ok)
    if len(idx) == 0:
        best_er = np.max(er_eff)
        idx = np.flatnonzero(er_eff >= best_er - 1e-3)
    return int(idx[np.argmax(significance[idx])])


def er_efficiencies(scores_er: np.ndarray, thresholds: np.ndarray, qs1: np.ndarray):
    """Overall and per-qS1-bin ER efficiency [R], [R, bins] of cuts ``thresholds`` [R] on ER scores [R, N]."""
    from tpcml.stats.metrics import efficiency_vs

    passed = scores_er >= thresholds[:, None]
    eff = efficiency_vs(qs1, passed, QS1_EDGES)
    overall = passed.mean(axis=1)
    curve = eff.efficiency
    ok = (overall >= ER_EFFICIENCY_OK) & np.all(np.nan_to_num(curve, nan=1.0) >= ER_BIN_EFFICIENCY_OK, axis=1)
    return overall, curve, ok, eff


def train_model(
    data: Dataset, splits: Splits, arch: str, strategy: str, cfg: StudyConfig, say: Callable[[str], None]
) -> ModelResult:
    from tpcml.ml import architectures
    from tpcml.ml.ensemble import DEFAULT_BATCH_SIZE, train_ensemble
    from tpcml.stats.metrics import best_cuts

    hidden = architectures.PANDAX2_MLP_LAYERS[arch.upper()]
    arr = training_arrays(data, splits, strategy)
    label = label_of(arch, strategy)
    say(
        f"training {label} ({'x'.join(map(str, hidden))}, {STRATEGIES[strategy].split(' (')[0]}): "
        f"{cfg.replicas} replicas on {len(arr['y_train'])} events"
    )
    t0 = time.perf_counter()

    def progress(info):
        say(
            f"  {label}: epoch {info['epoch']}, {info['n_running']}/{info['n_replicas']} replicas running, "
            f"{info['elapsed_s']:.0f} s"
        )

    ens = train_ensemble(
        arr["x_train"],
        arr["y_train"],
        arr["x_val"],
        arr["y_val"],
        hidden=hidden,
        n_replicas=cfg.replicas,
        seed=cfg.seed * 1000 + hash_label(label),
        batch_size=cfg.batch_size or DEFAULT_BATCH_SIZE,
        max_epochs=cfg.max_epochs,
        patience=cfg.patience,
        feature_names=list(FEATURES),
        callback=progress if cfg.verbose else None,
        progress_every=25,
    )
    test_scores = ens.predict(arr["x_test"])
    cuts = best_cuts(test_scores, arr["y_test"])
    er_scores = ens.predict(features(data.er))
    overall, curve, ok, _ = er_efficiencies(er_scores, cuts["threshold"], data.er["qS1"])
    sel = select_replica(cuts["significance"], ok, overall)
    res = ModelResult(
        label=label,
        arch=arch,
        strategy=strategy,
        hidden=hidden,
        replicas=cfg.replicas,
        significance=cuts["significance"],
        threshold=cuts["threshold"],
        eps_s=cuts["eps_s"],
        eps_b=cuts["eps_b"],
        best_epoch=ens.best_epoch,
        stopped_epoch=ens.stopped_epoch,
        er_efficiency=overall,
        er_curve=curve,
        er_ok=ok,
        selected=sel,
        wall_time_s=time.perf_counter() - t0,
        ensemble=ens,
    )
    r = res.row()
    say(
        f"  {label}: S = {r['S_mean']:.2f} +- {r['S_std']:.2f}, mean stop epoch {r['mean_best_epoch']:.1f}, "
        f"ER efficiency {r['er_eff_mean']:.3f} (close to 100 % for {r['er_ok_fraction'] * 100:.0f} % of the "
        f"replicas); selected replica {sel} (S = {r['selected_S']:.2f}) in {res.wall_time_s:.0f} s"
    )
    return res


def hash_label(label: str) -> int:
    """A small stable integer per model label (seeds differ between architectures, reproducibly)."""
    return int(hashlib.sha256(label.encode()).hexdigest()[:6], 16) % 997


@dataclass
class BDTSummary:
    strategy: str
    significance: float
    threshold: float
    eps_s: float
    eps_b: float
    n_trees: int
    er_efficiency: float
    er_curve: np.ndarray
    wall_time_s: float
    result: object = field(repr=False, default=None)


def train_bdt_baseline(data: Dataset, splits: Splits, strategy: str, cfg: StudyConfig, say) -> BDTSummary:
    from tpcml.studies.pandax2.bdt import train_bdt

    arr = training_arrays(data, splits, strategy)
    res = train_bdt(
        arr["x_train"],
        arr["y_train"],
        arr["x_val"],
        arr["y_val"],
        arr["x_test"],
        arr["y_test"],
        seed=cfg.seed,
        feature_names=list(FEATURES),
    )
    er_scores = res.predict(features(data.er))[None, :]
    overall, curve, _, _ = er_efficiencies(er_scores, np.array([res.cut.threshold]), data.er["qS1"])
    say(
        f"BDT ({strategy}): S = {res.cut.significance:.2f} at cut {res.cut.threshold:.3f} "
        f"(eps_NR {res.cut.eps_s:.3f}, eps_acc {res.cut.eps_b:.3f}), {res.n_trees} trees, "
        f"ER efficiency {overall[0]:.3f}"
    )
    return BDTSummary(
        strategy=strategy,
        significance=res.cut.significance,
        threshold=res.cut.threshold,
        eps_s=res.cut.eps_s,
        eps_b=res.cut.eps_b,
        n_trees=res.n_trees,
        er_efficiency=float(overall[0]),
        er_curve=curve[0],
        wall_time_s=res.wall_time_s,
        result=res,
    )


# ------------------------------------------------------------------------------------------------ export + infer
def training_fingerprint(data: Dataset, strategy: str, seed: int) -> str:
    """sha256 over the training inputs (docs/event-model.md Sec. 4: file hashes, selection, inputs, split, seed)."""
    from tpcml import __version__

    canonical = json.dumps(
        {
            "files": data.hashes,
            "tree": "events",
            "selection": [c.cpp for c in selection.cuts(data.detector)] + ["below_nr_median (accidentals)"],
            "strategy": strategy,
            "inputs": list(FEATURES),
            "split": list(SPLIT),
            "seed": seed,
            "tpcml": __version__,
        },
        sort_keys=True,
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def export_selected(model: ModelResult, data: Dataset, cfg: StudyConfig, out: Path) -> tuple[Path, float]:
    """The selected replica to ONNX with the tpcml metadata; returns the path and max |ONNX - Keras| on test data."""
    from tpcml.ml.export import keras_onnx_max_diff, to_onnx

    keras_model = model.ensemble.keras_model(model.selected, name=f"pandax2_mlp_{model.label}")
    path = out / f"mlp_{model.label}.onnx"
    to_onnx(
        keras_model,
        path,
        metadata={
            "tpcml.inputs": list(FEATURES),
            "tpcml.working_point": f"{float(model.threshold[model.selected]):.9g}",
            "tpcml.strategy": model.strategy,
            "tpcml.training_fingerprint": training_fingerprint(data, model.strategy, cfg.seed),
            "tpcml.detector": data.detector.name,
            "tpcml.model": model.label,
            "tpcml.significance": float(model.significance[model.selected]),
        },
    )
    x = features(data.er)[:2000]
    return path, float(keras_onnx_max_diff(keras_model, path, x))


def score_with_engine(model_path: Path, src: Path, dst: Path, threads: int, data: Dataset | None = None) -> None:
    """The search run / accidentals scored in RDataFrame by tpcml's C++ ONNX engine (tpcml-infer's function), from
    the tree and branches of ``data``'s files."""
    from tpcml.inference import score_files

    tree, names = (data.tree, data.columns) if data is not None else ("events", {})
    cols = [names.get(c, c) for c in FEATURES]
    score_files([src], model_path, dst, tree=tree, columns=cols, name="score", threads=threads)


# -------------------------------------------------------------------------------------------------- search run
def search_run_row(
    name: str,
    scores_dm: np.ndarray | None,
    threshold: float,
    eps_b_test: float,
    nr_eff_below: float,
    significance: float,
    data: Dataset,
) -> dict:
    """Table 3 analogue for one classifier: S, candidates before/after, expected accidentals below the NR median
    before/after the cut (before: sum of the pair weights n_acc / N; after: times the held-out accidental
    efficiency), NR efficiency below the NR median (held-out NR)."""
    before = data.n_acc_below_median
    row = {
        "method": name,
        "significance": float(significance),
        "threshold": float(threshold),
        "n_acc_below_median_before": before,
        "n_acc_below_median_after": before * float(eps_b_test),
        "nr_efficiency_below_median": float(nr_eff_below),
    }
    if scores_dm is not None and data.dm is not None:
        row["candidates"] = len(scores_dm)
        row["candidates_after"] = int(np.sum(scores_dm >= threshold))
        below = np.asarray(data.curve.below(data.dm["qS1c"], data.dm["qS2c"]), dtype=bool)
        row["candidates_below_median"] = int(below.sum())
        row["candidates_below_median_after"] = int(np.sum(below & (scores_dm >= threshold)))
    return row


# ---------------------------------------------------------------------------------------------------- the steps
# The study's steps (registered in tpcml.studies.pandax2): each reads and extends ``ctx.state``.
def step_data(ctx) -> None:
    """Simulate the samples (or read ``cfg.data_dir``), select them and split each population once."""
    from tpcml.sim import lxe as simulation

    cfg = ctx.config
    if cfg.data_dir is None and cfg.resume and (ctx.out / "data" / "dataset.json").is_file():
        data_dir = ctx.out / "data"  # the killed run's samples (their hashes are checked against each checkpoint)
        ctx.say(f"resuming with the samples in {data_dir}")
    elif cfg.data_dir is None:
        data_dir = ctx.out / "data"
        sizes = cfg.sizes or (simulation.Sizes.quick() if cfg.quick else simulation.Sizes())
        ctx.say(f"simulating the PandaX-II samples into {data_dir} (seed {cfg.seed})")
        simulation.simulate_dataset(data_dir, sizes, seed=cfg.seed, threads=cfg.threads, quiet=not cfg.verbose)
    else:
        data_dir = Path(cfg.data_dir)
        ctx.say(f"using the samples in {data_dir}")
    data = load_dataset(data_dir, tree=cfg.tree, columns=cfg.columns, nr_median=cfg.nr_median)
    ctx.say(data.curve_source)
    ctx.say(
        f"selected: {len(data.nr['qS1'])} NR, {len(data.er['qS1'])} ER, {len(data.acc['qS1'])} accidentals below "
        f"the NR median (expected {data.n_acc_below_median:.2f} in the run)"
        + (f", {len(data.dm['qS1'])} search-run candidates" if data.dm is not None else "")
    )
    ctx.state["data"], ctx.state["splits"] = data, make_splits(data, cfg.seed)


def step_mlps(ctx) -> None:
    """The MLPs of Table 2, ``cfg.replicas`` trainings each, in both strategies."""
    from tpcml.ml.backend import configure_tensorflow

    configure_tensorflow(ctx.config.threads)
    data, splits = ctx.state["data"], ctx.state["splits"]
    ctx.state["models"] = [checkpointed_model(data, splits, a, s, ctx) for a, s in ctx.config.runs()]


def checkpointed_model(data: Dataset, splits: Splits, arch: str, strategy: str, ctx) -> ModelResult:
    """One model of the scan: with ``--resume`` its checkpoint when one was written under the same training key
    (:mod:`tpcml.studies.pandax2.checkpoint`; another key is refused), else trained and checkpointed atomically."""
    from tpcml.ml import architectures
    from tpcml.studies.pandax2 import checkpoint

    cfg = ctx.config
    key = checkpoint.training_key(data, strategy, architectures.PANDAX2_MLP_LAYERS[arch.upper()], cfg)
    if cfg.resume:
        done = checkpoint.load(ctx.out, label_of(arch, strategy), key)
        if done is not None:
            ctx.say(f"resumed {done.label} from {checkpoint.checkpoint_path(ctx.out, done.label)}")
            return done
    model = train_model(data, splits, arch, strategy, cfg, ctx.say)
    checkpoint.save(ctx.out, model, key)
    return model


def step_bdts(ctx) -> None:
    """The BDT baseline in both strategies."""
    data, splits = ctx.state["data"], ctx.state["splits"]
    ctx.state["bdts"] = {s: train_bdt_baseline(data, splits, s, ctx.config, ctx.say) for s in STRATEGIES}


def step_separability(ctx) -> None:
    """The separability table of issue 17 (:mod:`tpcml.studies.pandax2.separability`): single-feature AUCs and the
    300-tree BDT's accidental fraction kept at the paper's 90.7 % NR efficiency, NR and accidentals below the NR
    median."""
    from tpcml.studies.pandax2 import separability

    data, splits = ctx.state["data"], ctx.state["splits"]
    nr_below = {k: np.asarray(v)[splits.nr_below] for k, v in data.nr.items() if k in FEATURES}
    table = separability.separability(nr_below, data.acc, FEATURES, seed=ctx.config.seed)
    ctx.say(
        f"separability: the 300-tree BDT keeps {table.bdt.kept_fraction * 100:.1f} % of the accidentals at "
        f"{table.bdt.nr_efficiency * 100:.1f} % NR efficiency ({table.bdt_charges.kept_fraction * 100:.1f} % with "
        f"the charges alone; paper {table.paper_kept_fraction * 100:.1f} %)"
    )
    ctx.state["separability"] = table.as_dict()


def step_export(ctx) -> None:
    """Export the selected MLPs to ONNX and score the search run with the C++ engine inside RDataFrame."""
    cfg, data, models = ctx.config, ctx.state["data"], ctx.state["models"]
    selected = {}
    for strategy in STRATEGIES:
        cands = [m for m in models if m.strategy == strategy]
        if not cands:
            continue
        # the paper selects within model 4C (4Cu for the "u" strategy); else the best-S architecture
        pick = next((m for m in cands if m.arch.upper() == "4C"), max(cands, key=lambda m: m.row()["selected_S"]))
        selected[strategy] = pick
    exports = {}
    for m in selected.values():
        path, diff = export_selected(m, data, cfg, ctx.out)
        exports[m.label] = {"path": str(path), "max_abs_diff_onnx_keras": diff}
        ctx.say(f"exported {m.label} replica {m.selected} to {path.name} (max |ONNX - Keras| = {diff:.2g})")
        if data.dm is not None and (data.directory / FILES["dm"]).is_file():
            scored = ctx.out / f"dm_search_scored_{m.label}.root"
            score_with_engine(path, data.directory / FILES["dm"], scored, cfg.threads, data)
            exports[m.label]["scored_file"] = str(scored)
    ctx.state["selected"], ctx.state["exports"] = selected, exports


def step_search_run(ctx) -> None:
    """The Table 3 analogue: the BDT and the selected MLPs on the dark-matter-search run."""
    data, splits, bdts = ctx.state["data"], ctx.state["splits"], ctx.state["bdts"]
    exports = ctx.state["exports"]
    table3 = []
    xs = features(data.nr)[splits.nr[2]]
    nr_test_below = splits.nr_below[splits.nr[2]]
    bdt0 = bdts["below_median"]
    dm_scores_bdt = bdt0.result.predict(features(data.dm)) if data.dm is not None else None
    nr_eff_bdt = float(np.mean(bdt0.result.predict(xs[nr_test_below]) >= bdt0.threshold))
    table3.append(search_run_row("BDT", dm_scores_bdt, bdt0.threshold, bdt0.eps_b, nr_eff_bdt, bdt0.significance, data))
    dm_checks = {}
    for m in ctx.state["selected"].values():
        r = m.selected
        thr = float(m.threshold[r])
        dm_scores = None
        if data.dm is not None:
            dm_scores = m.ensemble.predict(features(data.dm), replicas=[r])[0]
            scored = exports[m.label].get("scored_file")
            if scored:
                dm_checks[m.label] = _engine_vs_numpy(Path(scored), data, dm_scores)
        nr_eff = float(np.mean(m.ensemble.predict(xs[nr_test_below], replicas=[r])[0] >= thr))
        table3.append(
            search_run_row(f"MLP {m.label}", dm_scores, thr, float(m.eps_b[r]), nr_eff, float(m.significance[r]), data)
        )
    for row in table3:
        ctx.say(
            f"search run, {row['method']}: "
            + (
                f"{row.get('candidates_after', '-')} of {row.get('candidates', '-')} candidates survive; "
                if "candidates" in row
                else ""
            )
            + f"accidentals below the NR median {row['n_acc_below_median_before']:.2f} -> "
            f"{row['n_acc_below_median_after']:.2f} at NR efficiency {row['nr_efficiency_below_median'] * 100:.1f} %"
        )
    ctx.state["table3"], ctx.state["dm_checks"] = table3, dm_checks


def results_of(ctx) -> dict:
    """Every number of the run (``results.json``), from the steps' state."""
    cfg, data, splits = ctx.config, ctx.state["data"], ctx.state["splits"]
    nr_test_below = splits.nr_below[splits.nr[2]]
    return {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items() if k != "sizes"},
        "data": {
            "directory": str(data.directory),
            "detector": data.detector.name,
            "nr_median": data.curve_source,
            "n_nr": len(data.nr["qS1"]),
            "n_er": len(data.er["qS1"]),
            "n_acc_below_median": len(data.acc["qS1"]),
            "n_acc_expected_below_median": data.n_acc_below_median,
            "n_acc_expected_total": data.n_acc_total,
            "n_dm_candidates": None if data.dm is None else len(data.dm["qS1"]),
            "nr_test_below_median": int(nr_test_below.sum()),
        },
        "table2": [m.row() for m in ctx.state["models"]],
        "bdt": {
            s: {k: v for k, v in asdict(b).items() if k not in ("result", "er_curve")}
            for s, b in ctx.state["bdts"].items()
        },
        "table3": ctx.state["table3"],
        "separability": ctx.state.get("separability"),
        "exports": ctx.state["exports"],
        "engine_checks": ctx.state["dm_checks"],
        "timings_s": ctx.timings,
        "paper": PAPER,
    }


def run_study(cfg: StudyConfig) -> dict:
    """Run the whole study (see the module docstring) into ``cfg.out``; returns the results (also in
    ``cfg.out/results.json``) and writes ``cfg.out/report.md`` with the plots."""
    from tpcml import studies

    return studies.run(studies.get("pandax2"), cfg, Path(cfg.out), quiet=not cfg.verbose).results


def _engine_vs_numpy(scored: Path, data: Dataset, numpy_scores: np.ndarray) -> dict:
    """The C++ engine's scores of the search run (RDataFrame) against the NumPy forward pass of the same replica:
    events are matched by their selected entries (the scored file holds every entry of dm_search.root)."""
    cols = _read_events(scored, [*DATA_COLUMNS["dm"], "score"], data.tree, data.columns)
    m = selection.mask(cols, data.detector)
    engine = np.asarray(cols["score"])[m]
    if len(engine) != len(numpy_scores):
        raise RuntimeError(f"{scored}: {len(engine)} selected scored entries, expected {len(numpy_scores)}")
    return {"events": len(engine), "max_abs_diff": float(np.max(np.abs(engine - numpy_scores)))}
