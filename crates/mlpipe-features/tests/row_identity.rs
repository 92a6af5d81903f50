//! Property tests: for every built-in step, the row path gives bit-identical output to
//! the batch path, inside whole pipelines over mixed data (numbers with missing values,
//! categories, timestamps as text).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::table::{rows_of, rows_to_batch};
use mlpipe_core::{RecordBatch, Row, Value};
use mlpipe_features::*;
use proptest::prelude::*;
use std::sync::Arc;

const CITIES: [&str; 4] = ["Oslo", "Paris", "Rome", "Lima"];

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("a", DataType::Float64, true),
        Field::new("b", DataType::Int64, true),
        Field::new("city", DataType::Utf8, true),
        Field::new("ts", DataType::Utf8, true),
        Field::new("label", DataType::Int64, true),
    ]))
}

type Rec = (Option<f64>, i64, Option<usize>, i64, i64);

fn to_batch(data: &[Rec]) -> RecordBatch {
    let rows: Vec<Row> = data
        .iter()
        .enumerate()
        .map(|(i, (a, b, c, ts, l))| {
            let t = chrono::DateTime::from_timestamp(*ts, 0)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            Row::new()
                .with("a", a.map(Value::Float).unwrap_or(Value::Null))
                .with("b", *b)
                .with(
                    "city",
                    c.map(|c| Value::from(CITIES[c])).unwrap_or(Value::Null),
                )
                .with("ts", t)
                // The first two rows carry both classes.
                .with("label", if i < 2 { i as i64 } else { *l })
        })
        .collect();
    rows_to_batch(&rows, schema()).unwrap()
}

fn pipelines() -> Vec<PipelineDef> {
    let numeric = StepSpec::new("numeric").with("columns", ["a", "b"]);
    let one_hot = StepSpec::new("one_hot")
        .with("columns", ["city"])
        .with("handle_unknown", "ignore")
        .with("missing_value", "__missing__");
    let rare_one_hot = StepSpec::new("one_hot")
        .with("columns", ["city"])
        .with("handle_unknown", "infrequent_if_exist")
        .with("min_frequency", 5);
    let ordinal = StepSpec::new("ordinal")
        .with("columns", ["city"])
        .with("unknown_value", -1.0);
    let hashing = StepSpec::new("hashing")
        .with("columns", ["city", "b"])
        .with("n_features", 16);
    let datetime = StepSpec::new("datetime").with("columns", ["ts"]);
    let base = |transform: Vec<StepSpec>, select: Option<StepSpec>| PipelineDef {
        label: Some("label".into()),
        key: None,
        extract: vec![
            numeric.clone(),
            one_hot.clone(),
            rare_one_hot.clone(),
            ordinal.clone(),
            hashing.clone(),
            datetime.clone(),
        ],
        transform,
        select,
        fit_split: None,
    };
    // The numeric columns alone, then an imputer of `strategy` and `last`.
    let numeric_then = |strategy: &str, last: StepSpec| PipelineDef {
        extract: vec![numeric.clone()],
        ..base(
            vec![StepSpec::new("imputer").with("strategy", strategy), last],
            None,
        )
    };
    vec![
        base(
            vec![
                StepSpec::new("imputer")
                    .with("strategy", "median")
                    .with("add_indicator", true),
                StepSpec::new("robust_scaler"),
                StepSpec::new("clip")
                    .with("lower_quantile", 0.05)
                    .with("upper_quantile", 0.95),
                StepSpec::new("polynomial").with("interaction_only", true),
            ],
            Some(StepSpec::new("variance_threshold")),
        ),
        base(
            vec![
                StepSpec::new("imputer").with("strategy", "mean"),
                StepSpec::new("min_max_scaler"),
                StepSpec::new("log"),
                StepSpec::new("power"),
            ],
            Some(StepSpec::new("columns").with("columns", ["a", "b", "ts_year"])),
        ),
        base(
            vec![
                StepSpec::new("imputer").with("strategy", "most_frequent"),
                StepSpec::new("min_max_scaler").with("clip", true),
            ],
            Some(StepSpec::new("k_best_chi2").with("k", 3)),
        ),
        base(
            vec![
                StepSpec::new("imputer")
                    .with("strategy", "constant")
                    .with("fill_value", -7.5),
                StepSpec::new("standard_scaler"),
                StepSpec::new("bucketize").with("n_bins", 3),
            ],
            Some(StepSpec::new("k_best_f_classif").with("k", 4)),
        ),
        base(
            vec![
                StepSpec::new("imputer"),
                StepSpec::new("bucketize")
                    .with("n_bins", 4)
                    .with("strategy", "uniform"),
                StepSpec::new("polynomial").with("degree", 3),
            ],
            None,
        ),
        base(
            vec![
                StepSpec::new("clip")
                    .with("lower", -10.0)
                    .with("upper", 10.0),
                StepSpec::new("bucketize").with("edges", [-1.0, 0.0, 1.0]),
            ],
            None,
        ),
        // Parameter variants, each the last step so nothing after it hides a difference.
        PipelineDef {
            extract: vec![
                numeric.clone(),
                StepSpec::new("hashing")
                    .with("columns", ["city", "b"])
                    .with("n_features", 8)
                    .with("input_type", "string")
                    .with("alternate_sign", false),
                StepSpec::new("datetime")
                    .with("columns", ["ts"])
                    .with("parts", ["hour", "weekday"]),
            ],
            ..base(
                vec![
                    StepSpec::new("imputer").with("strategy", "mean"),
                    StepSpec::new("standard_scaler").with("with_mean", false),
                ],
                None,
            )
        },
        numeric_then(
            "median",
            StepSpec::new("standard_scaler").with("with_std", false),
        ),
        // Fitted on the training part of a split only.
        PipelineDef {
            fit_split: Some(mlpipe_split::SplitConfig::default()),
            ..base(
                vec![
                    StepSpec::new("imputer").with("strategy", "mean"),
                    StepSpec::new("standard_scaler"),
                ],
                None,
            )
        },
        numeric_then(
            "median",
            StepSpec::new("bucketize")
                .with("n_bins", 4)
                .with("quantile_method", "linear"),
        ),
        PipelineDef {
            extract: vec![numeric.clone()],
            ..base(
                vec![
                    StepSpec::new("imputer").with("strategy", "constant"),
                    StepSpec::new("standard_scaler"),
                    StepSpec::new("polynomial").with("include_bias", true),
                ],
                None,
            )
        },
    ]
}

