//! Every built-in refuses what it cannot handle with a typed error: empty data, NaN or
//! infinities where unsupported, labels of the wrong kind, unknown categories, bad text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::table::rows_to_batch;
use mlpipe_core::Row;
use mlpipe_features::*;
use ndarray::{array, Array1, Array2};
use std::sync::Arc;

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("f{i}")).collect()
}

/// Fits a transformer; `_kind` only labels the call site.
fn fit(_kind: &str, spec: StepSpec, x: &Array2<f64>) -> Result<Box<dyn FittedTransformer>> {
    StepRegistry::builtin()
        .transformer(&spec)?
        .fit(x.view(), &names(x.ncols()), None)
}

const TRANSFORMERS: [&str; 9] = [
    "standard_scaler",
    "min_max_scaler",
    "robust_scaler",
    "power",
    "log",
    "imputer",
    "clip",
    "bucketize",
    "polynomial",
];

fn spec(kind: &str) -> StepSpec {
    match kind {
        "clip" => StepSpec::new("clip").with("upper_quantile", 0.9),
        "bucketize" => StepSpec::new("bucketize").with("n_bins", 3),
        k => StepSpec::new(k),
    }
}

#[test]
fn transformers_refuse_empty_data() {
    let empty = Array2::<f64>::zeros((0, 2));
    for kind in TRANSFORMERS {
        assert!(
            matches!(
                fit(kind, spec(kind), &empty),
                Err(FeatureError::EmptyData { .. })
            ),
            "{kind}"
        );
    }
}

#[test]
fn transformers_refuse_infinities_and_nan_where_unsupported() {
    let inf = array![[1.0, 2.0], [f64::INFINITY, 3.0], [0.5, 1.0]];
    for kind in TRANSFORMERS.iter().filter(|k| **k != "polynomial") {
        let e = fit(kind, spec(kind), &inf);
        assert!(
            matches!(&e, Err(FeatureError::BadValues { column, .. }) if column == "f0"),
            "{kind}: {e:?}"
        );
    }
    let nan = array![[1.0, 2.0], [f64::NAN, 3.0], [0.5, 1.0]];
    // Bucketing by fitted quantiles cannot place NaN (as KBinsDiscretizer).
    assert!(matches!(
        fit("bucketize", spec("bucketize"), &nan),
        Err(FeatureError::BadValues { .. })
    ));
    // The others ignore NaN when fitting.
    for kind in [
        "standard_scaler",
        "min_max_scaler",
        "robust_scaler",
        "power",
        "imputer",
    ] {
        assert!(fit(kind, spec(kind), &nan).is_ok(), "{kind}");
    }
    // A column with nothing but NaN has no statistics.
    let all_nan = array![[f64::NAN, 2.0], [f64::NAN, 3.0]];
    for kind in ["min_max_scaler", "robust_scaler", "power", "imputer"] {
        assert!(
            matches!(
                fit(kind, spec(kind), &all_nan),
                Err(FeatureError::BadValues { .. })
            ),
            "{kind}"
        );
    }
    let neg = array![[-2.0], [1.0]];
    assert!(matches!(
        fit("log", spec("log"), &neg),
        Err(FeatureError::BadValues { .. })
    ));
}

#[test]
fn transformers_refuse_bad_parameters() {
    let x = array![[1.0, 2.0], [3.0, 4.0]];
    for bad in [
        StepSpec::new("min_max_scaler").with("feature_range", [1.0, 0.0]),
        StepSpec::new("robust_scaler").with("quantile_range", [80.0, 20.0]),
        StepSpec::new("power").with("method", "box-cox"),
        StepSpec::new("clip")
            .with("lower", 1.0)
            .with("lower_quantile", 0.1),
        StepSpec::new("clip").with("lower", 5.0).with("upper", 1.0),
        StepSpec::new("bucketize"),
        StepSpec::new("bucketize").with("edges", [2.0, 1.0]),
        StepSpec::new("polynomial").with("degree", 0),
        StepSpec::new("imputer").with("strategy", "mode"),
    ] {
        assert!(
            matches!(fit("", bad.clone(), &x), Err(FeatureError::Definition(_))),
            "{bad:?}"
        );
    }
}

fn select(spec: StepSpec, x: &Array2<f64>, y: Option<&Array1<f64>>) -> Result<Selection> {
    StepRegistry::builtin().selector(&spec)?.select(
        x.view(),
        &names(x.ncols()),
        y.map(|y| y.view()),
    )
}

