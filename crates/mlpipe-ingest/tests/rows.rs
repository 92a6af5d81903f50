//! Row-iterator and stream sources: inference, quarantine with the row as JSON, chunking,
//! the checksum of canonical JSON, empty inputs, and ingestion through the service.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::broker::InProcessBroker;
use mlpipe_core::store::{QuarantinedRecord, Stores};
use mlpipe_core::{Row, Value};
use mlpipe_ingest::*;
use std::sync::Arc;

fn rows(n: i64) -> Vec<Row> {
    (0..n)
        .map(|i| {
            Row::new()
                .with("id", i)
                .with("x", i as f64 / 4.0)
                .with("label", if i % 2 == 0 { "even" } else { "odd" })
        })
        .collect()
}

async fn drain(s: &mut dyn Source) -> Result<(Vec<RecordBatch>, Vec<QuarantinedRecord>)> {
    let (mut batches, mut bad) = (Vec::new(), Vec::new());
    while let Some(c) = s.next_chunk().await? {
        batches.push(c.batch);
        bad.extend(c.quarantined);
    }
    Ok((batches, bad))
}

fn canonical_checksum(rows: &[Row]) -> (String, u64) {
    let text: String = rows
        .iter()
        .map(|r| format!("{}\n", serde_json::to_string(r).unwrap()))
        .collect();
    (
        format!("{:032x}", twox_hash::XxHash3_128::oneshot(text.as_bytes())),
        text.len() as u64,
    )
}

#[tokio::test]
async fn an_iterator_is_typed_by_an_inferred_schema_in_bounded_chunks() {
    let input = rows(2500);
    let mut s = RowSource::new(
        "memory://toy",
        input.clone(),
        RowOptions {
            chunk_rows: 1000,
            infer_rows: 10,
            ..Default::default()
        },
    );
    assert_eq!(
        (s.identity().as_str(), s.format()),
        ("memory://toy", "rows")
    );
    let schema = s.schema().await.unwrap();
    let types: Vec<DataType> = schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(
        types,
        vec![DataType::Int64, DataType::Utf8, DataType::Float64]
    );
    let (batches, bad) = drain(&mut s).await.unwrap();
    assert!(bad.is_empty());
    assert_eq!(
        batches.iter().map(|b| b.num_rows()).collect::<Vec<_>>(),
        vec![1000, 1000, 500]
    );
    let ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    assert_eq!(ids, (0..2500).collect::<Vec<_>>());
    assert_eq!(
        batches[2]
            .column(2)
            .as_primitive::<Float64Type>()
            .value(499),
        2499.0 / 4.0
    );
    let (checksum, bytes) = canonical_checksum(&input);
    let summary = s.summary();
    assert_eq!((summary.checksum, summary.source_bytes), (checksum, bytes));
}

#[tokio::test]
async fn rows_that_do_not_fit_are_quarantined_with_the_row_as_json() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("x", DataType::Float64, true),
    ]));
    let input = vec![
        Row::new().with("id", 1).with("x", 0.5),
        Row::new().with("id", 2).with("x", "high"),
        Row::new().with("x", 1.0),
        Row::new().with("id", 4).with("extra", true),
        Row::new().with("id", 5).with("x", 3), // an integer fits a float column
    ];
    let mut s = RowSource::new("memory://bad", input, RowOptions::with_schema(schema));
    let (batches, bad) = drain(&mut s).await.unwrap();
    assert_eq!(batches[0].num_rows(), 2);
    assert_eq!(
        batches[0].column(1).as_primitive::<Float64Type>().value(1),
        3.0
    );
    assert_eq!(bad.iter().map(|q| q.row).collect::<Vec<_>>(), vec![2, 3, 4]);
    assert_eq!(bad[0].raw, r#"{"id":2,"x":"high"}"#);
    assert!(bad[0]
        .reason
        .contains("field `x`: expected a number, got text \"high\""));
    assert!(
        bad[1].reason.contains("`id` is required"),
        "{}",
        bad[1].reason
    );
    assert!(bad[2].reason.contains("`extra` is not in the schema"));
}

#[tokio::test]
async fn empty_inputs() {
    let mut s = RowSource::new("memory://none", Vec::<Row>::new(), RowOptions::default());
    assert!(matches!(s.schema().await, Err(IngestError::Empty(_))));

    let mut s = RowSource::new(
        "memory://no-fields",
        vec![Row::new(), Row::new()],
        RowOptions::default(),
    );
    assert!(matches!(
        s.schema().await,
        Err(IngestError::Uninferable { .. })
    ));

    let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Utf8, true)]));
    let mut s = RowSource::new(
        "memory://none",
        Vec::<Row>::new(),
        RowOptions::with_schema(schema.clone()),
    );
    assert_eq!(s.schema().await.unwrap(), schema);
    assert!(s.next_chunk().await.unwrap().is_none());
}

#[tokio::test]
async fn a_stream_gives_the_same_batches_and_checksum_as_the_iterator() {
    let input = rows(300);
    let options = RowOptions {
        chunk_rows: 128,
        ..Default::default()
    };
    let mut it = RowSource::new("memory://s", input.clone(), options.clone());
    let (from_iter, _) = drain(&mut it).await.unwrap();

    // A live producer on another task, with pauses, through an async channel.
    let (tx, rx) = futures::channel::mpsc::channel::<Row>(8);
    let producer = tokio::spawn({
        let input = input.clone();
        async move {
            use futures::SinkExt;
            let mut tx = tx;
            for (i, r) in input.into_iter().enumerate() {
                if i % 100 == 0 {
                    tokio::task::yield_now().await;
                }
                tx.send(r).await.unwrap();
            }
        }
    });
    let mut st = StreamSource::new("memory://s", rx, options);
    assert_eq!(st.format(), "stream");
    let (from_stream, bad) = drain(&mut st).await.unwrap();
    producer.await.unwrap();
    assert!(bad.is_empty());
    assert_eq!(from_stream, from_iter);
    assert_eq!(st.summary(), it.summary());
}

#[tokio::test]
async fn the_service_ingests_rows_and_streams() {
    let stores = Stores::in_memory();
    let svc = IngestionService::new(
        stores.clone(),
        Arc::new(InProcessBroker::new()),
        IngestConfig::default(),
    );
    let mut input = rows(50);
    input.push(Row::new().with("id", Value::Str("x".into())));
    let mut s = RowSource::new("memory://svc", input.clone(), RowOptions::default());
    let r = svc.ingest("r", &mut s, None).await.unwrap();
    assert_eq!((r.batch.rows, r.batch.quarantined), (50, 1));
    assert_eq!(r.batch.meta.source, "memory://svc");
    let q = stores.raw.quarantined(&r.batch.id).await.unwrap();
    assert_eq!((q[0].row, q[0].raw.as_str()), (51, r#"{"id":"x"}"#));

    let mut s = StreamSource::new(
        "memory://svc-stream",
        futures::stream::iter(input),
        RowOptions::default(),
    );
    let r2 = svc.ingest("r", &mut s, None).await.unwrap();
    assert_eq!((r2.batch.rows, r2.batch.quarantined), (50, 1));
    assert_eq!(r2.batch.meta.format, "stream");
    assert_eq!(r2.batch.summary.checksum, r.batch.summary.checksum);
    let back = stores.raw.read(&r2.batch.id).await.unwrap();
    assert_eq!(
        mlpipe_core::table::rows_of(&back[0]).unwrap()[7],
        rows(50)[7]
    );
}
