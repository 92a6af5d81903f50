//! CSV files: header, delimiter, quoting, an explicit or inferred schema, bounded chunks,
//! and per-row quarantine.
//!
//! # Schema inference
//! Without an explicit schema, each column gets the first of integer, float, boolean,
//! timestamp that at least [`INFER_MAJORITY`] (90%) of its non-empty sampled values parse
//! as, else text; the values that do not fit are quarantined with their rows.
//!
//! # Outcomes for awkward files
//! - missing file → [`IngestError::Missing`]; unreadable → [`IngestError::Unreadable`];
//! - zero bytes → [`IngestError::Empty`];
//! - header but no rows → [`IngestError::HeaderOnly`], unless an explicit schema is given,
//!   then an empty batch;
//! - a row with the wrong number of fields, a value that does not parse as its column's
//!   type, or text that is not UTF-8 → that row is quarantined (row number, raw text,
//!   reason) and the rest ingest;
//! - a last line without a newline is a normal row; if it was cut short (fewer fields) it
//!   is quarantined like any short row.

use crate::error::{IngestError, Result};
use crate::source::{Chunk, Source};
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use async_trait::async_trait;
use mlpipe_core::store::{BatchSummary, QuarantinedRecord};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// How to read a CSV file.
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// Field delimiter (default `,`).
    pub delimiter: u8,
    /// Quote character (default `"`).
    pub quote: u8,
    /// Whether the first record is a header (default true).
    pub has_header: bool,
    /// Types for the columns; inferred from the first `infer_rows` rows when `None`.
    pub schema: Option<SchemaRef>,
    /// Rows sampled for inference (default 10,000).
    pub infer_rows: usize,
    /// Rows per chunk handed to the store (default 65,536).
    pub chunk_rows: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            delimiter: b',',
            quote: b'"',
            has_header: true,
            schema: None,
            infer_rows: 10_000,
            chunk_rows: 64 * 1024,
        }
    }
}

impl CsvOptions {
    /// Reads options from string pairs (as carried by a `SourceRef`): `delimiter`,
    /// `quote`, `header` (`true`/`false`), `chunk_rows`, `infer_rows`.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<Self> {
        let mut o = Self::default();
        for (k, v) in pairs {
            let byte = |v: &str| -> Result<u8> {
                let v = if v == "\\t" || v == "tab" { "\t" } else { v };
                match v.as_bytes() {
                    [b] => Ok(*b),
                    _ => Err(IngestError::InvalidOption(format!(
                        "{k} must be one ASCII character, got `{v}`"
                    ))),
                }
            };
            let num = |v: &str| -> Result<usize> {
                v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    IngestError::InvalidOption(format!("{k} must be a positive integer, got `{v}`"))
                })
            };
            match k.as_str() {
                "delimiter" => o.delimiter = byte(v)?,
                "quote" => o.quote = byte(v)?,
                "header" => {
                    o.has_header = v.parse().map_err(|_| {
                        IngestError::InvalidOption(format!("header must be true or false, got `{v}`"))
                    })?
                }
                "chunk_rows" => o.chunk_rows = num(v)?,
                "infer_rows" => o.infer_rows = num(v)?,
                other => {
                    return Err(IngestError::InvalidOption(format!(
                        "unknown CSV option `{other}` (known: delimiter, quote, header, chunk_rows, infer_rows)"
                    )))
                }
            }
        }
        Ok(o)
    }
}

/// A CSV file as a [`Source`].
pub struct CsvSource {
    path: PathBuf,
    options: CsvOptions,
    rx: Option<mpsc::Receiver<Result<Msg>>>,
    schema: Option<SchemaRef>,
    summary: Arc<Mutex<BatchSummary>>,
}

enum Msg {
    Schema(SchemaRef),
    Chunk(Chunk),
}

impl CsvSource {
    /// A CSV file at `path`.
    pub fn new(path: impl Into<PathBuf>, options: CsvOptions) -> Self {
        Self {
            path: path.into(),
            options,
            rx: None,
            schema: None,
            summary: Arc::new(Mutex::new(BatchSummary::default())),
        }
    }

