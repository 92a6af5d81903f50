//! The selection policy: the best candidate by a chosen metric, subject to thresholds and
//! to beating the deployed model by a margin; when nothing qualifies, it says why.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the winner is chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelectionPolicy {
    /// Metric to rank by.
    pub metric: String,
    /// Whether larger values of `metric` are better.
    pub higher_is_better: bool,
    /// Minimum values every winner must reach, per metric (e.g. `roc_auc = 0.9`).
    pub minimums: BTreeMap<String, f64>,
    /// Maximum values no winner may exceed, per metric (e.g. `log_loss = 0.3`), for
    /// metrics where lower is better.
    pub maximums: BTreeMap<String, f64>,
    /// How much better than the deployed version the winner must be.
    pub margin: f64,
}

impl Default for SelectionPolicy {
    fn default() -> Self {
        Self {
            metric: "roc_auc".into(),
            higher_is_better: true,
            minimums: BTreeMap::new(),
            maximums: BTreeMap::new(),
            margin: 0.0,
        }
    }
}

/// One candidate's metrics, as the policy sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate<K> {
    /// The candidate.
    pub id: K,
    /// Its metrics.
    pub metrics: BTreeMap<String, f64>,
}

/// The policy's verdict.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict<K> {
    /// This candidate wins, with its value of the metric.
    Winner(K, f64),
    /// Nobody qualifies; one reason per candidate (or overall).
    NoWinner(Vec<String>),
}

impl SelectionPolicy {
    fn better(&self, a: f64, b: f64) -> bool {
        if self.higher_is_better {
            a > b
        } else {
            a < b
        }
    }

    /// Chooses among `candidates`; `deployed` is the metric of the version now live.
    pub fn select<K: Clone + std::fmt::Display>(
        &self,
        candidates: &[Candidate<K>],
        deployed: Option<f64>,
    ) -> Verdict<K> {
        let mut reasons = Vec::new();
        let mut best: Option<(K, f64)> = None;
        for c in candidates {
            let Some(&v) = c.metrics.get(&self.metric) else {
                reasons.push(format!("{}: has no {}", c.id, self.metric));
                continue;
            };
            if !v.is_finite() {
                reasons.push(format!("{}: {} is not a number", c.id, self.metric));
                continue;
            }
            let shown = |m: &str| {
                c.metrics
                    .get(m)
                    .map(|x| format!("{x:.4}"))
                    .unwrap_or_else(|| "missing".into())
            };
            let mut failed: Vec<String> = self
                .minimums
                .iter()
                .filter(|(m, min)| c.metrics.get(*m).is_none_or(|x| x < *min))
                .map(|(m, min)| format!("{m} {} < required {min}", shown(m)))
                .collect();
            failed.extend(
                self.maximums
                    .iter()
                    .filter(|(m, max)| c.metrics.get(*m).is_none_or(|x| x > *max))
                    .map(|(m, max)| format!("{m} {} > allowed {max}", shown(m))),
            );
            if !failed.is_empty() {
                reasons.push(format!("{}: {}", c.id, failed.join(", ")));
                continue;
            }
            if best.as_ref().is_none_or(|(_, b)| self.better(v, *b)) {
                best = Some((c.id.clone(), v));
            }
        }
        match best {
            None => {
                if candidates.is_empty() {
                    reasons.push("there are no candidates".into());
                }
                Verdict::NoWinner(reasons)
            }
            Some((id, v)) => {
                if let Some(d) = deployed {
                    let target = if self.higher_is_better {
                        d + self.margin
                    } else {
                        d - self.margin
                    };
                    if !self.better(v, target) {
                        reasons.push(format!(
                            "best candidate {id} has {} {v:.4}, which does not beat the deployed {d:.4} by the margin {}",
                            self.metric, self.margin
                        ));
                        return Verdict::NoWinner(reasons);
                    }
                }
                Verdict::Winner(id, v)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, auc: f64, acc: f64) -> Candidate<String> {
        Candidate {
            id: id.into(),
            metrics: [("roc_auc".to_string(), auc), ("accuracy".to_string(), acc)].into(),
        }
    }

    #[test]
    fn best_by_metric_subject_to_thresholds_and_margin() {
        let mut p = SelectionPolicy::default();
        p.minimums.insert("accuracy".into(), 0.9);
        let cands = vec![c("a", 0.95, 0.92), c("b", 0.99, 0.85), c("c", 0.97, 0.93)];
        assert_eq!(p.select(&cands, None), Verdict::Winner("c".into(), 0.97));
        p.margin = 0.01;
        assert!(
            matches!(p.select(&cands, Some(0.965)), Verdict::NoWinner(r) if r.iter().any(|x| x.contains("does not beat")))
        );
        assert_eq!(
            p.select(&cands, Some(0.95)),
            Verdict::Winner("c".into(), 0.97)
        );
        p.maximums.insert("roc_auc".into(), 0.98);
        let capped = p.select(&[c("b", 0.99, 0.95)], None);
        assert!(
            matches!(capped, Verdict::NoWinner(r) if r[0].contains("roc_auc 0.9900 > allowed 0.98"))
        );
        p.maximums.clear();
        let none = p.select(&[c("b", 0.99, 0.85)], None);
        assert!(
            matches!(none, Verdict::NoWinner(r) if r[0].contains("accuracy 0.8500 < required 0.9"))
        );
        assert!(
            matches!(p.select::<String>(&[], None), Verdict::NoWinner(r) if r[0].contains("no candidates"))
        );
    }
}
