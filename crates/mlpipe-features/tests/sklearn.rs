//! Built-in steps pinned to scikit-learn 1.9.1: every expected number comes from
//! `tests/fixtures/sklearn_features.json`, written by `bench/reference/features.py`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use mlpipe_core::table::rows_to_batch;
use mlpipe_core::Row;
use mlpipe_features::stats::murmur3_32;
use mlpipe_features::*;
use ndarray::{Array2, Axis};
use std::sync::Arc;

fn fit_t(spec: StepSpec, x: &Array2<f64>, names: &[String]) -> Box<dyn FittedTransformer> {
    StepRegistry::builtin()
        .transformer(&spec)
        .unwrap()
        .fit(x.view(), names, None)
        .unwrap()
}

fn first5(x: &Array2<f64>) -> Vec<Vec<f64>> {
    x.outer_iter().take(5).map(|r| r.to_vec()).collect()
}

fn close_rows(got: &[Vec<f64>], want: &[Vec<f64>], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: rows");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(g, w, tol, &format!("{what} row {i}"));
    }
}

fn cols(x: &Array2<f64>, idx: &[usize]) -> Array2<f64> {
    x.select(Axis(1), idx)
}

#[test]
fn chi2_after_min_max_matches_select_k_best() {
    let f = fixture();
    let want = &f["breast_cancer"]["chi2_on_minmax"];
    let (names, x, y) = breast_cancer();
    let scaler = fit_t(StepSpec::new("min_max_scaler"), &x, &names);
    let xs = scaler.transform_batch(x.view()).unwrap();
    let sel = StepRegistry::builtin()
        .selector(&StepSpec::new("k_best_chi2").with("k", 10))
        .unwrap()
        .select(xs.view(), &names, Some(y.view()))
        .unwrap();
    let scores: Vec<f64> = sel.scores.iter().map(|s| s.score).collect();
    let pvalues: Vec<f64> = sel.scores.iter().map(|s| s.p_value.unwrap()).collect();
    rel_close(&scores, &floats(&want["scores"]), 1e-11, "chi2 scores");
    rel_close(&pvalues, &floats(&want["pvalues"]), 1e-10, "chi2 p-values");
    assert_eq!(sel.kept, vec![0, 2, 3, 6, 7, 20, 22, 23, 26, 27]);
    assert_eq!(
        serde_json::json!(sel.kept),
        want["kbest10_indices"],
        "kept indices"
    );
    // The quoted values.
    for (i, s, p) in [
        (0, 24.8973, 6.04673e-07),
        (7, 52.4057, 4.51402e-13),
        (9, 0.00765553, 0.930277),
        (27, 46.3416, 9.933e-12),
    ] {
        assert!((scores[i] - s).abs() / s < 1e-5, "score {i}");
        assert!((pvalues[i] - p).abs() / p < 1e-4, "p {i}");
    }
    assert!(sel.scores[7].kept && !sel.scores[9].kept);
}

#[test]
fn f_classif_matches_scikit_learn() {
    let f = fixture();
    let want = &f["breast_cancer"]["f_classif"];
    let (names, x, y) = breast_cancer();
    let sel = StepRegistry::builtin()
        .selector(&StepSpec::new("k_best_f_classif").with("k", 10))
        .unwrap()
        .select(x.view(), &names, Some(y.view()))
        .unwrap();
    let scores: Vec<f64> = sel.scores.iter().map(|s| s.score).collect();
    let pvalues: Vec<f64> = sel.scores.iter().map(|s| s.p_value.unwrap()).collect();
    rel_close(&scores, &floats(&want["scores"]), 1e-10, "F scores");
    rel_close(&pvalues, &floats(&want["pvalues"]), 1e-10, "F p-values");
    assert_eq!(serde_json::json!(sel.kept), want["kbest10_indices"]);
}

