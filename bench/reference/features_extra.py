#!/usr/bin/env python3
"""Extra scikit-learn references for mlpipe-features (issue 4): one-hot encoding with
infrequent categories.

Writes crates/mlpipe-features/tests/fixtures/sklearn_features_extra.json from
crates/mlpipe-features/tests/fixtures/mixed.csv (written by features.py).

Usage: bench/.venv/bin/python bench/reference/features_extra.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.preprocessing import OneHotEncoder  # noqa: E402

from _common import REPO_ROOT, versions, write_json  # noqa: E402

FIX = os.path.join(REPO_ROOT, "crates/mlpipe-features/tests/fixtures")
df = pd.read_csv(os.path.join(FIX, "mixed.csv"))
X = df[["city", "colour"]].fillna("__missing__")
call = ("OneHotEncoder(min_frequency=4, handle_unknown='infrequent_if_exist', sparse_output=False)"
        ".fit_transform(df[['city','colour']].fillna('__missing__'))")
enc = OneHotEncoder(min_frequency=4, handle_unknown="infrequent_if_exist", sparse_output=False)
out = enc.fit_transform(X)
unknown = pd.DataFrame([["Tokyo", "red"]], columns=["city", "colour"])
write_json(
    os.path.join(FIX, "sklearn_features_extra.json"),
    {
        "source": f"{versions(np, pd, sklearn)}; sklearn.preprocessing.OneHotEncoder",
        "one_hot_infrequent": {
            "call": call,
            "columns": ["city", "colour"],
            "categories": [list(map(str, c)) for c in enc.categories_],
            "infrequent_categories": [
                [] if c is None else list(map(str, c)) for c in enc.infrequent_categories_
            ],
            "feature_names": list(enc.get_feature_names_out(["city", "colour"])),
            "output": out,
            "unknown_row": {"input": ["Tokyo", "red"], "output": enc.transform(unknown)[0]},
        },
    },
)
