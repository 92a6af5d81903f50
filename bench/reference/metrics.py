#!/usr/bin/env python3
"""scikit-learn metric reference values -> crates/mlpipe-eval/tests/fixtures/sklearn_metrics.json

Hand-made inputs are stored in the fixture next to the outputs ("inputs" keys),
so a Rust test reads both from the JSON. Sections:
  binary      20 samples, scores with one decimal (many ties across classes)
  multiclass  3 classes, 15 samples, probabilities (rows sum to 1) + argmax labels
  regression  10 samples
  degenerate  no predicted positives, single-class roc_auc, constant scores
  clustering  iris features + KMeans(n_clusters=3, n_init=10, random_state=0) labels
  forecasting small series; MASE (sp=1) computed with numpy
JSON conventions: +inf -> "inf" (roc_curve's first threshold), NaN -> null.
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import metrics as M  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

from _common import REPO_ROOT, load_xy, versions, write_json  # noqa: E402

OUT = os.path.join(REPO_ROOT, "crates", "mlpipe-eval", "tests", "fixtures", "sklearn_metrics.json")


def capture(fn):
    """Run fn(); return {"value": result, "warnings": [...]} or {"error": "Type: msg"}."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            v = fn()
        except Exception as exc:  # recorded as the expected behaviour
            return {"error": f"{type(exc).__name__}: {exc}", "warnings": [str(w.message) for w in caught]}
    return {"value": v, "warnings": [f"{w.category.__name__}: {w.message}" for w in caught]}


def binary():
    y = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1])
    s = np.array([0.1, 0.4, 0.4, 0.8, 0.2, 0.9, 0.5, 0.5, 0.7, 0.3,
                  0.6, 0.1, 0.6, 0.9, 0.3, 0.2, 0.8, 0.7, 0.5, 0.9])
    pred = (s >= 0.5).astype(int)
    out = {"inputs": {"y_true": y, "y_score": s, "threshold": 0.5,
                      "y_pred": pred, "y_pred_rule": "y_pred = (y_score >= 0.5) as int"}}
    for di in (True, False):
        fpr, tpr, thr = M.roc_curve(y, s, drop_intermediate=di)
        out[f"roc_curve_drop_intermediate_{str(di).lower()}"] = {"fpr": fpr, "tpr": tpr, "thresholds": thr}
    out["roc_auc_score"] = M.roc_auc_score(y, s)
    p, r, t = M.precision_recall_curve(y, s)
    out["precision_recall_curve"] = {"precision": p, "recall": r, "thresholds": t}
    out["average_precision_score"] = M.average_precision_score(y, s)
    out["log_loss"] = M.log_loss(y, s)
    out["brier_score_loss"] = M.brier_score_loss(y, s)
    for strat in ("uniform", "quantile"):
        pt, pp = calibration_curve(y, s, n_bins=5, strategy=strat)
        out[f"calibration_curve_{strat}"] = {"prob_true": pt, "prob_pred": pp}
    out["accuracy"] = M.accuracy_score(y, pred)
    out["balanced_accuracy"] = M.balanced_accuracy_score(y, pred)
    out["precision"] = M.precision_score(y, pred)
    out["recall"] = M.recall_score(y, pred)
    out["f1"] = M.f1_score(y, pred)
    out["confusion_matrix"] = M.confusion_matrix(y, pred)
    return out


def multiclass():
    y = np.array([0, 1, 2, 2, 1, 0, 0, 2, 1, 1, 2, 0, 1, 2, 0])
    rng = np.random.default_rng(7)
    raw = rng.dirichlet([1.0, 1.0, 1.0], size=15)
    # bias probabilities towards the true class so the classifier is decent but imperfect
    raw[np.arange(15), y] += 0.6
    raw = raw / raw.sum(axis=1, keepdims=True)
    proba = np.round(raw, 3)
    proba[:, 2] = np.round(1.0 - proba[:, 0] - proba[:, 1], 3)
    pred = proba.argmax(axis=1)
    out = {"inputs": {"y_true": y, "y_proba": proba, "y_pred": pred,
                      "y_pred_rule": "argmax of y_proba rows; classes are 0,1,2"}}
    out["accuracy"] = M.accuracy_score(y, pred)
    out["balanced_accuracy"] = M.balanced_accuracy_score(y, pred)
    for avg in (None, "macro", "weighted", "micro"):
        k = "none" if avg is None else avg
        out[f"precision_{k}"] = M.precision_score(y, pred, average=avg)
        out[f"recall_{k}"] = M.recall_score(y, pred, average=avg)
        out[f"f1_{k}"] = M.f1_score(y, pred, average=avg)
    out["confusion_matrix"] = M.confusion_matrix(y, pred)
    out["log_loss"] = M.log_loss(y, proba)
    out["roc_auc_ovr_macro"] = M.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    out["roc_auc_ovr_weighted"] = M.roc_auc_score(y, proba, multi_class="ovr", average="weighted")
    return out


