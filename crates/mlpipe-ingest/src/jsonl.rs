//! JSON lines: one JSON object per line, an explicit or inferred schema, bounded chunks and
//! per-line quarantine.
//!
//! Values are typed by the rules of [`crate::typing`]: integers, floats, booleans, text,
//! RFC 3339 timestamps (text in a timestamp column), nulls; a nested object or array is
//! kept as its JSON text in a `Utf8` column.
//!
//! # Outcomes for awkward files
//! - missing file → [`IngestError::Missing`]; unreadable → [`IngestError::Unreadable`];
//! - zero bytes, or only blank lines and no explicit schema → [`IngestError::Empty`]
//!   (with an explicit schema, blank lines only give an empty batch);
//! - no valid object with at least one field among the lines sampled for inference →
//!   [`IngestError::Uninferable`];
//! - blank lines are skipped (they still count in line numbers);
//! - a line that is not valid JSON, is not an object, repeats a key, has a field the schema
//!   does not know or a value of the wrong type → that line is quarantined with its line
//!   number (1-based, counting every line), raw text and reason; the rest ingest;
//! - a last line without a newline is a normal line when it parses; when it does not (a
//!   writer was cut off) it is quarantined with the reason `truncated last line`.

use crate::checksum::Checksum;
use crate::error::{IngestError, Result};
use crate::feed::{open_file, FileFeed, Msg, Tx};
use crate::source::{Chunk, Source};
use crate::typing::{check_schema, infer_schema, RowTyper};
use arrow_schema::SchemaRef;
use async_trait::async_trait;
use mlpipe_core::store::{BatchSummary, QuarantinedRecord};
use mlpipe_core::Value;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How to read a JSON-lines file.
#[derive(Clone, Debug)]
pub struct JsonlOptions {
    /// Types for the fields; inferred from the first `infer_rows` non-blank lines when `None`.
    pub schema: Option<SchemaRef>,
    /// Lines sampled for inference (default 1,000).
    pub infer_rows: usize,
    /// Rows per chunk handed to the store (default 65,536).
    pub chunk_rows: usize,
}

impl Default for JsonlOptions {
    fn default() -> Self {
        Self {
            schema: None,
            infer_rows: 1_000,
            chunk_rows: 64 * 1024,
        }
    }
}

impl JsonlOptions {
    /// Reads options from string pairs (as carried by a `SourceRef`): `chunk_rows`,
    /// `infer_rows`.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a String, &'a String)>,
    ) -> Result<Self> {
        let mut o = Self::default();
        for (k, v) in pairs {
            let n = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                IngestError::InvalidOption(format!("{k} must be a positive integer, got `{v}`"))
            });
            match k.as_str() {
                "chunk_rows" => o.chunk_rows = n?,
                "infer_rows" => o.infer_rows = n?,
                other => {
                    return Err(IngestError::InvalidOption(format!(
                        "unknown JSON-lines option `{other}` (known: chunk_rows, infer_rows)"
                    )))
                }
            }
        }
        Ok(o)
    }
}

/// A JSON-lines file as a [`Source`].
pub struct JsonlSource {
    feed: FileFeed,
}

impl JsonlSource {
    /// A JSON-lines file at `path`.
    pub fn new(path: impl Into<PathBuf>, options: JsonlOptions) -> Self {
        Self {
            feed: FileFeed::new(path.into(), move |p, tx, summary, _read| {
                read_file(p, &options, tx, summary)
            }),
        }
    }
}

#[async_trait]
impl Source for JsonlSource {
    fn identity(&self) -> String {
        self.feed.identity()
    }

    fn format(&self) -> &str {
        "jsonl"
    }

    async fn schema(&mut self) -> Result<SchemaRef> {
        self.feed.schema().await
    }

    async fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        self.feed.next_chunk().await
    }

    fn summary(&self) -> BatchSummary {
        self.feed.summary()
    }
}

