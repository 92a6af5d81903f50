//! Split strategies and the segregation API.

use mlpipe_core::store::*;
use mlpipe_core::{BatchId, FeatureSetId};
use mlpipe_split::*;
use proptest::prelude::*;
use std::sync::Arc;

proptest! {
    #[test]
    fn random_split_is_disjoint_covering_and_sized(rows in 1usize..2000, ratio in 0.05f64..0.95, seed in any::<u64>()) {
        let s = RandomSplit::new(ratio, seed);
        let out = s.split(&SplitInput { rows, ..Default::default() }).unwrap_or_default();
        let mut all: Vec<u32> = out.train.iter().chain(&out.test).copied().collect();
        all.sort_unstable();
        prop_assert_eq!(all, (0..rows as u32).collect::<Vec<_>>());
        let test = ((rows as f64) * (1.0 - ratio) - 1e-9).ceil() as usize;
        prop_assert_eq!(out.test.len(), test);
        // Same seed, same split.
        prop_assert_eq!(s.split(&SplitInput { rows, ..Default::default() }).unwrap_or_default(), out);
    }

    #[test]
    fn sequential_split_keeps_source_order(rows in 2usize..500, ratio in 0.1f64..0.9) {
        let out = SequentialSplit { train_ratio: ratio, shuffle_within_seed: None }
            .split(&SplitInput { rows, ..Default::default() })
            .unwrap_or_default();
        let joined: Vec<u32> = out.train.iter().chain(&out.test).copied().collect();
        prop_assert_eq!(joined, (0..rows as u32).collect::<Vec<_>>());
    }
}

#[test]
fn seeded_split_indices_are_pinned() {
    let out = RandomSplit::new(0.7, 42)
        .split(&SplitInput {
            rows: 10,
            ..Default::default()
        })
        .unwrap_or_default();
    assert_eq!(out.test, vec![3, 6, 8]);
    assert_eq!(out.train, vec![0, 1, 2, 4, 5, 7, 9]);
}

#[test]
fn invalid_ratios_are_typed_errors() {
    for r in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        let e = RandomSplit::new(r, 1).split(&SplitInput {
            rows: 10,
            ..Default::default()
        });
        assert!(matches!(e, Err(SplitError::InvalidParameter(_))), "{r}");
    }
    assert!(matches!(
        RandomSplit::new(0.5, 1).split(&SplitInput {
            rows: 0,
            ..Default::default()
        }),
        Err(SplitError::NoRows)
    ));
}

#[test]
fn warnings_for_small_subsets_missing_classes_and_skewed_proportions() {
    let labels: Vec<f64> = (0..20).map(|i| if i < 18 { 0.0 } else { 1.0 }).collect();
    let input = SplitInput {
        rows: 20,
        labels: Some(&labels),
        ..Default::default()
    };
    let s = SequentialSplit {
        train_ratio: 0.9,
        shuffle_within_seed: None,
    };
    let idx = s.split(&input).unwrap_or_default();
    let w = assess(&input, &idx, Some(0.9), &WarningPolicy::default());
    assert!(
        w.contains(&SplitWarning::SmallSubset {
            subset: Subset::Test,
            rows: 2,
            minimum: 10
        }),
        "{w:?}"
    );
    assert!(
        w.contains(&SplitWarning::MissingClass {
            subset: Subset::Train,
            class: 1
        }),
        "{w:?}"
    );
    assert!(
        w.contains(&SplitWarning::MissingClass {
            subset: Subset::Test,
            class: 0
        }),
        "{w:?}"
    );
    assert!(w
        .iter()
        .any(|x| matches!(x, SplitWarning::ClassProportions { class: 1, .. })));
    let extreme = assess(&input, &idx, Some(0.97), &WarningPolicy::default());
    assert!(extreme.contains(&SplitWarning::ExtremeRatio { ratio: 0.97 }));
}

