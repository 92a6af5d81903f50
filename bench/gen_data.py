#!/usr/bin/env python3
"""Generate benchmark input CSVs for mlpipe.

Default: bench/data/classification_200k.csv
    sklearn.datasets.make_classification(n_samples=200000, n_features=20,
    n_informative=10, random_state=42); header f0..f19,target; features
    written with Python repr (shortest round-trip) precision, target as int.

--big: additionally bench/data/classification_4m.csv (20x rows): the same
    generator with n_samples=4_000_000, random_state=42 (~1.6 GB on disk, the
    generator itself needs ~0.7 GB RAM; rows are written in 200k-row chunks).
    It is NOT row-for-row a superset of the 200k file (make_classification
    draws differently for a different n_samples).

Usage (from the repo root):
    bench/.venv/bin/python bench/gen_data.py [--big] [--force]
Existing files are kept unless --force is given.
"""
import argparse
import os
import sys
import time

import numpy as np
from sklearn.datasets import make_classification

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
N_FEATURES = 20
CHUNK = 200_000


def write_csv(path, n_samples):
    t0 = time.perf_counter()
    X, y = make_classification(
        n_samples=n_samples, n_features=N_FEATURES, n_informative=10, random_state=42
    )
    tmp = path + ".tmp"
    header = ",".join([f"f{i}" for i in range(N_FEATURES)] + ["target"]) + "\n"
    with open(tmp, "w", newline="\n") as fh:
        fh.write(header)
        for start in range(0, n_samples, CHUNK):
            xs = X[start : start + CHUNK].tolist()
            ys = y[start : start + CHUNK].tolist()
            fh.write(
                "".join(
                    ",".join(map(repr, row)) + "," + str(int(lab)) + "\n"
                    for row, lab in zip(xs, ys)
                )
            )
    os.replace(tmp, path)
    dt = time.perf_counter() - t0
    print(f"wrote {path}: {n_samples} rows x {N_FEATURES + 1} cols in {dt:.1f}s "
          f"({os.path.getsize(path) / 1e6:.1f} MB)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--big", action="store_true", help="also write classification_4m.csv (4,000,000 rows)")
    ap.add_argument("--force", action="store_true", help="regenerate even if the file exists")
    args = ap.parse_args()
    os.makedirs(DATA_DIR, exist_ok=True)
    jobs = [("classification_200k.csv", 200_000)]
    if args.big:
        jobs.append(("classification_4m.csv", 4_000_000))
    for name, n in jobs:
        path = os.path.join(DATA_DIR, name)
        if os.path.exists(path) and not args.force:
            print(f"{path} exists; use --force to regenerate", file=sys.stderr)
            continue
        write_csv(path, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
