#!/usr/bin/env python3
"""Peer: time sklearn StandardScaler().fit_transform on the feature columns.

The CSV is read once (not timed); features = every column except "target"
(or except the last column), as a C-contiguous float64 numpy array.
Also times a plain X.copy() as a memory-bandwidth baseline.

Usage: bench/.venv/bin/python bench/peers/sklearn_scaler.py <csv> [--repeat N]
Prints one JSON object: {"peer", "call", "csv", "rows", "cols", "repeat",
"seconds", "all_seconds", "rows_per_s", "copy_seconds", "copy_all_seconds",
"copy_rows_per_s", "env"}.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402,F401
from sklearn.preprocessing import StandardScaler  # noqa: E402

from _common import best_of, emit, feature_columns, parser  # noqa: E402


def main():
    ap = parser(__doc__)
    ap.add_argument("csv")
    args = ap.parse_args()
    df = pd.read_csv(args.csv)
    X = np.ascontiguousarray(df[feature_columns(df)].to_numpy(dtype=np.float64))
    best, times, _ = best_of(lambda: StandardScaler().fit_transform(X), args.repeat)
    cbest, ctimes, _ = best_of(lambda: X.copy(), args.repeat)
    n = X.shape[0]
    emit({
        "peer": "sklearn_scaler",
        "call": "StandardScaler().fit_transform(X) with X float64 C-contiguous (read time excluded)",
        "csv": os.path.abspath(args.csv),
        "rows": int(n),
        "cols": int(X.shape[1]),
        "repeat": args.repeat,
        "seconds": best,
        "all_seconds": times,
        "rows_per_s": n / best,
        "copy_seconds": cbest,
        "copy_all_seconds": ctimes,
        "copy_rows_per_s": n / cbest,
    })


if __name__ == "__main__":
    main()
