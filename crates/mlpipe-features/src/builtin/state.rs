//! Checks of fitted state read back from a feature store: a stored state whose parts do
//! not fit together (lists of different lengths, an index past the end, a zero width) is
//! refused with a typed error when the feature set is loaded, instead of panicking
//! later on the first row it meets.

use super::{datetime, params};
use super::{discretize, hashing, impute, numeric, poly, power, scale, scalers, select};
use crate::error::{FeatureError, Result};
use serde::de::DeserializeOwned;

/// A fitted state that can say whether its parts fit together.
pub(crate) trait CheckState {
    /// `Err(FeatureError::Definition)` naming what does not fit.
    fn check_state(&self, kind: &str) -> Result<()>;
}

/// Parses a stored state and checks it.
pub(crate) fn load_state<T: DeserializeOwned + CheckState>(
    kind: &str,
    v: &serde_json::Value,
) -> Result<T> {
    let state: T = params(kind, v)?;
    state.check_state(kind)?;
    Ok(state)
}

fn broken(kind: &str, what: String) -> FeatureError {
    FeatureError::Definition(format!(
        "stored state of `{kind}` is inconsistent: {what}; refit the feature set"
    ))
}

/// Every `(name, length)` has `columns` entries.
fn per_column(kind: &str, columns: usize, lists: &[(&str, usize)]) -> Result<()> {
    for (name, len) in lists {
        if *len != columns {
            return Err(broken(
                kind,
                format!("`{name}` has {len} values for {columns} columns"),
            ));
        }
    }
    Ok(())
}

/// Every index is below `width`.
fn indices_below(kind: &str, what: &str, width: usize, idx: &[usize]) -> Result<()> {
    match idx.iter().find(|&&i| i >= width) {
        Some(i) => Err(broken(
            kind,
            format!("`{what}` names column {i} of {width}"),
        )),
        None => Ok(()),
    }
}

impl CheckState for numeric::FittedNumeric {
    fn check_state(&self, _: &str) -> Result<()> {
        Ok(())
    }
}

impl CheckState for datetime::FittedDateParts {
    fn check_state(&self, _: &str) -> Result<()> {
        Ok(())
    }
}

impl CheckState for power::FittedLog1p {
    fn check_state(&self, _: &str) -> Result<()> {
        Ok(())
    }
}

impl CheckState for scale::FittedStandardScaler {
    fn check_state(&self, kind: &str) -> Result<()> {
        per_column(
            kind,
            self.names.len(),
            &[("mean", self.mean.len()), ("scale", self.scale.len())],
        )
    }
}

impl CheckState for scalers::FittedMinMax {
    fn check_state(&self, kind: &str) -> Result<()> {
        per_column(
            kind,
            self.names.len(),
            &[("scale", self.scale.len()), ("min", self.min.len())],
        )
    }
}

impl CheckState for scalers::FittedRobust {
    fn check_state(&self, kind: &str) -> Result<()> {
        per_column(
            kind,
            self.names.len(),
            &[("center", self.center.len()), ("scale", self.scale.len())],
        )
    }
}

impl CheckState for power::FittedPower {
    fn check_state(&self, kind: &str) -> Result<()> {
        per_column(
            kind,
            self.names.len(),
            &[
                ("lambdas", self.lambdas.len()),
                ("mean", self.mean.len()),
                ("scale", self.scale.len()),
            ],
        )
    }
}

impl CheckState for discretize::FittedClip {
    fn check_state(&self, kind: &str) -> Result<()> {
        per_column(
            kind,
            self.names.len(),
            &[("lower", self.lower.len()), ("upper", self.upper.len())],
        )
    }
}

impl CheckState for discretize::FittedBucketize {
    fn check_state(&self, kind: &str) -> Result<()> {
        per_column(kind, self.names.len(), &[("cuts", self.cuts.len())])?;
        match self.cuts.iter().position(|c| {
            c.windows(2)
                .any(|w| w[0].partial_cmp(&w[1]).is_none_or(|o| o.is_gt()))
        }) {
            Some(j) => Err(broken(
                kind,
                format!("the cut points of `{}` are not ascending", self.names[j]),
            )),
            None => Ok(()),
        }
    }
}

impl CheckState for impute::FittedImputer {
    fn check_state(&self, kind: &str) -> Result<()> {
        per_column(kind, self.names.len(), &[("fill", self.fill.len())])?;
        indices_below(kind, "indicators", self.names.len(), &self.indicators)
    }
}

impl CheckState for poly::FittedPolynomial {
    fn check_state(&self, kind: &str) -> Result<()> {
        for t in &self.terms {
            indices_below(kind, "terms", self.input.len(), t)?;
        }
        Ok(())
    }
}

impl CheckState for select::ColumnSubset {
    fn check_state(&self, kind: &str) -> Result<()> {
        indices_below(kind, "kept", self.input.len(), &self.kept)
    }
}

impl CheckState for hashing::FittedHasher {
    fn check_state(&self, kind: &str) -> Result<()> {
        let p = &self.0;
        if p.n_features == 0 || p.n_features > (1 << 24) || p.columns.is_empty() {
            return Err(broken(
                kind,
                format!(
                    "{} columns and n_features = {} (want at least one column and 1..=2^24)",
                    p.columns.len(),
                    p.n_features
                ),
            ));
        }
        Ok(())
    }
}
