//! Typed column buffers for CSV rows: a row goes in whole or not at all, and finished
//! columns become Arrow arrays without another copy of the values.

use super::number;
use super::scalar::{field_str, parse_bool, parse_i64, parse_timestamp};
use crate::error::{IngestError, Result};
use arrow_array::builder::StringBuilder;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{ArrayRef, ArrowPrimitiveType, BooleanArray, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef, TimeUnit};
use std::sync::Arc;

/// The fields of a record joined by the delimiter (for the quarantine).
pub(crate) fn raw_text<'a>(fields: impl Iterator<Item = &'a [u8]>, delimiter: u8) -> String {
    let parts: Vec<String> = fields
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    parts.join(&(delimiter as char).to_string())
}

/// Values and validity of one column. The validity vector is only built once a null
/// arrives (most numeric columns never have one).
struct Buf<T> {
    values: Vec<T>,
    /// `None` while every value so far is valid.
    valid: Option<Vec<bool>>,
    nulls: usize,
}

impl<T: Default> Buf<T> {
    fn new(cap: usize) -> Self {
        Self {
            values: Vec::with_capacity(cap),
            valid: None,
            nulls: 0,
        }
    }
    fn push(&mut self, v: Option<T>) {
        match v {
            Some(v) => {
                self.values.push(v);
                if let Some(valid) = &mut self.valid {
                    valid.push(true);
                }
            }
            None => {
                let len = self.values.len();
                let valid = self.valid.get_or_insert_with(|| {
                    let mut all = Vec::with_capacity(self.values.capacity());
                    all.resize(len, true);
                    all
                });
                valid.push(false);
                self.values.push(T::default());
                self.nulls += 1;
            }
        }
    }
    fn truncate(&mut self, n: usize) {
        if let Some(valid) = &mut self.valid {
            if n < valid.len() {
                self.nulls -= valid[n..].iter().filter(|v| !**v).count();
            }
            valid.truncate(n);
        }
        self.values.truncate(n);
    }
    fn take_nulls(&mut self) -> Option<arrow_buffer::NullBuffer> {
        let valid = self.valid.take();
        let nulls = std::mem::take(&mut self.nulls);
        valid
            .filter(|_| nulls > 0)
            .map(arrow_buffer::NullBuffer::from)
    }
}

impl<T: Default + arrow_buffer::ArrowNativeType> Buf<T> {
    fn finish<P: ArrowPrimitiveType<Native = T>>(&mut self) -> PrimitiveArray<P> {
        let cap = self.values.capacity();
        let nulls = self.take_nulls();
        let values = std::mem::replace(&mut self.values, Vec::with_capacity(cap));
        PrimitiveArray::new(values.into(), nulls)
    }
}

enum Col {
    Int(Buf<i64>),
    Float(Buf<f64>),
    Bool(Buf<bool>),
    Ts(Buf<i64>),
    Str(Vec<Option<String>>),
}

/// Column buffers that can take a row whole or not at all.
pub(crate) struct Columns {
    cols: Vec<Col>,
    rows: usize,
    /// Column names, for the reason a row is refused.
    names: Arc<[String]>,
}

