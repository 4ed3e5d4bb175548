"""The XENON1T CNN study end to end (``tpcml run xenon1t``): *Convolutional Neural Networks for Direct Detection
of Dark Matter* (X1T-CNN) on tpcml's simulated XENON1T SR0 events.

simulate (``Simulator.detector_events`` of the sources ``wimp`` at 500 GeV and ``er-background``, fiducial volume
only) -> the SR0 selection (:func:`select`) -> Hit, Peak and HitPeak images by the C++ kernel in memory
(``HitPeakImager.batch``) -> the paper's protocol on the HitPeak images (Sec. IV A): stratified k-fold grid search
over conv layers x epochs x batch scored by recall (one training per (conv, batch, fold) read at every epoch of the
grid: the same seed gives the same trajectory, so the model after e epochs of a longer training is the model
trained for e epochs), the LeakyReLU alpha scan (Table II) and the learning-rate scan (Table III) -> one final model
per image kind on a stratified 70:30 split of the training set (Sec. IV B; the epoch with the smallest validation
loss: "the best weights") -> ONNX export; the separate test set scored by tpcml's C++ engine inside RDataFrame
(images drawn there by ``tpcml::defineHitPeakImage``), checked against Keras -> metrics (scikit-learn) -> the
(cS1, cS2) baseline the paper lacks (NR-median cut, gradient-boosted trees).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tpcml import _core
from tpcml.studies.xenon1t import KINDS

__all__ = ["DETECTOR", "IMAGE_COLUMNS", "X1TConfig", "classification_metrics", "er_rejection", "select"]

#: the paper's data taking: SR0, 34.2 live days (X1T-CNN Table I; Aprile et al., PRL 119 (2017) 181301)
DETECTOR = "xenon1t:sr0"
LIVE_DAYS = 34.2  # X1T-CNN Table I caption
WIMP_MASS_GEV = 500.0  # X1T-CNN Sec. II
WIMP_CROSS_SECTION_CM2 = 1e-45  # X1T-CNN Sec. II / Table I
#: the events-tree arrays the images are drawn from, in HitPeakImager.batch's order (the C++ list)
IMAGE_COLUMNS = tuple(_core.HITPEAK_COLUMNS)
#: the per-event columns kept beside the images (baseline, report)
FEATURES = ("cS1", "cS2", "cS2_bottom", "s2_area", "energy_true", "drift_time", "x", "y")
#: X1T-CNN Sec. IV A: the grid and the scans run with alpha 0.05 and Adam's learning rate 0.001 until scanned
GRID_ALPHA, GRID_LEARNING_RATE = 0.05, 0.001
#: X1T-CNN Sec. IV B: the final models train on 70 % of the training set and validate on 30 %
FINAL_SPLIT = 0.3
#: screen pixels per image pixel in the PNGs for a person to look at (nearest neighbour: the pixels as drawn)
PNG_ZOOM = 4
#: the WIMP acceptance at which the ER rejection is quoted (X1T-CNN Sec. II and IV B)
ACCEPTANCE = 0.5


@dataclass
class X1TConfig:
    out: Path
    train: int = 1500  # events per class after the selection
    test: int = 1000
    conv: tuple[int, ...] = (1, 2, 3)
    epochs: tuple[int, ...] = (4, 8)
    batch: tuple[int, ...] = (100, 200)
    alphas: tuple[float, ...] = (0.001, 0.01, 0.05, 0.1)
    learning_rates: tuple[float, ...] = (0.001, 0.005, 0.01)
    folds: int = 3
    png: int = 4
    seed: int = 1
    threads: int = 2
    quick: bool = False
    full: bool = False
    verbose: bool = True


# ------------------------------------------------------------------------------------------------ selection
def selection_cuts(det) -> dict[str, float]:
    """The SR0 selection applied to the simulated events (the fiducial volume is applied by the simulator,
    ``fiducial_only=True``): cS1 in [s1_threshold_pe, s1_max_pe] (3-70 PE, the XENON1T ROI; data/detectors/
    xenon1t.toml) and the uncorrected S2 above s2_threshold_pe (200 PE)."""
    return {
        "cs1_min_pe": det.get("s1_threshold_pe", "PE"),
        "cs1_max_pe": det.get("s1_max_pe", "PE"),
        "s2_min_pe": det.get("s2_threshold_pe", "PE"),
    }


def select(events: dict, cuts: dict[str, float]) -> np.ndarray:
    """The mask of the events passing :func:`selection_cuts` (finite cS1 and cS2 too)."""
    cs1, s2 = np.asarray(events["cS1"]), np.asarray(events["s2_area"])
    ok = np.isfinite(cs1) & np.isfinite(np.asarray(events["cS2"])) & np.isfinite(s2)
    return ok & (cs1 >= cuts["cs1_min_pe"]) & (cs1 <= cuts["cs1_max_pe"]) & (s2 >= cuts["s2_min_pe"])


def _selected(sim, source, n_wanted: int, seed: int, cuts: dict, say) -> tuple[dict, dict]:
    """``n_wanted`` selected events of ``source`` (simulated in batches with seeds ``seed``, ``seed + 1`` ...):
    the image arrays (negative per-PMT areas, baseline noise, clipped to 0) and :data:`FEATURES`, and the counts
    (interactions generated in the fiducial volume, triggered, selected)."""
    keep = (*IMAGE_COLUMNS, *FEATURES)
    parts: list[dict] = []
    counts = {"generated": 0, "triggered": 0, "selected": 0}
    acceptance, k = 0.5, 0
    while counts["selected"] < n_wanted:
        n = int(np.ceil(1.15 * (n_wanted - counts["selected"]) / max(acceptance, 0.05))) + 20
        ev = sim.detector_events(source, n, seed + k, fiducial_only=True, quiet=True).events
        mask = select(ev, cuts)
        counts["generated"] += n
        counts["triggered"] += len(mask)
        counts["selected"] += int(mask.sum())
        parts.append({c: np.asarray(ev[c])[mask] for c in keep})
        acceptance = counts["selected"] / counts["generated"]
        k += 1
        if k > 50:
            raise RuntimeError(f"{source.name}: only {counts['selected']} of {n_wanted} events selected")
    out = {c: np.concatenate([p[c] for p in parts])[:n_wanted] for c in keep}
    for c in ("s1_pmt_area", "s2_pmt_area"):
        out[c] = np.clip(out[c], 0.0, None).astype(np.float32)
    say(
        f"{source.name}: {counts['selected']} of {counts['generated']} interactions in the fiducial volume selected "
        f"({100 * counts['selected'] / counts['generated']:.1f} %), {n_wanted} kept"
    )
    return out, counts


def _sources(det):
    from tpcml.sim import sources

    warnings.filterwarnings("ignore", message="Default WIMP parameters", category=UserWarning)  # wimprates' notice
    wimp = sources.make(det, "wimp", wimp_mass_gev=WIMP_MASS_GEV, wimp_cross_section_cm2=WIMP_CROSS_SECTION_CM2)
    return wimp, sources.make(det, "er-background")


def step_simulation(ctx) -> None:
    """WIMP (label 1) and ER (label 0) events, training and test sets from separate seeds, the SR0 selection;
    Table I: expected events per component in 34.2 live days x the fiducial mass, and after the selection."""
    from tpcml.core import detectors
    from tpcml.sim import lxe, sources

    cfg = ctx.config
    det = detectors.load(DETECTOR)
    cuts = selection_cuts(det)
    sim = lxe.Simulator(det, threads=cfg.threads)
    wimp, er = _sources(det)
    sets, counts = {}, {}
    for part, n, offset in (("train", cfg.train, 0), ("test", cfg.test, 500)):
        ctx.say(f"simulating the {part} set: {n} WIMP ({WIMP_MASS_GEV:g} GeV) and {n} ER events after the selection")
        w, cw = _selected(sim, wimp, n, cfg.seed * 1000 + offset, cuts, ctx.say)
        e, ce = _selected(sim, er, n, cfg.seed * 1000 + offset + 250, cuts, ctx.say)
        data = {c: np.concatenate([w[c], e[c]]) for c in w}
        data["label"] = np.r_[np.ones(n, np.int32), np.zeros(n, np.int32)]
        sets[part], counts[part] = data, {"wimp": cw, "er": ce}
    mass_t = det.get("fiducial_mass", "kg") / 1000.0
    exposure = sources.exposure_t_y(mass_t, LIVE_DAYS)
    expected = sources.expected_counts(
        det, exposure, wimp_mass_gev=WIMP_MASS_GEV, wimp_cross_section_cm2=WIMP_CROSS_SECTION_CM2
    )
    acc = {k: counts["train"][k]["selected"] / counts["train"][k]["generated"] for k in ("wimp", "er")}
    # CEvNS (8B solar neutrinos): its selection acceptance from its own small simulation (most do not trigger)
    n_cevns = max(500, cfg.test)
    cevns = sim.detector_events(sources.make(det, "cevns"), n_cevns, cfg.seed * 1000 + 900, quiet=True).events
    acc["cevns"] = int(select(cevns, cuts).sum()) / n_cevns
    ctx.state.update(
        detector=det,
        cuts=cuts,
        sets=sets,
        counts=counts,
        table1={
            "exposure_t_y": exposure,
            "fiducial_mass_t": mass_t,
            "live_days": LIVE_DAYS,
            "expected": expected,
            "selection_acceptance": acc,
            "expected_selected": {
                "wimp": expected.get("wimp", 0.0) * acc["wimp"],
                "er-background": expected.get("er-background", 0.0) * acc["er"],
                "cevns": expected.get("cevns", 0.0) * acc["cevns"],
            },
        },
    )


# ---------------------------------------------------------------------------------------------------- images
def images(det, data: dict, kind: str, threads: int) -> np.ndarray:
    """The ``kind`` images (N, H, W, 3) of the events ``data`` by the C++ kernel (batch door)."""
    imager = _core.HitPeakImager(det, kind)
    arrays = [np.ascontiguousarray(data[c], dtype=np.float32) for c in IMAGE_COLUMNS]
    return imager.batch(*arrays, threads=threads)


def write_pngs(out: Path, data: dict, pictures: dict[str, np.ndarray], k: int) -> list[Path]:
    """The images of the first ``k`` events of each class as PNGs (matplotlib's imsave of the kernel's pixels,
    each drawn as PNG_ZOOM x PNG_ZOOM screen pixels), ``out/<kind>_<wimp|er>_<i>.png``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, x in pictures.items():
        for cls, name in ((1, "wimp"), (0, "er")):
            for j, i in enumerate(np.flatnonzero(data["label"] == cls)[:k]):
                path = out / f"{kind}_{name}_{j}.png"
                big = np.repeat(np.repeat(np.clip(x[i], 0.0, 1.0), PNG_ZOOM, axis=0), PNG_ZOOM, axis=1)
                plt.imsave(path, big)
                written.append(path)
    return written