/// Counts and hashes every byte read.
pub(crate) struct HashingReader<R> {
    pub(crate) inner: R,
    pub(crate) checksum: Checksum,
}

impl<R> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            checksum: Checksum::default(),
        }
    }

    pub(crate) fn summary(self) -> BatchSummary {
        self.checksum.summary()
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.checksum.update(&buf[..n]);
        Ok(n)
    }
}

/// The fields of one JSON object, in the order written.
struct Object(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Object;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Object, A::Error> {
                let mut fields = Vec::with_capacity(m.size_hint().unwrap_or(16));
                while let Some((k, v)) = m.next_entry::<String, Scalar>()? {
                    fields.push((k, v.0));
                }
                Ok(Object(fields))
            }
        }
        d.deserialize_map(V)
    }
}

/// One JSON value as a [`Value`], read directly (no intermediate tree); a nested object
/// or array becomes its JSON text.
struct Scalar(Value);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Null))
            }
            fn visit_none<E>(self) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Null))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Int(v)))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(match i64::try_from(v) {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Float(v as f64),
                }))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Float(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Str(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Scalar, E> {
                Ok(Scalar(Value::Str(v)))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> std::result::Result<Scalar, A::Error> {
                let tree = serde_json::Value::deserialize(
                    serde::de::value::MapAccessDeserializer::new(m),
                )?;
                Ok(Scalar(Value::Str(tree.to_string())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                s: A,
            ) -> std::result::Result<Scalar, A::Error> {
                let tree = serde_json::Value::deserialize(
                    serde::de::value::SeqAccessDeserializer::new(s),
                )?;
                Ok(Scalar(Value::Str(tree.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// One line parsed, or why not.
fn parse_line(line: &[u8], unterminated: bool) -> std::result::Result<Object, String> {
    serde_json::from_slice::<Object>(line).map_err(|e| {
        use serde_json::error::Category;
        let why = match e.classify() {
            Category::Data => format!("not a JSON object: {e}"),
            Category::Eof => format!("cut-off JSON: {e}"),
            _ => format!("invalid JSON: {e}"),
        };
        if unterminated {
            format!("truncated last line (no final newline): {why}")
        } else {
            why
        }
    })
}

/// A non-blank line as read.
struct RawLine {
    no: u64,
    raw: Vec<u8>,
    unterminated: bool,
}

impl RawLine {
    fn parse(self) -> Line {
        let parsed = parse_line(&self.raw, self.unterminated);
        Line {
            no: self.no,
            raw: self.raw,
            parsed,
        }
    }
}

/// A line and what parsing it gave.
struct Line {
    no: u64,
    raw: Vec<u8>,
    parsed: std::result::Result<Object, String>,
}

/// Parses lines on all cores, keeping their order.
fn parse_all(lines: Vec<RawLine>) -> Vec<Line> {
    use rayon::prelude::*;
    if lines.len() < 256 {
        return lines.into_iter().map(RawLine::parse).collect();
    }
    lines.into_par_iter().map(RawLine::parse).collect()
}

/// Reads the next non-blank line; `None` at the end.
fn next_line<R: BufRead>(
    rdr: &mut R,
    buf: &mut Vec<u8>,
    line_no: &mut u64,
    path: &Path,
) -> Result<Option<RawLine>> {
    loop {
        buf.clear();
        let n = rdr
            .read_until(b'\n', buf)
            .map_err(|e| IngestError::Unreadable {
                path: path.to_path_buf(),
                source: e,
            })?;
        if n == 0 {
            return Ok(None);
        }
        *line_no += 1;
        let unterminated = buf.last() != Some(&b'\n');
        let mut line = buf.as_slice();
        if *line_no == 1 {
            line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
        }
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        return Ok(Some(RawLine {
            no: *line_no,
            raw: line.to_vec(),
            unterminated,
        }));
    }
}

fn read_file(path: &Path, o: &JsonlOptions, tx: &Tx, summary: &Mutex<BatchSummary>) -> Result<()> {
    let name = path.display().to_string();
    let file = open_file(path)?;
    let mut rdr = std::io::BufReader::with_capacity(1 << 20, HashingReader::new(file));
    let mut buf = Vec::new();
    let mut line_no = 0u64;

    let mut sample = Vec::new();
    if o.schema.is_none() {
        while sample.len() < o.infer_rows {
            match next_line(&mut rdr, &mut buf, &mut line_no, path)? {
                Some(l) => sample.push(l),
                None => break,
            }
        }
    }
    let sample = parse_all(sample);
    let schema = match &o.schema {
        Some(s) => {
            check_schema(s)?;
            s.clone()
        }
        None => {
            if sample.is_empty() {
                return Err(IngestError::Empty(name));
            }
            let objects = sample.iter().filter_map(|l| l.parsed.as_ref().ok());
            let schema =
                infer_schema(objects.map(|obj| obj.0.iter().map(|(k, v)| (k.as_str(), v))));
            if schema.fields().is_empty() {
                let first = sample
                    .iter()
                    .find_map(|l| {
                        l.parsed
                            .as_ref()
                            .err()
                            .map(|e| format!("line {}: {e}", l.no))
                    })
                    .unwrap_or_else(|| "every sampled object is empty".to_string());
                return Err(IngestError::Uninferable {
                    source_name: name,
                    reason: format!(
                        "no field found in the first {} non-blank lines ({first}); fix the file or give an explicit schema",
                        sample.len()
                    ),
                });
            }
            schema
        }
    };
    if tx.blocking_send(Ok(Msg::Schema(schema.clone()))).is_err() {
        return Ok(());
    }

    let mut typer = RowTyper::new(schema)?;
    let mut bad = Vec::new();
    let take = |typer: &mut RowTyper, bad: &mut Vec<QuarantinedRecord>, l: Line| -> Result<()> {
        let refused = match l.parsed {
            Ok(obj) => typer.push(obj.0.iter().map(|(k, v)| (k.as_str(), v))).err(),
            Err(reason) => Some(reason),
        };
        if let Some(reason) = refused {
            bad.push(QuarantinedRecord {
                row: l.no,
                raw: String::from_utf8_lossy(&l.raw).into_owned(),
                reason,
            });
        }
        if typer.len() + bad.len() >= o.chunk_rows {
            send_chunk(tx, typer, bad)?;
        }
        Ok(())
    };
    for l in sample {
        take(&mut typer, &mut bad, l)?;
    }
    // Lines are read in order, parsed in parallel a block at a time (bounded), and typed
    // in order.
    let block = o.chunk_rows.clamp(1, 4096);
    let mut raw = Vec::with_capacity(block);
    let mut more = true;
    while more {
        while raw.len() < block {
            match next_line(&mut rdr, &mut buf, &mut line_no, path)? {
                Some(l) => raw.push(l),
                None => {
                    more = false;
                    break;
                }
            }
        }
        for l in parse_all(std::mem::replace(&mut raw, Vec::with_capacity(block))) {
            take(&mut typer, &mut bad, l)?;
        }
    }
    if !typer.is_empty() || !bad.is_empty() {
        send_chunk(tx, &mut typer, &mut bad)?;
    }
    if let Ok(mut s) = summary.lock() {
        *s = rdr.into_inner().summary();
    }
    Ok(())
}

fn send_chunk(tx: &Tx, typer: &mut RowTyper, bad: &mut Vec<QuarantinedRecord>) -> Result<()> {
    let chunk = Chunk {
        batch: typer.finish()?,
        quarantined: std::mem::take(bad),
    };
    // A closed channel means the consumer gave up; stop quietly.
    let _ = tx.blocking_send(Ok(Msg::Chunk(chunk)));
    Ok(())
}