#[test]
fn variance_threshold_matches_scikit_learn() {
    let f = fixture();
    let want = &f["breast_cancer"]["variance_threshold"];
    let (names, x, _) = breast_cancer();
    let sel = StepRegistry::builtin()
        .selector(&StepSpec::new("variance_threshold").with("threshold", 0.01))
        .unwrap()
        .select(x.view(), &names, None)
        .unwrap();
    let v: Vec<f64> = sel.scores.iter().map(|s| s.score).collect();
    rel_close(&v, &floats(&want["variances"]), 1e-10, "variances");
    assert_eq!(serde_json::json!(sel.kept), want["kept_indices"]);
}

#[test]
fn scalers_match_scikit_learn() {
    let f = fixture();
    let bc = &f["breast_cancer"];
    let (names, x, _) = breast_cancer();

    let s = fit_t(StepSpec::new("standard_scaler"), &x, &names);
    let st = s.state();
    close(
        &floats(&st["mean"]),
        &floats(&bc["standard_scaler"]["mean"]),
        1e-12,
        "mean",
    );
    close(
        &floats(&st["scale"]),
        &floats(&bc["standard_scaler"]["scale"]),
        1e-12,
        "scale",
    );
    let out = s.transform_batch(x.view()).unwrap();
    close_rows(
        &first5(&out),
        &matrix(&bc["standard_scaler"]["first5"]),
        1e-12,
        "standard",
    );

    let m = fit_t(StepSpec::new("min_max_scaler"), &x, &names);
    let out = m.transform_batch(x.view()).unwrap();
    close_rows(
        &first5(&out),
        &matrix(&bc["minmax_scaler"]["first5"]),
        1e-12,
        "minmax",
    );

    let r = fit_t(StepSpec::new("robust_scaler"), &x, &names);
    let st = r.state();
    close(
        &floats(&st["center"]),
        &floats(&bc["robust_scaler"]["center"]),
        1e-12,
        "center",
    );
    close(
        &floats(&st["scale"]),
        &floats(&bc["robust_scaler"]["scale"]),
        1e-12,
        "iqr",
    );
    let out = r.transform_batch(x.view()).unwrap();
    close_rows(
        &first5(&out),
        &matrix(&bc["robust_scaler"]["first5"]),
        1e-12,
        "robust",
    );
}

#[test]
fn bucketize_matches_kbins_discretizer() {
    let f = fixture();
    let bc = &f["breast_cancer"];
    let (names, x, _) = breast_cancer();
    let x4 = cols(&x, &[0, 1, 2, 3]);
    for (key, spec) in [
        (
            "kbins_quantile",
            StepSpec::new("bucketize").with("n_bins", 4),
        ),
        (
            "kbins_quantile_linear",
            StepSpec::new("bucketize")
                .with("n_bins", 4)
                .with("quantile_method", "linear"),
        ),
        (
            "kbins_uniform",
            StepSpec::new("bucketize")
                .with("n_bins", 4)
                .with("strategy", "uniform"),
        ),
    ] {
        let b = fit_t(spec, &x4, &names[..4]);
        let cuts = b.state()["cuts"].clone();
        for (j, edges) in matrix(&bc[key]["bin_edges"]).iter().enumerate() {
            close(&floats(&cuts[j]), &edges[1..edges.len() - 1], 1e-12, key);
        }
        let out = b.transform_batch(x4.view()).unwrap();
        close_rows(&first5(&out), &matrix(&bc[key]["first5"]), 0.0, key);
    }
}

#[test]
fn polynomial_matches_polynomial_features() {
    let f = fixture();
    let want = &f["breast_cancer"]["polynomial_features"];
    let (names, x, _) = breast_cancer();
    let x3 = cols(&x, &[0, 1, 2]);
    let p = fit_t(StepSpec::new("polynomial"), &x3, &names[..3]);
    assert_eq!(p.output_names(), strings(&want["feature_names"]));
    let out = p.transform_batch(x3.view()).unwrap();
    close_rows(&first5(&out), &matrix(&want["first5"]), 1e-14, "poly");
}