#[test]
fn selectors_check_labels_and_values() {
    let x = array![[1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0]];
    let y = array![0.0, 0.0, 1.0, 1.0];
    for kind in ["k_best_chi2", "k_best_f_classif"] {
        let s = StepSpec::new(kind).with("k", 1);
        assert!(
            matches!(select(s.clone(), &x, None), Err(FeatureError::Label(_))),
            "{kind}"
        );
        let reg = array![0.5, 0.0, 1.0, 1.0];
        assert!(matches!(
            select(s.clone(), &x, Some(&reg)),
            Err(FeatureError::Label(m)) if m.contains("whole numbers")
        ));
        let one_class = array![1.0, 1.0, 1.0, 1.0];
        assert!(matches!(
            select(s.clone(), &x, Some(&one_class)),
            Err(FeatureError::Label(m)) if m.contains("two classes")
        ));
        let nan = array![[1.0, f64::NAN], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0]];
        assert!(matches!(
            select(s.clone(), &nan, Some(&y)),
            Err(FeatureError::BadValues { .. })
        ));
        assert!(matches!(
            select(StepSpec::new(kind).with("k", 3), &x, Some(&y)),
            Err(FeatureError::Definition(_))
        ));
        let empty = Array2::<f64>::zeros((0, 2));
        assert!(matches!(
            select(s.clone(), &empty, Some(&array![])),
            Err(FeatureError::EmptyData { .. })
        ));
        let ok = select(s, &x, Some(&y)).unwrap();
        assert_eq!(ok.kept, vec![0], "{kind}: column 0 separates the classes");
    }
    let negative = array![[-1.0, 0.0], [2.0, 1.0], [3.0, 0.0], [4.0, 1.0]];
    assert!(matches!(
        select(StepSpec::new("k_best_chi2").with("k", 1), &negative, Some(&y)),
        Err(FeatureError::BadValues { what, .. }) if what.contains("min_max_scaler")
    ));
    let constant = array![[1.0, 5.0], [1.0, 5.0]];
    assert!(matches!(
        select(StepSpec::new("variance_threshold"), &constant, None),
        Err(FeatureError::Definition(_))
    ));
}

fn text_batch(values: &[Option<&str>]) -> mlpipe_core::RecordBatch {
    let schema = Arc::new(Schema::new(vec![Field::new("c", DataType::Utf8, true)]));
    let rows: Vec<Row> = values
        .iter()
        .map(|v| match v {
            Some(s) => Row::new().with("c", *s),
            None => Row::new(),
        })
        .collect();
    rows_to_batch(&rows, schema).unwrap()
}

#[test]
fn extractors_refuse_empty_data_unknown_categories_and_bad_dates() {
    let reg = StepRegistry::builtin();
    let empty = text_batch(&[]);
    for spec in [
        StepSpec::new("one_hot").with("columns", ["c"]),
        StepSpec::new("ordinal").with("columns", ["c"]),
        StepSpec::new("hashing").with("columns", ["c"]),
        StepSpec::new("datetime").with("columns", ["c"]),
    ] {
        assert!(
            matches!(
                reg.extractor(&spec)
                    .unwrap()
                    .fit(std::slice::from_ref(&empty)),
                Err(FeatureError::EmptyData { .. })
            ),
            "{spec:?}"
        );
        assert!(matches!(
            reg.extractor(&spec.clone().with("columns", ["nope"]))
                .unwrap()
                .fit(&[text_batch(&[Some("2024-01-01")])]),
            Err(FeatureError::MissingColumn { .. })
        ));
    }
    let b = text_batch(&[Some("a"), Some("b"), None]);
    let one_hot = reg
        .extractor(&StepSpec::new("one_hot").with("columns", ["c"]))
        .unwrap()
        .fit(std::slice::from_ref(&b))
        .unwrap();
    assert_eq!(one_hot.output_names(), ["c_a", "c_b"]);
    let mut out = Vec::new();
    assert!(matches!(
        one_hot.extract_row(&Row::new().with("c", "z"), &mut out),
        Err(FeatureError::Shape(m)) if m.contains("handle_unknown")
    ));
    // With the default handle_unknown = "error", missing values are unknown too.
    assert!(matches!(
        one_hot.extract_batch(&b),
        Err(FeatureError::Shape(_))
    ));
    let ordinal = reg
        .extractor(
            &StepSpec::new("ordinal")
                .with("columns", ["c"])
                .with("unknown_value", -1.0),
        )
        .unwrap()
        .fit(std::slice::from_ref(&b))
        .unwrap();
    let x = ordinal
        .extract_batch(&text_batch(&[Some("b"), Some("z"), None]))
        .unwrap();
    assert_eq!(x[[0, 0]], 1.0);
    assert_eq!(x[[1, 0]], -1.0);
    assert!(x[[2, 0]].is_nan());
    assert!(matches!(
        reg.extractor(&StepSpec::new("datetime").with("columns", ["c"]))
            .unwrap()
            .fit(&[text_batch(&[Some("2024-01-01"), Some("yesterday")])]),
        Err(FeatureError::Shape(m)) if m.contains("yesterday")
    ));
}

