#!/usr/bin/env python3
"""Peer: time scikit-learn model fits / predictions on a classification CSV.

Protocol (all timings best of --repeat runs, wall clock, read time excluded):
  * X = feature columns (all but "target") as float64, y = target (int).
  * split: train_test_split(X, y, test_size=0.2, random_state=42, shuffle=True)
    -> 80/20 train/test.
  * decision_tree: DecisionTreeClassifier(max_depth=10, random_state=0) fit on
    train; accuracy on test; predict_proba on ALL rows timed.
  * logistic_regression: StandardScaler fit on train, applied to train/test/all
    (scaling time reported separately as "scale_seconds", NOT included in fit);
    LogisticRegression(max_iter=1000) (lbfgs, default C=1.0) fit on scaled
    train; accuracy on scaled test; predict_proba on ALL scaled rows timed.
  * kmeans: KMeans(n_clusters=8, n_init=1, random_state=0) fit on ALL rows
    (raw, unscaled features); inertia_.
  * gaussian_nb: GaussianNB() fit on train; accuracy on test.
  * random_forest: RandomForestClassifier(n_estimators=50, max_depth=10,
    n_jobs=2, random_state=0) fit on train; accuracy on test.
Threads: numpy/OpenBLAS and sklearn's OpenMP use their defaults (2 on this
machine); RandomForest uses n_jobs=2 as specified. See "env.threadpools".

Usage: bench/.venv/bin/python bench/peers/sklearn_models.py <csv> [--repeat N]
       [--only decision_tree,logistic_regression,kmeans,gaussian_nb,random_forest]
Prints one JSON object: {"peer", "csv", "rows", "cols", "train_rows",
"test_rows", "repeat", "models": {name: {"call", "fit_seconds",
"fit_all_seconds", ...model-specific keys}}, "env"}.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

from _common import best_of, emit, feature_columns, parser  # noqa: E402

ALL = ["decision_tree", "logistic_regression", "kmeans", "gaussian_nb", "random_forest"]


def fit_timed(make, X, y, repeat):
    def run():
        m = make()
        if y is None:
            m.fit(X)
        else:
            m.fit(X, y)
        return m

    return best_of(run, repeat)


def main():
    ap = parser(__doc__)
    ap.add_argument("csv")
    ap.add_argument("--only", default=",".join(ALL), help="comma-separated subset of " + ",".join(ALL))
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s]
    unknown = sorted(set(only) - set(ALL))
    if unknown:
        ap.error(f"unknown model(s) {unknown}; choose from {ALL}")

    df = pd.read_csv(args.csv)
    X = np.ascontiguousarray(df[feature_columns(df)].to_numpy(dtype=np.float64))
    y = df["target"].to_numpy() if "target" in df.columns else df.iloc[:, -1].to_numpy()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=42, shuffle=True)
    r = args.repeat
    out = {}

    if "decision_tree" in only:
        best, times, m = fit_timed(lambda: DecisionTreeClassifier(max_depth=10, random_state=0), X_tr, y_tr, r)
        pbest, ptimes, _ = best_of(lambda: m.predict_proba(X), r)
        out["decision_tree"] = {
            "call": "DecisionTreeClassifier(max_depth=10, random_state=0).fit(X_train, y_train)",
            "fit_seconds": best, "fit_all_seconds": times,
            "accuracy": float(accuracy_score(y_te, m.predict(X_te))),
            "predict_proba_all_rows_seconds": pbest, "predict_proba_all_seconds": ptimes,
            "n_leaves": int(m.get_n_leaves()), "depth": int(m.get_depth()),
        }

    if "logistic_regression" in only:
        sbest, stimes, scaler = best_of(lambda: StandardScaler().fit(X_tr), r)
        Xs_tr, Xs_te, Xs_all = scaler.transform(X_tr), scaler.transform(X_te), scaler.transform(X)
        best, times, m = fit_timed(lambda: LogisticRegression(max_iter=1000), Xs_tr, y_tr, r)
        pbest, ptimes, _ = best_of(lambda: m.predict_proba(Xs_all), r)
        out["logistic_regression"] = {
            "call": "LogisticRegression(max_iter=1000).fit(StandardScaler().fit(X_train).transform(X_train), y_train)",
            "scaled": "StandardScaler fit on train rows; fit time excludes scaling",
            "scale_seconds": sbest,
            "fit_seconds": best, "fit_all_seconds": times,
            "n_iter": int(np.max(m.n_iter_)),
            "accuracy": float(accuracy_score(y_te, m.predict(Xs_te))),
            "predict_proba_all_rows_seconds": pbest, "predict_proba_all_seconds": ptimes,
        }

    if "kmeans" in only:
        best, times, m = fit_timed(lambda: KMeans(n_clusters=8, n_init=1, random_state=0), X, None, r)
        out["kmeans"] = {
            "call": "KMeans(n_clusters=8, n_init=1, random_state=0).fit(X_all_rows_unscaled)",
            "fit_seconds": best, "fit_all_seconds": times,
            "inertia": float(m.inertia_), "n_iter": int(m.n_iter_),
        }

    if "gaussian_nb" in only:
        best, times, m = fit_timed(GaussianNB, X_tr, y_tr, r)
        out["gaussian_nb"] = {
            "call": "GaussianNB().fit(X_train, y_train)",
            "fit_seconds": best, "fit_all_seconds": times,
            "accuracy": float(accuracy_score(y_te, m.predict(X_te))),
        }

    if "random_forest" in only:
        best, times, m = fit_timed(
            lambda: RandomForestClassifier(n_estimators=50, max_depth=10, n_jobs=2, random_state=0), X_tr, y_tr, r)
        out["random_forest"] = {
            "call": "RandomForestClassifier(n_estimators=50, max_depth=10, n_jobs=2, random_state=0).fit(X_train, y_train)",
            "fit_seconds": best, "fit_all_seconds": times,
            "accuracy": float(accuracy_score(y_te, m.predict(X_te))),
        }

    emit({
        "peer": "sklearn_models",
        "csv": os.path.abspath(args.csv),
        "rows": int(X.shape[0]), "cols": int(X.shape[1]),
        "split": "train_test_split(X, y, test_size=0.2, random_state=42, shuffle=True)",
        "train_rows": int(X_tr.shape[0]), "test_rows": int(X_te.shape[0]),
        "repeat": r,
        "models": out,
    })


if __name__ == "__main__":
    main()
