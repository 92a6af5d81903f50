//! k-means (`kmeans`) as scikit-learn's `KMeans` with the Lloyd algorithm: greedy
//! k-means++ seeding (`2 + ⌊ln k⌋` candidates per centre), Lloyd iterations until the
//! labels stop changing or the total squared centre shift falls below
//! `tol × mean feature variance`, a final assignment to the final centres, and the best of
//! `n_init` runs by inertia. Randomness comes from a seeded ChaCha8 stream, so a seed gives
//! the same clustering on every platform. Assignment and centre sums run in parallel over
//! row chunks. Labels are ignored; predictions are [`Score::Cluster`] with the Euclidean
//! distance to the centre.

use crate::checkpoint::{self, Checkpoint};
use crate::error::{ModelError, Result};
use crate::facade::*;
use mlpipe_core::{FeatureSetId, Score};
use ndarray::ArrayView2;
use rand_chacha::rand_core::RngCore;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

const KIND: &str = "kmeans";
const CHUNK: usize = 2048;

/// Hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KMeansParams {
    /// Number of clusters.
    #[serde(alias = "n_clusters")]
    pub k: usize,
    /// Independent seedings; the run of lowest inertia is kept.
    pub n_init: usize,
    /// Lloyd iterations per run at most.
    pub max_iter: usize,
    /// Relative tolerance on the centre shift.
    pub tol: f64,
    /// Seed of the random stream.
    pub seed: u64,
}

impl Default for KMeansParams {
    fn default() -> Self {
        Self {
            k: 8,
            n_init: 1,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
        }
    }
}

/// The k-means trainer.
#[derive(Clone, Debug, Default)]
pub struct KMeans(pub KMeansParams);

/// Learned parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KMeansState {
    /// Cluster centres, one row per cluster.
    pub centers: Vec<Vec<f64>>,
    /// Sum of squared distances of the training rows to their centres.
    pub inertia: f64,
    /// Lloyd iterations of the kept run.
    pub n_iter: usize,
}

/// A fitted k-means model.
#[derive(Clone, Debug)]
pub struct KMeansModel {
    state: KMeansState,
    params: KMeansParams,
    flat: Vec<f64>,
    feature_set_id: FeatureSetId,
    input: Vec<String>,
}

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

fn sqdist(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| (a - b) * (a - b)).sum()
}

/// Squared distance with four independent accumulators (no dependency chain); used where
/// the exact summation order does not matter (seeding).
fn sqdist4(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ac, bc) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..4 {
            let t = x[l] - y[l];
            acc[l] += t * t;
        }
    }
    let tail: f64 = ar.iter().zip(br).map(|(a, b)| (a - b) * (a - b)).sum();
    acc[0] + acc[1] + acc[2] + acc[3] + tail
}

/// Centres per register block of [`distances_t`].
const BLOCK: usize = 8;

/// Centres transposed and padded: `d` rows of `kp` values (`kp` a multiple of [`BLOCK`]).
fn transpose_padded(centers: &[f64], d: usize) -> (Vec<f64>, usize) {
    let k = centers.len() / d;
    let kp = k.div_ceil(BLOCK) * BLOCK;
    let mut ct = vec![0.0; d * kp];
    for c in 0..k {
        for j in 0..d {
            ct[j * kp + c] = centers[c * d + j];
        }
    }
    (ct, kp)
}

/// Squared distances of `row` to every centre (`ct` from [`transpose_padded`]) into `acc`
/// (length `kp`; entries past the real centres are meaningless). Per centre the sum runs
/// over features in order, exactly as [`sqdist`], but a block of centres accumulates in
/// registers, so the loop vectorises across centres.
fn distances_t(row: &[f64], ct: &[f64], kp: usize, acc: &mut [f64]) {
    for (b, out) in acc.chunks_exact_mut(BLOCK).enumerate() {
        let mut a = [0.0f64; BLOCK];
        for (j, &xj) in row.iter().enumerate() {
            let c = &ct[j * kp + b * BLOCK..j * kp + (b + 1) * BLOCK];
            for l in 0..BLOCK {
                let t = xj - c[l];
                a[l] += t * t;
            }
        }
        out.copy_from_slice(&a);
    }
}

fn argmin(acc: &[f64]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, &s) in acc.iter().enumerate() {
        if s < best.1 {
            best = (c, s);
        }
    }
    best
}

