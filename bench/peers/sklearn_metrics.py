#!/usr/bin/env python3
"""scikit-learn peer for crates/mlpipe-eval/benches/eval_vs_sklearn.rs.

Input: bench/data/classification_200k.csv. Truth = target; score = 1 / (1 + exp(-f0)),
rounded to 3 decimals (ties, as real classifiers' probabilities have). Times (best of
--repeat): roc_auc_score, average_precision_score, precision_recall_curve, log_loss,
brier_score_loss, calibration_curve(quantile, 10), and GridSearchCV(DecisionTreeClassifier,
{max_depth: [4, 8], min_samples_leaf: [1, 20]}, cv=KFold(5), scoring="roc_auc", n_jobs=2)
on the first 20,000 rows. Prints one JSON object.
Usage: bench/.venv/bin/python bench/peers/sklearn_metrics.py <csv> [--repeat N]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn import metrics as M  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from _common import best_of, emit, feature_columns, parser  # noqa: E402


def main():
    ap = parser(__doc__)
    ap.add_argument("csv")
    ap.add_argument("--search-rows", type=int, default=20000)
    a = ap.parse_args()
    df = pd.read_csv(a.csv)
    cols = feature_columns(df)
    X = df[cols].to_numpy(dtype=np.float64)
    y = df["target"].to_numpy()
    s = np.round(1.0 / (1.0 + np.exp(-X[:, 0])), 3)
    out = {"rows": len(y), "metrics": {}}
    for name, fn in [
        ("roc_auc", lambda: M.roc_auc_score(y, s)),
        ("average_precision", lambda: M.average_precision_score(y, s)),
        ("precision_recall_curve", lambda: len(M.precision_recall_curve(y, s)[0])),
        ("log_loss", lambda: M.log_loss(y, s)),
        ("brier_score", lambda: M.brier_score_loss(y, s)),
        ("calibration_quantile_10", lambda: calibration_curve(y, s, n_bins=10, strategy="quantile")[0].tolist()),
    ]:
        best, times, value = best_of(fn, a.repeat)
        out["metrics"][name] = {"seconds": best, "all": times, "value": value}
    n = a.search_rows
    grid = {"max_depth": [4, 8], "min_samples_leaf": [1, 20]}
    gs = GridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=KFold(5), scoring="roc_auc", n_jobs=2)
    best, times, _ = best_of(lambda: gs.fit(X[:n], y[:n]), a.repeat)
    out["grid_search"] = {
        "rows": n, "seconds": best, "all": times, "best_params": gs.best_params_,
        "best_score": gs.best_score_,
        "mean_test_score": gs.cv_results_["mean_test_score"].tolist(),
        "params": [dict(p) for p in gs.cv_results_["params"]],
    }
    emit(out)


if __name__ == "__main__":
    main()
