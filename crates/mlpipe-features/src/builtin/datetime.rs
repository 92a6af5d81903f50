//! `datetime`: calendar parts of timestamp or ISO-8601 text columns — year, month, day,
//! hour, weekday (Monday = 0, as pandas' `dt.weekday`) and day of year (1-based).
//!
//! Text with an offset (`2024-03-01T10:00:00+02:00`) gives the parts of the local time as
//! written; timestamps are UTC. Missing values give `NaN` in every part.

use super::categorical::column_values;
use crate::error::{FeatureError, Result};
use crate::step::{Extractor, FittedExtractor};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use mlpipe_core::{RecordBatch, Row, Value};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// One calendar part.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatePart {
    /// Year.
    Year,
    /// Month, 1–12.
    Month,
    /// Day of month, 1–31.
    Day,
    /// Hour, 0–23.
    Hour,
    /// Day of week, Monday = 0.
    Weekday,
    /// Day of year, 1–366.
    Dayofyear,
}

impl DatePart {
    fn name(self) -> &'static str {
        match self {
            DatePart::Year => "year",
            DatePart::Month => "month",
            DatePart::Day => "day",
            DatePart::Hour => "hour",
            DatePart::Weekday => "weekday",
            DatePart::Dayofyear => "dayofyear",
        }
    }

    fn of(self, t: &NaiveDateTime) -> f64 {
        f64::from(match self {
            DatePart::Year => t.year(),
            DatePart::Month => t.month() as i32,
            DatePart::Day => t.day() as i32,
            DatePart::Hour => t.hour() as i32,
            DatePart::Weekday => t.weekday().num_days_from_monday() as i32,
            DatePart::Dayofyear => t.ordinal() as i32,
        })
    }
}

fn all_parts() -> Vec<DatePart> {
    vec![
        DatePart::Year,
        DatePart::Month,
        DatePart::Day,
        DatePart::Hour,
        DatePart::Weekday,
        DatePart::Dayofyear,
    ]
}

/// Parameters of [`DateParts`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatePartsParams {
    /// Timestamp or ISO-8601 text columns.
    pub columns: Vec<String>,
    /// Parts to extract, in output order (default all six).
    #[serde(default = "all_parts")]
    pub parts: Vec<DatePart>,
}

/// The date/time parts extractor. Outputs are named `<column>_<part>`.
#[derive(Clone, Debug)]
pub struct DateParts(pub DatePartsParams);

/// A fitted [`DateParts`] (its parameters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedDateParts(pub DatePartsParams);

/// Parses a value into a date-time; `Ok(None)` for missing.
pub fn parse_datetime(column: &str, v: &Value) -> Result<Option<NaiveDateTime>> {
    let bad = |what: &str| {
        FeatureError::Shape(format!(
            "datetime: column `{column}` value {what} is not a timestamp or ISO-8601 date/time (e.g. 2024-03-01T10:00:00Z)"
        ))
    };
    match v {
        Value::Null => Ok(None),
        Value::Timestamp(us) => DateTime::from_timestamp_micros(*us)
            .map(|d| Some(d.naive_utc()))
            .ok_or_else(|| bad(&us.to_string())),
        Value::Str(s) => {
            let s = s.trim();
            if let Ok(d) = DateTime::parse_from_rfc3339(s) {
                return Ok(Some(d.naive_local()));
            }
            for f in [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M",
            ] {
                if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
                    return Ok(Some(d));
                }
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(Some)
                .ok_or_else(|| bad(&format!("`{s}`")))
        }
        other => Err(bad(&format!("{other:?}"))),
    }
}

impl Extractor for DateParts {
    fn kind(&self) -> &str {
        "datetime"
    }
    fn fit(&self, raw: &[RecordBatch]) -> Result<Box<dyn FittedExtractor>> {
        if raw.iter().all(|b| b.num_rows() == 0) {
            return Err(FeatureError::EmptyData {
                step: "datetime".into(),
            });
        }
        if self.0.columns.is_empty() || self.0.parts.is_empty() {
            return Err(FeatureError::Definition(
                "datetime: name at least one column and one part".into(),
            ));
        }
        for b in raw {
            for c in &self.0.columns {
                for v in column_values(b, c)? {
                    parse_datetime(c, &v)?;
                }
            }
        }
        Ok(Box::new(FittedDateParts(self.0.clone())))
    }
}

impl FittedDateParts {
    fn push(&self, column: &str, v: &Value, out: &mut Vec<f64>) -> Result<()> {
        match parse_datetime(column, v)? {
            None => out.extend(std::iter::repeat_n(f64::NAN, self.0.parts.len())),
            Some(t) => out.extend(self.0.parts.iter().map(|p| p.of(&t))),
        }
        Ok(())
    }
}

impl FittedExtractor for FittedDateParts {
    fn kind(&self) -> &str {
        "datetime"
    }
    fn output_names(&self) -> Vec<String> {
        self.0
            .columns
            .iter()
            .flat_map(|c| {
                self.0
                    .parts
                    .iter()
                    .map(move |p| format!("{c}_{}", p.name()))
            })
            .collect()
    }
    fn extract_batch(&self, raw: &RecordBatch) -> Result<Array2<f64>> {
        let width = self.0.columns.len() * self.0.parts.len();
        let cols: Vec<Vec<Value>> = self
            .0
            .columns
            .iter()
            .map(|c| column_values(raw, c))
            .collect::<Result<_>>()?;
        let mut flat = Vec::with_capacity(raw.num_rows() * width);
        for i in 0..raw.num_rows() {
            for (c, vals) in self.0.columns.iter().zip(&cols) {
                self.push(c, &vals[i], &mut flat)?;
            }
        }
        Array2::from_shape_vec((raw.num_rows(), width), flat)
            .map_err(|e| FeatureError::Shape(e.to_string()))
    }
    fn extract_row(&self, row: &Row, out: &mut Vec<f64>) -> Result<()> {
        for c in &self.0.columns {
            self.push(c, row.get(c).unwrap_or(&Value::Null), out)?;
        }
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        super::to_state(self)
    }
}