impl Columns {
    pub(crate) fn new(schema: &Schema, cap: usize) -> Self {
        let names: Arc<[String]> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let cols = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Int64 => Col::Int(Buf::new(cap)),
                DataType::Float64 => Col::Float(Buf::new(cap)),
                DataType::Boolean => Col::Bool(Buf::new(cap)),
                DataType::Timestamp(TimeUnit::Microsecond, None) => Col::Ts(Buf::new(cap)),
                _ => Col::Str(Vec::with_capacity(cap)),
            })
            .collect();
        Self {
            cols,
            rows: 0,
            names,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.rows
    }

    /// Appends a row of `count` fields, or leaves every column as it was and says why not.
    pub(crate) fn push<'a>(
        &mut self,
        fields: impl Iterator<Item = &'a [u8]>,
        count: usize,
    ) -> std::result::Result<(), String> {
        if count != self.cols.len() {
            return Err(format!("{count} fields, expected {}", self.cols.len()));
        }
        for (i, (col, raw)) in self.cols.iter_mut().zip(fields).enumerate() {
            if let Err(reason) = push_field(col, raw, i) {
                for c in &mut self.cols[..i] {
                    c.truncate(self.rows);
                }
                let name = self.names.get(i).map(String::as_str).unwrap_or("?");
                return Err(format!("column `{name}`: {reason}"));
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Appends one unquoted line, splitting it at `delimiter` and parsing numbers in place
    /// (no field slices are collected first). `false` when the line needs the general path
    /// ([`Columns::push`], which also words the reason a row is refused); the columns are
    /// then as they were.
    pub(crate) fn push_line(&mut self, line: &[u8], delimiter: u8) -> bool {
        let Some(last) = self.cols.len().checked_sub(1) else {
            return false;
        };
        let mut rest = line;
        for (i, col) in self.cols.iter_mut().enumerate() {
            let fast = match col {
                Col::Float(b) => number::parse_prefix(rest)
                    .filter(|&(_, n)| {
                        if i == last {
                            n == rest.len()
                        } else {
                            rest.get(n) == Some(&delimiter)
                        }
                    })
                    .map(|(v, n)| {
                        b.push(Some(v));
                        n
                    }),
                _ => None,
            };
            let used = match fast {
                Some(n) => n,
                None => {
                    let end = memchr::memchr(delimiter, rest);
                    let ok = match end {
                        Some(_) if i == last => false,
                        None if i != last => false,
                        _ => push_field(col, &rest[..end.unwrap_or(rest.len())], i).is_ok(),
                    };
                    if !ok {
                        self.rollback();
                        return false;
                    }
                    end.unwrap_or(rest.len())
                }
            };
            // Past the field and its delimiter (the last field ends the line).
            rest = rest.get(used + 1..).unwrap_or_default();
        }
        self.rows += 1;
        true
    }

    /// Drops what a refused row appended.
    fn rollback(&mut self) {
        for c in &mut self.cols {
            c.truncate(self.rows);
        }
    }

    /// The rows so far as a batch; the buffers start again empty.
    pub(crate) fn finish(&mut self, schema: &SchemaRef) -> Result<RecordBatch> {
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Int(b) => Arc::new(b.finish::<Int64Type>()),
                    Col::Float(b) => Arc::new(b.finish::<Float64Type>()),
                    Col::Ts(b) => Arc::new(b.finish::<TimestampMicrosecondType>()),
                    Col::Bool(b) => {
                        let nulls = b.take_nulls();
                        let values = std::mem::take(&mut b.values);
                        Arc::new(BooleanArray::new(values.into(), nulls))
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

fn push_field(col: &mut Col, raw: &[u8], i: usize) -> std::result::Result<(), String> {
    let not_utf8 = || format!("field {} is not valid UTF-8", i + 1);
    if let Col::Str(v) = col {
        return match std::str::from_utf8(raw) {
            Ok("") => {
                v.push(None);
                Ok(())
            }
            Ok(s) => {
                v.push(Some(s.to_string()));
                Ok(())
            }
            Err(_) => Err(not_utf8()),
        };
    }
    // Numbers parse straight from the bytes (no UTF-8 pass); other types go via text.
    let bytes = raw.trim_ascii();
    let bad = |t: &str| {
        format!(
            "field {} (`{}`) is not a valid {t}",
            i + 1,
            String::from_utf8_lossy(bytes)
        )
    };
    match col {
        Col::Float(v) if bytes.is_empty() => v.push(None),
        Col::Float(v) => v.push(Some(fast_float2::parse(bytes).map_err(|_| bad("number"))?)),
        Col::Int(v) if bytes.is_empty() => v.push(None),
        Col::Int(v) => v.push(Some(parse_i64(bytes).ok_or_else(|| bad("integer"))?)),
        _ => {
            let s = field_str(raw).ok_or_else(not_utf8)?;
            push_typed(col, s).map_err(|t| format!("field {} (`{s}`) is not a valid {t}", i + 1))?
        }
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

fn push_typed(col: &mut Col, s: &str) -> std::result::Result<(), &'static str> {
    match col {
        Col::Int(v) => v.push(if s.is_empty() {
            None
        } else {
            Some(s.parse().map_err(|_| "integer")?)
        }),
        Col::Float(v) => v.push(if s.is_empty() {
            None
        } else {
            Some(s.parse().map_err(|_| "number")?)
        }),
        Col::Bool(v) => v.push(if s.is_empty() {
            None
        } else {
            Some(parse_bool(s).ok_or("boolean")?)
        }),
        Col::Ts(v) => v.push(if s.is_empty() {
            None
        } else {
            Some(parse_timestamp(s).ok_or("timestamp")?)
        }),
        Col::Str(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_i64;

    #[test]
    fn integers_parse_like_std() {
        for s in [
            "0",
            "-0",
            "+7",
            "42",
            "-9223372036854775808",
            "9223372036854775807",
        ] {
            assert_eq!(parse_i64(s.as_bytes()), s.parse::<i64>().ok(), "{s}");
        }
        for s in [
            "",
            "-",
            "1.5",
            "9223372036854775808",
            "-9223372036854775809",
            "1e3",
            " 1",
        ] {
            assert_eq!(parse_i64(s.as_bytes()), None, "{s}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod line_tests {
    use super::Columns;
    use arrow_schema::{DataType, Field, Schema, SchemaRef};
    use std::sync::Arc;

    /// `push_line` (with `push` where it declines) and `push` alone over the same lines
    /// keep the same rows with the same values and refuse the same lines.
    #[test]
    fn the_line_fast_path_agrees_with_the_general_path() {
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Float64, true),
            Field::new("b", DataType::Int64, true),
            Field::new("c", DataType::Utf8, true),
            Field::new("d", DataType::Float64, true),
        ]));
        let tokens = [
            "1.5",
            "-0",
            "2",
            "",
            " 3.25 ",
            "1e400",
            "abc",
            "1.6807178555193727",
            "7e-5",
            "-12",
            "9007199254740993",
            ".5",
            "1.",
            "nan",
            "x,y",
            "4,",
            "0.000001",
        ];
        let mut st = 0x2545_F491_4F6C_DD1Du64;
        let mut rnd = move |n: usize| {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            (st % n as u64) as usize
        };
        let mut fast = Columns::new(&schema, 16);
        let mut general = Columns::new(&schema, 16);
        let (mut refused_fast, mut refused_general) = (Vec::new(), Vec::new());
        for row in 0..5_000 {
            let fields = 3 + rnd(3);
            let line: Vec<&str> = (0..fields).map(|_| tokens[rnd(tokens.len())]).collect();
            let line = line.join(",");
            let split: Vec<&[u8]> = line.as_bytes().split(|&b| b == b',').collect();
            if !fast.push_line(line.as_bytes(), b',')
                && fast.push(split.iter().copied(), split.len()).is_err()
            {
                refused_fast.push(row);
            }
            if general.push(split.iter().copied(), split.len()).is_err() {
                refused_general.push(row);
            }
        }
        assert_eq!(refused_fast, refused_general);
        assert!(refused_fast.len() > 100 && refused_fast.len() < 4_900);
        let (a, b) = (
            fast.finish(&schema).unwrap(),
            general.finish(&schema).unwrap(),
        );
        assert!(a.num_rows() > 100);
        assert_eq!(a, b);
    }
}
