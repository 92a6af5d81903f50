//! Selection: the `columns` selector (an explicit list chosen by the caller) and the fitted
//! column subset every selector produces.

use crate::error::{FeatureError, Result};
use crate::step::{FeatureScore, FittedTransformer, Selection, Selector};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// Keeps the columns the caller names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplicitColumns {
    /// Columns to keep.
    pub columns: Vec<String>,
}

impl Selector for ExplicitColumns {
    fn kind(&self) -> &str {
        "columns"
    }

    fn select(
        &self,
        _x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Selection> {
        let mut kept = Vec::new();
        for c in &self.columns {
            let i =
                names
                    .iter()
                    .position(|n| n == c)
                    .ok_or_else(|| FeatureError::MissingColumn {
                        column: c.clone(),
                        available: names.join(", "),
                    })?;
            kept.push(i);
        }
        kept.sort_unstable();
        kept.dedup();
        let scores = names
            .iter()
            .enumerate()
            .map(|(i, n)| FeatureScore {
                name: n.clone(),
                score: if kept.contains(&i) { 1.0 } else { 0.0 },
                p_value: None,
                kept: kept.contains(&i),
            })
            .collect();
        Ok(Selection { kept, scores })
    }
}

/// The fitted form of any selection: a column subset (with the scores that chose it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnSubset {
    /// Selector that chose the columns.
    pub selector: String,
    /// Input column names.
    pub input: Vec<String>,
    /// Kept indices into the input.
    pub kept: Vec<usize>,
    /// Scores of every input column.
    pub scores: Vec<FeatureScore>,
}

impl FittedTransformer for ColumnSubset {
    fn kind(&self) -> &str {
        "column_subset"
    }

    fn output_names(&self) -> Vec<String> {
        self.kept.iter().map(|&i| self.input[i].clone()).collect()
    }

    fn input_width(&self) -> usize {
        self.input.len()
    }

    fn transform_batch(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        super::scale::check_width(x.ncols(), self.input.len(), "column_subset")?;
        Ok(x.select(Axis(1), &self.kept))
    }

    fn transform_row(&self, input: &[f64], out: &mut Vec<f64>) -> Result<()> {
        super::scale::check_width(input.len(), self.input.len(), "column_subset")?;
        out.clear();
        out.extend(self.kept.iter().map(|&i| input[i]));
        Ok(())
    }

    fn state(&self) -> serde_json::Value {
        super::to_state(self)
    }
}
