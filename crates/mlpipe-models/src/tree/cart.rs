//! The presorted CART grower shared by decision trees (classification and regression) and
//! random forests.
//!
//! Every feature is sorted once; for each node the node's rows stay sorted by every feature
//! in one contiguous range, and a split stably partitions those ranges, so a level costs
//! O(rows × features). Thresholds are midpoints between distinct neighbouring values, as in
//! scikit-learn. Rows may carry integer weights (bootstrap counts): rows of weight zero are
//! dropped up front, and `min_samples_*` count distinct rows like scikit-learn does.
//! The split search runs across features in parallel on large nodes.

use super::nodes::TreeNode;
use ndarray::{ArrayView2, Axis};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// What the tree predicts.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// Class indices `0..k` (Gini impurity; leaves hold class proportions).
    Classes {
        /// Class index per row.
        y: &'a [usize],
        /// Number of classes.
        k: usize,
    },
    /// Real values (squared error; leaves hold the mean).
    Values(&'a [f64]),
}

/// Growth limits.
#[derive(Clone, Debug)]
pub(crate) struct GrowParams {
    pub max_depth: Option<usize>,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    /// Features examined per node (at least one valid split is always sought, as in
    /// scikit-learn); `>= n_features` means all, in index order.
    pub max_features: usize,
}

/// Feature columns and their sort orders, computed once and shared by the trees of a forest.
pub(crate) struct Presorted {
    pub cols: Vec<Vec<f64>>,
    pub order: Vec<Vec<u32>>,
}

impl Presorted {
    pub fn new(x: ArrayView2<'_, f64>) -> Self {
        let n = x.nrows();
        let cols: Vec<Vec<f64>> = x.axis_iter(Axis(1)).map(|c| c.to_vec()).collect();
        let order = cols
            .par_iter()
            .map(|c| {
                let mut idx: Vec<u32> = (0..n as u32).collect();
                idx.sort_unstable_by(|&a, &b| {
                    c[a as usize].total_cmp(&c[b as usize]).then(a.cmp(&b))
                });
                idx
            })
            .collect();
        Self { cols, order }
    }

    /// The sort orders restricted to rows of positive weight.
    pub fn order_for(&self, weights: &[f64]) -> Vec<Vec<u32>> {
        self.order
            .iter()
            .map(|o| {
                o.iter()
                    .copied()
                    .filter(|&i| weights[i as usize] > 0.0)
                    .collect()
            })
            .collect()
    }
}

struct Work {
    node: usize,
    start: usize,
    end: usize,
    depth: usize,
}

/// Node statistics: weighted class totals, or (weight, sum) for values.
struct Stats {
    weight: f64,
    classes: Vec<f64>,
    sum: f64,
}

fn stats(target: &Target<'_>, w: &[f64], rows: &[u32]) -> (Stats, bool) {
    match *target {
        Target::Classes { y, k } => {
            let mut classes = vec![0.0; k];
            let mut weight = 0.0;
            for &i in rows {
                classes[y[i as usize]] += w[i as usize];
                weight += w[i as usize];
            }
            let pure = classes.iter().filter(|&&c| c > 0.0).count() <= 1;
            let s = Stats {
                weight,
                classes,
                sum: 0.0,
            };
            (s, pure)
        }
        Target::Values(y) => {
            let (mut weight, mut sum) = (0.0, 0.0);
            for &i in rows {
                weight += w[i as usize];
                sum += w[i as usize] * y[i as usize];
            }
            let mean = sum / weight;
            let var = rows
                .iter()
                .map(|&i| w[i as usize] * (y[i as usize] - mean).powi(2))
                .sum::<f64>()
                / weight;
            let s = Stats {
                weight,
                classes: Vec::new(),
                sum,
            };
            (s, var <= f64::EPSILON)
        }
    }
}

fn leaf(target: &Target<'_>, s: &Stats) -> TreeNode {
    let value = match target {
        Target::Classes { .. } => s.classes.iter().map(|c| c / s.weight).collect(),
        Target::Values(_) => vec![s.sum / s.weight],
    };
    TreeNode::Leaf { value }
}

