//! JSON-lines source: inference, typing, per-line quarantine, awkward files, chunking,
//! checksum, and ingestion through `open_source`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use mlpipe_core::broker::InProcessBroker;
use mlpipe_core::events::SourceRef;
use mlpipe_core::store::{QuarantinedRecord, Stores};
use mlpipe_ingest::*;
use std::io::Write;
use std::sync::Arc;

fn file(content: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(content.as_bytes()).unwrap();
    f
}

async fn read_all(
    f: &tempfile::NamedTempFile,
    options: JsonlOptions,
) -> Result<(JsonlSource, Vec<RecordBatch>, Vec<QuarantinedRecord>)> {
    let mut s = JsonlSource::new(f.path(), options);
    let (mut batches, mut bad) = (Vec::new(), Vec::new());
    while let Some(c) = s.next_chunk().await? {
        batches.push(c.batch);
        bad.extend(c.quarantined);
    }
    Ok((s, batches, bad))
}

#[tokio::test]
async fn infers_every_type_and_keeps_nested_values_as_json_text() {
    let f = file(concat!(
        r#"{"id": 1, "x": 0.5, "ok": true, "name": "a", "at": "2024-01-31T12:00:00Z", "tags": ["p", 1], "meta": {"k": 2}}"#,
        "\n",
        r#"{"id": 2, "x": 2, "ok": false, "name": null, "at": "2024-02-01T00:00:00+01:00", "tags": [], "meta": null}"#,
        "\n",
        r#"{"id": 3, "ok": null, "name": "c"}"#,
        "\n",
    ));
    let (mut s, batches, bad) = read_all(&f, JsonlOptions::default()).await.unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    let schema = s.schema().await.unwrap();
    let fields: Vec<(String, DataType)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("id".into(), DataType::Int64),
            ("x".into(), DataType::Float64),
            ("ok".into(), DataType::Boolean),
            ("name".into(), DataType::Utf8),
            (
                "at".into(),
                DataType::Timestamp(TimeUnit::Microsecond, None)
            ),
            ("tags".into(), DataType::Utf8),
            ("meta".into(), DataType::Utf8),
        ],
        "columns in the order written, typed by their values"
    );
    let b = &batches[0];
    assert_eq!(b.num_rows(), 3);
    let x = b.column(1).as_primitive::<Float64Type>();
    assert_eq!((x.value(0), x.value(1)), (0.5, 2.0));
    assert!(x.is_null(2), "a missing field is null");
    assert!(b.column(3).is_null(1));
    let at = b.column(4).as_primitive::<TimestampMicrosecondType>();
    assert_eq!(at.value(0), 1_706_702_400_000_000);
    assert_eq!(at.value(1), 1_706_742_000_000_000, "offset applied");
    assert_eq!(b.column(5).as_string::<i32>().value(0), r#"["p",1]"#);
    assert_eq!(b.column(6).as_string::<i32>().value(0), r#"{"k":2}"#);
    assert!(b.column(6).is_null(1));
}

#[tokio::test]
async fn bad_lines_are_quarantined_with_line_number_raw_text_and_reason() {
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&format!("{{\"a\": {i}, \"b\": \"x{i}\"}}\n"));
    }
    text.push('\n'); // line 21: blank, skipped
    text.push_str("{\"a\": 1, \"b\": \n"); // 22: invalid JSON
    text.push_str("[1, 2]\n"); // 23: not an object
    text.push_str("{\"a\": \"seven\", \"b\": \"y\"}\n"); // 24: wrong type
    text.push_str("{\"a\": 1, \"c\": 2}\n"); // 25: unknown field
    text.push_str("{\"a\": 1, \"a\": 2}\n"); // 26: repeated key
    text.push_str("   \n"); // 27: blank
    text.push_str("{\"a\": 99, \"b\": \"last\"}\n"); // 28: fine
    let f = file(&text);
    let options = JsonlOptions {
        infer_rows: 20,
        ..Default::default()
    };
    let (_, batches, bad) = read_all(&f, options).await.unwrap();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 21);
    let lines: Vec<u64> = bad.iter().map(|q| q.row).collect();
    assert_eq!(lines, vec![22, 23, 24, 25, 26]);
    assert_eq!(bad[0].raw, "{\"a\": 1, \"b\":");
    assert!(bad[0].reason.contains("JSON"), "{}", bad[0].reason);
    assert!(
        bad[1].reason.contains("not a JSON object"),
        "{}",
        bad[1].reason
    );
    assert!(
        bad[2].reason.contains("field `a`: expected an integer"),
        "{}",
        bad[2].reason
    );
    assert!(
        bad[3].reason.contains("`c` is not in the schema"),
        "{}",
        bad[3].reason
    );
    assert!(bad[4].reason.contains("appears twice"), "{}", bad[4].reason);
}

