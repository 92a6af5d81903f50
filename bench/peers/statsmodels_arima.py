#!/usr/bin/env python3
"""Peer: time statsmodels ARIMA fits on the Nile and sunspots series.

  * nile:     ARIMA(y, order=(1, 1, 1), trend="n").fit()   (data/nile.csv, 100 obs)
  * sunspots: ARIMA(y, order=(2, 0, 1), trend="c").fit()   (data/sunspots.csv, 309 obs)
Both CSVs have header "t,value"; the series is the "value" column.
Timings are best of --repeat fits (model construction included, CSV read excluded).

Usage: bench/.venv/bin/python bench/peers/statsmodels_arima.py [nile.csv] [sunspots.csv] [--repeat N]
(defaults: data/nile.csv and data/sunspots.csv under the repo root)
Prints one JSON object: {"peer", "repeat", "models": {"nile_arima_1_1_1":
{"call", "n_obs", "fit_seconds", "fit_all_seconds", "llf", "params"}, "sunspots_arima_2_0_1": {...}}, "env"}.
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pandas as pd  # noqa: E402
import statsmodels  # noqa: E402,F401
from statsmodels.tsa.arima.model import ARIMA  # noqa: E402

from _common import REPO_ROOT, best_of, emit, parser  # noqa: E402


def main():
    ap = parser(__doc__)
    ap.add_argument("nile", nargs="?", default=os.path.join(REPO_ROOT, "data", "nile.csv"))
    ap.add_argument("sunspots", nargs="?", default=os.path.join(REPO_ROOT, "data", "sunspots.csv"))
    args = ap.parse_args()
    specs = [
        ("nile_arima_1_1_1", args.nile, (1, 1, 1), "n"),
        ("sunspots_arima_2_0_1", args.sunspots, (2, 0, 1), "c"),
    ]
    out = {}
    for name, path, order, trend in specs:
        y = pd.read_csv(path)["value"].to_numpy(dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            best, times, res = best_of(lambda: ARIMA(y, order=order, trend=trend).fit(), args.repeat)
        out[name] = {
            "call": f"statsmodels.tsa.arima.model.ARIMA(y, order={order}, trend={trend!r}).fit()",
            "csv": os.path.abspath(path),
            "n_obs": int(len(y)),
            "fit_seconds": best, "fit_all_seconds": times,
            "llf": float(res.llf),
            "params": dict(zip(res.model.param_names, map(float, res.params))),
        }
    emit({"peer": "statsmodels_arima", "repeat": args.repeat, "models": out})


if __name__ == "__main__":
    main()