    fn start(&mut self) {
        if self.rx.is_some() {
            return;
        }
        let (tx, rx) = mpsc::channel(2);
        let path = self.path.clone();
        let options = self.options.clone();
        let summary = self.summary.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = read_file(&path, &options, &tx, &summary) {
                let _ = tx.blocking_send(Err(e));
            }
        });
        self.rx = Some(rx);
    }

    async fn recv(&mut self) -> Result<Option<Msg>> {
        self.start();
        match self.rx.as_mut() {
            Some(rx) => rx.recv().await.transpose(),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl Source for CsvSource {
    fn identity(&self) -> String {
        std::fs::canonicalize(&self.path)
            .unwrap_or_else(|_| self.path.clone())
            .display()
            .to_string()
    }

    fn format(&self) -> &str {
        "csv"
    }

    async fn schema(&mut self) -> Result<SchemaRef> {
        if let Some(s) = &self.schema {
            return Ok(s.clone());
        }
        match self.recv().await? {
            Some(Msg::Schema(s)) => {
                self.schema = Some(s.clone());
                Ok(s)
            }
            _ => Err(IngestError::Empty(self.path.display().to_string())),
        }
    }

    async fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        self.schema().await?;
        match self.recv().await? {
            Some(Msg::Chunk(c)) => Ok(Some(c)),
            Some(Msg::Schema(_)) | None => Ok(None),
        }
    }

    fn summary(&self) -> BatchSummary {
        self.summary.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Counts and hashes every byte read.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

fn read_file(
    path: &Path,
    o: &CsvOptions,
    tx: &mpsc::Sender<Result<Msg>>,
    summary: &Mutex<BatchSummary>,
) -> Result<()> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => IngestError::Missing {
            path: path.to_path_buf(),
        },
        _ => IngestError::Unreadable {
            path: path.to_path_buf(),
            source: e,
        },
    })?;
    if file.metadata().map(|m| m.len() == 0).unwrap_or(false) {
        return Err(IngestError::Empty(name));
    }
    let hashing = HashingReader {
        inner: file,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(o.delimiter)
        .quote(o.quote)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(hashing);
    let io_err = |e: csv::Error| IngestError::Unreadable {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };

    let mut record = csv::ByteRecord::new();
    let header: Vec<String> = if o.has_header {
        if !rdr.read_byte_record(&mut record).map_err(io_err)? {
            return Err(IngestError::Empty(name));
        }
        header_names(&record, &name)?
    } else {
        Vec::new()
    };

    // Sample rows for inference (kept, then ingested first).
    let mut sample: Vec<(u64, csv::ByteRecord)> = Vec::new();
    let mut row_no: u64 = 0;
    let infer = o.schema.is_none();
    while infer && sample.len() < o.infer_rows {
        if !rdr.read_byte_record(&mut record).map_err(io_err)? {
            break;
        }
        row_no += 1;
        sample.push((row_no, record.clone()));
    }
    let schema = match &o.schema {
        Some(s) => s.clone(),
        None => {
            if sample.is_empty() {
                return Err(IngestError::HeaderOnly(name));
            }
            let names = if header.is_empty() {
                (1..=sample[0].1.len())
                    .map(|i| format!("column_{i}"))
                    .collect()
            } else {
                header.clone()
            };
            infer_schema(&names, &sample)
        }
    };
    if !header.is_empty() && header.len() != schema.fields().len() {
        return Err(IngestError::BadHeader {
            source_name: name,
            reason: format!(
                "{} columns in the header, {} in the schema",
                header.len(),
                schema.fields().len()
            ),
        });
    }
    if tx.blocking_send(Ok(Msg::Schema(schema.clone()))).is_err() {
        return Ok(());
    }

    let mut cols = Columns::new(&schema, o.chunk_rows);
    let mut bad = Vec::new();
    let push =
        |cols: &mut Columns, bad: &mut Vec<QuarantinedRecord>, n: u64, r: &csv::ByteRecord| {
            if let Err(reason) = cols.push(r) {
                bad.push(QuarantinedRecord {
                    row: n,
                    raw: raw_text(r, o.delimiter),
                    reason,
                });
            }
        };
    for (n, r) in &sample {
        push(&mut cols, &mut bad, *n, r);
        if cols.len() >= o.chunk_rows {
            send_chunk(tx, &schema, &mut cols, &mut bad)?;
        }
    }
    drop(sample);
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // A malformed record (the csv crate only fails on I/O or invalid UTF-8 in
                // headers): quarantine what we can say about it and go on.
                row_no += 1;
                bad.push(QuarantinedRecord {
                    row: row_no,
                    raw: String::new(),
                    reason: e.to_string(),
                });
                if e.is_io_error() {
                    return Err(io_err(e));
                }
                continue;
            }
        }
        row_no += 1;
        push(&mut cols, &mut bad, row_no, &record);
        if cols.len() + bad.len() >= o.chunk_rows {
            send_chunk(tx, &schema, &mut cols, &mut bad)?;
        }
    }
    if cols.len() > 0 || !bad.is_empty() {
        send_chunk(tx, &schema, &mut cols, &mut bad)?;
    }
    let inner = rdr.into_inner();
    if let Ok(mut s) = summary.lock() {
        *s = BatchSummary {
            checksum: hex::encode(inner.hasher.finalize()),
            source_bytes: inner.bytes,
        };
    }
    Ok(())
}

