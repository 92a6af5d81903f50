//! `standard_scaler`: centre on the mean and divide by the (population) standard
//! deviation, as scikit-learn's `StandardScaler` does. `NaN`s are ignored when fitting and
//! kept when transforming (also as scikit-learn does); infinities are refused.

use crate::error::{FeatureError, Result};
use crate::step::{FittedTransformer, Transformer};
use ndarray::{Array2, ArrayView1, ArrayView2, Axis, Zip};
use serde::{Deserialize, Serialize};

/// Parameters of [`StandardScaler`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StandardScalerParams {
    /// Subtract the mean (default true).
    pub with_mean: bool,
    /// Divide by the standard deviation (default true).
    pub with_std: bool,
}

impl Default for StandardScalerParams {
    fn default() -> Self {
        Self {
            with_mean: true,
            with_std: true,
        }
    }
}

/// The standard scaler definition.
#[derive(Clone, Debug, Default)]
pub struct StandardScaler(pub StandardScalerParams);

/// A fitted [`StandardScaler`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedStandardScaler {
    /// Column names (input = output).
    pub names: Vec<String>,
    /// Subtracted per column (0 when `with_mean` is off).
    pub mean: Vec<f64>,
    /// Divided by per column (1 when `with_std` is off or the column is constant).
    pub scale: Vec<f64>,
}

impl Transformer for StandardScaler {
    fn kind(&self) -> &str {
        "standard_scaler"
    }

    fn fit(
        &self,
        x: ArrayView2<'_, f64>,
        names: &[String],
        _y: Option<ArrayView1<'_, f64>>,
    ) -> Result<Box<dyn FittedTransformer>> {
        if x.nrows() == 0 {
            return Err(FeatureError::EmptyData {
                step: "standard_scaler".into(),
            });
        }
        let stats: Vec<(f64, f64)> = x
            .axis_iter(Axis(1))
            .enumerate()
            .map(|(j, col)| column_stats(col, &names[j]))
            .collect::<Result<_>>()?;
        let mean = stats
            .iter()
            .map(|(m, _)| if self.0.with_mean { *m } else { 0.0 })
            .collect();
        let scale = stats
            .iter()
            .map(|(_, var)| {
                let s = var.sqrt();
                if !self.0.with_std || s < 10.0 * f64::EPSILON || !s.is_finite() {
                    1.0
                } else {
                    s
                }
            })
            .collect();
        Ok(Box::new(FittedStandardScaler {
            names: names.to_vec(),
            mean,
            scale,
        }))
    }
}

/// Mean and population variance of the non-NaN values (two passes, for accuracy).
fn column_stats(col: ArrayView1<'_, f64>, name: &str) -> Result<(f64, f64)> {
    let mut n = 0usize;
    let mut sum = 0.0;
    for &v in col {
        if v.is_infinite() {
            return Err(FeatureError::BadValues {
                step: "standard_scaler".into(),
                column: name.to_string(),
                what: "infinite values".into(),
            });
        }
        if !v.is_nan() {
            n += 1;
            sum += v;
        }
    }
    if n == 0 {
        return Ok((f64::NAN, f64::NAN));
    }
    let mean = sum / n as f64;
    let mut ss = 0.0;
    for &v in col {
        if !v.is_nan() {
            let d = v - mean;
            ss += d * d;
        }
    }
    Ok((mean, ss / n as f64))
}

impl FittedTransformer for FittedStandardScaler {
    fn kind(&self) -> &str {
        "standard_scaler"
    }

    fn output_names(&self) -> Vec<String> {
        self.names.clone()
    }

    fn input_width(&self) -> usize {
        self.names.len()
    }

    fn transform_batch(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        check_width(x.ncols(), self.names.len(), "standard_scaler")?;
        let mut out = Array2::<f64>::zeros(x.raw_dim());
        let mean = ArrayView1::from(&self.mean[..]);
        let scale = ArrayView1::from(&self.scale[..]);
        Zip::from(out.rows_mut())
            .and(x.rows())
            .par_for_each(|mut o, r| {
                Zip::from(&mut o)
                    .and(&r)
                    .and(&mean)
                    .and(&scale)
                    .for_each(|o, &v, &m, &s| *o = (v - m) / s);
            });
        Ok(out)
    }

    fn transform_row(&self, input: &[f64], out: &mut Vec<f64>) -> Result<()> {
        check_width(input.len(), self.names.len(), "standard_scaler")?;
        out.clear();
        out.extend(
            input
                .iter()
                .zip(&self.mean)
                .zip(&self.scale)
                .map(|((v, m), s)| (v - m) / s),
        );
        Ok(())
    }

    fn state(&self) -> serde_json::Value {
        super::to_state(self)
    }
}

/// Checks an input has the width a fitted step expects.
pub(crate) fn check_width(got: usize, want: usize, step: &str) -> Result<()> {
    if got != want {
        return Err(FeatureError::Shape(format!(
            "{step} was fitted on {want} columns but got {got}"
        )));
    }
    Ok(())
}