/// Index and squared distance of the centre nearest to `row` (`centers` flat, k × d).
fn nearest(row: &[f64], centers: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, centre) in centers.chunks_exact(d).enumerate() {
        let s = sqdist(row, centre);
        if s < best.1 {
            best = (c, s);
        }
    }
    best
}

/// Greedy k-means++ (scikit-learn's `_kmeans_plusplus`).
fn plusplus(x: &[f64], n: usize, d: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let trials = 2 + (k as f64).ln() as usize;
    let first = mlpipe_split::rng::below(rng, n as u64) as usize;
    let mut centers = x[first * d..(first + 1) * d].to_vec();
    let row = |i: usize| &x[i * d..(i + 1) * d];
    let mut closest: Vec<f64> = x
        .par_chunks(d)
        .with_min_len(1024)
        .map(|r| sqdist4(r, row(first)))
        .collect();
    let mut pot: f64 = closest.iter().sum();
    for _ in 1..k {
        let mut cum = Vec::with_capacity(n);
        let mut s = 0.0;
        for v in &closest {
            s += v;
            cum.push(s);
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                let r = uniform(rng) * pot;
                cum.partition_point(|&c| c < r).min(n - 1)
            })
            .collect();
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for &cand in &candidates {
            let dist: Vec<f64> = x
                .par_chunks(d)
                .zip(closest.par_iter())
                .with_min_len(1024)
                .map(|(r, &c)| sqdist4(r, row(cand)).min(c))
                .collect();
            let p: f64 = dist.iter().sum();
            if best.as_ref().is_none_or(|(bp, _, _)| p < *bp) {
                best = Some((p, cand, dist));
            }
        }
        if let Some((p, cand, dist)) = best {
            centers.extend_from_slice(row(cand));
            closest = dist;
            pot = p;
        }
    }
    centers
}

/// Assigns every row and (optionally) sums rows per cluster. Returns (sums, counts,
/// inertia, labels changed).
fn assign(
    x: &[f64],
    d: usize,
    centers: &[f64],
    labels: &mut [u32],
    dist: &mut [f64],
) -> (Vec<f64>, Vec<usize>, f64, bool) {
    let k = centers.len() / d;
    let (ct, kp) = transpose_padded(centers, d);
    x.par_chunks(CHUNK * d)
        .zip(labels.par_chunks_mut(CHUNK))
        .zip(dist.par_chunks_mut(CHUNK))
        .map(|((xc, lc), dc)| {
            let mut sums = vec![0.0; k * d];
            let mut counts = vec![0usize; k];
            let mut acc = vec![0.0; kp];
            let (mut inertia, mut changed) = (0.0, false);
            for ((r, l), dd) in xc.chunks_exact(d).zip(lc.iter_mut()).zip(dc.iter_mut()) {
                distances_t(r, &ct, kp, &mut acc);
                let (c, s) = argmin(&acc[..k]);
                changed |= *l != c as u32;
                *l = c as u32;
                *dd = s;
                inertia += s;
                counts[c] += 1;
                for (a, v) in sums[c * d..(c + 1) * d].iter_mut().zip(r) {
                    *a += v;
                }
            }
            (sums, counts, inertia, changed)
        })
        .reduce(
            || (vec![0.0; k * d], vec![0; k], 0.0, false),
            |(mut s1, mut c1, i1, ch1), (s2, c2, i2, ch2)| {
                s1.iter_mut().zip(&s2).for_each(|(a, b)| *a += b);
                c1.iter_mut().zip(&c2).for_each(|(a, b)| *a += b);
                (s1, c1, i1 + i2, ch1 || ch2)
            },
        )
}

/// One Lloyd run from `centers`: returns (centres, inertia, iterations).
/// Called before each Lloyd iteration with `None` (return an error to stop) and after it
/// with the new centres and the iterations done (to checkpoint).
type LloydStep<'a> = dyn FnMut(Option<(&[f64], usize)>) -> Result<()> + 'a;

