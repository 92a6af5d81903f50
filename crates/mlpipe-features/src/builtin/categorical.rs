//! `one_hot` and `ordinal`: categorical raw columns as indicator columns or category
//! numbers, as scikit-learn's `OneHotEncoder` and `OrdinalEncoder`.
//!
//! Categories are the distinct non-missing values seen when fitting, sorted as
//! scikit-learn sorts them: numerically when every category is a number, otherwise as
//! text. Values are compared as text (`Int(3)` and `"3"` are the same category), so the
//! batch path (Arrow columns) and the row path ([`Row`]) see the same categories.

use crate::error::{FeatureError, Result};
use crate::step::{Extractor, FittedExtractor};
use mlpipe_core::table::{column_names, value_at};
use mlpipe_core::{RecordBatch, Row, Value};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;

/// The category text of a value; `None` when missing.
pub(crate) fn category_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::Null => None,
        Value::Str(s) => Some(Cow::Borrowed(s)),
        Value::Int(i) => Some(Cow::Owned(i.to_string())),
        Value::Float(f) if f.is_nan() => None,
        Value::Float(f) => Some(Cow::Owned(f.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Timestamp(t) => Some(Cow::Owned(t.to_string())),
    }
}

/// The category text of a value, missing values mapped to `missing` when given.
pub(crate) fn category_or<'a>(v: &'a Value, missing: Option<&'a str>) -> Option<Cow<'a, str>> {
    category_text(v).or(missing.map(Cow::Borrowed))
}

/// Every value of a raw column as a [`Value`] (the row path's view of the batch).
pub(crate) fn column_values(raw: &RecordBatch, name: &str) -> Result<Vec<Value>> {
    let col = raw
        .column_by_name(name)
        .ok_or_else(|| FeatureError::MissingColumn {
            column: name.to_string(),
            available: column_names(raw).join(", "),
        })?;
    (0..raw.num_rows())
        .map(|i| Ok(value_at(col.as_ref(), i)?))
        .collect()
}

/// Learns the sorted categories of each column.
fn fit_categories(
    step: &str,
    raw: &[RecordBatch],
    columns: &[String],
    missing: Option<&str>,
) -> Result<Vec<Vec<(String, usize)>>> {
    if raw.iter().all(|b| b.num_rows() == 0) {
        return Err(FeatureError::EmptyData { step: step.into() });
    }
    if columns.is_empty() {
        return Err(FeatureError::Definition(format!(
            "{step}: name at least one column"
        )));
    }
    columns
        .iter()
        .map(|c| {
            let mut cats: Vec<String> = Vec::new();
            for b in raw {
                for v in column_values(b, c)? {
                    if let Some(t) = category_or(&v, missing) {
                        cats.push(t.into_owned());
                    }
                }
            }
            cats.sort_unstable();
            let mut counted: Vec<(String, usize)> = Vec::new();
            for c in cats {
                match counted.last_mut() {
                    Some((last, n)) if *last == c => *n += 1,
                    _ => counted.push((c, 1)),
                }
            }
            if counted.is_empty() {
                return Err(super::all_missing(step, c));
            }
            let numeric: Option<Vec<f64>> =
                counted.iter().map(|(s, _)| s.parse::<f64>().ok()).collect();
            if let Some(nums) = numeric {
                let mut pairs: Vec<(f64, (String, usize))> =
                    nums.into_iter().zip(counted).collect();
                pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
                counted = pairs.into_iter().map(|p| p.1).collect();
            }
            Ok(counted)
        })
        .collect()
}

fn names_only(counted: Vec<Vec<(String, usize)>>) -> Vec<Vec<String>> {
    counted
        .into_iter()
        .map(|cats| cats.into_iter().map(|(c, _)| c).collect())
        .collect()
}

/// What to do with a category not seen when fitting (missing values count as unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandleUnknown {
    /// Refuse the row with an error (the default).
    #[default]
    Error,
    /// Encode it as all zeros.
    Ignore,
    /// Encode it in the column's infrequent-category column when it has one, else as
    /// zeros (scikit-learn's `infrequent_if_exist`).
    InfrequentIfExist,
}

/// Parameters of [`OneHot`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneHotParams {
    /// Categorical columns to encode.
    pub columns: Vec<String>,
    /// Unknown categories at transform time.
    #[serde(default)]
    pub handle_unknown: HandleUnknown,
    /// Treat missing values as this category (e.g. `"__missing__"`); without it they are
    /// unknown.
    #[serde(default)]
    pub missing_value: Option<String>,
    /// Categories seen fewer times than this share one column,
    /// `<column>_infrequent_sklearn`, placed after the frequent ones (scikit-learn's
    /// `min_frequency` as a count).
    #[serde(default)]
    pub min_frequency: Option<usize>,
}

/// One indicator column per (column, category), named `<column>_<category>`.
#[derive(Clone, Debug, Default)]
pub struct OneHot(pub OneHotParams);

