"""Shared helpers for the Python peer timing harnesses (not a peer itself).

Every peer prints exactly ONE JSON object on stdout; diagnostics go to stderr.
Timings use time.perf_counter(); "best of N" = minimum wall time over N runs.
"""
import argparse
import json
import os
import platform
import sys
import time

# Repo root = two levels above this file (bench/peers/_common.py).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parser(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--repeat", "-n", type=int, default=3, help="timing repeats; best (min) is reported (default 3)")
    return ap


def best_of(fn, repeat):
    """Run fn() `repeat` times; return (best_seconds, all_seconds, last_result)."""
    times = []
    result = None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, result


def environment():
    """Library versions and thread pools, so a figure can be interpreted later."""
    env = {"python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count()}
    for mod in ("numpy", "scipy", "pandas", "sklearn", "statsmodels"):
        m = sys.modules.get(mod)
        if m is not None:
            env[mod] = getattr(m, "__version__", "?")
    try:
        from threadpoolctl import threadpool_info

        env["threadpools"] = [
            {k: p.get(k) for k in ("user_api", "internal_api", "num_threads", "version", "architecture")}
            for p in threadpool_info()
        ]
    except Exception as exc:  # threadpoolctl ships with scikit-learn; tolerate its absence
        env["threadpools"] = f"unavailable: {exc}"
    env["OPENBLAS_CORETYPE"] = os.environ.get("OPENBLAS_CORETYPE")
    env["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS")
    return env


def emit(obj):
    obj.setdefault("env", environment())
    json.dump(obj, sys.stdout, indent=None, sort_keys=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def feature_columns(df):
    cols = [c for c in df.columns if c != "target"]
    if "target" not in df.columns:
        cols = list(df.columns[:-1])
    return cols