#[tokio::test]
async fn a_truncated_last_line_is_quarantined_and_a_complete_one_is_kept() {
    let f = file("{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3, \"b");
    let (_, batches, bad) = read_all(&f, JsonlOptions::default()).await.unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].row, 3);
    assert!(
        bad[0].reason.starts_with("truncated last line"),
        "{}",
        bad[0].reason
    );

    let f = file("{\"a\": 1}\n{\"a\": 2}");
    let (_, batches, bad) = read_all(&f, JsonlOptions::default()).await.unwrap();
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    assert!(bad.is_empty());
}

#[tokio::test]
async fn awkward_files_get_typed_errors() {
    let missing = JsonlSource::new("/no/such/file.jsonl", JsonlOptions::default())
        .schema()
        .await;
    assert!(
        matches!(missing, Err(IngestError::Missing { .. })),
        "{missing:?}"
    );

    let empty = file("");
    let e = read_all(&empty, JsonlOptions::default()).await.err();
    assert!(matches!(e, Some(IngestError::Empty(_))), "{e:?}");

    let blank = file("\n  \n\n");
    let e = read_all(&blank, JsonlOptions::default()).await.err();
    assert!(matches!(e, Some(IngestError::Empty(_))), "{e:?}");

    let garbage = file("not json\nalso not\n");
    let e = read_all(&garbage, JsonlOptions::default()).await.err();
    match e {
        Some(IngestError::Uninferable { reason, .. }) => {
            assert!(reason.contains("line 1"), "{reason}")
        }
        other => panic!("{other:?}"),
    }

    // Blank lines with an explicit schema: an empty, typed batch.
    let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
    let options = JsonlOptions {
        schema: Some(schema.clone()),
        ..Default::default()
    };
    let (mut s, batches, bad) = read_all(&blank, options).await.unwrap();
    assert_eq!(s.schema().await.unwrap(), schema);
    assert!(batches.is_empty() && bad.is_empty());

    // A schema with a type values cannot be typed into.
    let options = JsonlOptions {
        schema: Some(Arc::new(Schema::new(vec![Field::new(
            "d",
            DataType::Date32,
            true,
        )]))),
        ..Default::default()
    };
    let e = read_all(&file("{\"d\": 1}\n"), options).await.err();
    assert!(matches!(e, Some(IngestError::InvalidOption(_))), "{e:?}");
}

#[tokio::test]
async fn an_explicit_schema_types_values_and_refuses_what_does_not_fit() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, false),
        Field::new("t", DataType::Timestamp(TimeUnit::Microsecond, None), true),
    ]));
    let f = file(concat!(
        "{\"a\": 1, \"t\": \"2024-01-31\"}\n",
        "{\"a\": 2.5}\n",
        "{\"t\": null}\n",
        "{\"a\": 4, \"t\": \"yesterday\"}\n",
    ));
    let options = JsonlOptions {
        schema: Some(schema),
        ..Default::default()
    };
    let (_, batches, bad) = read_all(&f, options).await.unwrap();
    assert_eq!(batches[0].num_rows(), 1);
    assert_eq!(
        batches[0]
            .column(1)
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        1_706_659_200_000_000
    );
    let reasons: Vec<&str> = bad.iter().map(|q| q.reason.as_str()).collect();
    assert_eq!(bad.iter().map(|q| q.row).collect::<Vec<_>>(), vec![2, 3, 4]);
    assert!(
        reasons[0].contains("expected an integer, got number 2.5"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("`a` is required"), "{reasons:?}");
    assert!(reasons[2].contains("RFC 3339"), "{reasons:?}");
}

#[tokio::test]
async fn chunks_are_bounded_and_the_checksum_covers_the_file_bytes() {
    let mut text = String::new();
    for i in 0..25 {
        text.push_str(&format!("{{\"i\": {i}}}\n"));
    }
    let f = file(&text);
    let options = JsonlOptions {
        chunk_rows: 10,
        infer_rows: 5,
        ..Default::default()
    };
    let (s, batches, _) = read_all(&f, options).await.unwrap();
    let sizes: Vec<usize> = batches.iter().map(|b| b.num_rows()).collect();
    assert_eq!(sizes, vec![10, 10, 5]);
    let all: Vec<i64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    assert_eq!(
        all,
        (0..25).collect::<Vec<i64>>(),
        "order kept across the sample"
    );
    let summary = s.summary();
    assert_eq!(summary.source_bytes, text.len() as u64);
    assert_eq!(
        summary.checksum,
        format!("{:032x}", twox_hash::XxHash3_128::oneshot(text.as_bytes()))
    );
}