/// The serialised state of a fitted [`OneHot`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneHotState {
    /// Encoded columns.
    pub columns: Vec<String>,
    /// Sorted categories per column.
    pub categories: Vec<Vec<String>>,
    /// Unknown-category policy.
    pub handle_unknown: HandleUnknown,
    /// Category of missing values.
    #[serde(default)]
    pub missing_value: Option<String>,
    /// Infrequent categories per column (sharing one output column); empty lists when
    /// `min_frequency` is not used.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub infrequent: Vec<Vec<String>>,
}

/// A fitted [`OneHot`].
#[derive(Clone, Debug)]
pub struct FittedOneHot {
    state: OneHotState,
    index: Vec<HashMap<String, usize>>,
    /// Position of the infrequent column within each column's block, if any.
    infrequent_at: Vec<Option<usize>>,
    offsets: Vec<usize>,
    width: usize,
}

impl FittedOneHot {
    /// Builds the lookup tables of a fitted state.
    pub fn new(state: OneHotState) -> Result<Self> {
        if state.categories.len() != state.columns.len() {
            return Err(FeatureError::Definition(
                "one_hot state: one category list per column expected".into(),
            ));
        }
        if !state.infrequent.is_empty() && state.infrequent.len() != state.columns.len() {
            return Err(FeatureError::Definition(
                "one_hot state: one infrequent list per column expected".into(),
            ));
        }
        let mut index = Vec::new();
        let mut infrequent_at = Vec::new();
        let mut offsets = Vec::new();
        let mut width = 0;
        for (j, cats) in state.categories.iter().enumerate() {
            let rare: &[String] = state.infrequent.get(j).map(Vec::as_slice).unwrap_or(&[]);
            let mut map = HashMap::new();
            let mut frequent = 0;
            for c in cats.iter().filter(|c| !rare.contains(c)) {
                map.insert(c.clone(), frequent);
                frequent += 1;
            }
            let rare_at = (!rare.is_empty()).then_some(frequent);
            for c in rare {
                map.insert(c.clone(), frequent);
            }
            offsets.push(width);
            width += frequent + usize::from(rare_at.is_some());
            index.push(map);
            infrequent_at.push(rare_at);
        }
        Ok(Self {
            state,
            index,
            infrequent_at,
            offsets,
            width,
        })
    }

    /// Position (within column `j`'s block) of a value's category.
    #[inline]
    fn position(&self, j: usize, v: &Value) -> Result<Option<usize>> {
        let pos = category_or(v, self.state.missing_value.as_deref())
            .and_then(|t| self.index[j].get(t.as_ref()).copied());
        match (pos, self.state.handle_unknown) {
            (Some(p), _) => Ok(Some(p)),
            (None, HandleUnknown::Ignore) => Ok(None),
            (None, HandleUnknown::InfrequentIfExist) => Ok(self.infrequent_at[j]),
            (None, HandleUnknown::Error) => Err(FeatureError::Shape(format!(
                "one_hot: column `{}` has category {v:?} not seen when fitting; set handle_unknown = \"ignore\" to encode it as zeros",
                self.state.columns[j]
            ))),
        }
    }
}

impl Extractor for OneHot {
    fn kind(&self) -> &str {
        "one_hot"
    }
    fn fit(&self, raw: &[RecordBatch]) -> Result<Box<dyn FittedExtractor>> {
        let counted = fit_categories(
            "one_hot",
            raw,
            &self.0.columns,
            self.0.missing_value.as_deref(),
        )?;
        let infrequent: Vec<Vec<String>> = match self.0.min_frequency {
            Some(min) => counted
                .iter()
                .map(|cats| {
                    cats.iter()
                        .filter(|(_, n)| *n < min)
                        .map(|(c, _)| c.clone())
                        .collect()
                })
                .collect(),
            None => Vec::new(),
        };
        Ok(Box::new(FittedOneHot::new(OneHotState {
            columns: self.0.columns.clone(),
            categories: names_only(counted),
            handle_unknown: self.0.handle_unknown,
            missing_value: self.0.missing_value.clone(),
            infrequent,
        })?))
    }
}

