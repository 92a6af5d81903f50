//! CSV sources: typing, quoting, options, quarantine and every awkward-file outcome.

use mlpipe_core::table::rows_of;
use mlpipe_core::Value;
use mlpipe_ingest::{Chunk, CsvOptions, CsvSource, IngestError, Source};
use std::io::Write;

fn file(content: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    f.write_all(content).unwrap_or_else(|e| panic!("{e}"));
    f
}

async fn read_all(src: &mut CsvSource) -> Result<Vec<Chunk>, IngestError> {
    let mut out = Vec::new();
    while let Some(c) = src.next_chunk().await? {
        out.push(c);
    }
    Ok(out)
}

fn rows(chunks: &[Chunk]) -> usize {
    chunks.iter().map(|c| c.batch.num_rows()).sum()
}

/// The column types of a schema, as text.
fn types_of(schema: &arrow_schema::Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .map(|f| f.data_type().to_string())
        .collect()
}

fn bad(chunks: &[Chunk]) -> Vec<mlpipe_core::store::QuarantinedRecord> {
    chunks.iter().flat_map(|c| c.quarantined.clone()).collect()
}

#[tokio::test]
async fn infers_types_and_reads_quoted_fields() {
    let f = file(b"id,score,name,ok,when\n1,0.5,\"Smith, J\",true,2024-01-31\n2,,\"say \"\"hi\"\"\",false,2024-02-01 10:00:00\n");
    let mut s = CsvSource::new(f.path(), CsvOptions::default());
    let schema = s.schema().await.unwrap_or_else(|e| panic!("{e}"));
    let types = types_of(&schema);
    assert_eq!(
        types,
        ["Int64", "Float64", "Utf8", "Boolean", "Timestamp(µs)"]
    );
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    let r = rows_of(&chunks[0].batch).unwrap_or_default();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].get("name"), Some(&Value::Str("Smith, J".into())));
    assert_eq!(r[1].get("name"), Some(&Value::Str("say \"hi\"".into())));
    assert_eq!(r[1].get("score"), Some(&Value::Null));
    assert_eq!(
        r[0].get("when"),
        Some(&Value::Timestamp(1_706_659_200_000_000))
    );
    let summary = s.summary();
    assert_eq!(
        summary.source_bytes,
        f.as_file().metadata().map(|m| m.len()).unwrap_or(0)
    );
    assert_eq!(summary.checksum.len(), 32);
}

#[tokio::test]
async fn reads_the_real_breast_cancer_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/breast_cancer.csv");
    let mut s = CsvSource::new(
        path,
        CsvOptions {
            chunk_rows: 100,
            ..Default::default()
        },
    );
    let schema = s.schema().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(schema.fields().len(), 31);
    assert_eq!(schema.field(30).name(), "target");
    assert_eq!(schema.field(30).data_type().to_string(), "Int64");
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows(&chunks), 569);
    assert_eq!(chunks.len(), 6, "569 rows in chunks of 100");
    assert!(bad(&chunks).is_empty());
    let first = rows_of(&chunks[0].batch).unwrap_or_default();
    assert_eq!(first[0].f64("mean radius"), Some(17.99));
}

#[tokio::test]
async fn bad_rows_are_quarantined_with_row_number_raw_text_and_reason() {
    // Inference over the sample types `b` as text when `x` is in it: give the schema.
    use arrow_schema::{DataType, Field, Schema};
    let schema = std::sync::Arc::new(Schema::new(vec![
        Field::new("a", DataType::Int64, true),
        Field::new("b", DataType::Int64, true),
    ]));
    let f = file(b"a,b\n1,2\n3,x\n4\n5,6,7\n8,9\n");
    let mut s = CsvSource::new(
        f.path(),
        CsvOptions {
            schema: Some(schema),
            ..Default::default()
        },
    );
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows(&chunks), 2);
    let q = bad(&chunks);
    assert_eq!(q.len(), 3);
    assert_eq!((q[0].row, q[0].raw.as_str()), (2, "3,x"));
    assert!(
        q[0].reason.contains("not a valid integer"),
        "{}",
        q[0].reason
    );
    assert_eq!(q[1].row, 3);
    assert!(q[1].reason.contains("1 fields, expected 2"));
    assert_eq!(q[2].row, 4);
}

