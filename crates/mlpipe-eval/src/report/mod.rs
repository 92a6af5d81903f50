//! Reports people look at: one self-contained HTML page per evaluation run, with the
//! metrics table, the selection verdict, and ROC, precision–recall, calibration and
//! confusion-matrix plots as inline SVG (one line per candidate).
//!
//! The [`EvaluationService`](crate::EvaluationService) writes the page to
//! `<reports_dir>/<run id>.html` when `reports_dir` is configured and records its path in
//! the audit trail (`report.written`) and in each candidate's evaluation details.
//!
//! To look at a report the way a person does, render it with headless Chromium:
//! `scripts/check_report.sh <report.html> <shot.png>` (in the crate directory) takes a
//! full-page screenshot.

pub mod svg;

use crate::metrics::classification::ConfusionMatrix;
use crate::metrics::curves::{PrCurve, RocCurve};
use crate::metrics::probabilistic::{CalibrationCurve, CalibrationStrategy};
use crate::metrics::{binary_scores, class_labels};
use mlpipe_core::Score;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use svg::{confusion_chart, escape, line_chart, Series};

/// The curves of one candidate, where its scores allow them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// ROC curve (binary probability or value scores).
    pub roc: Option<RocCurve>,
    /// Precision–recall curve (binary probability or value scores).
    pub pr: Option<PrCurve>,
    /// Calibration curve, uniform bins (binary probability scores).
    pub calibration: Option<CalibrationCurve>,
    /// Confusion matrix (classifier scores).
    pub confusion: Option<ConfusionMatrix>,
}

/// Most points a stored or plotted curve keeps (see [`Curves::of`]).
pub const MAX_CURVE_POINTS: usize = 1000;

/// Indices of at most `max` points spread evenly over `0..n`, first and last included.
fn thin(n: usize, max: usize) -> Option<Vec<usize>> {
    if n <= max || max < 2 {
        return None;
    }
    let mut idx: Vec<usize> = (0..max)
        .map(|i| (i as f64 * (n - 1) as f64 / (max - 1) as f64).round() as usize)
        .collect();
    idx.dedup();
    Some(idx)
}

fn pick(v: &[f64], idx: &[usize]) -> Vec<f64> {
    idx.iter().filter_map(|&i| v.get(i).copied()).collect()
}

impl Curves {
    /// The curves `scores` support against `truth`; those that do not apply are `None`.
    /// ROC and precision–recall curves (computed with `drop_intermediate`) longer than
    /// [`MAX_CURVE_POINTS`] are thinned to that many evenly spaced points, ends kept, so
    /// evaluation records and reports stay small on large evaluation sets; the metrics
    /// themselves are always computed on the full curves.
    pub fn of(truth: &[f64], scores: &[Score], calibration_bins: usize) -> Self {
        let mut c = Self::default();
        if let Ok((y, p)) = binary_scores("curves", truth, scores) {
            c.roc = RocCurve::new(&y, &p, true).ok().map(|r| {
                match thin(r.fpr.len(), MAX_CURVE_POINTS) {
                    Some(i) => RocCurve {
                        fpr: pick(&r.fpr, &i),
                        tpr: pick(&r.tpr, &i),
                        thresholds: pick(&r.thresholds, &i),
                    },
                    None => r,
                }
            });
            c.pr = PrCurve::new(&y, &p, true).ok().map(|r| {
                match thin(r.recall.len(), MAX_CURVE_POINTS) {
                    Some(i) => PrCurve {
                        precision: pick(&r.precision, &i),
                        recall: pick(&r.recall, &i),
                        thresholds: pick(&r.thresholds, &i),
                    },
                    None => r,
                }
            });
            if scores
                .iter()
                .all(|s| matches!(s, Score::Probabilities { .. }))
            {
                c.calibration =
                    CalibrationCurve::new(&y, &p, calibration_bins, CalibrationStrategy::Uniform)
                        .ok();
            }
        }
        if let Ok((t, p)) = class_labels("confusion_matrix", truth, scores) {
            c.confusion = ConfusionMatrix::new(&t, &p).ok();
        }
        c
    }
}

/// One candidate in a report.
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateReport {
    /// Its name (e.g. `breast_cancer@3`).
    pub name: String,
    /// Model kind and parameters, as text.
    pub description: String,
    /// Its metrics.
    pub metrics: BTreeMap<String, f64>,
    /// Metrics that could not be computed, with why.
    pub problems: Vec<String>,
    /// Its curves.
    pub curves: Curves,
}