#[tokio::test]
async fn open_source_ingests_jsonl_into_the_raw_store() {
    let mut text: String = (0..10)
        .map(|i| format!("{{\"x\": {i}, \"y\": \"a{i}\"}}\n"))
        .collect();
    text.push_str("{\"x\": \"bad\"}\n");
    let f = file(&text);
    let stores = Stores::in_memory();
    let svc = IngestionService::new(
        stores.clone(),
        Arc::new(InProcessBroker::new()),
        IngestConfig {
            max_bad_ratio: 0.5,
            ..Default::default()
        },
    );
    let mut options = std::collections::BTreeMap::new();
    options.insert("chunk_rows".to_string(), "1".to_string());
    let mut source = open_source(&SourceRef {
        uri: format!("file://{}", f.path().display()),
        format: "jsonl".into(),
        options: options.into_iter().collect(),
    })
    .unwrap();
    let report = svc.ingest("j", source.as_mut(), None).await.unwrap();
    assert_eq!((report.batch.rows, report.batch.quarantined), (10, 1));
    assert_eq!(report.batch.meta.format, "jsonl");
    let data = stores.raw.read(&report.batch.id).await.unwrap();
    assert_eq!(data.len(), 10, "chunks of one row");
    let q = stores.raw.quarantined(&report.batch.id).await.unwrap();
    assert_eq!((q[0].row, q[0].raw.as_str()), (11, "{\"x\": \"bad\"}"));

    let bad_option = open_source(&SourceRef {
        uri: "x.jsonl".into(),
        format: "jsonl".into(),
        options: [("delimiter".to_string(), ";".to_string())]
            .into_iter()
            .collect(),
    });
    assert!(matches!(bad_option, Err(IngestError::InvalidOption(_))));
}

#[tokio::test]
async fn a_mixed_column_becomes_text_and_loses_nothing() {
    let f = file("{\"v\": 1}\n{\"v\": \"two\"}\n{\"v\": 3.5}\n{\"v\": true}\n{\"v\": [4]}\n");
    let mut options = std::collections::BTreeMap::new();
    options.insert("infer_rows".to_string(), "5".to_string());
    let mut source = open_source(&SourceRef {
        uri: f.path().display().to_string(),
        format: "ndjson".into(),
        options,
    })
    .unwrap();
    let schema = source.schema().await.unwrap();
    assert_eq!(schema.field(0).data_type(), &DataType::Utf8);
    let c = source.next_chunk().await.unwrap().unwrap();
    assert!(c.quarantined.is_empty());
    let v = c.batch.column(0).as_string::<i32>();
    let all: Vec<&str> = (0..v.len()).map(|i| v.value(i)).collect();
    assert_eq!(all, vec!["1", "two", "3.5", "true", "[4]"]);
}

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<JsonlOptions>();
    send_sync::<ParquetOptions>();
    send_sync::<RowOptions>();
    send_sync::<IngestError>();
    send_sync::<OnlineIngestor>();
    send_sync::<OnlineConfig>();
    send_sync::<OnlineTask>();
    send::<JsonlSource>();
    send::<ParquetSource>();
    send::<RowSource<std::vec::IntoIter<mlpipe_core::Row>>>();
    send::<StreamSource<futures::stream::Iter<std::vec::IntoIter<mlpipe_core::Row>>>>();
}

#[tokio::test]
async fn blocks_parsed_in_parallel_keep_order_and_line_numbers() {
    let mut text = String::new();
    let mut expected_bad = Vec::new();
    for i in 1..=9000u64 {
        if i % 997 == 0 {
            text.push_str("{broken\n");
            expected_bad.push(i);
        } else {
            text.push_str(&format!("{{\"i\": {i}}}\n"));
        }
    }
    let f = file(&text);
    let options = JsonlOptions {
        infer_rows: 10,
        chunk_rows: 5000,
        ..Default::default()
    };
    let (_, batches, bad) = read_all(&f, options).await.unwrap();
    assert_eq!(bad.iter().map(|q| q.row).collect::<Vec<_>>(), expected_bad);
    let all: Vec<i64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    let want: Vec<i64> = (1..=9000).filter(|i| i % 997 != 0).collect();
    assert_eq!(all, want);
    assert!(batches.iter().all(|b| b.num_rows() <= 5000));
}
