//! Clustering metrics: the silhouette coefficient (euclidean), inertia, and the
//! Davies–Bouldin and Calinski–Harabasz indices, as scikit-learn computes them.

use super::{check_finite, check_lengths, Evaluator};
use crate::error::{EvalError, Result};
use mlpipe_core::Score;
use ndarray::{ArrayView1, ArrayView2, Axis};

fn euclidean(a: ArrayView1<'_, f64>, b: ArrayView1<'_, f64>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

fn check_matrix(metric: &str, x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<()> {
    check_lengths(metric, x.nrows(), labels.len())?;
    if x.iter().any(|v| !v.is_finite()) {
        return Err(EvalError::BadScore {
            metric: metric.into(),
            reason: "features contain NaN or infinity".into(),
        });
    }
    Ok(())
}

/// Silhouette coefficient of each row (`sklearn.metrics.silhouette_samples`, euclidean):
/// (b − a) / max(a, b), with a the mean distance to the other rows of its cluster and b
/// the smallest mean distance to another cluster; 0 for rows alone in their cluster.
/// Needs between 2 and rows − 1 clusters, as scikit-learn does.
pub fn silhouette_samples(x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<Vec<f64>> {
    check_matrix("silhouette", x, labels)?;
    let mut ids: Vec<i64> = labels.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let n = labels.len();
    if ids.len() < 2 || ids.len() > n - 1 {
        return Err(EvalError::Undefined {
            metric: "silhouette".into(),
            reason: format!(
                "needs between 2 and {} clusters (rows − 1), found {}",
                n.saturating_sub(1),
                ids.len()
            ),
        });
    }
    let idx: Vec<usize> = labels
        .iter()
        .map(|l| ids.binary_search(l).unwrap_or(0))
        .collect();
    let mut freq = vec![0.0; ids.len()];
    for &c in &idx {
        freq[c] += 1.0;
    }
    let rows: Vec<ArrayView1<'_, f64>> = x.axis_iter(Axis(0)).collect();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut sums = vec![0.0; ids.len()];
        for j in 0..n {
            if i != j {
                sums[idx[j]] += euclidean(rows[i], rows[j]);
            }
        }
        let own = idx[i];
        let a = sums[own] / (freq[own] - 1.0);
        let b = (0..ids.len())
            .filter(|&c| c != own)
            .map(|c| sums[c] / freq[c])
            .fold(f64::INFINITY, f64::min);
        let s = (b - a) / a.max(b);
        out.push(if s.is_nan() { 0.0 } else { s });
    }
    Ok(out)
}

/// Mean silhouette coefficient (`sklearn.metrics.silhouette_score`, euclidean).
pub fn silhouette_score(x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<f64> {
    let s = silhouette_samples(x, labels)?;
    Ok(s.iter().sum::<f64>() / s.len() as f64)
}

/// Sum of squared distances of rows to the centre of their cluster (`KMeans.inertia_`):
/// `centers[labels[i]]` is row `i`'s centre.
pub fn inertia(
    x: ArrayView2<'_, f64>,
    labels: &[i64],
    centers: ArrayView2<'_, f64>,
) -> Result<f64> {
    check_matrix("inertia", x, labels)?;
    if centers.ncols() != x.ncols() {
        return Err(EvalError::BadScore {
            metric: "inertia".into(),
            reason: format!(
                "centres have {} columns but the rows {}",
                centers.ncols(),
                x.ncols()
            ),
        });
    }
    let mut total = 0.0;
    for (row, &l) in x.axis_iter(Axis(0)).zip(labels) {
        let c = usize::try_from(l)
            .ok()
            .filter(|&c| c < centers.nrows())
            .ok_or_else(|| EvalError::BadScore {
                metric: "inertia".into(),
                reason: format!("label {l} has no centre ({} centres)", centers.nrows()),
            })?;
        let d = euclidean(row, centers.row(c));
        total += d * d;
    }
    Ok(total)
}

/// Cluster ids (0..k) of `labels` and the per-cluster row count and mean.
fn centroids(x: ArrayView2<'_, f64>, labels: &[i64]) -> (Vec<usize>, Vec<f64>, Vec<Vec<f64>>) {
    let mut ids: Vec<i64> = labels.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let idx: Vec<usize> = labels
        .iter()
        .map(|l| ids.binary_search(l).unwrap_or(0))
        .collect();
    let mut n = vec![0.0; ids.len()];
    let mut sum = vec![vec![0.0; x.ncols()]; ids.len()];
    for (row, &c) in x.axis_iter(Axis(0)).zip(&idx) {
        n[c] += 1.0;
        for (s, v) in sum[c].iter_mut().zip(row.iter()) {
            *s += v;
        }
    }
    for (s, k) in sum.iter_mut().zip(&n) {
        for v in s.iter_mut() {
            *v /= k;
        }
    }
    (idx, n, sum)
}

fn check_cluster_count(metric: &str, k: usize, n: usize) -> Result<()> {
    if k < 2 || k > n - 1 {
        return Err(EvalError::Undefined {
            metric: metric.into(),
            reason: format!(
                "needs between 2 and {} clusters (rows − 1), found {k}",
                n.saturating_sub(1)
            ),
        });
    }
    Ok(())
}

/// Davies–Bouldin index (`sklearn.metrics.davies_bouldin_score`); lower is better.
pub fn davies_bouldin(x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<f64> {
    check_matrix("davies_bouldin", x, labels)?;
    let (idx, n, c) = centroids(x, labels);
    let k = n.len();
    check_cluster_count("davies_bouldin", k, labels.len())?;
    let mut intra = vec![0.0; k];
    for (row, &g) in x.axis_iter(Axis(0)).zip(&idx) {
        intra[g] += euclidean(row, ArrayView1::from(&c[g]));
    }
    for (d, m) in intra.iter_mut().zip(&n) {
        *d /= m;
    }
    let dist = |a: usize, b: usize| euclidean(ArrayView1::from(&c[a]), ArrayView1::from(&c[b]));
    let close = |v: f64| v.abs() <= 1e-8;
    let all_centres_close = (0..k).all(|a| (0..k).all(|b| close(dist(a, b))));
    if intra.iter().all(|v| close(*v)) || all_centres_close {
        return Ok(0.0);
    }
    let total: f64 = (0..k)
        .map(|a| {
            (0..k)
                .map(|b| {
                    let d = dist(a, b);
                    if d == 0.0 {
                        0.0
                    } else {
                        (intra[a] + intra[b]) / d
                    }
                })
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .sum();
    Ok(total / k as f64)
}

/// Calinski–Harabasz index (`sklearn.metrics.calinski_harabasz_score`); higher is better.
pub fn calinski_harabasz(x: ArrayView2<'_, f64>, labels: &[i64]) -> Result<f64> {
    check_matrix("calinski_harabasz", x, labels)?;
    let (idx, n, c) = centroids(x, labels);
    let k = n.len();
    let rows = labels.len();
    check_cluster_count("calinski_harabasz", k, rows)?;
    let mean: Vec<f64> = x.mean_axis(Axis(0)).map(|m| m.to_vec()).unwrap_or_default();
    let mut extra = 0.0;
    for (cent, m) in c.iter().zip(&n) {
        let d = euclidean(ArrayView1::from(cent), ArrayView1::from(&mean));
        extra += m * d * d;
    }
    let mut intra = 0.0;
    for (row, &g) in x.axis_iter(Axis(0)).zip(&idx) {
        let d = euclidean(row, ArrayView1::from(&c[g]));
        intra += d * d;
    }
    if intra == 0.0 {
        return Ok(1.0);
    }
    Ok(extra * (rows - k) as f64 / (intra * (k - 1) as f64))
}

/// Inertia from cluster scores that carry their distance to the centre: Σ distance².
/// Lower is better; the truth is not used (only its length is checked).
#[derive(Clone, Copy, Debug, Default)]
pub struct Inertia;

impl Evaluator for Inertia {
    fn name(&self) -> &str {
        "inertia"
    }
    fn higher_is_better(&self) -> bool {
        false
    }
    fn evaluate(&self, truth: &[f64], scores: &[Score]) -> Result<f64> {
        check_lengths("inertia", truth.len(), scores.len())?;
        let d = scores
            .iter()
            .map(|s| match s {
                Score::Cluster {
                    distance: Some(d), ..
                } => Ok(*d),
                other => Err(EvalError::BadScore {
                    metric: "inertia".into(),
                    reason: format!(
                        "needs cluster scores with a distance, got a {} score",
                        other.kind()
                    ),
                }),
            })
            .collect::<Result<Vec<_>>>()?;
        check_finite("inertia", "distances", &d)?;
        Ok(d.iter().map(|v| v * v).sum())
    }
}