def step_images(ctx) -> None:
    """Hit, Peak and HitPeak images of both sets, in memory; PNGs of ``cfg.png`` test events per class."""
    cfg, det = ctx.config, ctx.state["detector"]
    t0 = time.perf_counter()
    pics = {
        part: {k: images(det, ctx.state["sets"][part], k, cfg.threads) for k in KINDS} for part in ("train", "test")
    }
    n = sum(len(ctx.state["sets"][p]["label"]) for p in pics)
    dt = time.perf_counter() - t0
    ctx.say(f"drew {3 * n} images ({n} events x Hit, Peak, HitPeak) in {dt:.1f} s ({3 * n / dt:.0f} images/s)")
    ctx.state["images"] = pics
    ctx.state["images_per_second"] = 3 * n / dt
    ctx.state["pngs"] = write_pngs(ctx.out / "png", ctx.state["sets"]["test"], pics["test"], cfg.png) if cfg.png else []


# --------------------------------------------------------------------------------------------------- metrics
def er_rejection(labels, scores, acceptance: float = ACCEPTANCE) -> dict[str, float]:
    """The fraction of background (label 0) rejected by the cut on ``scores`` that keeps ``acceptance`` of the
    signal (label 1): the threshold is the signal scores' (1 - acceptance) quantile, events at or above it pass."""
    y, s = np.asarray(labels).astype(bool), np.asarray(scores, dtype=np.float64)
    thr = float(np.quantile(s[y], 1.0 - acceptance, method="higher"))  # >= thr: ~acceptance of n pass
    return {
        "threshold": thr,
        "signal_acceptance": float(np.mean(s[y] >= thr)),
        "er_rejection": float(np.mean(s[~y] < thr)),
        "er_passing": int(np.sum(s[~y] >= thr)),
    }