/// Grows one tree. `order` holds, per feature, the rows to learn from in ascending feature
/// order (see [`Presorted`]); `w` the weight of every row; `rng` draws the features
/// examined at each node when `max_features` is below the width.
pub(crate) fn grow(
    cols: &[Vec<f64>],
    mut order: Vec<Vec<u32>>,
    target: Target<'_>,
    w: &[f64],
    p: &GrowParams,
    rng: &mut ChaCha8Rng,
) -> Vec<TreeNode> {
    let m = cols.len();
    let n = order.first().map_or(0, Vec::len);
    let n_all = cols.first().map_or(0, Vec::len);
    let mut goes_left = vec![false; n_all];
    let mut nodes = vec![TreeNode::Leaf { value: vec![] }];
    let mut features: Vec<usize> = (0..m).collect();
    let mut stack = vec![Work {
        node: 0,
        start: 0,
        end: n,
        depth: 0,
    }];
    while let Some(wk) = stack.pop() {
        let len = wk.end - wk.start;
        let (st, pure) = stats(&target, w, &order[0][wk.start..wk.end]);
        if pure
            || len < p.min_samples_split
            || len < 2 * p.min_samples_leaf
            || p.max_depth.is_some_and(|d| wk.depth >= d)
        {
            nodes[wk.node] = leaf(&target, &st);
            continue;
        }
        let search = |fs: &[usize]| {
            fs.par_iter()
                .with_min_len(if len > 20_000 { 1 } else { fs.len().max(1) })
                .filter_map(|&j| {
                    let seg = &order[j][wk.start..wk.end];
                    let col = &cols[j];
                    match target {
                        Target::Classes { y, .. } => {
                            best_class_split(col, seg, y, w, &st, p.min_samples_leaf)
                        }
                        Target::Values(y) => {
                            best_value_split(col, seg, y, w, &st, p.min_samples_leaf)
                        }
                    }
                    .map(|(g, t, nl)| (j, g, t, nl))
                })
                .reduce_with(|a, b| {
                    if b.1 > a.1 || (b.1 == a.1 && b.0 < a.0) {
                        b
                    } else {
                        a
                    }
                })
        };
        let best = if p.max_features >= m {
            search(&features)
        } else {
            mlpipe_split::rng::shuffle(rng, &mut features);
            search(&features[..p.max_features]).or_else(|| search(&features[p.max_features..]))
        };
        let Some((feature, _gain, threshold, n_left)) = best else {
            nodes[wk.node] = leaf(&target, &st);
            continue;
        };
        for &i in &order[feature][wk.start..wk.end] {
            goes_left[i as usize] = cols[feature][i as usize] <= threshold;
        }
        order.par_iter_mut().for_each(|o| {
            let seg = &mut o[wk.start..wk.end];
            let mut right = Vec::with_capacity(seg.len() - n_left);
            let mut li = 0;
            for r in 0..seg.len() {
                let i = seg[r];
                if goes_left[i as usize] {
                    seg[li] = i;
                    li += 1;
                } else {
                    right.push(i);
                }
            }
            seg[li..].copy_from_slice(&right);
        });
        let left = nodes.len();
        nodes.push(TreeNode::Leaf { value: vec![] });
        let right = nodes.len();
        nodes.push(TreeNode::Leaf { value: vec![] });
        nodes[wk.node] = TreeNode::Split {
            feature,
            threshold,
            left,
            right,
        };
        let mid = wk.start + n_left;
        stack.push(Work {
            node: right,
            start: mid,
            end: wk.end,
            depth: wk.depth + 1,
        });
        stack.push(Work {
            node: left,
            start: wk.start,
            end: mid,
            depth: wk.depth + 1,
        });
    }
    nodes
}

/// The midpoint threshold between neighbouring values `a < b`.
fn midpoint(a: f64, b: f64) -> f64 {
    let t = a / 2.0 + b / 2.0;
    if t >= b || !t.is_finite() {
        a
    } else {
        t
    }
}

/// Best Gini split on one feature: (proxy to maximise, threshold, rows going left).
fn best_class_split(
    col: &[f64],
    seg: &[u32],
    y: &[usize],
    w: &[f64],
    total: &Stats,
    min_leaf: usize,
) -> Option<(f64, f64, usize)> {
    let n = seg.len();
    let mut left = vec![0.0f64; total.classes.len()];
    let mut right = total.classes.clone();
    let (mut wl, mut wr) = (0.0, total.weight);
    let mut sq_left = 0.0f64;
    let mut sq_right: f64 = right.iter().map(|c| c * c).sum();
    let mut best: Option<(f64, f64, usize)> = None;
    for pos in 0..n - 1 {
        let i = seg[pos] as usize;
        let (c, wi) = (y[i], w[i]);
        sq_left += wi * (2.0 * left[c] + wi);
        sq_right -= wi * (2.0 * right[c] - wi);
        left[c] += wi;
        right[c] -= wi;
        wl += wi;
        wr -= wi;
        let nl = pos + 1;
        if nl < min_leaf || n - nl < min_leaf {
            continue;
        }
        let (a, b) = (col[i], col[seg[pos + 1] as usize]);
        if b <= a {
            continue;
        }
        // Weighted Gini impurity is minimised where Σ cₗ²/wₗ + Σ cᵣ²/wᵣ is maximal.
        let proxy = sq_left / wl + sq_right / wr;
        if best.is_none_or(|(g, _, _)| proxy > g) {
            best = Some((proxy, midpoint(a, b), nl));
        }
    }
    best
}

/// Best squared-error split on one feature: (proxy to maximise, threshold, rows going left).
fn best_value_split(
    col: &[f64],
    seg: &[u32],
    y: &[f64],
    w: &[f64],
    total: &Stats,
    min_leaf: usize,
) -> Option<(f64, f64, usize)> {
    let n = seg.len();
    let (mut sl, mut wl) = (0.0f64, 0.0f64);
    let mut best: Option<(f64, f64, usize)> = None;
    for pos in 0..n - 1 {
        let i = seg[pos] as usize;
        sl += w[i] * y[i];
        wl += w[i];
        let nl = pos + 1;
        if nl < min_leaf || n - nl < min_leaf {
            continue;
        }
        let (a, b) = (col[i], col[seg[pos + 1] as usize]);
        if b <= a {
            continue;
        }
        // The weighted squared error is minimised where sₗ²/wₗ + sᵣ²/wᵣ is maximal.
        let sr = total.sum - sl;
        let proxy = sl * sl / wl + sr * sr / (total.weight - wl);
        if best.is_none_or(|(g, _, _)| proxy > g) {
            best = Some((proxy, midpoint(a, b), nl));
        }
    }
    best
}