/// Everything a run's report shows.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    /// Page title.
    pub title: String,
    /// Lines of context (run id, split, rows, policy…).
    pub context: Vec<(String, String)>,
    /// The candidates.
    pub candidates: Vec<CandidateReport>,
    /// The winner's name, if any.
    pub winner: Option<String>,
    /// The verdict in words (winner, or the reasons nobody qualifies).
    pub verdict: Vec<String>,
}

impl RunReport {
    /// The metrics table as terminal text (see [`crate::text_table`]).
    pub fn text(&self) -> String {
        let rows: Vec<(String, BTreeMap<String, f64>)> = self
            .candidates
            .iter()
            .map(|c| (c.name.clone(), c.metrics.clone()))
            .collect();
        crate::text_table(&rows, self.winner.as_deref())
    }

    fn series(&self, f: impl Fn(&Curves) -> Option<Vec<(f64, f64)>>) -> Vec<Series> {
        self.candidates
            .iter()
            .filter_map(|c| {
                f(&c.curves).map(|points| Series {
                    label: c.name.clone(),
                    points,
                })
            })
            .collect()
    }

    /// The plots: ROC, precision–recall and calibration (one line per candidate that has
    /// the curve), then a confusion matrix per candidate.
    pub fn plots(&self) -> Vec<String> {
        let mut out = Vec::new();
        let roc = self.series(|c| {
            c.roc
                .as_ref()
                .map(|r| r.fpr.iter().copied().zip(r.tpr.iter().copied()).collect())
        });
        if !roc.is_empty() {
            out.push(line_chart(
                "ROC curve",
                "false-positive rate",
                "true-positive rate",
                &roc,
                true,
                false,
            ));
        }
        // Precision–recall as a step function (average precision is the area under these
        // steps), like scikit-learn's `PrecisionRecallDisplay` (`drawstyle="steps-post"`).
        let pr = self.series(|c| {
            c.pr.as_ref().map(|r| {
                let pts: Vec<(f64, f64)> = r
                    .recall
                    .iter()
                    .copied()
                    .zip(r.precision.iter().copied())
                    .collect();
                let mut steps = Vec::with_capacity(2 * pts.len());
                for (i, &(x, y)) in pts.iter().enumerate() {
                    steps.push((x, y));
                    if let Some(&(nx, _)) = pts.get(i + 1) {
                        steps.push((nx, y));
                    }
                }
                steps
            })
        });
        if !pr.is_empty() {
            out.push(line_chart(
                "Precision–recall curve",
                "recall",
                "precision",
                &pr,
                false,
                false,
            ));
        }
        let cal = self.series(|c| {
            c.calibration.as_ref().map(|r| {
                r.prob_pred
                    .iter()
                    .copied()
                    .zip(r.prob_true.iter().copied())
                    .collect()
            })
        });
        if !cal.is_empty() {
            out.push(line_chart(
                "Calibration (reliability)",
                "mean predicted probability",
                "fraction of positives",
                &cal,
                true,
                true,
            ));
        }
        for c in &self.candidates {
            if let Some(m) = &c.curves.confusion {
                out.push(confusion_chart(
                    &format!("Confusion matrix — {}", c.name),
                    &m.labels,
                    &m.counts,
                ));
            }
        }
        out
    }

