//! `imputer`: fills missing values (`NaN`) per column with the mean, median, most frequent
//! value or a constant, as scikit-learn's `SimpleImputer` does, optionally appending a
//! missing-indicator column for every column that had missing values when fitted
//! (`MissingIndicator(features="missing-only")`).

use super::{all_missing, check_fit, sorted_column, to_state};
use crate::error::{FeatureError, Result};
use crate::stats::quantile_sorted;
use crate::step::{FittedTransformer, Transformer};
use ndarray::{Array2, ArrayView1, ArrayView2, Zip};
use serde::{Deserialize, Serialize};

/// How missing values are filled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImputeStrategy {
    /// Mean of the present values.
    #[default]
    Mean,
    /// Median of the present values.
    Median,
    /// Most frequent present value (the smallest one on ties).
    MostFrequent,
    /// `fill_value`.
    Constant,
}

/// Parameters of [`Imputer`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImputerParams {
    /// The strategy (default `mean`).
    pub strategy: ImputeStrategy,
    /// The constant of strategy `constant` (default 0).
    pub fill_value: Option<f64>,
    /// Append `missingindicator_<column>` (1 / 0, scikit-learn's name) for each column that had missing values.
    pub add_indicator: bool,
}

/// The imputer definition.
#[derive(Clone, Debug, Default)]
pub struct Imputer(pub ImputerParams);

/// A fitted [`Imputer`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedImputer {
    /// Input column names.
    pub names: Vec<String>,
    /// Fill value per column.
    pub fill: Vec<f64>,
    /// Columns that get a missing indicator, ascending.
    pub indicators: Vec<usize>,
}

const KIND: &str = "imputer";

fn most_frequent(sorted: &[f64]) -> f64 {
    let (mut best, mut best_n) = (f64::NAN, 0usize);
    let mut i = 0;
    while i < sorted.len() {
        let mut k = i;
        while k < sorted.len() && sorted[k] == sorted[i] {
            k += 1;
        }
        // Strictly greater: on ties the smaller (earlier) value wins.
        if k - i > best_n {
            best_n = k - i;
            best = sorted[i];
        }
        i = k;
    }
    best
}

impl Transformer for Imputer {
    fn kind(&self) -> &str {
        KIND
    }

    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>> {
        check_fit(KIND, x, names, true)?;
        if self.0.fill_value.is_some_and(|v| !v.is_finite()) {
            return Err(FeatureError::Definition(
                "imputer: fill_value must be a finite number".into(),
            ));
        }
        let mut fill = Vec::with_capacity(names.len());
        let mut indicators = Vec::new();
        for (j, name) in names.iter().enumerate() {
            let col = x.column(j);
            if col.iter().any(|v| v.is_nan()) {
                indicators.push(j);
            }
            let v = match self.0.strategy {
                ImputeStrategy::Constant => self.0.fill_value.unwrap_or(0.0),
                ImputeStrategy::Mean => {
                    let (n, s) = col
                        .iter()
                        .filter(|v| !v.is_nan())
                        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
                    if n == 0 {
                        return Err(all_missing(KIND, name));
                    }
                    s / n as f64
                }
                ImputeStrategy::Median | ImputeStrategy::MostFrequent => {
                    let sorted = sorted_column(x, j);
                    if sorted.is_empty() {
                        return Err(all_missing(KIND, name));
                    }
                    if self.0.strategy == ImputeStrategy::Median {
                        quantile_sorted(&sorted, 0.5)
                    } else {
                        most_frequent(&sorted)
                    }
                }
            };
            fill.push(v);
        }
        if !self.0.add_indicator {
            indicators.clear();
        }
        Ok(Box::new(FittedImputer {
            names: names.to_vec(),
            fill,
            indicators,
        }))
    }
}

impl FittedTransformer for FittedImputer {
    fn kind(&self) -> &str {
        KIND
    }

    fn output_names(&self) -> Vec<String> {
        let mut n = self.names.clone();
        n.extend(
            self.indicators
                .iter()
                .map(|&j| format!("missingindicator_{}", self.names[j])),
        );
        n
    }

    fn input_width(&self) -> usize {
        self.names.len()
    }

    fn transform_batch(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        super::scale::check_width(x.ncols(), self.names.len(), KIND)?;
        let w = self.names.len();
        let mut out = Array2::<f64>::zeros((x.nrows(), w + self.indicators.len()));
        Zip::from(out.rows_mut())
            .and(x.rows())
            .par_for_each(|mut o, r| {
                for j in 0..w {
                    let v = r[j];
                    o[j] = if v.is_nan() { self.fill[j] } else { v };
                }
                for (k, &j) in self.indicators.iter().enumerate() {
                    o[w + k] = if r[j].is_nan() { 1.0 } else { 0.0 };
                }
            });
        Ok(out)
    }

    fn transform_row(&self, input: &[f64], out: &mut Vec<f64>) -> Result<()> {
        super::scale::check_width(input.len(), self.names.len(), KIND)?;
        out.clear();
        out.extend(
            input
                .iter()
                .zip(&self.fill)
                .map(|(&v, &f)| if v.is_nan() { f } else { v }),
        );
        out.extend(
            self.indicators
                .iter()
                .map(|&j| if input[j].is_nan() { 1.0 } else { 0.0 }),
        );
        Ok(())
    }

    fn state(&self) -> serde_json::Value {
        to_state(self)
    }
}