def regression():
    yt = np.array([3.0, -0.5, 2.0, 7.0, 4.2, 10.0, 5.5, 1.2, 8.8, 6.1])
    yp = np.array([2.5, 0.0, 2.1, 7.8, 3.9, 9.1, 6.0, 1.0, 9.5, 5.0])
    mse = M.mean_squared_error(yt, yp)
    return {
        "inputs": {"y_true": yt, "y_pred": yp},
        "mae": M.mean_absolute_error(yt, yp),
        "mse": mse,
        "rmse": M.root_mean_squared_error(yt, yp),
        "r2": M.r2_score(yt, yp),
        "mape": M.mean_absolute_percentage_error(yt, yp),
        "explained_variance": M.explained_variance_score(yt, yp),
    }


def degenerate():
    y = np.array([0, 1, 1, 0, 1])
    zeros = np.zeros(5, dtype=int)
    const = np.full(5, 0.3)
    return {
        "no_predicted_positives": {
            "inputs": {"y_true": y, "y_pred": zeros},
            "precision_default": capture(lambda: M.precision_score(y, zeros)),
            "recall": capture(lambda: M.recall_score(y, zeros)),
            "f1_default": capture(lambda: M.f1_score(y, zeros)),
            "note": "zero_division='warn' (default) returns 0.0 and emits UndefinedMetricWarning",
        },
        "roc_auc_single_class": {
            "inputs": {"y_true": np.ones(5, dtype=int), "y_score": np.array([0.1, 0.4, 0.35, 0.8, 0.6])},
            "roc_auc_score": capture(lambda: M.roc_auc_score(np.ones(5, dtype=int), [0.1, 0.4, 0.35, 0.8, 0.6])),
            "note": ("the pinned scikit-learn returns NaN (null here) with UndefinedMetricWarning; some older versions "
                     "raised ValueError. An 'error' key would appear instead if the installed version raised."),
        },
        "constant_scores": {
            "inputs": {"y_true": y, "y_score": const},
            "roc_auc_score": capture(lambda: M.roc_auc_score(y, const)),
            "average_precision_score": capture(lambda: M.average_precision_score(y, const)),
        },
    }


def clustering():
    X, _, _ = load_xy("iris")
    km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)
    return {
        "inputs": {"data": "data/iris.csv feature columns (4), all 150 rows",
                   "labels": km.labels_,
                   "labels_call": "KMeans(n_clusters=3, n_init=10, random_state=0).fit(X).labels_"},
        "silhouette_score": M.silhouette_score(X, km.labels_),
        "silhouette_samples_first10": M.silhouette_samples(X, km.labels_)[:10],
        "inertia": km.inertia_,
        "cluster_centers": km.cluster_centers_,
        "davies_bouldin_score": M.davies_bouldin_score(X, km.labels_),
        "calinski_harabasz_score": M.calinski_harabasz_score(X, km.labels_),
    }


def forecasting():
    train = np.array([112.0, 118.0, 132.0, 129.0, 121.0, 135.0, 148.0, 148.0, 136.0, 119.0, 104.0, 118.0])
    test = np.array([115.0, 126.0, 141.0, 135.0])
    fc = np.array([120.0, 122.5, 130.0, 138.0])
    scale = np.mean(np.abs(np.diff(train)))
    mae = np.mean(np.abs(test - fc))
    return {
        "inputs": {"y_train": train, "y_test": test, "y_pred": fc},
        "mase_formula": ("MASE = mean(|y_test - y_pred|) / mean(|y_train[t] - y_train[t-1]|, t=1..n-1) "
                         "(seasonal period sp=1; as sktime mean_absolute_scaled_error / statsforecast mase)"),
        "naive_scale": scale,
        "mae": mae,
        "rmse": float(np.sqrt(np.mean((test - fc) ** 2))),
        "mase": mae / scale,
        "mae_sklearn": M.mean_absolute_error(test, fc),
        "rmse_sklearn": M.root_mean_squared_error(test, fc),
    }


def main():
    out = {
        "source": (
            f"{versions(sklearn, np)}; sklearn.metrics.roc_curve/roc_auc_score/precision_recall_curve/"
            "average_precision_score/log_loss/brier_score_loss/accuracy_score/balanced_accuracy_score/"
            "precision_score/recall_score/f1_score/confusion_matrix/mean_absolute_error/mean_squared_error/"
            "root_mean_squared_error/r2_score/mean_absolute_percentage_error/explained_variance_score/"
            "silhouette_score; sklearn.calibration.calibration_curve; MASE with numpy. "
            "Generated by bench/reference/metrics.py"
        ),
        "conventions": "+inf encoded as the string \"inf\"; NaN as null; degenerate cases: {value, warnings} or {error, warnings}",
        "binary": binary(),
        "multiclass": multiclass(),
        "regression": regression(),
        "degenerate": degenerate(),
        "clustering": clustering(),
        "forecasting": forecasting(),
    }
    write_json(OUT, out)


if __name__ == "__main__":
    main()
