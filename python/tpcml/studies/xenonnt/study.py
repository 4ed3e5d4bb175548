"""The steps of ``tpcml run xenonnt`` (nT-CVAE): simulation and images, CVAE and CNN training, the anomaly score and
its statistics (Figs. 5-9), ONNX export and TS from tpcml's C++ engine. They share a :class:`tpcml.studies.Context`
(``ctx.state``: the event sets, models, TS terms; ``ctx.results``: the numbers of results.json)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tpcml.studies.xenonnt import analysis, data, models

#: nT-CVAE Sec. VII C: pseudo-data at 5 t*y; Fig. 6/8 masses 10, 500, 1000 GeV; Fig. 9 at 50 GeV
EXPOSURE = 5.0
PAPER_MASSES = (10.0, 500.0, 1000.0)
CONTOUR_MASS = 50.0
#: nT-CVAE Sec. VII B/D: R = 170 "observed to provide optimal results", optimum in [150, 300]; Fig. 9 band [100, 250]
PAPER_R = 170.0
PAPER_R_BAND = (100.0, 250.0)
#: Fig. 7 scans R from 0 to 1e4; tpcml goes one decade further to show where the CNN-dominated plateau starts
R_GRID = np.concatenate([[0.0], np.logspace(-1, 5, 61)])
#: Fig. 8 exposures (t*y) and cross-sections (cm2)
EXPOSURES = np.logspace(-1, np.log10(50.0), 25)
CROSS_SECTIONS = (1e-45, 1e-46)


@dataclass(frozen=True)
class XenonntConfig:
    out: Path
    events: int  # ER interactions generated (and as many WIMP interactions, split over the masses)
    masses: tuple[float, ...]
    epochs_cvae: int
    epochs_cnn: int
    experiments: int
    seed: int = 1
    threads: int = 2
    quick: bool = False
    verbose: bool = True


def _split(n: int, frac: float, rng) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.permutation(n)
    k = max(1, min(n - 1, round(frac * n)))
    return idx[:k], idx[k:]


def step_simulation(ctx) -> None:
    """ER and WIMP events of the xenonnt model as HitPeak images; ER split 80/20 (Sec. VI B: 16,000 / 4,000), each
    WIMP mass 50/50 into CNN training and test events."""
    c = ctx.config
    er, nr = data.simulate_all(c.events, c.events, c.masses, c.seed, c.threads)
    rng = np.random.default_rng(c.seed)
    er_train, er_test = _split(len(er.images), 0.8, rng)
    nr_split = {m: _split(len(s.images), 0.5, rng) for m, s in nr.items()}
    ctx.state.update(er=er, nr=nr, er_split=(er_train, er_test), nr_split=nr_split)
    ctx.results["data"] = {
        "er": {
            "generated": c.events,
            "kept": len(er.images),
            "acceptance": er.acceptance,
            "expected_per_t_y": er.expected_per_t_y,
            "train": len(er_train),
            "test": len(er_test),
        },
        "nr": {
            f"{m:g}": {"kept": len(s.images), "acceptance": s.acceptance, "expected_per_t_y_1e-45": s.expected_per_t_y}
            for m, s in nr.items()
        },
    }
    ctx.say(
        f"{len(er.images)} ER and {sum(len(s.images) for s in nr.values())} WIMP images "
        f"({', '.join(f'{m:g} GeV' for m in nr)})"
    )


def step_training(ctx) -> None:
    """The CVAE on ER training images (Sec. VI B) and the CNN on ER (0) + WIMP (1) training images."""
    from tpcml.ml.backend import configure_tensorflow

    c = ctx.config
    configure_tensorflow(c.threads)
    er, nr = ctx.state["er"], ctx.state["nr"]
    er_train, er_test = ctx.state["er_split"]
    t0 = time.perf_counter()
    enc, dec, hist = models.train_cvae(er.images[er_train], er.images[er_test], c.epochs_cvae, c.seed)
    ctx.timings["cvae"] = time.perf_counter() - t0
    nr_train = np.concatenate([s.images[ctx.state["nr_split"][m][0]] for m, s in nr.items()])
    nr_test = np.concatenate([s.images[ctx.state["nr_split"][m][1]] for m, s in nr.items()])
    x_tr = np.concatenate([er.images[er_train], nr_train])
    y_tr = np.concatenate([np.zeros(len(er_train)), np.ones(len(nr_train))]).astype(np.float32)
    x_te = np.concatenate([er.images[er_test], nr_test])
    y_te = np.concatenate([np.zeros(len(er_test)), np.ones(len(nr_test))]).astype(np.float32)
    t0 = time.perf_counter()
    cnn, cnn_hist, acc = models.train_cnn(x_tr, y_tr, x_te, y_te, c.epochs_cnn, c.seed)
    ctx.timings["cnn"] = time.perf_counter() - t0
    ctx.state.update(encoder=enc, decoder=dec, cnn=cnn, cvae_history=hist)
    ctx.results["cvae"] = {
        "loss": hist["loss"],
        "val_loss": hist["val_loss"],
        "epochs": c.epochs_cvae,
        "train_images": len(er_train),
        "test_images": len(er_test),
    }
    ctx.results["cnn"] = {
        "accuracy": acc,
        "paper_accuracy": 0.98,
        "epochs": c.epochs_cnn,
        "train_images": len(x_tr),
        "test_images": len(x_te),
        "history": cnn_hist,
    }
    ctx.say(
        f"CVAE loss {hist['loss'][0]:.4g} -> {hist['loss'][-1]:.4g} (test {hist['val_loss'][-1]:.4g}); "
        f"CNN test accuracy {100 * acc:.1f} % (paper ~98 %)"
    )


def _terms(model, images) -> np.ndarray:
    return np.asarray(model.predict(images, batch_size=256, verbose=0), dtype=np.float64)


def step_anomaly(ctx) -> None:
    """TS terms of the test sets, Fig. 5 (pure ER vs NR), the R scan at 5 t*y (Fig. 7), p vs exposure (Fig. 8),
    the calibrated p-values at 5 t*y and the 5 sigma contour at 50 GeV (Fig. 9)."""
    c = ctx.config
    er, nr = ctx.state["er"], ctx.state["nr"]
    model = models.score_model(ctx.state["encoder"], ctx.state["decoder"], ctx.state["cnn"])
    er_test = ctx.state["er_split"][1]
    t_er = _terms(model, er.images[er_test])
    t_nr = {m: _terms(model, s.images[ctx.state["nr_split"][m][1]]) for m, s in nr.items()}
    ctx.state.update(score_model=model, terms_er=t_er, terms_nr=t_nr)
    np.savez(ctx.out / "ts_terms.npz", er=t_er, **{f"nr_{m:g}": t for m, t in t_nr.items()})

    B = er.expected(EXPOSURE)
    S = {m: s.expected(EXPOSURE) for m, s in nr.items()}
    res: dict = {
        "exposure_t_y": EXPOSURE,
        "B": B,
        "S": {f"{m:g}": v for m, v in S.items()},
        "paper_S": {"10": 13, "500": 187, "1000": 95},
        "n_bins": analysis.N_BINS,
    }
    # R scan (Fig. 7)
    scan = {}
    for m in nr:
        p = [
            analysis.asimov_chi2(models.ts_from_terms(t_er, R), models.ts_from_terms(t_nr[m], R), B, S[m])[1]
            for R in R_GRID
        ]
        scan[f"{m:g}"] = p
    masses_opt = [m for m in nr if m >= 50.0] or list(nr)
    logp = np.sum([np.log10(np.maximum(scan[f"{m:g}"], 1e-300)) for m in masses_opt], axis=0)
    r_opt = float(R_GRID[int(np.argmin(logp))])
    res["R_grid"] = R_GRID.tolist()
    res["p_vs_R"] = scan
    res["R_opt"] = r_opt
    # the two plateaus of Fig. 7 (the paper: "R <~ 10 and R >~ 10^3 yielding a constant p-value", Sec. VII D), as
    # the ends of the central 90 % of the fall of the summed log10 p from R = 0 to its minimum: the CVAE-only one up
    # to the last R before 5 % of the fall, the CNN-only one from the first R within 5 % of the minimum
    fall = logp[0] - logp.min()
    res["R_cvae_plateau"] = float(R_GRID[max(int(np.argmax(logp < logp[0] - 0.05 * fall)) - 1, 0)]) if fall else 0.0
    res["R_plateau"] = float(R_GRID[int(np.argmax(logp <= logp.min() + 0.05 * fall))]) if fall else 0.0
    res["R_opt_masses"] = [float(m) for m in masses_opt]
    res["R_opt_per_mass"] = {k: float(R_GRID[int(np.argmin(v))]) for k, v in scan.items()}
    # p at 5 t*y per mass: the paper's Asimov/Wilks and the H0-calibrated p of pseudo-experiments
    at5 = {}
    for m in nr:
        row = {}
        for tag, R in (("R_paper", PAPER_R), ("R_opt", r_opt)):
            ts_e, ts_n = models.ts_from_terms(t_er, R), models.ts_from_terms(t_nr[m], R)
            chi, p = analysis.asimov_chi2(ts_e, ts_n, B, S[m])
            cal = analysis.calibrated_p(ts_e, ts_n, B, S[m], c.experiments, c.seed)
            ext = analysis.extended_poisson_p(ts_e, ts_n, B, S[m], c.experiments, c.seed)
            row[tag] = {"R": R, "chi2_asimov": chi, "p_wilks": p, **cal, "extended_poisson": ext}
        at5[f"{m:g}"] = row
    res["p_at_5ty"] = at5
    # p vs exposure (Fig. 8) at R = 170 and R_opt: the Asimov chi2 is linear in the exposure
    curves = {}
    for tag, R in (("R_paper", PAPER_R), ("R_opt", r_opt)):
        ts_e = models.ts_from_terms(t_er, R)
        for xs in CROSS_SECTIONS:
            for m in nr:
                b_bins, s_bins = analysis.asimov_chi2_unit(ts_e, models.ts_from_terms(t_nr[m], R), B, S[m])
                f = EXPOSURES / EXPOSURE
                p = [float(analysis.lk.wilks_pvalue(analysis.chi2_of(b_bins, s_bins, x, x * xs / 1e-45), 1)) for x in f]
                curves[f"{tag}|{xs:g}|{m:g}"] = p
    res["exposures"] = EXPOSURES.tolist()
    res["p_vs_exposure"] = curves
    # Fig. 9: 5 sigma cross-section vs exposure at 50 GeV (R band and the classical Poisson line)
    if CONTOUR_MASS in nr:
        m = CONTOUR_MASS
        contour = {}
        band = sorted({*np.linspace(*PAPER_R_BAND, 4), r_opt})
        for R in band:
            b_bins, s_bins = analysis.asimov_chi2_unit(
                models.ts_from_terms(t_er, R), models.ts_from_terms(t_nr[m], R), B, S[m]
            )
            contour[f"{R:g}"] = [analysis.five_sigma_cross_section(b_bins, s_bins, x) for x in EXPOSURES / EXPOSURE]
        er_te = data.EventSet("er", er.images[:0], er.cs1[er_test], er.cs2[er_test], 0, 0)
        nr_te = nr[m]
        b2, s2 = analysis.cs_templates(er_te, nr_te, B, S[m])
        res["contour_50GeV"] = {
            "R": [float(r) for r in band],
            "sigma_5": contour,
            "poisson_cs1_cs2": [analysis.poisson_five_sigma(b2, s2, x) for x in EXPOSURES / EXPOSURE],
        }
    ctx.results["anomaly"] = res
    ctx.say(
        f"optimal R {r_opt:g} (paper ~170); p at 5 t*y, R_opt: "
        + ", ".join(f"{k} GeV {v['R_opt']['p_wilks']:.2g}" for k, v in at5.items())
    )


def step_export(ctx) -> None:
    """The score model (encoder means -> decoder, KL, CNN p), its decoder and the CNN to ONNX; the TS terms of the
    ER and NR test images from tpcml's C++ engine against Keras."""
    from tpcml.inference import Model
    from tpcml.ml.export import to_onnx

    out = ctx.out
    paths = {
        "ts_terms": to_onnx(
            ctx.state["score_model"],
            out / "xenonnt_ts_terms.onnx",
            metadata={"tpcml.outputs": ["sse", "kl", "p"], "tpcml.beta": models.BETA},
        ),
        "decoder": to_onnx(ctx.state["decoder"], out / "xenonnt_decoder.onnx"),
        "cnn": to_onnx(ctx.state["cnn"], out / "xenonnt_cnn.onnx"),
    }
    er, nr = ctx.state["er"], ctx.state["nr"]
    er_test = ctx.state["er_split"][1]
    m0 = next(iter(nr))
    x = np.concatenate([er.images[er_test][:200], nr[m0].images[ctx.state["nr_split"][m0][1]][:200]])
    py = _terms(ctx.state["score_model"], x)
    cpp = np.asarray(Model(paths["ts_terms"]).run(x)[0], dtype=np.float64).reshape(len(x), 3)
    ts_py = models.ts_from_terms(py, PAPER_R)
    ts_cpp = models.ts_from_terms(cpp, PAPER_R)
    rel = float(np.max(np.abs(ts_cpp - ts_py) / np.maximum(np.abs(ts_py), 1e-6)))
    ts_rdf = rdataframe_ts(out / "test_images.root", x, paths["ts_terms"], PAPER_R, ctx.config.threads)
    rel_rdf = float(np.max(np.abs(ts_rdf - ts_py) / np.maximum(np.abs(ts_py), 1e-6)))
    ctx.results["export"] = {
        "max_rel_diff_ts_R170_rdataframe": rel_rdf,
        "files": {k: str(v) for k, v in paths.items()},
        "events": len(x),
        "max_abs_diff_terms": np.max(np.abs(cpp - py), axis=0).tolist(),
        "max_rel_diff_ts_R170": rel,
    }
    ctx.say(f"C++ engine TS vs Keras on {len(x)} images: max relative difference {rel:.2g} (RDataFrame {rel_rdf:.2g})")


