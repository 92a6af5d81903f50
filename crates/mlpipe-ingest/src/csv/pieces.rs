//! Cutting a CSV byte stream into pieces of whole records, and parsing pieces in
//! parallel.
//!
//! The reader hashes and scans the bytes once, sequentially, tracking whether it is
//! inside a quoted field, so a piece always ends after a record-ending newline (a quoted
//! field may hold newlines). Pieces are then parsed on the rayon pool (a bounded number at
//! once, see `read_file`) and their chunks are handed on in file order, so memory holds a
//! bounded number of pieces however large the file.

use super::columns::{raw_text, Columns};
use crate::error::Result;
use crate::source::Chunk;
use arrow_schema::SchemaRef;
use mlpipe_core::store::QuarantinedRecord;

/// Bytes of whole records, with the file line its first byte is on (1-based), and what
/// the scanner learnt of them on the way (so parsing does not look again).
pub(crate) struct Piece {
    pub(crate) bytes: Vec<u8>,
    pub(crate) first_line: u64,
    /// Newlines in `bytes` (an upper bound of its records).
    pub(crate) lines: u64,
    /// Whether `bytes` holds a quote character (else the quote-free fast path parses it).
    pub(crate) quoted: bool,
}

/// Scans bytes for record ends: the quote state carries over between calls.
#[derive(Default)]
pub(crate) struct Scanner {
    in_quotes: bool,
    /// How far `pending` has been scanned.
    scanned: usize,
    /// End (exclusive) of the last complete record found in `pending`.
    last_cut: Option<usize>,
    /// Newlines and quotes scanned in `pending`, and how many of each lie before `last_cut`.
    newlines: u64,
    quotes: u64,
    newlines_at_cut: u64,
    quotes_at_cut: u64,
}

impl Scanner {
    /// Scans the unscanned tail of `pending`.
    pub(crate) fn scan(&mut self, pending: &[u8], quote: u8) {
        let start = self.scanned;
        for i in memchr::memchr2_iter(quote, b'\n', &pending[start..]) {
            let pos = start + i;
            if pending[pos] == quote {
                self.in_quotes = !self.in_quotes;
                self.quotes += 1;
            } else {
                self.newlines += 1;
                if !self.in_quotes {
                    self.last_cut = Some(pos + 1);
                    self.newlines_at_cut = self.newlines;
                    self.quotes_at_cut = self.quotes;
                }
            }
        }
        self.scanned = pending.len();
    }

    /// Whether a complete record has been found since the last piece was taken.
    pub(crate) fn has_cut(&self) -> bool {
        self.last_cut.is_some()
    }

    /// Takes the complete records at the front of `pending` as a piece, if any.
    pub(crate) fn take(&mut self, pending: &mut Vec<u8>, first_line: &mut u64) -> Option<Piece> {
        let cut = self.last_cut.take()?;
        let rest = pending.split_off(cut);
        let bytes = std::mem::replace(pending, rest);
        self.scanned -= cut;
        let piece = Piece {
            first_line: *first_line,
            bytes,
            lines: self.newlines_at_cut,
            quoted: self.quotes_at_cut > 0,
        };
        self.newlines -= self.newlines_at_cut;
        self.quotes -= self.quotes_at_cut;
        *first_line += piece.lines;
        Some(piece)
    }

    /// Takes all of `pending` (the end of the file, after its last newline) as a piece.
    pub(crate) fn take_rest(&mut self, pending: &mut Vec<u8>, first_line: u64) -> Piece {
        let piece = Piece {
            bytes: std::mem::take(pending),
            first_line,
            lines: self.newlines,
            quoted: self.quotes > 0,
        };
        *self = Self::default();
        piece
    }
}

/// How pieces are parsed.
pub(crate) struct ParseSpec {
    pub(crate) schema: SchemaRef,
    pub(crate) delimiter: u8,
    pub(crate) quote: u8,
    pub(crate) chunk_rows: usize,
    /// Lines before the first data row (1 with a header).
    pub(crate) header_lines: u64,
}

/// Collects chunks of at most `chunk_rows` rows (good and bad) from parsed records.
struct ChunkSink<'s> {
    spec: &'s ParseSpec,
    cols: Columns,
    bad: Vec<QuarantinedRecord>,
    out: Vec<Chunk>,
}

impl<'s> ChunkSink<'s> {
    /// A sink for `piece`: buffers sized by the piece's line count (an upper bound of its
    /// records), so small files and pieces do not reserve a whole chunk per column.
    fn new(spec: &'s ParseSpec, piece: &Piece) -> Self {
        let lines = usize::try_from(piece.lines)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        Self {
            spec,
            cols: Columns::new(&spec.schema, spec.chunk_rows.min(lines)),
            bad: Vec::new(),
            out: Vec::new(),
        }
    }