#[tokio::test]
async fn explicit_schema_rejects_values_of_the_wrong_type() {
    use arrow_schema::{DataType, Field, Schema};
    let schema = std::sync::Arc::new(Schema::new(vec![
        Field::new("a", DataType::Float64, true),
        Field::new("b", DataType::Utf8, true),
    ]));
    let f = file(b"a;b\n1.5;x\nnope;y\n");
    let mut s = CsvSource::new(
        f.path(),
        CsvOptions {
            delimiter: b';',
            schema: Some(schema.clone()),
            ..Default::default()
        },
    );
    assert_eq!(s.schema().await.unwrap_or_else(|e| panic!("{e}")), schema);
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows(&chunks), 1);
    assert_eq!(bad(&chunks)[0].raw, "nope;y");
}

#[tokio::test]
async fn missing_file_is_a_typed_error() {
    let mut s = CsvSource::new("/definitely/not/here.csv", CsvOptions::default());
    assert!(matches!(s.schema().await, Err(IngestError::Missing { .. })));
}

#[tokio::test]
async fn unreadable_path_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut s = CsvSource::new(dir.path(), CsvOptions::default());
    let e = s.schema().await;
    assert!(matches!(e, Err(IngestError::Unreadable { .. })), "{e:?}");
}

#[tokio::test]
async fn empty_file_is_a_typed_error() {
    let f = file(b"");
    let mut s = CsvSource::new(f.path(), CsvOptions::default());
    assert!(matches!(s.schema().await, Err(IngestError::Empty(_))));
}

#[tokio::test]
async fn header_only_file_is_a_typed_error_without_schema() {
    let f = file(b"a,b,c\n");
    let mut s = CsvSource::new(f.path(), CsvOptions::default());
    assert!(matches!(s.schema().await, Err(IngestError::HeaderOnly(_))));
}

#[tokio::test]
async fn header_only_file_with_schema_is_an_empty_batch() {
    use arrow_schema::{DataType, Field, Schema};
    let schema = std::sync::Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
    let f = file(b"a\n");
    let mut s = CsvSource::new(
        f.path(),
        CsvOptions {
            schema: Some(schema),
            ..Default::default()
        },
    );
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows(&chunks), 0);
}

#[tokio::test]
async fn truncated_last_line_is_quarantined_and_complete_last_line_without_newline_is_kept() {
    let f = file(b"a,b,c\n1,2,3\n4,5");
    let mut s = CsvSource::new(f.path(), CsvOptions::default());
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows(&chunks), 1);
    assert_eq!(bad(&chunks)[0].row, 2);
    let g = file(b"a,b\n1,2\n3,4");
    let mut s = CsvSource::new(g.path(), CsvOptions::default());
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows(&chunks), 2);
}

#[tokio::test]
async fn wrong_encoding_is_quarantined_per_row() {
    // Latin-1 "é" (0xE9) is not UTF-8.
    let f = file(b"name,n\ncaf\xe9,1\ncafe,2\n");
    let mut s = CsvSource::new(
        f.path(),
        CsvOptions {
            schema: Some(std::sync::Arc::new(arrow_schema::Schema::new(vec![
                arrow_schema::Field::new("name", arrow_schema::DataType::Utf8, true),
                arrow_schema::Field::new("n", arrow_schema::DataType::Int64, true),
            ]))),
            ..Default::default()
        },
    );
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows(&chunks), 1);
    let q = bad(&chunks);
    assert!(q[0].reason.contains("UTF-8"), "{}", q[0].reason);
}

#[tokio::test]
async fn duplicate_header_names_are_a_typed_error() {
    let f = file(b"a,a\n1,2\n");
    let mut s = CsvSource::new(f.path(), CsvOptions::default());
    assert!(matches!(
        s.schema().await,
        Err(IngestError::BadHeader { .. })
    ));
}

