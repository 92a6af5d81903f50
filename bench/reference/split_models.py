#!/usr/bin/env python3
"""scikit-learn split + model-quality reference values
-> crates/mlpipe-models/tests/fixtures/sklearn_quality.json

Row indices are 0-based data-row indices into the CSV (header excluded),
obtained by passing np.arange(n) through train_test_split together with X, y.
Sections:
  breast_cancer: train_test_split(X, y, idx, test_size=0.3, stratify=y, random_state=42)
  diabetes:      train_test_split(X, y, idx, test_size=0.3, random_state=42)
  iris:          KMeans(n_clusters=3, n_init=10, random_state=0) on all 150 rows
Accuracy = accuracy_score on the test rows; R^2 = r2_score on the test rows.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # noqa: E402
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge  # noqa: E402
from sklearn.metrics import accuracy_score, r2_score, silhouette_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

from _common import REPO_ROOT, load_xy, versions, write_json  # noqa: E402

OUT = os.path.join(REPO_ROOT, "crates", "mlpipe-models", "tests", "fixtures", "sklearn_quality.json")


def breast_cancer():
    X, y, _ = load_xy("breast_cancer")
    y = y.astype(int)
    idx = np.arange(len(y))
    X_tr, X_te, y_tr, y_te, i_tr, i_te = train_test_split(X, y, idx, test_size=0.3, stratify=y, random_state=42)
    out = {
        "data": "data/breast_cancer.csv",
        "split_call": "train_test_split(X, y, np.arange(n), test_size=0.3, stratify=y, random_state=42)",
        "train_idx": i_tr, "test_idx": i_te,
        "test_class_counts": np.bincount(y_te),
    }
    models = {
        "decision_tree": ("DecisionTreeClassifier(max_depth=5, random_state=42)",
                          DecisionTreeClassifier(max_depth=5, random_state=42)),
        "logistic_regression_scaled": ("Pipeline([('scaler', StandardScaler()), ('clf', LogisticRegression(max_iter=10000))])",
                                       Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(max_iter=10000))])),
        "gaussian_nb": ("GaussianNB()", GaussianNB()),
        "random_forest": ("RandomForestClassifier(n_estimators=100, max_depth=5, random_state=42)",
                          RandomForestClassifier(n_estimators=100, max_depth=5, random_state=42)),
    }
    for key, (call, m) in models.items():
        m.fit(X_tr, y_tr)
        out[key] = {"call": call + ".fit(X_train, y_train)", "test_accuracy": accuracy_score(y_te, m.predict(X_te))}
    nb = models["gaussian_nb"][1]
    out["gaussian_nb"].update({
        "classes": nb.classes_, "theta": nb.theta_, "var": nb.var_, "class_prior": nb.class_prior_,
        "epsilon": nb.epsilon_,
        "var_note": "var_ = per-class population variance (ddof=0) + epsilon_, epsilon_ = 1e-9 * max(np.var(X_train, axis=0))",
        "predict_proba_first5_test": nb.predict_proba(X_te[:5]),
    })
    lr = models["logistic_regression_scaled"][1]
    out["logistic_regression_scaled"].update({
        "coef": lr.named_steps["clf"].coef_[0], "intercept": lr.named_steps["clf"].intercept_[0],
        "predict_proba_first5_test": lr.predict_proba(X_te[:5]),
    })
    return out


def diabetes():
    X, y, _ = load_xy("diabetes")
    y = y.astype(float)
    idx = np.arange(len(y))
    X_tr, X_te, y_tr, y_te, i_tr, i_te = train_test_split(X, y, idx, test_size=0.3, random_state=42)
    out = {
        "data": "data/diabetes.csv",
        "split_call": "train_test_split(X, y, np.arange(n), test_size=0.3, random_state=42)",
        "train_idx": i_tr, "test_idx": i_te,
    }
    linear = {
        "linear_regression": ("LinearRegression()", LinearRegression()),
        "ridge": ("Ridge(alpha=1.0)", Ridge(alpha=1.0)),
        "elastic_net": ("ElasticNet(alpha=0.1, l1_ratio=0.5, max_iter=100000, tol=1e-10)",
                        ElasticNet(alpha=0.1, l1_ratio=0.5, max_iter=100000, tol=1e-10)),
        "lasso": ("Lasso(alpha=0.1)", Lasso(alpha=0.1)),
        "lasso_tight": ("Lasso(alpha=0.1, max_iter=100000, tol=1e-10)", Lasso(alpha=0.1, max_iter=100000, tol=1e-10)),
    }
    for key, (call, m) in linear.items():
        m.fit(X_tr, y_tr)
        out[key] = {"call": call + ".fit(X_train, y_train)", "coef": m.coef_, "intercept": m.intercept_,
                    "test_r2": r2_score(y_te, m.predict(X_te))}
    out["elastic_net"]["objective"] = ("1/(2n) ||y - Xw - b||^2 + alpha*l1_ratio*||w||_1 + "
                                       "0.5*alpha*(1-l1_ratio)*||w||^2 (intercept unpenalised, fit on centred data)")
    out["lasso"]["note"] = ("default tol=1e-4, max_iter=1000 (coordinate descent, stops at the dual-gap tolerance); "
                            "lasso_tight is the same model converged to tol=1e-10 (closer to the exact optimum)")
    trees = {
        "decision_tree_regressor": ("DecisionTreeRegressor(max_depth=4, random_state=0)",
                                    DecisionTreeRegressor(max_depth=4, random_state=0)),
        "random_forest_regressor": ("RandomForestRegressor(n_estimators=100, max_depth=6, random_state=0)",
                                    RandomForestRegressor(n_estimators=100, max_depth=6, random_state=0)),
    }
    for key, (call, m) in trees.items():
        m.fit(X_tr, y_tr)
        out[key] = {"call": call + ".fit(X_train, y_train)", "test_r2": r2_score(y_te, m.predict(X_te))}
    return out


def iris():
    X, _, _ = load_xy("iris")
    km = KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)
    return {
        "data": "data/iris.csv (4 feature columns, 150 rows)",
        "call": "KMeans(n_clusters=3, n_init=10, random_state=0).fit(X)",
        "inertia": km.inertia_,
        "cluster_sizes_sorted": np.sort(np.bincount(km.labels_)),
        "cluster_centers": km.cluster_centers_,
        "labels": km.labels_,
        "silhouette_score": silhouette_score(X, km.labels_),
    }


def main():
    out = {
        "source": (
            f"{versions(sklearn, np)}; sklearn.model_selection.train_test_split; sklearn.tree/ensemble/linear_model/"
            "naive_bayes/cluster estimators as given in each 'call'; sklearn.metrics accuracy_score/r2_score/"
            "silhouette_score. Generated by bench/reference/split_models.py"
        ),
        "conventions": "indices are 0-based data rows of the CSV; test_* metrics computed on the test rows",
        "breast_cancer": breast_cancer(),
        "diabetes": diabetes(),
        "iris": iris(),
    }
    write_json(OUT, out)


if __name__ == "__main__":
    main()
