//! The data quality report computed before fitting: per column missing ratio, type
//! mismatches, outliers (Tukey's 1.5·IQR fences and |z| > 3), skewness and constant
//! columns, and the class balance of the label. [`QualityThresholds`] turn findings into
//! a [`FeatureError::Quality`] that stops the preparation.
//!
//! ```
//! use mlpipe_core::{Row, table::rows_to_batch};
//! use mlpipe_features::quality::{quality_report, QualityThresholds};
//! # use std::sync::Arc; use arrow_schema::{Schema, Field, DataType};
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("x", DataType::Float64, true), Field::new("y", DataType::Int64, true)]));
//! let rows: Vec<Row> = (0..10).map(|i| Row::new().with("x", i as f64).with("y", (i % 2) as i64)).collect();
//! let batch = rows_to_batch(&rows, schema).unwrap();
//! let report = quality_report(&batch, Some("y"));
//! assert_eq!(report.columns[0].missing, 0);
//! let strict = QualityThresholds { min_class_ratio: Some(1.1), ..Default::default() };
//! assert!(report.check(&strict).is_err());
//! ```

use crate::error::{FeatureError, Result};
use crate::stats::{quantile_sorted, sorted_finite};
use arrow_array::cast::AsArray;
use arrow_array::Array;
use arrow_schema::DataType;
use mlpipe_core::table::{column_to_f64, value_at};
use mlpipe_core::RecordBatch;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Limits that fail the preparation when crossed (all off by default).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityThresholds {
    /// Largest allowed share of missing values in any column.
    pub max_missing_ratio: Option<f64>,
    /// Largest allowed share of values of the wrong type (text in a mostly numeric text
    /// column, infinities in a numeric one).
    pub max_type_mismatch_ratio: Option<f64>,
    /// Largest allowed share of IQR outliers in any numeric column.
    pub max_outlier_ratio: Option<f64>,
    /// Largest allowed share of z-score outliers (|z| > 3) in any numeric column.
    pub max_z_outlier_ratio: Option<f64>,
    /// Largest allowed |skewness| of any numeric column.
    pub max_abs_skewness: Option<f64>,
    /// Fail when a column (other than the label) holds a single value.
    pub fail_on_constant: bool,
    /// Smallest allowed ratio of the rarest to the most common label class.
    pub min_class_ratio: Option<f64>,
}

/// Findings for one column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnQuality {
    /// Column name.
    pub name: String,
    /// Arrow type.
    pub data_type: String,
    /// Missing values (nulls, `NaN`).
    pub missing: u64,
    /// `missing / rows`.
    pub missing_ratio: f64,
    /// Values of the wrong type.
    pub type_mismatches: u64,
    /// Values outside `[Q1 − 1.5·IQR, Q3 + 1.5·IQR]` (numeric columns).
    pub iqr_outliers: u64,
    /// Values with |z| > 3 (population standard deviation; numeric columns).
    pub z_outliers: u64,
    /// Sample skewness `m3 / m2^1.5` (SciPy's `skew(bias=True)`); `None` when undefined.
    pub skewness: Option<f64>,
    /// Distinct present values.
    pub distinct: u64,
    /// At most one distinct present value.
    pub constant: bool,
}

/// Class counts of the label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelBalance {
    /// Label column.
    pub column: String,
    /// Rows per class (class as text).
    pub counts: BTreeMap<String, u64>,
    /// Rarest class count / most common class count.
    pub minority_ratio: f64,
}

/// The report over one raw batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Rows examined.
    pub rows: u64,
    /// One entry per column.
    pub columns: Vec<ColumnQuality>,
    /// Label balance, when a label column is named and present.
    pub label: Option<LabelBalance>,
    /// What is not a threshold but should not pass unsaid: text columns whose values are
    /// mostly numbers (probably meant to be numeric, and left out by numeric steps).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn numeric_quality(values: &[f64]) -> (u64, u64, u64, Option<f64>, u64) {
    let infinite = values.iter().filter(|v| v.is_infinite()).count() as u64;
    let finite: Vec<f64> = sorted_finite(values.iter().copied().filter(|v| v.is_finite()));
    let mut distinct = finite.clone();
    distinct.dedup();
    if finite.is_empty() {
        return (infinite, 0, 0, None, 0);
    }
    let n = finite.len() as f64;
    let (q1, q3) = (
        quantile_sorted(&finite, 0.25),
        quantile_sorted(&finite, 0.75),
    );
    let (lo, hi) = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1));
    let iqr = finite.iter().filter(|&&v| v < lo || v > hi).count() as u64;
    let mean = finite.iter().sum::<f64>() / n;
    let m2 = finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let m3 = finite.iter().map(|v| (v - mean).powi(3)).sum::<f64>() / n;
    let sd = m2.sqrt();
    let (z, skew) = if distinct.len() <= 1 || sd == 0.0 {
        (0, None)
    } else {
        (
            finite
                .iter()
                .filter(|&&v| ((v - mean) / sd).abs() > 3.0)
                .count() as u64,
            Some(m3 / m2.powf(1.5)),
        )
    };
    (infinite, iqr, z, skew, distinct.len() as u64)
}