def classification_metrics(labels, scores, threshold: float = 0.5) -> dict:
    """scikit-learn's metrics of ``scores`` against ``labels`` (WIMP = 1) at ``threshold``: accuracy, recall,
    precision, average precision, ROC AUC, the confusion matrix ([[TN, FP], [FN, TP]]), ROC and PR curves, and the
    ER rejection at 50 % WIMP acceptance (:func:`er_rejection`)."""
    from sklearn import metrics as m

    y, s = np.asarray(labels).astype(int), np.asarray(scores, dtype=np.float64)
    pred = (s >= threshold).astype(int)
    fpr, tpr, _ = m.roc_curve(y, s)
    prec, rec, _ = m.precision_recall_curve(y, s)
    return {
        "accuracy": float(m.accuracy_score(y, pred)),
        "recall": float(m.recall_score(y, pred, zero_division=0)),
        "precision": float(m.precision_score(y, pred, zero_division=0)),
        "average_precision": float(m.average_precision_score(y, s)),
        "auc": float(m.roc_auc_score(y, s)),
        "confusion": m.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
        "roc": {"fpr": fpr, "tpr": tpr},
        "pr": {"precision": prec, "recall": rec},
        **{f"{k}_at_50": v for k, v in er_rejection(y, s).items()},
    }


