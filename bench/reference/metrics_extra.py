#!/usr/bin/env python3
"""Harder scikit-learn metric cases -> crates/mlpipe-eval/tests/fixtures/sklearn_metrics_extra.json

Complements metrics.py (which covers the basic cases) with inputs that exercise edge
behaviour; every input is stored in the JSON next to the outputs:
  binary_ties   500 seeded scores rounded to 2 decimals (many ties), some exactly 0 and 1
                and exactly on uniform bin edges (0.3, 0.7): roc/pr curves with and without
                drop_intermediate, AP, log loss (clipping), Brier, calibration 10 bins
  multiclass    4 classes with zero probabilities (log-loss clipping), multiclass Brier
  edge          r2/explained variance of a constant truth, MAPE with a zero truth,
                balanced accuracy with a class only predicted, binary P/R/F with one label,
                AP without positives, silhouette with a singleton cluster
  parameter_grid    ParameterGrid order
  cross_validation  GridSearchCV of shallow trees on breast_cancer, unshuffled KFold(5)
JSON conventions: +inf -> "inf", NaN -> null.
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import metrics as M  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402

from _common import REPO_ROOT, versions, write_json  # noqa: E402

OUT = os.path.join(REPO_ROOT, "crates", "mlpipe-eval", "tests", "fixtures", "sklearn_metrics_extra.json")


def quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def binary_ties():
    rng = np.random.default_rng(2026)
    n = 500
    y = rng.integers(0, 2, size=n)
    s = np.clip(np.round(0.35 * y + rng.normal(0.35, 0.2, size=n), 2), 0.0, 1.0)
    s[:6] = [0.0, 1.0, 0.3, 0.7, 0.3, 0.7]
    out = {"inputs": {"y_true": y, "y_score": s}}
    for di in (True, False):
        k = str(di).lower()
        fpr, tpr, thr = M.roc_curve(y, s, drop_intermediate=di)
        out[f"roc_curve_drop_{k}"] = {"fpr": fpr, "tpr": tpr, "thresholds": thr}
        p, r, t = M.precision_recall_curve(y, s, drop_intermediate=di)
        out[f"pr_curve_drop_{k}"] = {"precision": p, "recall": r, "thresholds": t}
    out["roc_auc_score"] = M.roc_auc_score(y, s)
    out["average_precision_score"] = M.average_precision_score(y, s)
    out["log_loss"] = M.log_loss(y, s)
    out["brier_score_loss"] = M.brier_score_loss(y, s)
    for strat in ("uniform", "quantile"):
        pt, pp = calibration_curve(y, s, n_bins=10, strategy=strat)
        out[f"calibration_{strat}_10"] = {"prob_true": pt, "prob_pred": pp}
    pt, pp = calibration_curve(y, s, n_bins=7, strategy="quantile")
    out["calibration_quantile_7"] = {"prob_true": pt, "prob_pred": pp}
    return out


def multiclass():
    y = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0, 2])
    proba = np.array([
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.1, 0.2, 0.7, 0.0],
        [0.25, 0.25, 0.25, 0.25],
        [0.0, 0.5, 0.5, 0.0],
        [0.6, 0.1, 0.2, 0.1],
        [0.05, 0.05, 0.0, 0.9],
        [0.0, 0.0, 0.0, 1.0],
        [0.4, 0.4, 0.1, 0.1],
        [0.3, 0.3, 0.3, 0.1],
    ])
    return {
        "inputs": {"y_true": y, "y_proba": proba, "labels": [0, 1, 2, 3]},
        "log_loss": M.log_loss(y, proba, labels=[0, 1, 2, 3]),
        "brier_score_loss": M.brier_score_loss(y, proba, labels=[0, 1, 2, 3]),
        "accuracy": M.accuracy_score(y, proba.argmax(axis=1)),
    }


def edge():
    const = np.array([2.0, 2.0, 2.0, 2.0])
    X = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.2], [5.0, 5.0], [5.2, 5.1], [9.0, 0.0]])
    lab = np.array([0, 0, 0, 1, 1, 2])
    return {
        "r2_constant_truth_perfect": {"y_true": const, "y_pred": const, "value": M.r2_score(const, const)},
        "r2_constant_truth_off": {"y_true": const, "y_pred": const + [0, 1, 0, 0],
                                  "value": M.r2_score(const, const + [0, 1, 0, 0])},
        "explained_variance_constant_truth_off": {
            "y_true": const, "y_pred": const + [0, 1, 0, 0],
            "value": M.explained_variance_score(const, const + [0, 1, 0, 0])},
        "mape_zero_truth": {"y_true": [0.0, 1.0, 2.0], "y_pred": [0.5, 1.0, 1.0],
                            "value": M.mean_absolute_percentage_error([0.0, 1.0, 2.0], [0.5, 1.0, 1.0])},
        "balanced_accuracy_class_only_predicted": {
            "y_true": [0, 0, 1, 1], "y_pred": [0, 2, 1, 1],
            "value": quiet(lambda: M.balanced_accuracy_score([0, 0, 1, 1], [0, 2, 1, 1]))},
        "binary_one_label": {
            "y_true": [0, 0, 0], "y_pred": [0, 0, 0],
            "precision": quiet(lambda: M.precision_score([0, 0, 0], [0, 0, 0])),
            "recall": quiet(lambda: M.recall_score([0, 0, 0], [0, 0, 0])),
            "f1": quiet(lambda: M.f1_score([0, 0, 0], [0, 0, 0]))},
        "average_precision_no_positives": {
            "y_true": [0, 0, 0, 0], "y_score": [0.1, 0.5, 0.5, 0.9],
            "value": quiet(lambda: M.average_precision_score([0, 0, 0, 0], [0.1, 0.5, 0.5, 0.9]))},
        "silhouette_singleton": {"X": X, "labels": lab,
                                 "samples": M.silhouette_samples(X, lab),
                                 "score": M.silhouette_score(X, lab)},
    }


def parameter_grid():
    from sklearn.model_selection import ParameterGrid
    grid = {"min_samples_leaf": [1, 5], "max_depth": [2, 4, 8], "criterion": ["gini"]}
    return {"grid": grid, "order": list(ParameterGrid(grid)),
            "call": "list(sklearn.model_selection.ParameterGrid(grid))"}


def cross_validation():
    """GridSearchCV of shallow trees on breast_cancer with unshuffled KFold(5)."""
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.tree import DecisionTreeClassifier
    from _common import load_xy
    X, y, _ = load_xy("breast_cancer")
    # Depth ≤ 2: deeper trees meet equally good splits that scikit-learn breaks by a random
    # feature order and our CART by column order, so only shallow trees are pinned.
    grid = {"max_depth": [1, 2], "min_samples_leaf": [1, 10, 40]}
    gs = GridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=KFold(5),
                      scoring=["roc_auc", "accuracy"], refit="roc_auc").fit(X, y)
    r = gs.cv_results_
    return {
        "call": ("GridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=KFold(5), "
                 "scoring=['roc_auc', 'accuracy'], refit='roc_auc').fit(X, y) on data/breast_cancer.csv"),
        "grid": grid,
        "params": [dict(p) for p in r["params"]],
        "mean_test_roc_auc": r["mean_test_roc_auc"], "std_test_roc_auc": r["std_test_roc_auc"],
        "mean_test_accuracy": r["mean_test_accuracy"],
        "split_test_roc_auc": [r[f"split{i}_test_roc_auc"] for i in range(5)],
        "best_params": gs.best_params_, "best_index": int(gs.best_index_),
    }


def main():
    write_json(OUT, {
        "source": (f"{versions(sklearn, np)}; sklearn.metrics.roc_curve/precision_recall_curve"
                   "(drop_intermediate)/roc_auc_score/average_precision_score/log_loss/brier_score_loss/"
                   "r2_score/explained_variance_score/mean_absolute_percentage_error/"
                   "balanced_accuracy_score/precision_score/recall_score/f1_score/silhouette_samples; "
                   "sklearn.calibration.calibration_curve; sklearn.model_selection.ParameterGrid/GridSearchCV+KFold with DecisionTreeClassifier. Generated by bench/reference/metrics_extra.py"),
        "conventions": "+inf encoded as the string \"inf\"; NaN as null",
        "binary_ties": binary_ties(),
        "multiclass": multiclass(),
        "edge": edge(),
        "parameter_grid": parameter_grid(),
        "cross_validation": cross_validation(),
    })


if __name__ == "__main__":
    main()