#[test]
fn power_transform_matches_yeo_johnson() {
    let f = fixture();
    let bc = &f["breast_cancer"];
    let (names, x, _) = breast_cancer();
    let x4 = cols(&x, &[0, 1, 2, 3]);
    for (key, standardize) in [
        ("power_transformer_standardize_false", false),
        ("power_transformer_standardize_true", true),
    ] {
        let p = fit_t(
            StepSpec::new("power").with("standardize", standardize),
            &x4,
            &names[..4],
        );
        let lambdas = floats(&p.state()["lambdas"]);
        close(&lambdas, &floats(&bc[key]["lambdas"]), 1e-6, "lambda");
        let out = p.transform_batch(x4.view()).unwrap();
        close_rows(&first5(&out), &matrix(&bc[key]["first5"]), 1e-6, key);
    }
    let l = fit_t(StepSpec::new("log"), &x4, &names[..4]);
    let out = l.transform_batch(x4.view()).unwrap();
    close_rows(
        &first5(&out),
        &matrix(&bc["log1p"]["first5"]),
        1e-15,
        "log1p",
    );
}

fn extract(spec: StepSpec) -> (Vec<String>, Array2<f64>, Box<dyn FittedExtractor>) {
    let b = mixed_batch();
    let e = StepRegistry::builtin()
        .extractor(&spec)
        .unwrap()
        .fit(std::slice::from_ref(&b))
        .unwrap();
    (e.output_names(), e.extract_batch(&b).unwrap(), e)
}

#[test]
fn encoders_match_one_hot_and_ordinal_encoder() {
    let f = fixture();
    let m = &f["mixed"];
    let (names, out, e) = extract(
        StepSpec::new("one_hot")
            .with("columns", ["city", "colour"])
            .with("handle_unknown", "ignore")
            .with("missing_value", "__missing__"),
    );
    assert_eq!(names, strings(&m["one_hot"]["feature_names"]));
    assert_eq!(e.state()["categories"], m["one_hot"]["categories"]);
    let rows: Vec<Vec<f64>> = out.outer_iter().map(|r| r.to_vec()).collect();
    assert_eq!(rows, matrix(&m["one_hot"]["output"]));
    let unknown = strings(&m["one_hot"]["unknown_row"]["input"]);
    let row = Row::new()
        .with("city", unknown[0].as_str())
        .with("colour", unknown[1].as_str());
    let mut v = Vec::new();
    e.extract_row(&row, &mut v).unwrap();
    assert_eq!(v, floats(&m["one_hot"]["unknown_row"]["output"]));

    let (_, out, e) = extract(
        StepSpec::new("ordinal")
            .with("columns", ["city", "colour"])
            .with("missing_value", "__missing__"),
    );
    assert_eq!(e.state()["categories"], m["ordinal"]["categories"]);
    let rows: Vec<Vec<f64>> = out.outer_iter().map(|r| r.to_vec()).collect();
    assert_eq!(rows, matrix(&m["ordinal"]["output"]));
    let mut v = Vec::new();
    let err = e.extract_row(
        &Row::new().with("city", "Tokyo").with("colour", "red"),
        &mut v,
    );
    assert!(matches!(err, Err(FeatureError::Shape(m)) if m.contains("Tokyo")));
}

#[test]
fn imputers_match_simple_imputer() {
    let f = fixture();
    let m = &f["mixed"];
    let names = strings(&m["impute_input"]["columns"]);
    let input = matrix(&m["impute_input"]["values"]);
    let x = Array2::from_shape_fn((input.len(), 2), |(i, j)| input[i][j]);
    for strategy in ["mean", "median", "most_frequent", "constant"] {
        let key = format!("impute_{strategy}");
        let mut spec = StepSpec::new("imputer")
            .with("strategy", strategy)
            .with("add_indicator", true);
        if strategy == "constant" {
            spec = spec.with("fill_value", 0.0);
        }
        let t = fit_t(spec, &x, &names);
        close(
            &floats(&t.state()["fill"]),
            &floats(&m[&key]["statistics"]),
            1e-12,
            &key,
        );
        assert_eq!(t.output_names(), strings(&m[&key]["output_columns"]));
        let out = t.transform_batch(x.view()).unwrap();
        let rows: Vec<Vec<f64>> = out.outer_iter().map(|r| r.to_vec()).collect();
        close_rows(&rows, &matrix(&m[&key]["output"]), 1e-12, &key);
    }
}

