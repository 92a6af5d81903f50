//! The segregation API with time and group columns, cross-validation folds, label
//! overrides and unknown columns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use arrow_array::{Float64Array, Int64Array, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use mlpipe_core::store::*;
use mlpipe_core::{BatchId, FeatureSetId};
use mlpipe_split::*;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Row i: feature i, label i % 3, time (rows - i) seconds (reverse order), group i / 4,
/// second label `alt` = i % 2.
async fn features(rows: usize) -> (Stores, FeatureSetId) {
    let stores = Stores::in_memory();
    let fs = FeatureSetId::new("fs-seg");
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
        .unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("__key", DataType::Utf8, false),
        Field::new("f", DataType::Float64, true),
        Field::new("y", DataType::Int64, true),
        Field::new("alt", DataType::Int64, true),
        Field::new("ts", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        Field::new("customer", DataType::Utf8, true),
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
                (0..rows).map(|i| (i % 3) as i64).collect::<Vec<_>>(),
            )),
            Arc::new(Int64Array::from(
                (0..rows).map(|i| (i % 2) as i64).collect::<Vec<_>>(),
            )),
            Arc::new(TimestampMicrosecondArray::from(
                (0..rows)
                    .map(|i| (rows - i) as i64 * 1_000_000)
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                (0..rows).map(|i| format!("c{}", i / 4)).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap();
    stores
        .features
        .write(&fs, &BatchId::generate(), vec![b])
        .await
        .unwrap();
    (stores, fs)
}

fn api(stores: &Stores) -> SegregationApi {
    SegregationApi::new(stores.features.clone(), stores.lineage.clone())
}

#[tokio::test]
async fn time_ordered_split_reads_the_named_timestamp_column() {
    let (stores, fs) = features(100).await;
    let cols = SplitColumns {
        time: Some("ts".into()),
        ..Default::default()
    };
    let s = api(&stores)
        .split_with(
            &fs,
            None,
            &TimeSplit {
                train_ratio: 0.7,
                gap_micros: 5_000_000,
            },
            &cols,
        )
        .await
        .unwrap();
    // Times run backwards, so the earliest 70 rows are the last 70 rows.
    let train = s.training().unwrap();
    assert_eq!(train.x.nrows(), 70);
    assert!(train.rows.iter().all(|&r| r >= 30));
    // Last training time is 70 s (row 30); with a 5 s gap evaluation starts at 75 s:
    // rows 26..=29 (71–74 s) are skipped, rows 0..=25 evaluate.
    assert_eq!(s.record.test.len(), 26);
    assert!(s.record.test.iter().all(|&r| r <= 25));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // The columns are recorded with the split, so it can be fetched again by id.
    let again = api(&stores).get(s.id()).await.unwrap();
    assert_eq!(again.record.train, s.record.train);
    assert_eq!(s.record.params["columns"]["time"], "ts");
}

#[tokio::test]
async fn overlapping_times_are_warned_about() {
    let (stores, fs) = features(50).await;
    let cols = SplitColumns {
        time: Some("ts".into()),
        ..Default::default()
    };
    // A sequential split in source order trains on the LATEST rows here.
    let s = api(&stores)
        .split_with(
            &fs,
            None,
            &SequentialSplit {
                train_ratio: 0.6,
                shuffle_within_seed: None,
            },
            &cols,
        )
        .await
        .unwrap();
    assert!(
        s.warnings
            .iter()
            .any(|w| matches!(w, SplitWarning::OverlappingTimes { .. })),
        "{:?}",
        s.warnings
    );
}

#[tokio::test]
async fn group_split_and_label_override() {
    let (stores, fs) = features(80).await;
    let cols = SplitColumns {
        group: Some("customer".into()),
        label: Some("alt".into()),
        ..Default::default()
    };
    let s = api(&stores)
        .split_with(&fs, None, &GroupSplit::new(0.75, 9), &cols)
        .await
        .unwrap();
    let tr: BTreeSet<u32> = s.record.train.iter().map(|r| r / 4).collect();
    let te: BTreeSet<u32> = s.record.test.iter().map(|r| r / 4).collect();
    assert!(tr.is_disjoint(&te));
    assert_eq!(te.len(), 5);
    let train = s.training().unwrap();
    for (k, &r) in train.rows.iter().enumerate() {
        assert_eq!(train.y[k], (r % 2) as f64, "label comes from `alt`");
    }
}

#[tokio::test]
async fn unknown_columns_are_typed_errors() {
    let (stores, fs) = features(20).await;
    for cols in [
        SplitColumns {
            label: Some("nope".into()),
            ..Default::default()
        },
        SplitColumns {
            time: Some("nope".into()),
            ..Default::default()
        },
        SplitColumns {
            group: Some("nope".into()),
            ..Default::default()
        },
    ] {
        let e = api(&stores)
            .split_with(&fs, None, &RandomSplit::new(0.5, 1), &cols)
            .await;
        assert!(
            matches!(e, Err(SplitError::UnknownColumn(ref c)) if c == "nope"),
            "{e:?}"
        );
    }
    let e = api(&stores)
        .split_with(
            &fs,
            None,
            &TimeSplit {
                train_ratio: 0.5,
                gap_micros: 0,
            },
            &SplitColumns::default(),
        )
        .await;
    assert!(matches!(e, Err(SplitError::NeedsColumn { .. })), "{e:?}");
}

#[tokio::test]
async fn folds_are_recorded_one_split_each_and_cover_the_rows() {
    let (stores, fs) = features(60).await;
    let strategy = StratifiedKFold {
        k: 5,
        shuffle: true,
        seed: 3,
    };
    let folds = api(&stores)
        .folds(&fs, None, &strategy, &SplitColumns::default())
        .await
        .unwrap();
    assert_eq!(folds.len(), 5);
    let mut seen = vec![0; 60];
    let ids: BTreeSet<String> = folds.iter().map(|f| f.id().to_string()).collect();
    assert_eq!(ids.len(), 5, "each fold has its own id");
    for (i, f) in folds.iter().enumerate() {
        assert_eq!(f.record.params["fold"], i);
        let eval = f.evaluation().unwrap();
        assert_eq!(eval.x.nrows(), 12);
        for &r in &f.record.test {
            seen[r as usize] += 1;
        }
        // Every class (0, 1, 2) has 4 rows in each evaluation fold.
        for c in 0..3 {
            assert_eq!(eval.y.iter().filter(|&&y| y == c as f64).count(), 4);
        }
        let recorded = stores.lineage.split(f.id()).await.unwrap();
        assert_eq!(recorded.test, f.record.test);
    }
    assert!(seen.iter().all(|&c| c == 1));
    // Asking again returns the same folds.
    let again = api(&stores)
        .folds(&fs, None, &strategy, &SplitColumns::default())
        .await
        .unwrap();
    assert_eq!(again[2].record.test, folds[2].record.test);
}
