//! Feature pipelines: batch and row paths are bit-identical, feature-set ids are content
//! hashes, fitted pipelines round-trip, bad input is refused with typed errors.

use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::table::{rows_of, rows_to_batch};
use mlpipe_core::{RecordBatch, Row, Value};
use mlpipe_features::*;
use proptest::prelude::*;
use std::sync::Arc;

fn registry() -> Arc<StepRegistry> {
    Arc::new(StepRegistry::builtin())
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("a", DataType::Float64, true),
        Field::new("b", DataType::Int64, true),
        Field::new("c", DataType::Float64, true),
        Field::new("label", DataType::Int64, true),
    ]))
}

fn batch(rows: &[(Option<f64>, i64, f64, i64)]) -> RecordBatch {
    let rows: Vec<Row> = rows
        .iter()
        .map(|(a, b, c, l)| {
            Row::new()
                .with("a", a.map(Value::Float).unwrap_or(Value::Null))
                .with("b", *b)
                .with("c", *c)
                .with("label", *l)
        })
        .collect();
    rows_to_batch(&rows, schema()).unwrap_or_else(|e| panic!("{e}"))
}

fn scaled() -> PipelineDef {
    PipelineDef {
        label: Some("label".into()),
        transform: vec![StepSpec::new("standard_scaler")],
        ..Default::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn batch_and_row_paths_are_bit_identical(
        data in prop::collection::vec(
            (prop::option::weighted(0.9, -1e6f64..1e6), -1000i64..1000, -1e-3f64..1e3, 0i64..2),
            1..60,
        )
    ) {
        let b = batch(&data);
        let fitted = FeaturePipeline::new(scaled(), registry()).fit(std::slice::from_ref(&b)).unwrap_or_else(|e| panic!("{e}"));
        let x = fitted.transform_batch(&b).unwrap_or_else(|e| panic!("{e}"));
        for (i, row) in rows_of(&b).unwrap_or_default().iter().enumerate() {
            let r = fitted.transform_row(row).unwrap_or_else(|e| panic!("{e}"));
            let expected: Vec<u64> = x.row(i).iter().map(|v| v.to_bits()).collect();
            let got: Vec<u64> = r.iter().map(|v| v.to_bits()).collect();
            prop_assert_eq!(got, expected);
        }
    }
}

#[test]
fn label_and_key_are_never_features_and_scaling_is_right() {
    let b = batch(&[
        (Some(1.0), 2, 3.0, 0),
        (Some(3.0), 4, 3.0, 1),
        (None, 6, 3.0, 1),
    ]);
    let fitted = FeaturePipeline::new(scaled(), registry())
        .fit(std::slice::from_ref(&b))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fitted.feature_names(), ["a", "b", "c"]);
    let x = fitted.transform_batch(&b).unwrap_or_else(|e| panic!("{e}"));
    // a: mean 2, population std 1 over the non-missing values; the missing value stays NaN.
    assert_eq!(x[[0, 0]], -1.0);
    assert_eq!(x[[1, 0]], 1.0);
    assert!(x[[2, 0]].is_nan());
    // b: mean 4, std sqrt(8/3).
    assert!((x[[0, 1]] + 2.0 / (8.0f64 / 3.0).sqrt()).abs() < 1e-15);
    // c is constant: scale 1, centred to 0.
    assert_eq!(x[[0, 2]], 0.0);
    let table = fitted.feature_table(&b).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<_> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["__key", "a", "b", "c", "label"]);
    assert_eq!(fitted.keys(&b).unwrap_or_default()[2], "row-2");
}

#[test]
fn feature_set_id_is_a_content_hash() {
    let b1 = batch(&[(Some(1.0), 2, 3.0, 0), (Some(3.0), 4, 5.0, 1)]);
    let b2 = batch(&[(Some(1.0), 2, 3.0, 0), (Some(3.5), 4, 5.0, 1)]);
    let p = FeaturePipeline::new(scaled(), registry());
    let f1 = p
        .fit(std::slice::from_ref(&b1))
        .unwrap_or_else(|e| panic!("{e}"));
    let f1_again = p
        .fit(std::slice::from_ref(&b1))
        .unwrap_or_else(|e| panic!("{e}"));
    let f2 = p.fit(&[b2]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f1.id(), f1_again.id(), "same inputs, same id");
    assert_ne!(f1.id(), f2.id(), "different fitted state, different id");
    let unscaled = FeaturePipeline::new(
        PipelineDef {
            label: Some("label".into()),
            ..Default::default()
        },
        registry(),
    )
    .fit(std::slice::from_ref(&b1))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(f1.id(), unscaled.id(), "different definition, different id");
    assert!(f1.id().as_str().starts_with("fs-"));

    let back =
        FittedPipeline::from_json(f1.to_json(), &registry()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back.id(), f1.id());
    let x1 = f1.transform_batch(&b1).unwrap_or_else(|e| panic!("{e}"));
    let x2 = back.transform_batch(&b1).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(x1, x2);
}

#[test]
fn explicit_selection_keeps_the_named_columns() {
    let b = batch(&[(Some(1.0), 2, 3.0, 0), (Some(3.0), 4, 5.0, 1)]);
    let def = PipelineDef {
        select: Some(StepSpec::new("columns").with("columns", ["c", "a"])),
        ..scaled()
    };
    let f = FeaturePipeline::new(def, registry())
        .fit(std::slice::from_ref(&b))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.feature_names(), ["a", "c"]);
    let row = rows_of(&b).unwrap_or_default().remove(1);
    assert_eq!(f.transform_row(&row).unwrap_or_default(), vec![1.0, 1.0]);
}

#[test]
fn bad_definitions_and_inputs_are_typed_errors() {
    let b = batch(&[(Some(1.0), 2, 3.0, 0)]);
    let unknown = PipelineDef {
        transform: vec![StepSpec::new("magic")],
        ..Default::default()
    };
    let e = FeaturePipeline::new(unknown, registry()).fit(std::slice::from_ref(&b));
    assert!(
        matches!(&e, Err(FeatureError::Definition(m)) if m.contains("magic") && m.contains("standard_scaler")),
        "{e:?}"
    );

    let bad_param = PipelineDef {
        transform: vec![StepSpec::new("standard_scaler").with("with_meen", true)],
        ..Default::default()
    };
    assert!(matches!(
        FeaturePipeline::new(bad_param, registry()).fit(std::slice::from_ref(&b)),
        Err(FeatureError::Definition(_))
    ));

    let missing = PipelineDef {
        label: Some("nope".into()),
        ..Default::default()
    };
    assert!(matches!(
        FeaturePipeline::new(missing, registry()).fit(std::slice::from_ref(&b)),
        Err(FeatureError::MissingColumn { .. })
    ));

    let empty = b.slice(0, 0);
    assert!(matches!(
        FeaturePipeline::new(scaled(), registry()).fit(&[empty]),
        Err(FeatureError::EmptyData { .. })
    ));

    let inf = batch(&[(Some(f64::INFINITY), 2, 3.0, 0), (Some(1.0), 2, 3.0, 0)]);
    assert!(matches!(
        FeaturePipeline::new(scaled(), registry()).fit(&[inf]),
        Err(FeatureError::BadValues { .. })
    ));

    let f = FeaturePipeline::new(scaled(), registry())
        .fit(&[b])
        .unwrap_or_else(|e| panic!("{e}"));
    let text_row = Row::new().with("a", "one").with("b", 1).with("c", 1.0);
    assert!(matches!(
        f.transform_row(&text_row),
        Err(FeatureError::Shape(_))
    ));
}