#[test]
fn options_parse_from_pairs_and_reject_unknown_ones() {
    let mut m = std::collections::BTreeMap::new();
    m.insert("delimiter".to_string(), "tab".to_string());
    m.insert("header".to_string(), "false".to_string());
    m.insert("max_record_bytes".to_string(), "1024".to_string());
    let o = CsvOptions::from_pairs(&m).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.delimiter, b'\t');
    assert!(!o.has_header);
    assert_eq!(o.max_record_bytes, 1024);
    m.insert("colour".to_string(), "blue".to_string());
    assert!(matches!(
        CsvOptions::from_pairs(&m),
        Err(IngestError::InvalidOption(_))
    ));
}

#[tokio::test]
async fn a_utf16_file_is_a_typed_encoding_error() {
    let text: Vec<u8> = "a,b\n1,2\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let mut content = vec![0xFF, 0xFE];
    content.extend(text);
    let f = file(&content);
    let mut s = CsvSource::new(f.path(), CsvOptions::default());
    assert!(matches!(
        s.schema().await,
        Err(IngestError::Encoding { .. })
    ));
}

/// A file of many 4 MiB pieces, parsed in parallel: every row arrives once and in file
/// order, quoted fields holding newlines and delimiters survive piece cuts, and bad rows
/// keep their true row numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_is_parsed_in_parallel_pieces_in_order() {
    let mut text = String::from("id,x,note\n");
    let n = 500_000u64;
    let mut expected_bad = Vec::new();
    let mut row = 0u64;
    for i in 0..n {
        row += 1;
        if i % 50_000 == 7 {
            text.push_str(&format!("{i},not-a-number,bad\n"));
            expected_bad.push(row);
        } else if i % 1000 == 3 {
            // A quoted field with a newline: one record over two lines.
            text.push_str(&format!("{i},{}.5,\"two\nlines, and a comma\"\n", i));
            row += 1;
        } else {
            text.push_str(&format!("{i},{}.25,plain text for row {i}\n", i));
        }
    }
    assert!(text.len() > 12 << 20, "the file spans several pieces");
    let f = file(text.as_bytes());
    let mut s = CsvSource::new(
        f.path(),
        CsvOptions {
            chunk_rows: 40_000,
            ..Default::default()
        },
    );
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(chunks.iter().all(|c| c.batch.num_rows() <= 40_000));
    let mut ids = Vec::new();
    for c in &chunks {
        let col = c
            .batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::Int64Array>()
            .unwrap_or_else(|| panic!("id is an integer column"));
        ids.extend(col.values().iter().copied());
    }
    let want: Vec<i64> = (0..n as i64).filter(|i| i % 50_000 != 7).collect();
    assert_eq!(ids.len(), want.len());
    assert!(ids == want, "rows arrive once each, in file order");
    let q = bad(&chunks);
    assert_eq!(q.iter().map(|r| r.row).collect::<Vec<_>>(), expected_bad);
    assert!(q[0].raw.contains("not-a-number"));
    let notes = rows_of(&chunks[0].batch).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        notes[3].get("note"),
        Some(&Value::Str("two\nlines, and a comma".into()))
    );
    // The checksum covers every byte.
    assert_eq!(
        s.summary().checksum,
        format!("{:032x}", twox_hash::XxHash3_128::oneshot(text.as_bytes()))
    );
    assert_eq!(s.summary().source_bytes, text.len() as u64);
}

/// The same over the quote-free fast path: CRLF line ends, blank lines and bad rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_unquoted_file_takes_the_fast_path_with_the_same_results() {
    let mut text = String::from("id,x\r\n");
    let mut expected_bad = Vec::new();
    let mut line = 1u64;
    for i in 0..600_000i64 {
        line += 1;
        if i % 100_000 == 5 {
            text.push_str(&format!("{i},{i}.5,extra\r\n"));
            expected_bad.push(line - 1);
        } else {
            text.push_str(&format!("{i},{i}.5\r\n"));
        }
        if i % 250_000 == 9 {
            text.push_str("\r\n");
            line += 1;
        }
    }
    assert!(text.len() > 8 << 20);
    let f = file(text.as_bytes());
    let mut s = CsvSource::new(f.path(), CsvOptions::default());
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    let mut xs = Vec::new();
    for c in &chunks {
        let col = c
            .batch
            .column(1)
            .as_any()
            .downcast_ref::<arrow_array::Float64Array>()
            .unwrap_or_else(|| panic!("x is a float column"));
        xs.extend(col.values().iter().copied());
    }
    let want: Vec<f64> = (0..600_000i64)
        .filter(|i| i % 100_000 != 5)
        .map(|i| i as f64 + 0.5)
        .collect();
    assert!(xs == want);
    let q = bad(&chunks);
    assert_eq!(q.iter().map(|r| r.row).collect::<Vec<_>>(), expected_bad);
    assert!(q[0].reason.contains("3 fields"), "{}", q[0].reason);
}