fn bits(v: impl IntoIterator<Item = f64>) -> Vec<u64> {
    v.into_iter().map(f64::to_bits).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn every_builtin_gives_the_same_bits_by_row_and_by_batch(
        train in prop::collection::vec(
            (prop::option::weighted(0.85, -1e3f64..1e3), -50i64..50,
             prop::option::weighted(0.9, 0usize..3), 0i64..2_000_000_000, 0i64..3),
            8..40,
        ),
        score in prop::collection::vec(
            (prop::option::weighted(0.85, -2e3f64..2e3), -80i64..80,
             prop::option::weighted(0.9, 0usize..4), 0i64..2_000_000_000, 0i64..3),
            1..20,
        ),
    ) {
        let registry = Arc::new(StepRegistry::builtin());
        let train = to_batch(&train);
        let score = to_batch(&score);
        for def in pipelines() {
            let fitted = FeaturePipeline::new(def.clone(), registry.clone())
                .fit(std::slice::from_ref(&train))
                .unwrap_or_else(|e| panic!("{def:?}: {e}"));
            // Reloaded from JSON, it is the same feature set and computes the same bits.
            let back = FittedPipeline::from_json(fitted.to_json(), &registry).unwrap();
            prop_assert_eq!(back.id(), fitted.id());
            for b in [&train, &score] {
                let x = fitted.transform_batch(b).unwrap();
                prop_assert_eq!(x.ncols(), fitted.feature_names().len());
                for (i, row) in rows_of(b).unwrap().iter().enumerate() {
                    let r = back.transform_row(row).unwrap();
                    prop_assert_eq!(bits(r), bits(x.row(i).iter().copied()), "{:?} row {}", def.transform, i);
                }
            }
        }
    }
}