def _thin(curve: dict, n: int = 400) -> dict:
    """A curve's arrays at most ``n`` points (for results.json)."""
    length = len(next(iter(curve.values())))
    idx = np.unique(np.linspace(0, length - 1, min(n, length)).astype(int))
    return {k: np.asarray(v)[idx].tolist() for k, v in curve.items()}


# ------------------------------------------------------------------------------------------------ the protocol
def _build(shape, n_conv: int, alpha: float):
    from tpcml.ml.architectures import xenon1t_cnn

    return lambda: xenon1t_cnn(tuple(shape), n_conv=n_conv, leaky_alpha=alpha)


def cross_validate(x, y, *, n_conv, alpha, learning_rate, batch, epochs, folds, seed, say=None) -> dict:
    """Stratified ``folds``-fold CV (scikit-learn's StratifiedKFold): one training per fold for max(``epochs``)
    epochs; the validation fold's recall and precision (threshold 0.5) after every epoch, averaged over the
    folds. Returns {"recall": [per epoch], "precision": [...], "folds_recall": [[...]]}."""
    from sklearn.metrics import precision_score, recall_score
    from sklearn.model_selection import StratifiedKFold

    from tpcml.ml.training import train_classifier

    n_epochs = max(epochs)
    rec, prec = [], []
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (tr, va) in enumerate(skf.split(np.zeros(len(y)), y)):
        fit = dict(epochs=n_epochs, batch_size=batch, learning_rate=learning_rate, seed=seed * 100 + fold)
        build = _build(x.shape[1:], n_conv, alpha)
        # X1T-CNN trains on the images as drawn (no flips); the validation fold is also the "test" set scored
        res = train_classifier(build, x[tr], y[tr], x[va], y[va], x[va], flips=False, quiet=True, **fit)
        pred = res.test_predictions >= 0.5
        rec.append([recall_score(y[va], p, zero_division=0) for p in pred])
        prec.append([precision_score(y[va], p, zero_division=0) for p in pred])
    out = {"recall": np.mean(rec, axis=0).tolist(), "precision": np.mean(prec, axis=0).tolist(), "folds_recall": rec}
    if say:
        say(
            f"  conv {n_conv}, batch {batch}, alpha {alpha:g}, lr {learning_rate:g}: CV recall "
            + ", ".join(f"{e} epochs {out['recall'][e - 1]:.3f}" for e in epochs)
        )
    return out


def step_grid_search(ctx) -> None:
    """Sec. IV A, Figs. 9-11: conv layers x epochs x batch on the HitPeak training images, scored by recall."""
    from tpcml.ml.backend import configure_tensorflow

    cfg = ctx.config
    configure_tensorflow(cfg.threads)
    x, y = ctx.state["images"]["train"]["hitpeak"], ctx.state["sets"]["train"]["label"]
    ctx.say(
        f"grid search ({cfg.folds}-fold stratified CV, recall): conv {list(cfg.conv)} x epochs {list(cfg.epochs)} "
        f"x batch {list(cfg.batch)} on {len(y)} HitPeak images"
    )
    grid = []
    for n_conv in cfg.conv:
        for batch in cfg.batch:
            grid_point = dict(n_conv=n_conv, alpha=GRID_ALPHA, learning_rate=GRID_LEARNING_RATE, batch=batch)
            cv = cross_validate(x, y, epochs=cfg.epochs, folds=cfg.folds, seed=cfg.seed, say=ctx.say, **grid_point)
            for e in cfg.epochs:
                grid.append({"n_conv": n_conv, "batch": batch, "epochs": e, "recall": cv["recall"][e - 1]})
    best = max(grid, key=lambda r: (r["recall"], -r["epochs"], -r["batch"], -r["n_conv"]))  # ties: the cheapest
    ctx.say(
        f"best grid point: {best['n_conv']} conv, batch {best['batch']}, {best['epochs']} epochs, recall "
        f"{best['recall']:.3f}"
    )
    ctx.state["grid"], ctx.state["grid_best"] = grid, best