/// Lloyd iterations from `centers`, counting from iteration `start`; `step` is called
/// before every iteration (to stop) and after it with the new centres (to checkpoint).
fn lloyd(
    x: &[f64],
    d: usize,
    mut centers: Vec<f64>,
    start: usize,
    max_iter: usize,
    tol: f64,
    step: &mut LloydStep<'_>,
) -> Result<(Vec<f64>, f64, usize)> {
    let n = x.len() / d;
    let k = centers.len() / d;
    let mut labels = vec![u32::MAX; n];
    let mut dist = vec![0.0; n];
    let mut iters = start;
    for it in start..max_iter {
        step(None)?;
        iters = it + 1;
        let (sums, counts, _, changed) = assign(x, d, &centers, &mut labels, &mut dist);
        if it > 0 && !changed {
            break;
        }
        let mut new = centers.clone();
        // Empty clusters move to the rows farthest from their centres.
        let mut far: Vec<usize> = Vec::new();
        if counts.contains(&0) {
            far = (0..n).collect();
            far.sort_unstable_by(|&a, &b| dist[b].total_cmp(&dist[a]));
        }
        let mut far = far.into_iter();
        for c in 0..k {
            let dst = &mut new[c * d..(c + 1) * d];
            if counts[c] > 0 {
                for (v, s) in dst.iter_mut().zip(&sums[c * d..(c + 1) * d]) {
                    *v = s / counts[c] as f64;
                }
            } else if let Some(i) = far.next() {
                dst.copy_from_slice(&x[i * d..(i + 1) * d]);
            }
        }
        let shift: f64 = sqdist(&centers, &new);
        centers = new;
        step(Some((&centers, it + 1)))?;
        if shift <= tol {
            break;
        }
    }
    let (_, _, inertia, _) = assign(x, d, &centers, &mut labels, &mut dist);
    Ok((centers, inertia, iters))
}

/// Where a k-means fit got to: the best finished initialisation, and the centres and
/// iteration count of the one running.
#[derive(Serialize, Deserialize)]
struct Progress {
    init: usize,
    best: Option<(Vec<f64>, f64, usize)>,
    centers: Vec<f64>,
    iterations: usize,
}

impl Trainer for KMeans {
    fn kind(&self) -> &str {
        KIND
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        self.train_resumable(data, &checkpoint::NoCheckpoint)
    }

    /// Saves the centres after every Lloyd iteration and resumes from them (the k-means++
    /// draws of earlier initialisations are replayed so the random stream is the same).
    fn train_resumable(
        &self,
        data: &TrainingData<'_>,
        ck: &dyn Checkpoint,
    ) -> Result<Box<dyn Model>> {
        let p = &self.0;
        let (n, d) = data.x.dim();
        let tol_ok = p.tol >= 0.0 && p.tol.is_finite();
        if p.k == 0 || p.n_init == 0 || p.max_iter == 0 || !tol_ok {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: format!(
                    "need k ≥ 1, n_init ≥ 1, max_iter ≥ 1 and tol ≥ 0 (got k {}, n_init {}, max_iter {}, tol {})",
                    p.k, p.n_init, p.max_iter, p.tol
                ),
            });
        }
        if n == 0 {
            return Err(ModelError::NoRows { kind: KIND.into() });
        }
        let bad_column = || (0..d).find(|&j| data.x.column(j).iter().any(|v| !v.is_finite()));
        if let Some(j) = data
            .x
            .iter()
            .any(|v| !v.is_finite())
            .then(bad_column)
            .flatten()
        {
            return Err(ModelError::NonFinite {
                kind: KIND.into(),
                feature: data
                    .feature_names
                    .get(j)
                    .cloned()
                    .unwrap_or_else(|| format!("#{j}")),
            });
        }
        if d == 0 {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: "the training data has no feature columns".into(),
            });
        }
        if p.k > n {
            return Err(ModelError::Params {
                kind: KIND.into(),
                reason: format!("k = {} clusters need at least {} rows, got {n}", p.k, p.k),
            });
        }
        let x: Vec<f64> = data.x.iter().copied().collect();
        // Mean feature variance, in two row-major passes.
        let mut mean = vec![0.0; d];
        for r in x.chunks_exact(d) {
            mean.iter_mut().zip(r).for_each(|(m, v)| *m += v);
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut sq = vec![0.0; d];
        for r in x.chunks_exact(d) {
            for ((s, v), m) in sq.iter_mut().zip(r).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let mean_var = sq.iter().sum::<f64>() / n as f64 / d as f64;
        let tol = p.tol * mean_var;
        let mut rng = mlpipe_split::rng::rng(p.seed);
        let saved = checkpoint::load_json::<Progress>(ck)
            .filter(|s| s.init < p.n_init && (s.centers.is_empty() || s.centers.len() == p.k * d));
        let (first, mut best, resume) = match saved {
            Some(s) => (s.init, s.best, Some((s.centers, s.iterations))),
            None => (0, None, None),
        };
        let mut resume = resume.filter(|(c, _)| !c.is_empty());
        for init_no in 0..p.n_init {
            // Every draw is made, so the random stream matches an uninterrupted fit.
            let init = plusplus(&x, n, d, p.k, &mut rng);
            if init_no < first {
                continue;
            }
            let (start_centers, start_it) = resume.take().unwrap_or((init, 0));
            let best_so_far = best.clone();
            let mut step = |at: Option<(&[f64], usize)>| -> Result<()> {
                match at {
                    None => checkpoint::check(ck, KIND),
                    Some((centers, iterations)) => {
                        checkpoint::save_json(
                            ck,
                            &Progress {
                                init: init_no,
                                best: best_so_far.clone(),
                                centers: centers.to_vec(),
                                iterations,
                            },
                        );
                        Ok(())
                    }
                }
            };
            let run = lloyd(&x, d, start_centers, start_it, p.max_iter, tol, &mut step)?;
            if best.as_ref().is_none_or(|b| run.1 < b.1) {
                best = Some(run);
            }
            checkpoint::save_json(
                ck,
                &Progress {
                    init: init_no + 1,
                    best: best.clone(),
                    centers: Vec::new(),
                    iterations: 0,
                },
            );
        }
        let (centers, inertia, n_iter) = best.unwrap_or_default();
        let state = KMeansState {
            centers: centers
                .chunks_exact(d.max(1))
                .map(<[f64]>::to_vec)
                .collect(),
            inertia,
            n_iter,
        };
        Ok(Box::new(KMeansModel::build(
            state,
            p.clone(),
            data.feature_set_id.clone(),
            data.feature_names.to_vec(),
        )))
    }
}

