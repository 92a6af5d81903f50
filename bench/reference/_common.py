"""Shared helpers for the reference-fixture scripts in bench/reference/."""
import json
import math
import os

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(REPO_ROOT, "data")


def versions(*mods):
    """'numpy 2.4.6, scikit-learn 1.9.1, ...' for the given imported modules."""
    names = {"sklearn": "scikit-learn"}
    return ", ".join(f"{names.get(m.__name__, m.__name__)} {m.__version__}" for m in mods)


def _clean(o):
    """Convert numpy containers/scalars to JSON; NaN/inf become null / strings."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.ndarray):
        return _clean(o.tolist())
    if isinstance(o, np.generic):
        return _clean(o.item())
    if isinstance(o, float):
        if math.isnan(o):
            return None
        if math.isinf(o):
            return "inf" if o > 0 else "-inf"
        return o
    return o


def write_json(path, obj):
    """Write obj as JSON (floats via repr = full round-trip precision)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(_clean(obj), fh, indent=1, allow_nan=False)
        fh.write("\n")
    print(f"wrote {os.path.relpath(path, REPO_ROOT)}")


def load_xy(name):
    """data/<name>.csv -> (X float64, y, feature names); target = last column."""
    import pandas as pd

    df = pd.read_csv(os.path.join(DATA, f"{name}.csv"))
    X = df.iloc[:, :-1].to_numpy(dtype=np.float64)
    y = df.iloc[:, -1].to_numpy()
    return X, y, list(df.columns[:-1])
