#!/usr/bin/env python3
"""scikit-learn feature-engineering reference values.

Writes
  crates/mlpipe-features/tests/fixtures/mixed.csv           (hand-made 20-row mixed-type table)
  crates/mlpipe-features/tests/fixtures/sklearn_features.json

Part "breast_cancer": data/breast_cancer.csv, all 569 rows, 30 feature columns
(label = last column). "first5" = the first 5 data rows of the CSV.
Part "mixed": mixed.csv; categorical missing values (empty cells) are filled
with the string "__missing__" BEFORE encoding/hashing, i.e. missing is its own
category. Numeric missing values are NaN for SimpleImputer.
JSON conventions: NaN -> null.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.feature_extraction import FeatureHasher  # noqa: E402
from sklearn.feature_selection import SelectKBest, VarianceThreshold, chi2, f_classif  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.utils import murmurhash3_32  # noqa: E402
from sklearn.preprocessing import (  # noqa: E402
    KBinsDiscretizer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    PowerTransformer,
    RobustScaler,
    StandardScaler,
)

from _common import REPO_ROOT, load_xy, versions, write_json  # noqa: E402

FIX = os.path.join(REPO_ROOT, "crates", "mlpipe-features", "tests", "fixtures")
OUT = os.path.join(FIX, "sklearn_features.json")
MIXED = os.path.join(FIX, "mixed.csv")
MISSING = "__missing__"

MIXED_CSV = """id,city,colour,age,income,ts,label
1,London,red,34,52000.5,2024-03-05T14:30:00Z,1
2,Paris,blue,,61000,2024-01-01T00:00:00Z,0
3,Berlin,green,45,48000,2023-12-31T23:59:59Z,0
4,London,blue,29,,2024-02-29T08:15:00Z,1
5,,red,52,75000,2024-07-14T12:00:00Z,1
6,Paris,red,41,58000.25,2024-03-10T18:45:30Z,0
7,Madrid,green,,39000,2024-11-03T06:00:00Z,0
8,Berlin,blue,38,67000,2024-05-20T21:10:00Z,1
9,London,green,29,52000.5,2024-08-08T09:09:09Z,0
10,Rome,red,61,88000,2024-12-25T00:30:00Z,1
11,Paris,blue,33,,2024-06-01T15:00:00Z,0
12,Madrid,red,47,54000,2024-09-15T11:11:11Z,1
13,London,blue,,61000,2024-04-01T00:00:01Z,1
14,Rome,green,25,31000,2024-10-31T23:00:00Z,0
15,Berlin,red,56,72000,2025-01-01T00:00:00Z,1
16,Paris,green,29,45000,2024-02-14T19:30:00Z,0
17,London,red,44,66000,2024-07-04T04:04:04Z,1
18,Madrid,blue,37,50500,2024-03-31T13:13:13Z,0
19,Rome,blue,50,80000,2024-09-01T10:00:00Z,1
20,Berlin,green,31,47000,2024-01-15T16:20:00Z,0
"""


def first5(a):
    return np.asarray(a)[:5]


def breast_cancer():
    X, y, names = load_xy("breast_cancer")
    out = {"data": "data/breast_cancer.csv", "n_rows": X.shape[0], "n_features": X.shape[1], "feature_names": names}

    Xmm = MinMaxScaler().fit_transform(X)
    sc, pv = chi2(Xmm, y)
    out["chi2_on_minmax"] = {
        "call": "chi2(MinMaxScaler().fit_transform(X), y); SelectKBest(chi2, k=10).fit(X_minmax, y).get_support(indices=True)",
        "scores": sc, "pvalues": pv,
        "kbest10_indices": SelectKBest(chi2, k=10).fit(Xmm, y).get_support(indices=True),
    }
    sc, pv = f_classif(X, y)
    out["f_classif"] = {
        "call": "f_classif(X, y) on raw features; SelectKBest(f_classif, k=10).get_support(indices=True)",
        "scores": sc, "pvalues": pv,
        "kbest10_indices": SelectKBest(f_classif, k=10).fit(X, y).get_support(indices=True),
    }
    vt = VarianceThreshold(threshold=0.01).fit(X)
    out["variance_threshold"] = {
        "call": "VarianceThreshold(threshold=0.01).fit(X) (population variance, ddof=0; kept if variance > threshold)",
        "variances": vt.variances_, "kept_indices": vt.get_support(indices=True),
    }

    s = StandardScaler().fit(X)
    out["standard_scaler"] = {"call": "StandardScaler().fit(X) (scale_ = population std, ddof=0)",
                              "mean": s.mean_, "scale": s.scale_, "first5": first5(s.transform(X))}
    m = MinMaxScaler().fit(X)
    out["minmax_scaler"] = {"call": "MinMaxScaler().fit(X)", "data_min": m.data_min_, "data_max": m.data_max_,
                            "first5": first5(m.transform(X))}
    r = RobustScaler().fit(X)
    out["robust_scaler"] = {"call": "RobustScaler().fit(X) (center_=median, scale_=IQR q75-q25, np.percentile linear)",
                            "center": r.center_, "scale": r.scale_, "first5": first5(r.transform(X))}

    X4 = X[:, :4]
    for strat, qm in (("quantile", "averaged_inverted_cdf"), ("quantile", "linear"), ("uniform", None)):
        kw = {"quantile_method": qm} if qm else {}
        kb = KBinsDiscretizer(n_bins=4, encode="ordinal", strategy=strat, **kw).fit(X4)
        key = f"kbins_{strat}" + ("_linear" if qm == "linear" else "")
        out[key] = {
            "call": f"KBinsDiscretizer(n_bins=4, encode='ordinal', strategy={strat!r}"
                    + (f", quantile_method={qm!r}" if qm else "") + ").fit(X[:, 0:4])"
                    + (" (averaged_inverted_cdf is the sklearn default quantile method)" if qm == "averaged_inverted_cdf" else ""),
            "feature_indices": [0, 1, 2, 3],
            "bin_edges": [e for e in kb.bin_edges_],
            "first5": first5(kb.transform(X4)),
        }

    pf = PolynomialFeatures(degree=2, include_bias=False).fit(X[:, :3])
    out["polynomial_features"] = {
        "call": "PolynomialFeatures(degree=2, include_bias=False).fit(X[:, 0:3])",
        "feature_indices": [0, 1, 2],
        "feature_names_default": pf.get_feature_names_out(),
        "feature_names": pf.get_feature_names_out(names[:3]),
        "first5": first5(pf.transform(X[:, :3])),
    }

    for std in (False, True):
        pt = PowerTransformer(method="yeo-johnson", standardize=std).fit(X4)
        out[f"power_transformer_standardize_{str(std).lower()}"] = {
            "call": f"PowerTransformer(method='yeo-johnson', standardize={std}).fit(X[:, 0:4]) "
                    "(lambda = scipy.stats.yeojohnson(x)[1], Brent MLE)",
            "feature_indices": [0, 1, 2, 3],
            "lambdas": pt.lambdas_,
            "yeojohnson_llf_at_lambda": [float(stats.yeojohnson_llf(lm, X4[:, j])) for j, lm in enumerate(pt.lambdas_)],
            "first5": first5(pt.transform(X4)),
        }
    out["log1p"] = {"call": "np.log1p(X[:5, 0:4])", "feature_indices": [0, 1, 2, 3], "first5": np.log1p(X4[:5])}
    return out


def mixed():
    with open(MIXED, "w", newline="\n") as fh:
        fh.write(MIXED_CSV)
    df = pd.read_csv(MIXED, keep_default_na=True)
    cats = df[["city", "colour"]].fillna(MISSING).astype(str)
    out = {
        "csv": "crates/mlpipe-features/tests/fixtures/mixed.csv",
        "n_rows": len(df),
        "missing_categorical": f"empty cells filled with {MISSING!r} before encoding; it sorts like any string "
                               "(byte order: uppercase < '_' < lowercase)",
    }
    ohe = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(cats)
    out["one_hot"] = {
        "call": "OneHotEncoder(handle_unknown='ignore', sparse_output=False).fit_transform(df[['city','colour']].fillna('__missing__'))",
        "columns": ["city", "colour"],
        "categories": [list(c) for c in ohe.categories_],
        "feature_names": ohe.get_feature_names_out(),
        "output": ohe.transform(cats),
        "unknown_row": {"input": ["Tokyo", "red"], "output": ohe.transform(pd.DataFrame([["Tokyo", "red"]], columns=["city", "colour"]))[0]},
    }
    oe = OrdinalEncoder().fit(cats)
    out["ordinal"] = {
        "call": "OrdinalEncoder().fit_transform(df[['city','colour']].fillna('__missing__'))",
        "columns": ["city", "colour"],
        "categories": [list(c) for c in oe.categories_],
        "output": oe.transform(cats),
    }
    num = df[["age", "income"]].to_numpy(dtype=float)
    out["impute_input"] = {"columns": ["age", "income"], "values": num,
                           "missing_rows": {"age": np.where(np.isnan(num[:, 0]))[0], "income": np.where(np.isnan(num[:, 1]))[0]}}
    for strat in ("mean", "median", "most_frequent", "constant"):
        kw = {"fill_value": 0} if strat == "constant" else {}
        im = SimpleImputer(strategy=strat, add_indicator=True, **kw).fit(num)
        out[f"impute_{strat}"] = {
            "call": f"SimpleImputer(strategy={strat!r}{', fill_value=0' if kw else ''}, add_indicator=True).fit_transform(df[['age','income']])",
            "statistics": im.statistics_,
            "output": im.transform(num),
            "output_columns": ["age", "income", "missingindicator_age", "missingindicator_income"],
            **({"tie_rule": "most_frequent picks the smallest value among ties"} if strat == "most_frequent" else {}),
        }
    city_tokens = [[c] for c in cats["city"]]
    uniq = sorted(set(cats["city"]))
    out["murmurhash3_32"] = {
        "call": "sklearn.utils.murmurhash3_32(token, seed=0, positive=False) and positive=True",
        "tokens": uniq,
        "signed": [murmurhash3_32(t, seed=0, positive=False) for t in uniq],
        "unsigned": [murmurhash3_32(t, seed=0, positive=True) for t in uniq],
    }
    for alt in (True, False):
        fh = FeatureHasher(n_features=8, input_type="string", alternate_sign=alt)
        out[f"feature_hasher_alternate_sign_{str(alt).lower()}"] = {
            "call": f"FeatureHasher(n_features=8, input_type='string', alternate_sign={alt}).transform([[city] for city in cities]).toarray()",
            "hash": "signed 32-bit MurmurHash3_x86_32(token utf-8, seed=0); index = abs(h) % n_features; "
                    "sign = +1 if h >= 0 else -1 when alternate_sign",
            "inputs": list(cats["city"]),
            "output": fh.transform(city_tokens).toarray(),
        }
    ts = pd.to_datetime(df["ts"], utc=True)
    out["datetime_parts"] = {
        "call": "pd.to_datetime(df['ts'], utc=True).dt.{year,month,day,hour,day_of_week,day_of_year}",
        "inputs": list(df["ts"]),
        "year": ts.dt.year.to_numpy(), "month": ts.dt.month.to_numpy(), "day": ts.dt.day.to_numpy(),
        "hour": ts.dt.hour.to_numpy(), "weekday_monday0": ts.dt.day_of_week.to_numpy(),
        "dayofyear": ts.dt.day_of_year.to_numpy(),
        "unix_seconds": ((ts - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(),
    }
    return out


def main():
    out = {
        "source": (
            f"{versions(sklearn, np, scipy, pd)}; sklearn.feature_selection chi2/f_classif/SelectKBest/VarianceThreshold; "
            "sklearn.preprocessing StandardScaler/MinMaxScaler/RobustScaler/KBinsDiscretizer/PolynomialFeatures/"
            "PowerTransformer/OneHotEncoder/OrdinalEncoder; sklearn.impute.SimpleImputer; "
            "sklearn.feature_extraction.FeatureHasher; pandas datetime accessors; exact calls in each 'call' key. "
            "Generated by bench/reference/features.py"
        ),
        "conventions": "NaN encoded as null; first5 = transformed first 5 CSV rows",
        "breast_cancer": breast_cancer(),
        "mixed": mixed(),
    }
    write_json(OUT, out)


if __name__ == "__main__":
    main()
