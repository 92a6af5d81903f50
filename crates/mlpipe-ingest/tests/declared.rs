//! No silent outcomes for a column meant to be numeric: when some of its values do not
//! parse it arrives as text with a warning in the batch record, and when the dataset
//! declares it numeric in configuration the rows that do not parse are quarantined with
//! their reason instead (on the event path).

use mlpipe_core::broker::{BrokerExt, InProcessBroker, SubscribeOptions};
use mlpipe_core::events::{Event, SourceRef, Topic};
use mlpipe_core::service::StageExt as _;
use mlpipe_core::store::Stores;
use mlpipe_ingest::*;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// Ten rows; `price` has two values that are not numbers (80% numeric: inferred as text).
fn csv() -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    let mut text = String::from("id,price\n");
    for i in 0..10 {
        let p = if i == 3 || i == 7 {
            "n/a".to_string()
        } else {
            format!("{i}.5")
        };
        text.push_str(&format!("{i},{p}\n"));
    }
    f.write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    f
}

async fn ingest(
    config: IngestConfig,
    file: &tempfile::NamedTempFile,
) -> (Stores, mlpipe_core::store::BatchInfo) {
    let stores = Stores::in_memory();
    let broker = Arc::new(InProcessBroker::new());
    let mut out = broker
        .subscribe_topic(Topic::RawDataExtracted, "t", SubscribeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let svc = Arc::new(IngestionService::new(
        stores.clone(),
        broker.clone(),
        config,
    ));
    let h = svc
        .start(SubscribeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    announce_source(
        broker.as_ref(),
        "prices",
        SourceRef {
            uri: file.path().display().to_string(),
            format: "csv".into(),
            options: Default::default(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let d = tokio::time::timeout(Duration::from_secs(10), out.next())
        .await
        .unwrap_or_else(|_| panic!("no raw-data-extracted"))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("closed"));
    let Event::RawDataExtracted(e) = d.message.envelope().unwrap_or_else(|e| panic!("{e}")).event
    else {
        panic!("wrong event")
    };
    let info = stores
        .raw
        .info(&e.batch_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    h.shutdown().await;
    (stores, info)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_numeric_column_with_strays_is_text_with_a_warning() {
    let f = csv();
    let (_, info) = ingest(IngestConfig::default(), &f).await;
    let price = info
        .schema
        .field_with_name("price")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(price.data_type(), &arrow_schema::DataType::Utf8);
    assert_eq!(info.rows, 10);
    assert_eq!(
        info.summary.warnings.len(),
        1,
        "{:?}",
        info.summary.warnings
    );
    let w = &info.summary.warnings[0];
    assert!(
        w.contains("`price`") && w.contains("8 of its 10") && w.contains("`n/a`"),
        "{w}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_numeric_column_quarantines_the_rows_that_do_not_parse() {
    let f = csv();
    let config: IngestConfig =
        toml::from_str("max_bad_ratio = 0.5\n[datasets.prices.schema]\nprice = \"float64\"")
            .unwrap_or_else(|e| panic!("{e}"));
    let (stores, info) = ingest(config, &f).await;
    let price = info
        .schema
        .field_with_name("price")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(price.data_type(), &arrow_schema::DataType::Float64);
    assert_eq!((info.rows, info.quarantined), (8, 2));
    assert!(
        info.summary.warnings.is_empty(),
        "{:?}",
        info.summary.warnings
    );
    let q = stores
        .raw
        .quarantined(&info.id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(q.iter().map(|r| r.row).collect::<Vec<_>>(), vec![4, 8]);
    assert!(q.iter().all(|r| r.reason.contains("price")), "{q:?}");
}

#[tokio::test]
async fn declaring_a_column_the_source_lacks_or_types_for_json_is_refused() {
    let f = csv();
    let mut declared = std::collections::BTreeMap::new();
    declared.insert("cost".to_string(), ColumnType::Float64);
    let src = SourceRef {
        uri: f.path().display().to_string(),
        format: "csv".into(),
        options: Default::default(),
    };
    let mut s = open_source_declared(&src, &declared).unwrap_or_else(|e| panic!("{e}"));
    let err = s
        .schema()
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("`cost`") && err.contains("price"), "{err}");
    let json = SourceRef {
        format: "jsonl".into(),
        ..src
    };
    assert!(matches!(
        open_source_declared(&json, &declared).err(),
        Some(IngestError::InvalidOption(_))
    ));
}