fn send_chunk(
    tx: &mpsc::Sender<Result<Msg>>,
    schema: &SchemaRef,
    cols: &mut Columns,
    bad: &mut Vec<QuarantinedRecord>,
) -> Result<()> {
    let batch = cols.finish(schema)?;
    let chunk = Chunk {
        batch,
        quarantined: std::mem::take(bad),
    };
    // A closed channel means the consumer gave up; stop quietly.
    let _ = tx.blocking_send(Ok(Msg::Chunk(chunk)));
    Ok(())
}

fn header_names(record: &csv::ByteRecord, source: &str) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(record.len());
    for (i, f) in record.iter().enumerate() {
        let n = std::str::from_utf8(f).map_err(|_| IngestError::BadHeader {
            source_name: source.to_string(),
            reason: format!("column {} is not valid UTF-8", i + 1),
        })?;
        let n = n.trim().trim_start_matches('\u{feff}');
        let n = if n.is_empty() {
            format!("column_{}", i + 1)
        } else {
            n.to_string()
        };
        if names.contains(&n) {
            return Err(IngestError::BadHeader {
                source_name: source.to_string(),
                reason: format!("column name `{n}` appears twice"),
            });
        }
        names.push(n);
    }
    Ok(names)
}

fn raw_text(r: &csv::ByteRecord, delimiter: u8) -> String {
    let parts: Vec<String> = r
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    parts.join(&(delimiter as char).to_string())
}

fn field_str(f: &[u8]) -> Option<&str> {
    std::str::from_utf8(f).ok().map(str::trim)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "1" => Some(true),
        "false" | "f" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Parses `2024-01-31`, `2024-01-31 12:00:00`, `2024-01-31T12:00:00[.fff][Z|±hh:mm]` as
/// microseconds since the epoch (UTC when no offset is given).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
}

/// Share of sampled values that must parse as a type for a column to get it.
pub const INFER_MAJORITY: f64 = 0.9;

