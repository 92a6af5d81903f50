#!/usr/bin/env python3
"""Peer: time pandas.read_json(path, lines=True) on a JSON-lines file (default options).

Usage: bench/.venv/bin/python bench/peers/pandas_read_jsonl.py <jsonl> [--repeat N]
Prints one JSON object: {"peer", "call", "path", "rows", "cols", "bytes",
"repeat", "seconds" (best), "all_seconds", "rows_per_s", "mb_per_s", "env"}.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pandas as pd  # noqa: E402

from _common import best_of, emit, parser  # noqa: E402


def main():
    ap = parser(__doc__)
    ap.add_argument("path")
    args = ap.parse_args()
    best, times, df = best_of(lambda: pd.read_json(args.path, lines=True), args.repeat)
    size = os.path.getsize(args.path)
    emit({
        "peer": "pandas_read_jsonl",
        "call": "pandas.read_json(path, lines=True)",
        "path": os.path.abspath(args.path),
        "rows": int(df.shape[0]),
        "cols": int(df.shape[1]),
        "bytes": size,
        "repeat": args.repeat,
        "seconds": best,
        "all_seconds": times,
        "rows_per_s": df.shape[0] / best,
        "mb_per_s": size / 1e6 / best,
    })


if __name__ == "__main__":
    main()