impl FittedExtractor for FittedOneHot {
    fn kind(&self) -> &str {
        "one_hot"
    }
    fn output_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.width);
        for (j, (c, cats)) in self
            .state
            .columns
            .iter()
            .zip(&self.state.categories)
            .enumerate()
        {
            let rare: &[String] = self
                .state
                .infrequent
                .get(j)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            names.extend(
                cats.iter()
                    .filter(|k| !rare.contains(k))
                    .map(|k| format!("{c}_{k}")),
            );
            if self.infrequent_at[j].is_some() {
                names.push(format!("{c}_infrequent_sklearn"));
            }
        }
        names
    }
    fn extract_batch(&self, raw: &RecordBatch) -> Result<Array2<f64>> {
        let mut out = Array2::<f64>::zeros((raw.num_rows(), self.width));
        for (j, c) in self.state.columns.iter().enumerate() {
            for (i, v) in column_values(raw, c)?.iter().enumerate() {
                if let Some(p) = self.position(j, v)? {
                    out[[i, self.offsets[j] + p]] = 1.0;
                }
            }
        }
        Ok(out)
    }
    fn extract_row(&self, row: &Row, out: &mut Vec<f64>) -> Result<()> {
        let base = out.len();
        out.resize(base + self.width, 0.0);
        for (j, c) in self.state.columns.iter().enumerate() {
            let v = row.get(c).unwrap_or(&Value::Null);
            if let Some(p) = self.position(j, v)? {
                out[base + self.offsets[j] + p] = 1.0;
            }
        }
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        super::to_state(&self.state)
    }
}

/// Parameters of [`Ordinal`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrdinalParams {
    /// Categorical columns to encode.
    pub columns: Vec<String>,
    /// Code of categories not seen when fitting; without it they are an error
    /// (scikit-learn's `handle_unknown="use_encoded_value", unknown_value=…`).
    #[serde(default)]
    pub unknown_value: Option<f64>,
    /// Treat missing values as this category (e.g. `"__missing__"`); without it they give
    /// `NaN`.
    #[serde(default)]
    pub missing_value: Option<String>,
}

/// Category number (0, 1, … in sorted category order) per column; missing values give
/// `NaN`.
#[derive(Clone, Debug, Default)]
pub struct Ordinal(pub OrdinalParams);

/// The serialised state of a fitted [`Ordinal`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrdinalState {
    /// Encoded columns.
    pub columns: Vec<String>,
    /// Sorted categories per column.
    pub categories: Vec<Vec<String>>,
    /// Code of unknown categories.
    pub unknown_value: Option<f64>,
    /// Category of missing values.
    #[serde(default)]
    pub missing_value: Option<String>,
}

/// A fitted [`Ordinal`].
#[derive(Clone, Debug)]
pub struct FittedOrdinal {
    state: OrdinalState,
    index: Vec<HashMap<String, usize>>,
}

impl FittedOrdinal {
    /// Builds the lookup tables of a fitted state.
    pub fn new(state: OrdinalState) -> Result<Self> {
        if state.categories.len() != state.columns.len() {
            return Err(FeatureError::Definition(
                "ordinal state: one category list per column expected".into(),
            ));
        }
        let index = state
            .categories
            .iter()
            .map(|cats| {
                cats.iter()
                    .enumerate()
                    .map(|(i, c)| (c.clone(), i))
                    .collect()
            })
            .collect();
        Ok(Self { state, index })
    }

    #[inline]
    fn code(&self, j: usize, v: &Value) -> Result<f64> {
        let Some(t) = category_or(v, self.state.missing_value.as_deref()) else {
            return Ok(f64::NAN);
        };
        match (self.index[j].get(t.as_ref()), self.state.unknown_value) {
            (Some(&p), _) => Ok(p as f64),
            (None, Some(u)) => Ok(u),
            (None, None) => Err(FeatureError::Shape(format!(
                "ordinal: column `{}` has category `{t}` not seen when fitting; set unknown_value to encode it",
                self.state.columns[j]
            ))),
        }
    }
}

impl Extractor for Ordinal {
    fn kind(&self) -> &str {
        "ordinal"
    }
    fn fit(&self, raw: &[RecordBatch]) -> Result<Box<dyn FittedExtractor>> {
        let categories = names_only(fit_categories(
            "ordinal",
            raw,
            &self.0.columns,
            self.0.missing_value.as_deref(),
        )?);
        Ok(Box::new(FittedOrdinal::new(OrdinalState {
            columns: self.0.columns.clone(),
            categories,
            unknown_value: self.0.unknown_value,
            missing_value: self.0.missing_value.clone(),
        })?))
    }
}

impl FittedExtractor for FittedOrdinal {
    fn kind(&self) -> &str {
        "ordinal"
    }
    fn output_names(&self) -> Vec<String> {
        self.state.columns.clone()
    }
    fn extract_batch(&self, raw: &RecordBatch) -> Result<Array2<f64>> {
        let mut out = Array2::<f64>::zeros((raw.num_rows(), self.state.columns.len()));
        for (j, c) in self.state.columns.iter().enumerate() {
            for (i, v) in column_values(raw, c)?.iter().enumerate() {
                out[[i, j]] = self.code(j, v)?;
            }
        }
        Ok(out)
    }
    fn extract_row(&self, row: &Row, out: &mut Vec<f64>) -> Result<()> {
        for (j, c) in self.state.columns.iter().enumerate() {
            out.push(self.code(j, row.get(c).unwrap_or(&Value::Null))?);
        }
        Ok(())
    }
    fn state(&self) -> serde_json::Value {
        super::to_state(&self.state)
    }
}
