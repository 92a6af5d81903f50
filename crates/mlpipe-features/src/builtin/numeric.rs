//! `numeric`: numeric (and boolean) raw columns as features, unchanged.

use crate::error::{FeatureError, Result};
use crate::step::{Extractor, FittedExtractor};
use mlpipe_core::table::{column_names, column_to_f64};
use mlpipe_core::{RecordBatch, Row, Value};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// Parameters of [`Numeric`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumericParams {
    /// Columns to take; `None` takes every numeric or boolean column except `exclude`.
    pub columns: Option<Vec<String>>,
    /// Columns never taken (the pipeline adds its label and key here).
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// Takes numeric columns as they are. Integers and booleans become `f64` exactly as
/// [`Value::as_f64`] converts them, nulls become `NaN`.
#[derive(Clone, Debug, Default)]
pub struct Numeric(pub NumericParams);

impl Extractor for Numeric {
    fn kind(&self) -> &str {
        "numeric"
    }

    fn fit(&self, raw: &[RecordBatch]) -> Result<Box<dyn FittedExtractor>> {
        let first = raw.first().ok_or_else(|| FeatureError::EmptyData {
            step: "numeric".into(),
        })?;
        let available = column_names(first);
        let columns = match &self.0.columns {
            Some(cols) => {
                for c in cols {
                    if !available.contains(c) {
                        return Err(FeatureError::MissingColumn {
                            column: c.clone(),
                            available: available.join(", "),
                        });
                    }
                }
                cols.clone()
            }
            None => first
                .schema()
                .fields()
                .iter()
                .filter(|f| {
                    f.data_type().is_numeric() || f.data_type() == &arrow_schema::DataType::Boolean
                })
                .map(|f| f.name().clone())
                .filter(|n| !self.0.exclude.contains(n))
                .collect(),
        };
        if columns.is_empty() {
            return Err(FeatureError::Definition(
                "`numeric` found no numeric columns to take".into(),
            ));
        }
        Ok(Box::new(FittedNumeric {
            columns,
            by_name: NameOrder::default(),
        }))
    }
}

/// A fitted [`Numeric`]: the list of columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedNumeric {
    /// Columns taken, in order.
    pub columns: Vec<String>,
    /// Positions of `columns` in name order, made on first use: the row path walks them
    /// alongside the row's own (name-ordered) fields instead of looking each one up.
    #[serde(skip)]
    by_name: NameOrder,
}

impl FittedExtractor for FittedNumeric {
    fn kind(&self) -> &str {
        "numeric"
    }

    fn output_names(&self) -> Vec<String> {
        self.columns.clone()
    }

    fn extract_batch(&self, raw: &RecordBatch) -> Result<Array2<f64>> {
        let mut out = Array2::<f64>::zeros((raw.num_rows(), self.columns.len()));
        for (j, name) in self.columns.iter().enumerate() {
            let col = raw
                .column_by_name(name)
                .ok_or_else(|| FeatureError::MissingColumn {
                    column: name.clone(),
                    available: column_names(raw).join(", "),
                })?;
            let values = column_to_f64(col.as_ref())?;
            out.column_mut(j)
                .assign(&ndarray::ArrayView1::from(&values[..]));
        }
        Ok(out)
    }

    fn extract_row(&self, row: &Row, out: &mut Vec<f64>) -> Result<()> {
        let start = out.len();
        out.resize(start + self.columns.len(), f64::NAN);
        let order = self.by_name.0.get_or_init(|| {
            let mut order: Vec<usize> = (0..self.columns.len()).collect();
            order.sort_by(|&a, &b| self.columns[a].cmp(&self.columns[b]));
            order
        });
        // One merge of two name-ordered lists; a field the row lacks stays NaN.
        let mut fields = row.iter().peekable();
        for &k in order {
            let name = self.columns[k].as_str();
            while fields
                .next_if(|(f, _)| cmp_names(f, name).is_lt())
                .is_some()
            {}
            let Some(&(f, v)) = fields.peek() else { break };
            if cmp_names(f, name).is_ne() {
                continue;
            }
            out[start + k] = match v {
                Value::Null => f64::NAN,
                v => v.as_f64().ok_or_else(|| {
                    FeatureError::Shape(format!("field `{name}` must be numeric, got {v:?}"))
                })?,
            };
        }
        Ok(())
    }

    fn state(&self) -> serde_json::Value {
        super::to_state(self)
    }
}

/// A cached order of column positions; never part of the fitted state (it is derived
/// from it), so it is skipped by serde and ignored by equality.
#[derive(Clone, Debug, Default)]
struct NameOrder(std::sync::OnceLock<Vec<usize>>);

impl PartialEq for NameOrder {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// `a.cmp(b)` for the short names of columns, in an inlined loop: the row path compares
/// dozens per row, and a call into the C library's `memcmp` for each costs more than the
/// comparison.
#[inline]
fn cmp_names(a: &str, b: &str) -> std::cmp::Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}