#[test]
fn hashing_matches_feature_hasher() {
    let f = fixture();
    let m = &f["mixed"];
    let mh = &m["murmurhash3_32"];
    for ((t, s), u) in strings(&mh["tokens"])
        .iter()
        .zip(floats(&mh["signed"]))
        .zip(floats(&mh["unsigned"]))
    {
        let h = murmur3_32(t.as_bytes(), 0);
        assert_eq!(h as f64, u, "{t}");
        assert_eq!(h as i32 as f64, s, "{t}");
    }
    for (key, alternate) in [
        ("feature_hasher_alternate_sign_true", true),
        ("feature_hasher_alternate_sign_false", false),
    ] {
        let rows: Vec<Row> = strings(&m[key]["inputs"])
            .into_iter()
            .map(|c| Row::new().with("city", c))
            .collect();
        let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
            "city",
            arrow_schema::DataType::Utf8,
            true,
        )]));
        let b = rows_to_batch(&rows, schema).unwrap();
        let e = StepRegistry::builtin()
            .extractor(
                &StepSpec::new("hashing")
                    .with("columns", ["city"])
                    .with("n_features", 8)
                    .with("input_type", "string")
                    .with("alternate_sign", alternate),
            )
            .unwrap()
            .fit(std::slice::from_ref(&b))
            .unwrap();
        let out = e.extract_batch(&b).unwrap();
        let got: Vec<Vec<f64>> = out.outer_iter().map(|r| r.to_vec()).collect();
        assert_eq!(got, matrix(&m[key]["output"]), "{key}");
    }
}

#[test]
fn datetime_parts_match_pandas() {
    let f = fixture();
    let d = &f["mixed"]["datetime_parts"];
    let (names, out, _) = extract(StepSpec::new("datetime").with("columns", ["ts"]));
    assert_eq!(
        names,
        [
            "ts_year",
            "ts_month",
            "ts_day",
            "ts_hour",
            "ts_weekday",
            "ts_dayofyear"
        ]
    );
    for (j, key) in [
        "year",
        "month",
        "day",
        "hour",
        "weekday_monday0",
        "dayofyear",
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(out.column(j).to_vec(), floats(&d[*key]), "{key}");
    }
    // The same parts from timestamps (microseconds since the epoch).
    let e = StepRegistry::builtin()
        .extractor(&StepSpec::new("datetime").with("columns", ["t"]))
        .unwrap();
    let rows: Vec<Row> = floats(&d["unix_seconds"])
        .iter()
        .map(|s| Row::new().with("t", mlpipe_core::Value::Timestamp(*s as i64 * 1_000_000)))
        .collect();
    let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "t",
        arrow_schema::DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, None),
        true,
    )]));
    let b = rows_to_batch(&rows, schema).unwrap();
    let fitted = e.fit(std::slice::from_ref(&b)).unwrap();
    let out2 = fitted.extract_batch(&b).unwrap();
    assert_eq!(out, out2);
}