def step_scans(ctx) -> None:
    """Tables II and III (Figs. 12, 13): LeakyReLU alpha at the best grid point, then the learning rate at the
    best alpha; recall (and precision) cross-validated as the grid."""
    cfg, b = ctx.config, ctx.state["grid_best"]
    x, y = ctx.state["images"]["train"]["hitpeak"], ctx.state["sets"]["train"]["label"]
    common = dict(n_conv=b["n_conv"], batch=b["batch"], epochs=(b["epochs"],), folds=cfg.folds, seed=cfg.seed)
    ctx.say("LeakyReLU alpha scan (Table II)")
    alphas = {
        a: cross_validate(x, y, alpha=a, learning_rate=GRID_LEARNING_RATE, say=ctx.say, **common) for a in cfg.alphas
    }
    best_alpha = max(cfg.alphas, key=lambda a: alphas[a]["recall"][-1])
    ctx.say("learning-rate scan (Table III)")
    rates = {
        r: cross_validate(x, y, alpha=best_alpha, learning_rate=r, say=ctx.say, **common) for r in cfg.learning_rates
    }
    best_rate = max(cfg.learning_rates, key=lambda r: rates[r]["recall"][-1])
    ctx.say(f"best alpha {best_alpha:g}, best learning rate {best_rate:g}")
    ctx.state.update(alpha_scan=alphas, rate_scan=rates, best_alpha=best_alpha, best_rate=best_rate)


def step_final_models(ctx) -> None:
    """Sec. IV B: one model per image kind with the chosen hyper-parameters on a stratified 70:30 split of the
    training set; the weights of the epoch with the smallest validation loss ("the best weights")."""
    from sklearn.model_selection import train_test_split

    from tpcml.ml.training import train_classifier

    cfg, b = ctx.config, ctx.state["grid_best"]
    y = ctx.state["sets"]["train"]["label"]
    tr, va = train_test_split(np.arange(len(y)), test_size=FINAL_SPLIT, stratify=y, random_state=cfg.seed)
    finals = {}
    for kind in KINDS:
        x, xt = ctx.state["images"]["train"][kind], ctx.state["images"]["test"][kind]
        ctx.say(
            f"final {kind} model: {b['n_conv']} conv, {b['epochs']} epochs, batch {b['batch']}, alpha "
            f"{ctx.state['best_alpha']:g}, lr {ctx.state['best_rate']:g}, on {len(tr)} + {len(va)} (70:30)"
        )
        t0 = time.perf_counter()
        build = _build(x.shape[1:], b["n_conv"], ctx.state["best_alpha"])
        fit = dict(
            epochs=b["epochs"], batch_size=b["batch"], learning_rate=ctx.state["best_rate"], seed=cfg.seed * 100 + 77
        )
        res = train_classifier(build, x[tr], y[tr], x[va], y[va], xt, flips=False, quiet=not cfg.verbose, **fit)
        best = int(np.argmin([e.val_loss for e in res.epochs]))
        res.model.set_weights(res.weights[best])
        finals[kind] = {
            "result": res,
            "epoch": best + 1,
            "keras_scores": res.test_predictions[best],
            "train_seconds": time.perf_counter() - t0,
            "images_per_second": float(np.median([e.images_per_second for e in res.epochs])),
        }
    ctx.state["finals"] = finals


