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
//!   is quarantined like any short row;
//! - a UTF-16 file (byte-order mark), or one whose line ends are a lone CR →
//!   [`IngestError::Encoding`];
//! - no record end within `max_record_bytes` (default 64 MiB: an unclosed quote, or
//!   lone-CR line ends) → [`IngestError::RecordTooLong`], instead of reading the rest of
//!   the file into memory.
//!
//! # Parallel, bounded reading
//! The file is read once, sequentially, in 4 MiB blocks that are hashed and cut into
//! pieces of whole records (newlines inside quoted fields are not cuts). Up to two pieces
//! per thread parse at once on the rayon pool, and their chunks are handed on in file
//! order as the oldest piece finishes, so memory stays bounded however large the file.
//! Quote-free lines are parsed in one pass (numbers straight from the bytes, see
//! `number.rs`); quoted ones go through the `csv` crate.
//! Row numbers in the quarantine count data lines from 1 after the header (a record
//! spanning lines is numbered by its first line).

mod columns;
mod infer;
mod number;
mod pieces;
mod scalar;

pub use infer::INFER_MAJORITY;
pub use scalar::parse_timestamp;

use crate::checksum::Checksum;
use crate::error::{IngestError, Result};
use crate::feed::{open_file, FileFeed, Msg, Tx};
use crate::source::{Chunk, Source};
use arrow_schema::SchemaRef;
use async_trait::async_trait;
use columns::Columns;
use infer::{header_names, infer_schema};
use mlpipe_core::store::BatchSummary;
use pieces::{parse_piece, split_fields, unquoted_lines, ParseSpec, Piece, Scanner};
use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
    /// Longest record read before giving up with [`IngestError::RecordTooLong`] (default
    /// 64 MiB): an unclosed quote or lone-CR line ends would otherwise make the reader
    /// hold the rest of the file in memory.
    pub max_record_bytes: usize,
    /// Declared types laid over the inferred (or given) schema, by column name: values
    /// that do not parse as their column's type refuse their row (quarantined).
    pub types: std::collections::BTreeMap<String, crate::declared::ColumnType>,
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
            max_record_bytes: 64 << 20,
            types: Default::default(),
        }
    }
}

impl CsvOptions {
    /// Reads options from string pairs (as carried by a `SourceRef`): `delimiter`,
    /// `quote`, `header` (`true`/`false`), `chunk_rows`, `infer_rows`, `max_record_bytes`.
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
                "max_record_bytes" => o.max_record_bytes = num(v)?,
                other => {
                    return Err(IngestError::InvalidOption(format!(
                        "unknown CSV option `{other}` (known: delimiter, quote, header, chunk_rows, infer_rows, max_record_bytes)"
                    )))
                }
            }
        }
        Ok(o)
    }
}

/// A CSV file as a [`Source`].
pub struct CsvSource {
    feed: FileFeed,
}

impl CsvSource {
    /// A CSV file at `path`.
    pub fn new(path: impl Into<PathBuf>, options: CsvOptions) -> Self {
        Self {
            feed: FileFeed::new(path.into(), move |p, tx, summary, read| {
                read_file(p, &options, tx, summary, read)
            }),
        }
    }
}

#[async_trait]
impl Source for CsvSource {
    fn identity(&self) -> String {
        self.feed.identity()
    }

    fn format(&self) -> &str {
        "csv"
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

    fn position(&self) -> Option<(u64, Option<u64>)> {
        self.feed.position()
    }
}

/// Bytes read from the file at a time, and the size pieces are cut at.
const PIECE_BYTES: usize = 4 << 20;

/// The file in pieces of whole records, hashed and counted as it is read.
struct PieceReader {
    file: std::fs::File,
    path: PathBuf,
    quote: u8,
    pending: Vec<u8>,
    scanner: Scanner,
    next_line: u64,
    checksum: Checksum,
    eof: bool,
    /// Shared with the source, for progress.
    read: Arc<AtomicU64>,
    /// Buffers of parsed pieces, handed back for reuse (fresh memory costs page faults).
    recycled: std::sync::mpsc::Receiver<Vec<u8>>,
    /// `CsvOptions::max_record_bytes`.
    max_record: usize,
}

impl PieceReader {
    fn new(
        file: std::fs::File,
        path: &Path,
        o: &CsvOptions,
        read: Arc<AtomicU64>,
        recycled: std::sync::mpsc::Receiver<Vec<u8>>,
    ) -> Self {
        Self {
            max_record: o.max_record_bytes.max(1),
            read,
            file,
            path: path.to_path_buf(),
            quote: o.quote,
            pending: Vec::with_capacity(PIECE_BYTES * 2),
            scanner: Scanner::default(),
            next_line: 1,
            checksum: Checksum::default(),
            eof: false,
            recycled,
        }
    }

