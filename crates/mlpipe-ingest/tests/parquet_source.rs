//! Parquet source: the file's own schema and values in bounded batches, the file checksum,
//! typed errors for awkward files, and a round trip into the Parquet raw store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use arrow_array::{ArrayRef, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use mlpipe_core::broker::InProcessBroker;
use mlpipe_core::events::SourceRef;
use mlpipe_core::store::Stores;
use mlpipe_ingest::*;
use parquet::arrow::ArrowWriter;
use std::sync::Arc;

fn sample(n: usize) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("x", DataType::Float64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("day", DataType::Date32, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter_values(0..n as i32)),
        Arc::new(Float64Array::from_iter(
            (0..n).map(|i| (i % 7 != 0).then_some(i as f64 * 0.25)),
        )),
        Arc::new(StringArray::from_iter(
            (0..n).map(|i| (i % 5 != 0).then(|| format!("n{i}"))),
        )),
        Arc::new(Date32Array::from_iter_values(
            (0..n as i32).map(|i| 19_000 + i),
        )),
    ];
    RecordBatch::try_new(schema, cols).unwrap()
}

fn parquet_file(batch: &RecordBatch) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    let mut w = ArrowWriter::try_new(f.reopen().unwrap(), batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    f
}

#[tokio::test]
async fn reads_the_file_as_stored_in_bounded_batches_with_the_file_checksum() {
    let data = sample(1000);
    let f = parquet_file(&data);
    let mut s = ParquetSource::new(f.path(), ParquetOptions { chunk_rows: 300 });
    assert_eq!(s.format(), "parquet");
    let schema = s.schema().await.unwrap();
    assert_eq!(
        schema.fields(),
        data.schema().fields(),
        "types as stored, not cast"
    );
    let mut batches = Vec::new();
    while let Some(c) = s.next_chunk().await.unwrap() {
        assert!(c.quarantined.is_empty());
        batches.push(c.batch);
    }
    let sizes: Vec<usize> = batches.iter().map(|b| b.num_rows()).collect();
    assert_eq!(sizes, vec![300, 300, 300, 100]);
    let all = mlpipe_core::table::concat(&batches).unwrap();
    assert_eq!(all.columns(), data.columns(), "values unchanged");
    let bytes = std::fs::read(f.path()).unwrap();
    let summary = s.summary();
    assert_eq!(summary.source_bytes, bytes.len() as u64);
    assert_eq!(
        summary.checksum,
        format!("{:032x}", twox_hash::XxHash3_128::oneshot(&bytes))
    );
}

#[tokio::test]
async fn awkward_files_get_typed_errors() {
    let e = ParquetSource::new("/no/such.parquet", ParquetOptions::default())
        .schema()
        .await;
    assert!(matches!(e, Err(IngestError::Missing { .. })), "{e:?}");

    let empty = tempfile::NamedTempFile::new().unwrap();
    let e = ParquetSource::new(empty.path(), ParquetOptions::default())
        .schema()
        .await;
    assert!(matches!(e, Err(IngestError::Empty(_))), "{e:?}");

    let csv = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(csv.path(), "a,b\n1,2\n").unwrap();
    let e = ParquetSource::new(csv.path(), ParquetOptions::default())
        .schema()
        .await;
    assert!(matches!(e, Err(IngestError::NotParquet { .. })), "{e:?}");

    // A file cut in half (a copy that was interrupted).
    let whole = parquet_file(&sample(500));
    let bytes = std::fs::read(whole.path()).unwrap();
    let cut = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(cut.path(), &bytes[..bytes.len() / 2]).unwrap();
    let e = ParquetSource::new(cut.path(), ParquetOptions::default())
        .schema()
        .await;
    match e {
        Err(e @ IngestError::NotParquet { .. }) => {
            assert!(e.to_string().contains("cannot be read as Parquet"), "{e}")
        }
        other => panic!("{other:?}"),
    }

    // A valid file without rows: its schema, no chunk.
    let none = parquet_file(&sample(0));
    let mut s = ParquetSource::new(none.path(), ParquetOptions::default());
    assert_eq!(s.schema().await.unwrap().fields().len(), 4);
    assert!(s.next_chunk().await.unwrap().is_none());
}

#[tokio::test]
async fn ingests_into_the_parquet_raw_store_unchanged() {
    let data = sample(2000);
    let f = parquet_file(&data);
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores {
        raw: Arc::new(mlpipe_parquet::ParquetStore::local(dir.path()).unwrap()),
        ..Stores::in_memory()
    };
    let svc = IngestionService::new(
        stores.clone(),
        Arc::new(InProcessBroker::new()),
        IngestConfig::default(),
    );
    let mut source = open_source(&SourceRef {
        uri: f.path().display().to_string(),
        format: "parquet".into(),
        options: [("chunk_rows".to_string(), "512".to_string())]
            .into_iter()
            .collect(),
    })
    .unwrap();
    let report = svc.ingest("pq", source.as_mut(), None).await.unwrap();
    assert_eq!((report.batch.rows, report.batch.quarantined), (2000, 0));
    assert_eq!(report.batch.meta.format, "parquet");
    assert_eq!(
        report.batch.summary.checksum,
        format!(
            "{:032x}",
            twox_hash::XxHash3_128::oneshot(&std::fs::read(f.path()).unwrap())
        )
    );
    let back = stores.raw.read(&report.batch.id).await.unwrap();
    let all = mlpipe_core::table::concat(&back).unwrap();
    assert_eq!(all.columns(), data.columns());
    assert_eq!(all.schema().fields(), data.schema().fields());
}