    fn record<'a, I>(&mut self, fields: I, count: usize, row: u64) -> Result<()>
    where
        I: Iterator<Item = &'a [u8]> + Clone,
    {
        if let Err(reason) = self.cols.push(fields.clone(), count) {
            self.bad.push(QuarantinedRecord {
                row,
                raw: raw_text(fields, self.spec.delimiter),
                reason,
            });
        }
        self.flush_if_full()
    }

    fn flush_if_full(&mut self) -> Result<()> {
        if self.cols.len() + self.bad.len() >= self.spec.chunk_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.out.push(Chunk {
            batch: self.cols.finish(&self.spec.schema)?,
            quarantined: std::mem::take(&mut self.bad),
        });
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<Chunk>> {
        if self.cols.len() > 0 || !self.bad.is_empty() {
            self.flush()?;
        }
        Ok(self.out)
    }
}

/// Parses one piece into chunks of at most `chunk_rows` rows.
pub(crate) fn parse_piece(piece: &Piece, spec: &ParseSpec) -> Result<Vec<Chunk>> {
    if !piece.quoted {
        return parse_unquoted(piece, spec);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(spec.delimiter)
        .quote(spec.quote)
        .has_headers(false)
        .flexible(true)
        .from_reader(piece.bytes.as_slice());
    let mut sink = ChunkSink::new(spec, piece);
    let mut record = csv::ByteRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                sink.bad.push(QuarantinedRecord {
                    row: row_number(piece, spec, line),
                    raw: String::new(),
                    reason: e.to_string(),
                });
                continue;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        sink.record(record.iter(), record.len(), row_number(piece, spec, line))?;
    }
    sink.finish()
}

/// The fast path for a piece without any quote character: records are lines and
/// fields are split at the delimiter, as the CSV reader would (empty lines skipped, a
/// trailing `\r` dropped), without copying them into a record first.
fn parse_unquoted(piece: &Piece, spec: &ParseSpec) -> Result<Vec<Chunk>> {
    let mut sink = ChunkSink::new(spec, piece);
    let mut fields: Vec<&[u8]> = Vec::with_capacity(spec.schema.fields().len());
    for (line, l) in unquoted_lines(&piece.bytes) {
        if sink.cols.push_line(l, spec.delimiter) {
            sink.flush_if_full()?;
            continue;
        }
        fields.clear();
        split_fields(l, spec.delimiter, &mut fields);
        sink.record(
            fields.iter().copied(),
            fields.len(),
            row_number(piece, spec, line),
        )?;
    }
    sink.finish()
}

/// The lines of quote-free CSV bytes as the reader takes records: split at `\n`, a
/// trailing `\r` dropped, empty lines skipped; each with its 1-based line number in
/// `bytes` (skipped lines are counted).
pub(crate) fn unquoted_lines(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let (mut start, mut line) = (0, 0u64);
    std::iter::from_fn(move || {
        while start < bytes.len() {
            let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
            let l = &bytes[start..end];
            start = end + 1;
            line += 1;
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            if !l.is_empty() {
                return Some((line, l));
            }
        }
        None
    })
}

/// Appends the fields of one quote-free line to `out`.
pub(crate) fn split_fields<'a>(line: &'a [u8], delimiter: u8, out: &mut Vec<&'a [u8]>) {
    let mut from = 0;
    for at in memchr::memchr_iter(delimiter, line) {
        out.push(&line[from..at]);
        from = at + 1;
    }
    out.push(&line[from..]);
}

/// Data row number (1-based, header excluded) of a record starting on piece line `line`.
fn row_number(piece: &Piece, spec: &ParseSpec, line: u64) -> u64 {
    (piece.first_line + line.saturating_sub(1)).saturating_sub(spec.header_lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_end_after_record_newlines_outside_quotes() {
        let text = b"a,b\n1,\"x\ny\"\n2,z\n3,w";
        let mut s = Scanner::default();
        let mut pending = text.to_vec();
        s.scan(&pending, b'"');
        let mut line = 1;
        let p = s.take(&mut pending, &mut line);
        assert_eq!(p.as_ref().map(|p| (p.lines, p.quoted)), Some((4, true)));
        let p = p.map(|p| p.bytes);
        assert_eq!(p.as_deref(), Some(&b"a,b\n1,\"x\ny\"\n2,z\n"[..]));
        assert_eq!(pending, b"3,w");
        assert_eq!(line, 5);
        let rest = s.take_rest(&mut pending, line);
        assert_eq!(
            (rest.bytes.as_slice(), rest.lines, rest.quoted),
            (&b"3,w"[..], 0, false)
        );
        // The newline inside the quotes is not a cut: a stream cut there waits for more.
        let mut s = Scanner::default();
        let mut pending = b"1,\"x\ny".to_vec();
        s.scan(&pending, b'"');
        assert!(s.take(&mut pending, &mut line).is_none());
        pending.extend_from_slice(b"\"\n");
        s.scan(&pending, b'"');
        assert_eq!(
            s.take(&mut pending, &mut line).map(|p| p.bytes.len()),
            Some(8)
        );
    }
}