fn column_quality(name: &str, col: &dyn Array, rows: usize) -> ColumnQuality {
    let data_type = col.data_type().to_string();
    let mut q = ColumnQuality {
        name: name.to_string(),
        data_type,
        missing: 0,
        missing_ratio: 0.0,
        type_mismatches: 0,
        iqr_outliers: 0,
        z_outliers: 0,
        skewness: None,
        distinct: 0,
        constant: true,
    };
    if let Ok(values) = column_to_f64(col) {
        q.missing = values.iter().filter(|v| v.is_nan()).count() as u64;
        let (inf, iqr, z, skew, distinct) = numeric_quality(&values);
        q.type_mismatches = inf;
        q.iqr_outliers = iqr;
        q.z_outliers = z;
        q.skewness = skew;
        q.distinct = distinct;
    } else {
        let texts: Vec<Option<String>> = match col.data_type() {
            DataType::Utf8 => col
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(String::from))
                .collect(),
            _ => (0..col.len())
                .map(|i| match value_at(col, i) {
                    Ok(v) if !v.is_null() => {
                        crate::builtin::categorical::category_text(&v).map(|t| t.into_owned())
                    }
                    _ => None,
                })
                .collect(),
        };
        q.missing = texts.iter().filter(|t| t.is_none()).count() as u64;
        let present: Vec<&String> = texts.iter().flatten().collect();
        let numeric = present
            .iter()
            .filter(|t| t.trim().parse::<f64>().is_ok())
            .count();
        // A text column whose values are mostly numbers: the others are mismatches.
        if !present.is_empty() && numeric * 2 > present.len() {
            q.type_mismatches = (present.len() - numeric) as u64;
        }
        let mut d: Vec<&String> = present.clone();
        d.sort_unstable();
        d.dedup();
        q.distinct = d.len() as u64;
    }
    q.constant = q.distinct <= 1;
    q.missing_ratio = if rows == 0 {
        0.0
    } else {
        q.missing as f64 / rows as f64
    };
    q
}

/// Computes the report of `batch`; `label` names the label column (its class balance is
/// reported when it is present).
pub fn quality_report(batch: &RecordBatch, label: Option<&str>) -> QualityReport {
    let schema = batch.schema();
    let rows = batch.num_rows();
    let columns = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| column_quality(f.name(), c.as_ref(), rows))
        .collect();
    let label = label.and_then(|l| {
        let col = batch.column_by_name(l)?;
        let mut counts = BTreeMap::new();
        for i in 0..col.len() {
            let v = value_at(col.as_ref(), i).ok()?;
            if let Some(t) = crate::builtin::categorical::category_text(&v) {
                *counts.entry(t.into_owned()).or_insert(0u64) += 1;
            }
        }
        let max = counts.values().copied().max().unwrap_or(0);
        let min = counts.values().copied().min().unwrap_or(0);
        Some(LabelBalance {
            column: l.to_string(),
            minority_ratio: if max == 0 {
                0.0
            } else {
                min as f64 / max as f64
            },
            counts,
        })
    });
    let warnings = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .filter_map(|(f, c)| {
            let mut t = mlpipe_core::text_numbers::NumericText::default();
            t.observe(c.as_ref());
            t.warning(f.name())
        })
        .collect();
    QualityReport {
        rows: rows as u64,
        columns,
        label,
        warnings,
    }
}

impl QualityReport {
    /// Every threshold crossed, as sentences.
    pub fn problems(&self, t: &QualityThresholds) -> Vec<String> {
        let mut out = Vec::new();
        let label = self.label.as_ref().map(|l| l.column.as_str());
        for c in &self.columns {
            if let Some(m) = t.max_missing_ratio {
                if c.missing_ratio > m {
                    out.push(format!(
                        "column `{}` is {:.1}% missing (limit {:.1}%)",
                        c.name,
                        100.0 * c.missing_ratio,
                        100.0 * m
                    ));
                }
            }
            // Shares of the present values: (limit, count, what they are).
            let present = (self.rows - c.missing).max(1) as f64;
            for (limit, count, what) in [
                (
                    t.max_type_mismatch_ratio,
                    c.type_mismatches,
                    "values of the wrong type",
                ),
                (t.max_outlier_ratio, c.iqr_outliers, "IQR outliers"),
                (t.max_z_outlier_ratio, c.z_outliers, "z-score outliers"),
            ] {
                let Some(m) = limit else { continue };
                let r = count as f64 / present;
                if r > m {
                    out.push(format!(
                        "column `{}` has {count} {what} ({:.1}%, limit {:.1}%)",
                        c.name,
                        100.0 * r,
                        100.0 * m
                    ));
                }
            }
            if let (Some(m), Some(s)) = (t.max_abs_skewness, c.skewness) {
                if s.abs() > m {
                    out.push(format!(
                        "column `{}` has skewness {s:.3} (limit ±{m}); consider a log or power transform",
                        c.name
                    ));
                }
            }
            if t.fail_on_constant && c.constant && Some(c.name.as_str()) != label {
                out.push(format!("column `{}` is constant", c.name));
            }
        }
        if let (Some(m), Some(l)) = (t.min_class_ratio, &self.label) {
            if l.minority_ratio < m {
                out.push(format!(
                    "label `{}` is imbalanced: rarest/most common class = {:.3} (limit {m}); counts {:?}",
                    l.column, l.minority_ratio, l.counts
                ));
            }
        }
        out
    }

    /// `Err(FeatureError::Quality)` listing every threshold crossed.
    pub fn check(&self, t: &QualityThresholds) -> Result<()> {
        let p = self.problems(t);
        if p.is_empty() {
            Ok(())
        } else {
            Err(FeatureError::Quality(format!(
                "{}; fix the data or relax `quality` in the feature configuration",
                p.join("; ")
            )))
        }
    }
}