#[test]
fn infrequent_categories_match_one_hot_encoder_min_frequency() {
    let f = extra_fixture();
    let want = &f["one_hot_infrequent"];
    let (names, out, e) = extract(
        StepSpec::new("one_hot")
            .with("columns", ["city", "colour"])
            .with("handle_unknown", "infrequent_if_exist")
            .with("missing_value", "__missing__")
            .with("min_frequency", 4),
    );
    assert_eq!(names, strings(&want["feature_names"]));
    assert_eq!(e.state()["categories"], want["categories"]);
    assert_eq!(e.state()["infrequent"], want["infrequent_categories"]);
    let rows: Vec<Vec<f64>> = out.outer_iter().map(|r| r.to_vec()).collect();
    assert_eq!(rows, matrix(&want["output"]));
    let unknown = strings(&want["unknown_row"]["input"]);
    let mut v = Vec::new();
    e.extract_row(
        &Row::new()
            .with("city", unknown[0].as_str())
            .with("colour", unknown[1].as_str()),
        &mut v,
    )
    .unwrap();
    assert_eq!(v, floats(&want["unknown_row"]["output"]));
    // The fitted state round-trips through the registry.
    let back = StepRegistry::builtin()
        .load_extractor("one_hot", &e.state())
        .unwrap();
    assert_eq!(back.extract_batch(&mixed_batch()).unwrap(), out);
}

fn extra_fixture() -> serde_json::Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sklearn_features_extra.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn clip_matches_numpy_clip_with_fixed_and_quantile_bounds() {
    let f = fixture();
    let input = matrix(&f["mixed"]["impute_input"]["values"]);
    let x = Array2::from_shape_fn((input.len(), 2), |(i, j)| input[i][j]);
    let extra = extra_fixture();
    let c = &extra["clip"];
    let names = strings(&c["columns"]);
    let fixed = &c["fixed"];
    let t = fit_t(
        StepSpec::new("clip")
            .with("lower", fixed["lower"].as_f64().unwrap())
            .with("upper", fixed["upper"].as_f64().unwrap()),
        &x,
        &names,
    );
    let out = t.transform_batch(x.view()).unwrap();
    let rows: Vec<Vec<f64>> = out.outer_iter().map(|r| r.to_vec()).collect();
    // NaN stays NaN (close() treats NaN = NaN); every other value is exact.
    close_rows(&rows, &matrix(&fixed["output"]), 0.0, "clip fixed");
    let q = &c["quantile"];
    let t = fit_t(
        StepSpec::new("clip")
            .with("lower_quantile", q["lower_quantile"].as_f64().unwrap())
            .with("upper_quantile", q["upper_quantile"].as_f64().unwrap()),
        &x,
        &names,
    );
    let state = t.state();
    close(
        &floats(&state["lower"]),
        &floats(&q["lower"]),
        1e-15,
        "lower",
    );
    close(
        &floats(&state["upper"]),
        &floats(&q["upper"]),
        1e-15,
        "upper",
    );
    let out = t.transform_batch(x.view()).unwrap();
    let rows: Vec<Vec<f64>> = out.outer_iter().map(|r| r.to_vec()).collect();
    close_rows(&rows, &matrix(&q["output"]), 1e-15, "clip quantile");
    // Some values really were clipped on each side.
    assert!(rows
        .iter()
        .zip(&input)
        .any(|(o, i)| o[1] != i[1] && i[1] < o[1]));
    assert!(rows
        .iter()
        .zip(&input)
        .any(|(o, i)| o[1] != i[1] && i[1] > o[1]));
}

#[test]
fn hashing_in_dict_mode_matches_feature_hasher_dict() {
    let extra = extra_fixture();
    let h = &extra["feature_hasher_dict"];
    let b = mixed_batch();
    for (key, alternate) in [
        ("alternate_sign_true", true),
        ("alternate_sign_false", false),
    ] {
        let (_, out, e) = extract(
            StepSpec::new("hashing")
                .with("columns", strings(&h["columns"]))
                .with("n_features", 16)
                .with("alternate_sign", alternate),
        );
        let got: Vec<Vec<f64>> = out.outer_iter().map(|r| r.to_vec()).collect();
        assert_eq!(got, matrix(&h[key]["output"]), "{key}");
        // The row path gives the same vectors.
        for (i, row) in mlpipe_core::table::rows_of(&b).unwrap().iter().enumerate() {
            let mut v = Vec::new();
            e.extract_row(row, &mut v).unwrap();
            assert_eq!(v, got[i], "{key} row {i}");
        }
    }
}