# ----------------------------------------------------------------------------------- ONNX in RDataFrame
def write_test_events(path: Path, data: dict, det, say) -> Path:
    """The test events (image arrays, cS1/cS2, label; ``event`` = their index) as the ``events`` tree of
    ``path`` with the file contract, for the RDataFrame scoring."""
    from tpcml.studies.lxe import events

    cols = {c: np.asarray(data[c]) for c in (*IMAGE_COLUMNS, "cS1", "cS2", "cS2_bottom", "label")}
    cols["event"] = np.arange(len(data["label"]), dtype=np.uint64)
    events.write(path, events.Simulated(cols, None, len(cols["event"])), det, info={"split": "test"})
    say(f"wrote the {len(cols['event'])} test events to {path.name}")
    return path


def score_in_rdataframe(path: Path, model: Path, kind: str, detector: str, threads: int) -> np.ndarray:
    """Scores of the events of ``path`` by ``model``: images drawn by ``tpcml::defineHitPeakImage`` and scored by
    ``tpcml::onnx::defineScore`` (tpcml's C++ engine) in one RDataFrame event loop; in the order of ``event``."""
    from tpcml.core.root import implicit_mt, load_root
    from tpcml.inference import define_score

    ROOT = load_root()
    opts = ROOT.tpcml.HitPeakOptions()
    opts.kind = ROOT.tpcml.parseHitPeakKind(kind)
    imager = ROOT.tpcml.HitPeakImager(ROOT.tpcml.DetectorConfig.load(detector), opts)
    with implicit_mt(threads):
        df = ROOT.RDataFrame("events", str(path))
        node = ROOT.tpcml.defineHitPeakImage(ROOT.RDF.AsRNode(df), "image", imager)
        cols = define_score(node, "score", model, ["image"]).AsNumpy(["event", "score"])
    order = np.argsort(cols["event"], kind="stable")
    return np.asarray(cols["score"], dtype=np.float64)[order]


def step_export(ctx) -> None:
    """Each final model to ONNX (tf2onnx; onnxruntime checked by ``to_onnx``); the test events scored in
    RDataFrame by the C++ engine; the metrics of those scores; max |engine - Keras|."""
    from tpcml.ml.export import keras_onnx_max_diff, to_onnx

    cfg = ctx.config
    test = ctx.state["sets"]["test"]
    path = write_test_events(ctx.out / "test_events.root", test, ctx.state["detector"], ctx.say)
    out = {}
    for kind, f in ctx.state["finals"].items():
        onnx_path = ctx.out / f"xenon1t_cnn_{kind}.onnx"
        to_onnx(
            f["result"].model,
            onnx_path,
            metadata={
                "tpcml.inputs": ["image"],
                "tpcml.working_point": "0.5",
                "tpcml.strategy": "supervised",
                "tpcml.detector": DETECTOR,
                "tpcml.model": f"xenon1t_cnn ({kind} images)",
            },
        )
        xt = ctx.state["images"]["test"][kind]
        ort = keras_onnx_max_diff(f["result"].model, onnx_path, xt[: min(len(xt), 256)])
        engine = score_in_rdataframe(path, onnx_path, kind, DETECTOR, cfg.threads)
        diff = float(np.max(np.abs(engine - f["keras_scores"])))
        m = classification_metrics(test["label"], engine)
        ctx.say(
            f"{kind}: test set scored in RDataFrame by the C++ engine (max |C++ - Keras| = {diff:.2g}, onnxruntime "
            f"{ort:.2g}): accuracy {m['accuracy']:.3f}, recall {m['recall']:.3f}, precision {m['precision']:.3f}, "
            f"AP {m['average_precision']:.3f}, AUC {m['auc']:.3f}, ER rejection at 50 % {m['er_rejection_at_50']:.4f}"
        )
        out[kind] = {
            "onnx": str(onnx_path),
            "epoch": f["epoch"],
            "max_abs_diff_engine_keras": diff,
            "max_abs_diff_onnxruntime_keras": float(ort),
            "scores": engine,
            "metrics": m,
        }
    ctx.state["test_scores"] = out