/// Inference on quote-free data (the sample is split straight from the bytes): CRLF line
/// ends and blank lines as the parser reads them, every type, and a stray value that
/// stays a bad row rather than turning its column into text.
#[tokio::test]
async fn infers_every_type_from_quote_free_data() {
    let mut text = String::from("id,flag,when,name,x\r\n");
    for i in 0..40 {
        let x = if i == 17 {
            "n/a".to_string()
        } else {
            format!("{i}.5")
        };
        let when = if i % 2 == 0 {
            "2024-01-31"
        } else {
            "2024-02-01 10:00:00"
        };
        text.push_str(&format!("{i},{},{when},name {i},{x}\r\n", i % 3 == 0));
        if i == 20 {
            text.push_str("\r\n");
        }
    }
    let f = file(text.as_bytes());
    let mut s = CsvSource::new(f.path(), CsvOptions::default());
    let schema = s.schema().await.unwrap_or_else(|e| panic!("{e}"));
    let types = types_of(&schema);
    assert_eq!(
        types,
        ["Int64", "Boolean", "Timestamp(µs)", "Utf8", "Float64"]
    );
    let chunks = read_all(&mut s).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows(&chunks), 39);
    let q = bad(&chunks);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].row, 18);
    assert!(q[0].reason.contains("n/a"), "{}", q[0].reason);
}

/// A quote that is never closed, or line ends that are a lone CR, leave no record end to
/// cut at: the reader stops with a typed error naming the line instead of reading the
/// rest of the file into memory.
#[tokio::test]
async fn a_record_without_an_end_is_a_typed_error_not_unbounded_memory() {
    let small = CsvOptions {
        max_record_bytes: 1 << 20,
        ..Default::default()
    };
    let mut unclosed = String::from("id,note\n1,fine\n2,\"never closed\n");
    while unclosed.len() < 6 << 20 {
        unclosed.push_str("3,more text inside the open quote\n");
    }
    let mut cr_only = String::from("id,x\r");
    while cr_only.len() < 6 << 20 {
        cr_only.push_str("1,2.5\r");
    }
    for (text, line) in [(unclosed, 3), (cr_only, 1)] {
        let f = file(text.as_bytes());
        let mut s = CsvSource::new(f.path(), small.clone());
        let err = match s.schema().await {
            Err(e) => e,
            Ok(_) => read_all(&mut s)
                .await
                .err()
                .unwrap_or_else(|| panic!("no error")),
        };
        match &err {
            IngestError::RecordTooLong { line: l, limit, .. } => {
                assert_eq!((*l, *limit), (line, 1 << 20), "{err}");
            }
            other => panic!("expected RecordTooLong, got {other}"),
        }
        assert!(err.to_string().contains("never closed"), "{err}");
    }
}

/// A small file whose line ends are a lone CR is refused as such (it would otherwise be
/// one long record of the wrong width).
#[tokio::test]
async fn lone_cr_line_ends_are_a_typed_encoding_error() {
    let f = file(b"id,x\r1,2.5\r2,3.5\r");
    let mut s = CsvSource::new(f.path(), CsvOptions::default());
    match s.schema().await {
        Err(e @ IngestError::Encoding { .. }) => {
            assert!(e.to_string().contains("lone CR"), "{e}")
        }
        other => panic!("expected an encoding error, got {other:?}"),
    }
}