    /// The page as self-contained HTML.
    pub fn html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>\
body{{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}}\
table{{border-collapse:collapse;margin:8px 0 16px}}td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}\
th{{background:#eee}}table.metrics{{font-size:13px}}table.metrics th{{overflow-wrap:anywhere;max-width:110px}}td.name,th.name{{text-align:left}}tr.winner td{{background:#e6f4ea;font-weight:bold}}\
.plots{{display:flex;flex-wrap:wrap;gap:12px}}.plots svg{{border:1px solid #ddd}}.verdict{{padding:8px 12px;border-left:4px solid #0072B2;background:#fff}}\
</style></head><body><h1>{t}</h1>",
            t = escape(&self.title)
        );
        h.push_str("<table class=\"context\">");
        for (k, v) in &self.context {
            let _ = write!(
                h,
                "<tr><th class=\"name\">{}</th><td class=\"name\">{}</td></tr>",
                escape(k),
                escape(v)
            );
        }
        h.push_str("</table><h2>Verdict</h2><div class=\"verdict\">");
        for v in &self.verdict {
            let _ = write!(h, "<p>{}</p>", escape(v));
        }
        h.push_str("</div><h2>Metrics</h2>");
        let names: std::collections::BTreeSet<&String> = self
            .candidates
            .iter()
            .flat_map(|c| c.metrics.keys())
            .collect();
        h.push_str("<table class=\"metrics\"><tr><th class=\"name\">candidate</th><th class=\"name\">model</th>");
        for n in &names {
            let _ = write!(h, "<th>{}</th>", escape(n));
        }
        h.push_str("<th class=\"name\">problems</th></tr>");
        for c in &self.candidates {
            let win = self.winner.as_deref() == Some(c.name.as_str());
            let _ = write!(
                h,
                "<tr{}><td class=\"name\">{}{}</td><td class=\"name\">{}</td>",
                if win { " class=\"winner\"" } else { "" },
                if win { "★ " } else { "" },
                escape(&c.name),
                escape(&c.description)
            );
            for n in &names {
                match c.metrics.get(*n) {
                    Some(v) => {
                        let _ = write!(h, "<td>{v:.4}</td>");
                    }
                    None => h.push_str("<td>–</td>"),
                }
            }
            let _ = write!(
                h,
                "<td class=\"name\">{}</td></tr>",
                escape(&c.problems.join("; "))
            );
        }
        h.push_str("</table>");
        let plots = self.plots();
        if !plots.is_empty() {
            h.push_str("<h2>Plots</h2><div class=\"plots\">");
            for p in plots {
                h.push_str(&p);
            }
            h.push_str("</div>");
        }
        h.push_str("</body></html>\n");
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probs(p: &[f64]) -> Vec<Score> {
        p.iter()
            .map(|&v| Score::Probabilities {
                classes: vec![0, 1],
                probabilities: vec![1.0 - v, v],
            })
            .collect()
    }

    #[test]
    fn one_line_per_candidate_per_plot_and_names_escaped() {
        let truth = [0.0, 0.0, 1.0, 1.0, 0.0, 1.0];
        let names = ["good", "bad", "<script>alert(1)</script>"];
        let scores = [
            probs(&[0.1, 0.2, 0.8, 0.9, 0.3, 0.7]),
            probs(&[0.6, 0.2, 0.4, 0.9, 0.5, 0.1]),
            probs(&[0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
        ];
        let report = RunReport {
            title: "t".into(),
            context: vec![],
            candidates: names
                .iter()
                .zip(&scores)
                .map(|(n, s)| CandidateReport {
                    name: n.to_string(),
                    description: String::new(),
                    metrics: BTreeMap::from([("roc_auc".to_string(), 0.5)]),
                    problems: vec![],
                    curves: Curves::of(&truth, s, 5),
                })
                .collect(),
            winner: Some("good".into()),
            verdict: vec!["good wins".into()],
        };
        let html = report.html();
        assert_eq!(html.matches("<svg").count(), 3 + 3);
        assert_eq!(html.matches("<polyline class=\"series\"").count(), 3 * 3);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(report.text().contains("* good"));
    }

    #[test]
    fn long_curves_are_thinned_with_their_ends() {
        let n = 20_000;
        let truth: Vec<f64> = (0..n).map(|i| f64::from(i % 3 == 0)).collect();
        let p: Vec<f64> = (0..n).map(|i| ((i * 7919) % n) as f64 / n as f64).collect();
        let c = Curves::of(&truth, &probs(&p), 10);
        let roc = c.roc.unwrap_or_else(|| RocCurve {
            fpr: vec![],
            tpr: vec![],
            thresholds: vec![],
        });
        assert!(roc.fpr.len() <= MAX_CURVE_POINTS && roc.fpr.len() > 900);
        assert_eq!((roc.fpr[0], roc.tpr[0]), (0.0, 0.0));
        assert_eq!(roc.fpr.last(), Some(&1.0));
        assert!(c
            .pr
            .is_some_and(|r| r.recall.len() <= MAX_CURVE_POINTS && r.recall.last() == Some(&0.0)));
    }

    #[test]
    fn regression_scores_give_a_table_and_no_plots() {
        let truth = [1.0, 2.0, 3.0];
        let scores: Vec<Score> = [1.5, 2.0, 2.5]
            .iter()
            .map(|&v| Score::Value { value: v })
            .collect();
        let c = Curves::of(&truth, &scores, 10);
        assert_eq!(c, Curves::default());
    }
}