# -------------------------------------------------------------------------------------------------- baseline
def baseline(train: dict, test: dict, cuts: dict, seed: int) -> dict:
    """The (cS1, cS2) separation the paper lacks: (1) the NR-median cut, the WIMP band median of
    log10(cS2_b/cS1) vs cS1 fitted on the training WIMP events (:meth:`tpcml._core.NRMedianCurve.fit`), events
    below it accepted (about 50 % of the WIMPs by construction, as XENON1T's 50 % NR acceptance); (2) gradient-
    boosted trees (scikit-learn HistGradientBoostingClassifier) on (cS1, log10 cS2_b/cS1), scored as the CNN."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    yw = train["label"] == 1
    n_bins = int(np.clip(yw.sum() // 100, 4, 20))  # >= 4: NRMedianCurve.fit; ~100 events per bin
    curve = _core.NRMedianCurve.fit(
        train["cS1"][yw].astype(np.float32),
        train["cS2_bottom"][yw].astype(np.float32),
        cuts["cs1_min_pe"],
        cuts["cs1_max_pe"],
        n_bins,
    )
    below = np.asarray(curve.below(test["cS1"].astype(np.float32), test["cS2_bottom"].astype(np.float32)))
    y = test["label"].astype(bool)
    median_cut = {
        "wimp_acceptance": float(below[y].mean()),
        "er_rejection": float(1.0 - below[~y].mean()),
        "er_passing": int(below[~y].sum()),
        "n_bins": n_bins,
    }

    def features(d):  # the discrimination plane of XENON1T (and of the NR-median cut): cS1, log10(cS2_b / cS1)
        return np.column_stack([d["cS1"], np.log10(np.clip(d["cS2_bottom"], 1e-3, None) / d["cS1"])])

    bdt = HistGradientBoostingClassifier(random_state=seed).fit(features(train), train["label"])
    scores = bdt.predict_proba(features(test))[:, 1]
    return {
        "nr_median": median_cut,
        "bdt": classification_metrics(test["label"], scores),
        "bdt_scores": scores,
        "curve": {"bin_x": np.asarray(curve.bin_x).tolist(), "bin_y": np.asarray(curve.bin_y).tolist()},
    }


def step_baseline(ctx) -> None:
    s = ctx.state["sets"]
    ctx.state["baseline"] = b = baseline(s["train"], s["test"], ctx.state["cuts"], ctx.config.seed)
    ctx.say(
        f"baseline (cS1, cS2): NR-median cut keeps {b['nr_median']['wimp_acceptance']:.3f} of the WIMPs, rejects "
        f"{b['nr_median']['er_rejection']:.4f} of the ER; BDT AUC {b['bdt']['auc']:.3f}, ER rejection at 50 % "
        f"{b['bdt']['er_rejection_at_50']:.4f}"
    )


# ---------------------------------------------------------------------------------------------------- results
def _metrics_json(m: dict) -> dict:
    return {k: (_thin(v) if k in ("roc", "pr") else v) for k, v in m.items()}


def results_of(ctx) -> dict:
    """Every number of the run (``results.json``)."""
    from tpcml.studies.xenon1t import PAPER

    st, cfg = ctx.state, ctx.config
    cnn = {
        k: {**{n: v for n, v in t.items() if n not in ("scores", "metrics")}, "metrics": _metrics_json(t["metrics"])}
        for k, t in st["test_scores"].items()
    }
    for k, f in st["finals"].items():
        cnn[k].update(
            train_seconds=f["train_seconds"], images_per_second=f["images_per_second"], history=f["result"].history()
        )
    b = st["baseline"]
    return {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "detector": DETECTOR,
        "selection": st["cuts"],
        "data": {
            p: {"events": len(s["label"]), "wimp": int(s["label"].sum()), "counts": st["counts"][p]}
            for p, s in st["sets"].items()
        },
        "table1": st["table1"],
        "images_per_second": st["images_per_second"],
        "pngs": [str(p) for p in st["pngs"]],
        "grid": st["grid"],
        "grid_best": st["grid_best"],
        "table2": {str(a): v["recall"][-1] for a, v in st["alpha_scan"].items()},
        "table3": {str(r): v["recall"][-1] for r, v in st["rate_scan"].items()},
        "alpha_scan": {str(a): v for a, v in st["alpha_scan"].items()},
        "rate_scan": {str(r): v for r, v in st["rate_scan"].items()},
        "best_alpha": st["best_alpha"],
        "best_learning_rate": st["best_rate"],
        "cnn": cnn,
        "table4": {
            m: {k: cnn[k]["metrics"][m] for k in cnn}
            for m in ("accuracy", "recall", "precision", "average_precision", "auc")
        },
        "er_rejection_at_50": {k: cnn[k]["metrics"]["er_rejection_at_50"] for k in cnn},
        "baseline": {"nr_median": b["nr_median"], "bdt": _metrics_json(b["bdt"]), "curve": b["curve"]},
        "paper": PAPER,
        "timings_s": ctx.timings,
    }