def rdataframe_ts(path: Path, images: np.ndarray, model: Path, R: float, threads: int = 1) -> np.ndarray:
    """TS per event in RDataFrame: ``images`` written as the fixed-length column ``image`` of ``path``, the score
    model run by tpcml's C++ engine (``tpcml.inference.define_score``: an RVec of (sse, kl, p)) and TS defined from
    it (:func:`models.ts_expression`)."""
    from tpcml.core import rootio
    from tpcml.core.root import implicit_mt
    from tpcml.inference import define_score

    rootio.write_tree(path, "events", {"image": np.ascontiguousarray(images.reshape(len(images), -1))})
    with implicit_mt(threads) as ROOT:
        df = define_score(ROOT.RDataFrame("events", str(path)), "terms", model, ["image"])
        ts = df.Define("ts", models.ts_expression(R)).AsNumpy(["ts"])["ts"]
    return np.asarray(ts, dtype=np.float64)


def results_of(ctx) -> dict:
    c = ctx.config
    return {
        "study": "xenonnt",
        "config": {
            "events": c.events,
            "masses": list(c.masses),
            "epochs_cvae": c.epochs_cvae,
            "epochs_cnn": c.epochs_cnn,
            "experiments": c.experiments,
            "seed": c.seed,
            "quick": c.quick,
        },
        **ctx.results,
        "timings": dict(ctx.timings),
    }