#[test]
fn the_pipeline_refuses_a_text_label() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("y", DataType::Utf8, true),
    ]));
    let rows: Vec<Row> = (0..4)
        .map(|i| Row::new().with("x", i as f64).with("y", "yes"))
        .collect();
    let b = rows_to_batch(&rows, schema).unwrap();
    let def = PipelineDef {
        label: Some("y".into()),
        select: Some(StepSpec::new("k_best_f_classif").with("k", 1)),
        ..Default::default()
    };
    assert!(matches!(
        FeaturePipeline::new(def, Arc::new(StepRegistry::builtin())).fit(&[b]),
        Err(FeatureError::Label(_))
    ));
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<FeatureError>();
    check::<FittedPipeline>();
    check::<FeaturePipeline>();
    check::<StepRegistry>();
    check::<PreparationService>();
    check::<OnlinePreparer>();
    check::<QualityReport>();
    check::<Box<dyn FittedTransformer>>();
    check::<Box<dyn FittedExtractor>>();
    check::<Box<dyn Selector>>();
}

/// Every array in `state` (at any depth) whose items are all numbers or nulls.
fn numeric_arrays(v: &mut serde_json::Value, out: &mut Vec<String>, path: &str) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                numeric_arrays(x, out, &format!("{path}/{k}"));
            }
        }
        serde_json::Value::Array(a)
            if !a.is_empty() && a.iter().all(|x| x.is_number() || x.is_null()) =>
        {
            out.push(path.to_string());
        }
        _ => {}
    }
}

#[test]
fn stored_state_that_does_not_fit_together_is_refused_on_load_not_a_panic_later() {
    let x = array![
        [1.0, 2.0, 3.0],
        [2.0, 1.0, 5.0],
        [4.0, 3.0, 1.0],
        [3.0, 5.0, 2.0],
        [5.0, 4.0, 4.0]
    ];
    let registry = StepRegistry::builtin();
    let mut checked = 0;
    for kind in TRANSFORMERS {
        let fitted = fit(kind, spec(kind), &x).unwrap();
        let state = fitted.state();
        // The intact state loads.
        registry.load_transformer(kind, &state).unwrap();
        let mut paths = Vec::new();
        numeric_arrays(&mut state.clone(), &mut paths, "");
        for path in paths {
            let mut broken = state.clone();
            let list = broken.pointer_mut(&path).unwrap().as_array_mut().unwrap();
            if path.ends_with("/indicators") || path.contains("/terms") {
                // Index lists: one past the end instead of one short.
                list.push(serde_json::json!(99));
            } else {
                list.pop();
            }
            let err = registry.load_transformer(kind, &broken).err();
            assert!(
                matches!(&err, Some(FeatureError::Definition(m)) if m.contains("inconsistent")),
                "{kind} {path}: {err:?}"
            );
            checked += 1;
        }
    }
    // Polynomial terms are lists of lists: break one index.
    let poly = fit("polynomial", spec("polynomial"), &x).unwrap().state();
    let mut broken = poly.clone();
    broken["terms"][3] = serde_json::json!([0, 7]);
    assert!(matches!(
        registry.load_transformer("polynomial", &broken),
        Err(FeatureError::Definition(m)) if m.contains("column 7 of 3")
    ));
    // Bucket cut points out of order.
    let mut broken = fit("bucketize", spec("bucketize"), &x).unwrap().state();
    broken["cuts"][0] = serde_json::json!([3.0, 2.0]);
    assert!(matches!(
        registry.load_transformer("bucketize", &broken),
        Err(FeatureError::Definition(m)) if m.contains("not ascending")
    ));
    // A hasher of width 0 would divide by zero on the first value.
    let hasher = serde_json::json!({"columns": ["city"], "n_features": 0, "alternate_sign": true, "input_type": "dict"});
    assert!(matches!(
        registry.load_extractor("hashing", &hasher),
        Err(FeatureError::Definition(m)) if m.contains("n_features = 0")
    ));
    // A selected subset naming a column the input does not have.
    let subset = serde_json::json!({"selector": "columns", "input": ["a", "b"], "kept": [0, 2], "scores": []});
    assert!(matches!(
        registry.load_transformer("column_subset", &subset),
        Err(FeatureError::Definition(m)) if m.contains("column 2 of 2")
    ));
    assert!(checked >= 12, "{checked} lists broken");
}
