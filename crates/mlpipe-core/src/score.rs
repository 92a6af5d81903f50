//! Typed model outputs. Every model returns [`Score`]s, whatever its kind, so routers,
//! stores, evaluators and monitors handle all models alike.

use serde::{Deserialize, Serialize};

/// A class label. Datasets with text labels map them to integers when features are
/// prepared; the mapping travels with the feature set.
pub type ClassLabel = i64;

/// One item of a ranked recommendation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankedItem {
    /// The item's id.
    pub item: String,
    /// Its score (higher ranks first).
    pub score: f64,
}

/// A forecast for the next steps of a time series, with a prediction interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Point forecasts, one per step ahead.
    pub mean: Vec<f64>,
    /// Lower bound of the interval, per step.
    pub lower: Vec<f64>,
    /// Upper bound of the interval, per step.
    pub upper: Vec<f64>,
    /// Coverage of the interval, e.g. 0.95.
    pub level: f64,
}

/// What a model says about one input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Score {
    /// A predicted class with no probabilities.
    Class {
        /// The predicted class.
        label: ClassLabel,
    },
    /// A probability per class; the predicted class is the most probable one.
    Probabilities {
        /// Class labels, in the order of `probabilities`.
        classes: Vec<ClassLabel>,
        /// One probability per class, summing to 1.
        probabilities: Vec<f64>,
    },
    /// A number (regression).
    Value {
        /// The predicted value.
        value: f64,
    },
    /// A cluster assignment.
    Cluster {
        /// The cluster index.
        cluster: u32,
        /// Distance to the cluster's centre, when the model knows it.
        distance: Option<f64>,
    },
    /// Recommended items, best first.
    Ranked {
        /// The items.
        items: Vec<RankedItem>,
    },
    /// A time-series forecast.
    Forecast(Forecast),
}

impl Score {
    /// The predicted class: the label of a `Class`, the most probable class of
    /// `Probabilities` (ties go to the first class, as in scikit-learn's `argmax`).
    pub fn class(&self) -> Option<ClassLabel> {
        match self {
            Score::Class { label } => Some(*label),
            Score::Probabilities {
                classes,
                probabilities,
            } => {
                let mut best: Option<(usize, f64)> = None;
                for (i, p) in probabilities.iter().enumerate() {
                    if best.is_none_or(|(_, b)| *p > b) {
                        best = Some((i, *p));
                    }
                }
                best.and_then(|(i, _)| classes.get(i).copied())
            }
            _ => None,
        }
    }

    /// The probability of `class`, for `Probabilities` scores.
    pub fn probability_of(&self, class: ClassLabel) -> Option<f64> {
        match self {
            Score::Probabilities {
                classes,
                probabilities,
            } => classes
                .iter()
                .position(|c| *c == class)
                .and_then(|i| probabilities.get(i).copied()),
            _ => None,
        }
    }

    /// A single number for the score: the value of a regression, the probability of the
    /// positive class (label 1) of a binary classifier, the class of a `Class`, the cluster.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Score::Value { value } => Some(*value),
            Score::Probabilities { .. } => self.probability_of(1),
            Score::Class { label } => Some(*label as f64),
            Score::Cluster { cluster, .. } => Some(*cluster as f64),
            Score::Forecast(f) => f.mean.first().copied(),
            Score::Ranked { items } => items.first().map(|i| i.score),
        }
    }

    /// The kind of score as a short name (`class`, `probabilities`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Score::Class { .. } => "class",
            Score::Probabilities { .. } => "probabilities",
            Score::Value { .. } => "value",
            Score::Cluster { .. } => "cluster",
            Score::Ranked { .. } => "ranked",
            Score::Forecast(_) => "forecast",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_of_probabilities_is_argmax_first_on_ties() {
        let s = Score::Probabilities {
            classes: vec![0, 1, 2],
            probabilities: vec![0.4, 0.4, 0.2],
        };
        assert_eq!(s.class(), Some(0));
        assert_eq!(s.probability_of(1), Some(0.4));
        assert_eq!(s.as_f64(), Some(0.4));
    }

    #[test]
    fn scores_serialise_with_their_kind() {
        let s = Score::Value { value: 2.5 };
        let j = serde_json::to_string(&s).unwrap_or_default();
        assert_eq!(j, r#"{"kind":"value","value":2.5}"#);
        let back: Score = serde_json::from_str(&j).unwrap_or(Score::Class { label: -1 });
        assert_eq!(back, s);
    }
}
