#!/usr/bin/env python3
"""Reference values for mlpipe-features' data quality report (issue 4).

Writes crates/mlpipe-features/tests/fixtures/quality.json from data/breast_cancer.csv:
per column skewness (scipy.stats.skew, bias=True), Tukey IQR outliers (np.percentile
linear, 1.5 * IQR fences), |z| > 3 outliers (scipy.stats.zscore, ddof=0) and label counts.

Usage: bench/.venv/bin/python bench/reference/features_quality.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy import stats  # noqa: E402

from _common import REPO_ROOT, load_xy, versions, write_json  # noqa: E402

X, y, names = load_xy("breast_cancer")
q1, q3 = np.percentile(X, [25, 75], axis=0)
iqr = q3 - q1
iqr_out = ((X < q1 - 1.5 * iqr) | (X > q3 + 1.5 * iqr)).sum(axis=0)
z_out = (np.abs(stats.zscore(X, ddof=0)) > 3).sum(axis=0)
classes, counts = np.unique(y, return_counts=True)
write_json(
    os.path.join(REPO_ROOT, "crates/mlpipe-features/tests/fixtures/quality.json"),
    {
        "source": f"{versions(np, scipy)}; scipy.stats.skew(X, bias=True); np.percentile(X, [25, 75], axis=0) "
        "Tukey fences 1.5*IQR; scipy.stats.zscore(X, ddof=0) |z|>3; np.unique(y, return_counts=True)",
        "data": "data/breast_cancer.csv",
        "feature_names": names,
        "skewness": stats.skew(X, axis=0, bias=True),
        "iqr_outliers": iqr_out,
        "z_outliers": z_out,
        "label_classes": [str(int(c)) for c in classes],
        "label_counts": counts,
    },
)