    /// The next piece of at least `PIECE_BYTES` (less at the end), or `None` at the end.
    fn next(&mut self) -> Result<Option<Piece>> {
        // What is left after the last cut (a partial record) moves into a parsed piece's
        // buffer when one has come back by now, so the read below lands in memory that is
        // already mapped.
        if !self.eof && self.pending.capacity() < PIECE_BYTES {
            if let Ok(mut buf) = self.recycled.try_recv() {
                buf.clear();
                buf.extend_from_slice(&self.pending);
                self.pending = buf;
            }
            self.pending.reserve(PIECE_BYTES);
        }
        while !self.eof && (self.pending.len() < PIECE_BYTES || self.scanner_has_no_cut()) {
            let start = self.pending.len();
            // Reads into spare capacity (no zeroing first); retries interrupted reads.
            let n = (&mut self.file)
                .take(PIECE_BYTES as u64)
                .read_to_end(&mut self.pending)
                .map_err(|e| IngestError::Unreadable {
                    path: self.path.clone(),
                    source: e,
                })?;
            self.checksum.update(&self.pending[start..]);
            self.read.fetch_add(n as u64, Ordering::Relaxed);
            self.eof = n == 0;
            self.scanner.scan(&self.pending, self.quote);
            if !self.scanner.has_cut() && self.pending.len() > self.max_record {
                return Err(IngestError::RecordTooLong {
                    source_name: self.path.display().to_string(),
                    line: self.next_line,
                    limit: self.max_record,
                });
            }
        }
        if let Some(p) = self.scanner.take(&mut self.pending, &mut self.next_line) {
            return Ok(Some(p));
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        // The end of the file without a final newline: the rest is the last piece.
        Ok(Some(
            self.scanner.take_rest(&mut self.pending, self.next_line),
        ))
    }

    fn scanner_has_no_cut(&mut self) -> bool {
        self.scanner.scan(&self.pending, self.quote);
        !self.scanner.has_cut()
    }
}

fn read_file(
    path: &Path,
    o: &CsvOptions,
    tx: &Tx,
    summary: &Mutex<BatchSummary>,
    read: &Arc<AtomicU64>,
) -> Result<()> {
    let name = path.display().to_string();
    let file = open_file(path)?;
    // Up to two pieces per thread parse at once; their buffers go back to the reader.
    let in_flight = (rayon::current_num_threads() * 2).max(2);
    let (recycle_tx, recycle_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(in_flight + 2);
    let mut reader = PieceReader::new(file, path, o, read.clone(), recycle_rx);
    let Some(mut first) = reader.next()? else {
        return Err(IngestError::Empty(name));
    };
    if first.bytes.starts_with(&[0xFF, 0xFE]) || first.bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(IngestError::Encoding {
            source_name: name,
            reason: "the file starts with a UTF-16 byte-order mark; convert it to UTF-8".into(),
        });
    }
    // The scanner counted the piece's newlines already.
    if first.lines == 0 && memchr::memchr(b'\r', &first.bytes).is_some() {
        return Err(IngestError::Encoding {
            source_name: name,
            reason: "its line ends are a lone CR (classic Mac OS); convert them to LF or CRLF"
                .into(),
        });
    }

    // Reading, hashing and cutting run on their own thread from here on, ahead of the
    // schema inference and the parsers, so the sequential pass overlaps them. One cut
    // piece waits while the next is read: reading further ahead would only take fresh
    // memory instead of a recycled buffer.
    let (piece_tx, piece_rx) = std::sync::mpsc::sync_channel::<Result<Piece>>(1);
    let read_ahead = std::thread::spawn(move || {
        loop {
            match reader.next() {
                Ok(Some(p)) => {
                    if piece_tx.send(Ok(p)).is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = piece_tx.send(Err(e));
                    break;
                }
            }
        }
        reader.checksum.summary()
    });

    // Header and inference sample come from the first piece.
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(o.delimiter)
        .quote(o.quote)
        .has_headers(false)
        .flexible(true)
        .from_reader(first.bytes.as_slice());
    let mut record = csv::ByteRecord::new();
    let io_err = |e: csv::Error| IngestError::Unreadable {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    };
    let header: Vec<String> = if o.has_header {
        if !rdr.read_byte_record(&mut record).map_err(io_err)? {
            return Err(IngestError::Empty(name));
        }
        header_names(&record, &name)?
    } else {
        Vec::new()
    };
    let data_start = rdr.position().byte() as usize;
    // Quotes in the header alone do not send the data to the quoted path.
    let body_quoted = first.quoted
        && memchr::memchr(o.quote, first.bytes.get(data_start..).unwrap_or_default()).is_some();
    let schema = match &o.schema {
        Some(s) => s.clone(),
        None => {
            // The sample: up to `infer_rows` records of the first piece, split straight
            // from the bytes when the data has no quote character (as the fast parser
            // would), through the `csv` reader otherwise.
            let body = first.bytes.get(data_start..).unwrap_or_default();
            let limit = o.infer_rows.max(1);
            let mut records: Vec<csv::ByteRecord> = Vec::new();
            let sample: Vec<Vec<&[u8]>> = if !body_quoted {
                drop(rdr);
                unquoted_lines(body)
                    .take(limit)
                    .map(|(_, l)| {
                        let mut fields = Vec::new();
                        split_fields(l, o.delimiter, &mut fields);
                        fields
                    })
                    .collect()
            } else {
                while records.len() < limit {
                    if !rdr.read_byte_record(&mut record).map_err(io_err)? {
                        break;
                    }
                    records.push(record.clone());
                }
                records.iter().map(|r| r.iter().collect()).collect()
            };
            let Some(first_record) = sample.first() else {
                return Err(IngestError::HeaderOnly(name));
            };
            let names = if header.is_empty() {
                (1..=first_record.len())
                    .map(|i| format!("column_{i}"))
                    .collect()
            } else {
                header.clone()
            };
            infer_schema(&names, &sample)
        }
    };
    let schema = crate::declared::apply(&schema, &o.types, &name)?;
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
    let header_lines = u64::from(o.has_header);
    let header_newlines = memchr::memchr_iter(b'\n', &first.bytes[..data_start]).count() as u64;
    first.first_line += header_newlines;
    first.lines = first.lines.saturating_sub(header_newlines);
    first.bytes.drain(..data_start);
    first.quoted = body_quoted;
    let spec = ParseSpec {
        schema: schema.clone(),
        delimiter: o.delimiter,
        quote: o.quote,
        chunk_rows: o.chunk_rows.max(1),
        header_lines,
    };
    // Up to `in_flight` pieces parse at once on the rayon pool; their chunks are handed
    // on strictly in file order as each oldest piece finishes (no window barrier).
    let spec = Arc::new(spec);
    type Parsed = Option<Result<Vec<Chunk>>>;
    let mut queue: VecDeque<std::sync::mpsc::Receiver<Parsed>> = VecDeque::new();
    let submit = |queue: &mut VecDeque<_>, piece: Piece| {
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
        let (spec, recycle) = (spec.clone(), recycle_tx.clone());
        rayon::spawn(move || {
            let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                parse_piece(&piece, &spec)
            }))
            .ok();
            let _ = recycle.try_send(piece.bytes);
            let _ = done_tx.send(parsed);
        });
        queue.push_back(done_rx);
    };
    submit(&mut queue, first);
    let mut pieces = piece_rx.iter();
    let mut sent_any = false;
    let mut read_all = false;
    loop {
        while !read_all && queue.len() < in_flight {
            match pieces.next().transpose()? {
                Some(p) => submit(&mut queue, p),
                None => read_all = true,
            }
        }
        let Some(done) = queue.pop_front() else {
            break;
        };
        // `None`: the parse panicked (a bug); say so instead of losing the piece.
        let chunks = done
            .recv()
            .ok()
            .flatten()
            .ok_or_else(|| IngestError::Unreadable {
                path: path.to_path_buf(),
                source: std::io::Error::other("a CSV parser thread failed; please report this"),
            })??;
        for chunk in chunks {
            sent_any = true;
            if tx.blocking_send(Ok(Msg::Chunk(chunk))).is_err() {
                // The consumer gave up; stop quietly (the reader stops at its next send).
                return Ok(());
            }
        }
    }
    if !sent_any {
        // Header only, with an explicit schema: one empty batch.
        let empty = Columns::new(&schema, 0).finish(&schema)?;
        let _ = tx.blocking_send(Ok(Msg::Chunk(Chunk {
            batch: empty,
            quarantined: Vec::new(),
        })));
    }
    let read_summary = read_ahead.join().map_err(|_| IngestError::Unreadable {
        path: path.to_path_buf(),
        source: std::io::Error::other("the CSV reader thread panicked"),
    })?;
    if let Ok(mut s) = summary.lock() {
        *s = read_summary;
    }
    Ok(())
}