fn infer_schema(names: &[String], sample: &[(u64, csv::ByteRecord)]) -> SchemaRef {
    let fields: Vec<Field> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let values: Vec<&str> = sample
                .iter()
                .filter(|(_, r)| r.len() == names.len())
                .filter_map(|(_, r)| r.get(i))
                .filter_map(field_str)
                .filter(|s| !s.is_empty())
                .collect();
            // A column is typed by what (nearly) all its sampled values are: a few stray
            // values in a numeric column are bad rows to quarantine, not a reason to turn
            // the whole column into text.
            let share = |ok: usize| ok as f64 >= INFER_MAJORITY * values.len() as f64;
            let count = |f: &dyn Fn(&str) -> bool| values.iter().filter(|v| f(v)).count();
            let dt = if values.is_empty() {
                DataType::Utf8
            } else if count(&|v| v.parse::<i64>().is_ok()) == values.len() {
                DataType::Int64
            } else if share(count(&|v| v.parse::<f64>().is_ok())) {
                if share(count(&|v| v.parse::<i64>().is_ok())) {
                    DataType::Int64
                } else {
                    DataType::Float64
                }
            } else if share(count(&|v| parse_bool(v).is_some())) {
                DataType::Boolean
            } else if share(count(&|v| parse_timestamp(v).is_some())) {
                DataType::Timestamp(TimeUnit::Microsecond, None)
            } else {
                DataType::Utf8
            };
            Field::new(name, dt, true)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// Column builders that can take a row whole or not at all.
struct Columns {
    cols: Vec<Col>,
    rows: usize,
}

enum Col {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Ts(Vec<Option<i64>>),
    Str(Vec<Option<String>>),
}

impl Columns {
    fn new(schema: &Schema, cap: usize) -> Self {
        let cols = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Int64 => Col::Int(Vec::with_capacity(cap)),
                DataType::Float64 => Col::Float(Vec::with_capacity(cap)),
                DataType::Boolean => Col::Bool(Vec::with_capacity(cap)),
                DataType::Timestamp(TimeUnit::Microsecond, None) => {
                    Col::Ts(Vec::with_capacity(cap))
                }
                _ => Col::Str(Vec::with_capacity(cap)),
            })
            .collect();
        Self { cols, rows: 0 }
    }

    fn len(&self) -> usize {
        self.rows
    }

    /// Appends a row, or leaves every column as it was and says why not.
    fn push(&mut self, r: &csv::ByteRecord) -> std::result::Result<(), String> {
        if r.len() != self.cols.len() {
            return Err(format!("{} fields, expected {}", r.len(), self.cols.len()));
        }
        for (i, (col, raw)) in self.cols.iter_mut().zip(r.iter()).enumerate() {
            let res = match col {
                Col::Str(v) => match std::str::from_utf8(raw) {
                    Ok("") => {
                        v.push(None);
                        Ok(())
                    }
                    Ok(s) => {
                        v.push(Some(s.to_string()));
                        Ok(())
                    }
                    Err(_) => Err(format!("field {} is not valid UTF-8", i + 1)),
                },
                _ => match field_str(raw) {
                    None => Err(format!("field {} is not valid UTF-8", i + 1)),
                    Some(s) => push_typed(col, s)
                        .map_err(|t| format!("field {} (`{s}`) is not a valid {t}", i + 1)),
                },
            };
            if let Err(reason) = res {
                for c in &mut self.cols[..i] {
                    c.truncate(self.rows);
                }
                return Err(reason);
            }
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Int(v) => {
                        let mut b = Int64Builder::with_capacity(v.len());
                        b.extend(v.drain(..));
                        Arc::new(b.finish())
                    }
                    Col::Float(v) => {
                        let mut b = Float64Builder::with_capacity(v.len());
                        b.extend(v.drain(..));
                        Arc::new(b.finish())
                    }
                    Col::Bool(v) => {
                        let mut b = BooleanBuilder::with_capacity(v.len());
                        b.extend(v.drain(..));
                        Arc::new(b.finish())
                    }
                    Col::Ts(v) => {
                        let mut b = TimestampMicrosecondBuilder::with_capacity(v.len());
                        b.extend(v.drain(..));
                        Arc::new(b.finish())
                    }
                    Col::Str(v) => {
                        let mut b = StringBuilder::new();
                        for s in v.drain(..) {
                            b.append_option(s);
                        }
                        Arc::new(b.finish())
                    }
                }
            })
            .collect();
        self.rows = 0;
        RecordBatch::try_new(schema.clone(), arrays)
            .map_err(|e| IngestError::Core(mlpipe_core::Error::from(e)))
    }
}

fn push_typed(col: &mut Col, s: &str) -> std::result::Result<(), &'static str> {
    match col {
        Col::Int(v) => {
            if s.is_empty() {
                v.push(None)
            } else {
                v.push(Some(s.parse().map_err(|_| "integer")?))
            }
        }
        Col::Float(v) => {
            if s.is_empty() {
                v.push(None)
            } else {
                v.push(Some(s.parse().map_err(|_| "number")?))
            }
        }
        Col::Bool(v) => {
            if s.is_empty() {
                v.push(None)
            } else {
                v.push(Some(parse_bool(s).ok_or("boolean")?))
            }
        }
        Col::Ts(v) => {
            if s.is_empty() {
                v.push(None)
            } else {
                v.push(Some(parse_timestamp(s).ok_or("timestamp")?))
            }
        }
        Col::Str(_) => {}
    }
    Ok(())
}

impl Col {
    fn truncate(&mut self, n: usize) {
        match self {
            Col::Int(v) | Col::Ts(v) => v.truncate(n),
            Col::Float(v) => v.truncate(n),
            Col::Bool(v) => v.truncate(n),
            Col::Str(v) => v.truncate(n),
        }
    }
}