impl KMeansModel {
    fn build(
        state: KMeansState,
        params: KMeansParams,
        feature_set_id: FeatureSetId,
        input: Vec<String>,
    ) -> Self {
        let flat = state.centers.iter().flatten().copied().collect();
        Self {
            state,
            params,
            flat,
            feature_set_id,
            input,
        }
    }

    /// Rebuilds a model from its artefact.
    pub fn from_artefact(a: &ModelArtefact) -> Result<Self> {
        let state: KMeansState = a.learned_as()?;
        let params: KMeansParams = serde_json::from_value(a.params.clone())
            .map_err(|e| ModelError::Artefact(format!("params of {KIND}: {e}")))?;
        let d = a.input_schema.len();
        if state.centers.is_empty()
            || state
                .centers
                .iter()
                .any(|c| c.len() != d || c.iter().any(|v| !v.is_finite()))
        {
            return Err(ModelError::Artefact(format!(
                "{KIND}: centres must be finite rows of {d} values"
            )));
        }
        Ok(Self::build(
            state,
            params,
            a.feature_set_id.clone(),
            a.input_schema.clone(),
        ))
    }

    /// The learned parameters.
    pub fn state(&self) -> &KMeansState {
        &self.state
    }

    /// The nearest centre of one row of the right width, and its squared distance.
    pub fn nearest(&self, x: &[f64]) -> (usize, f64) {
        nearest(x, &self.flat, self.input.len().max(1))
    }

    fn score(&self, x: &[f64]) -> Score {
        let (c, s) = self.nearest(x);
        Score::Cluster {
            cluster: c as u32,
            distance: Some(s.sqrt()),
        }
    }
}

impl Model for KMeansModel {
    fn kind(&self) -> &str {
        KIND
    }

    fn n_features(&self) -> usize {
        self.input.len()
    }

    fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Score>> {
        score_rows(self.input.len(), x, |r| self.score(r))
    }

    fn predict_row(&self, x: &[f64]) -> Result<Score> {
        check_width(self.input.len(), x.len())?;
        Ok(self.score(x))
    }

    fn artefact(&self) -> Result<ModelArtefact> {
        ModelArtefact::with_state(
            KIND,
            self.feature_set_id.clone(),
            self.input.clone(),
            serde_json::to_value(&self.params).unwrap_or_default(),
            &self.state,
        )
    }
}