async fn store_with_features(rows: usize) -> (Stores, FeatureSetId, BatchId) {
    use arrow_array::{Float64Array, Int64Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    let stores = Stores::in_memory();
    let fs = FeatureSetId::new("fs-test");
    stores
        .features
        .put_feature_set(FeatureSetRecord {
            id: fs.clone(),
            dataset: "d".into(),
            feature_names: vec!["f".into()],
            label: Some("y".into()),
            key: Some("__key".into()),
            pipeline: serde_json::Value::Null,
            fitted_on: vec![],
            created_at: chrono::Utc::now(),
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let schema = Arc::new(Schema::new(vec![
        Field::new("__key", DataType::Utf8, false),
        Field::new("f", DataType::Float64, true),
        Field::new("y", DataType::Int64, true),
    ]));
    let b = mlpipe_core::RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(
                (0..rows).map(|i| format!("k{i}")).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                (0..rows).map(|i| i as f64).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                (0..rows).map(|i| (i % 2) as i64).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let batch = BatchId::generate();
    stores
        .features
        .write(&fs, &batch, vec![b])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (stores, fs, batch)
}

#[tokio::test]
async fn segregation_api_records_returns_and_repeats_the_same_split() {
    let (stores, fs, batch) = store_with_features(100).await;
    let api = SegregationApi::new(stores.features.clone(), stores.lineage.clone());
    let s = api
        .split(&fs, None, &RandomSplit::new(0.7, 7))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let train = s.training().unwrap_or_else(|e| panic!("{e}"));
    let eval = s.evaluation_unlabeled();
    assert_eq!((train.x.nrows(), eval.x.nrows()), (70, 30));
    // Row i has feature i and label i % 2: the data follows the indices.
    for (k, &r) in train.rows.iter().enumerate() {
        assert_eq!(train.x[[k, 0]], r as f64);
        assert_eq!(train.y[k], (r % 2) as f64);
        assert_eq!(train.keys[k], format!("k{r}"));
    }
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let recorded = stores
        .lineage
        .split(s.id())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(recorded.batch_ids, vec![batch]);
    assert_eq!(recorded.strategy, "random");
    assert_eq!(recorded.params["seed"], 7);
    let again = api
        .split(&fs, None, &RandomSplit::new(0.7, 7))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.record.id, s.record.id);
    assert_eq!(again.record.train, s.record.train);
    let other = api
        .split(&fs, None, &RandomSplit::new(0.7, 8))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(other.record.id, s.record.id);
    let by_id = api.get(s.id()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        by_id.evaluation().map(|e| e.y).ok(),
        s.evaluation().map(|e| e.y).ok()
    );
    assert!(!stores
        .lineage
        .upstream(&Node::Split(s.id().clone()))
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn a_custom_strategy_is_a_closure() {
    let (stores, fs, _) = store_with_features(10).await;
    let api = SegregationApi::new(stores.features.clone(), stores.lineage.clone());
    let even_odd = FnSplit::new(
        "even_odd",
        serde_json::json!({}),
        |input: &SplitInput<'_>| {
            let n = input.rows as u32;
            Ok(SplitIndices {
                train: (0..n).filter(|i| i % 2 == 0).collect(),
                test: (0..n).filter(|i| i % 2 == 1).collect(),
            })
        },
    );
    let s = api
        .split(&fs, None, &even_odd)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.record.train, vec![0, 2, 4, 6, 8]);
    // Every label is 0 in train and 1 in test: the warnings say so.
    assert!(s
        .warnings
        .iter()
        .any(|w| matches!(w, SplitWarning::MissingClass { .. })));
    let overlapping = FnSplit::new("bad", serde_json::json!({}), |_: &SplitInput<'_>| {
        Ok(SplitIndices {
            train: vec![0, 1],
            test: vec![1],
        })
    });
    assert!(matches!(
        api.split(&fs, None, &overlapping).await,
        Err(SplitError::InvalidParameter(_))
    ));
}
