//! Linear regression: ordinary least squares (`linear_regression`), ridge (`ridge`) and
//! elastic net (`elastic_net`, lasso being `l1_ratio = 1`), each matching the objective of
//! its scikit-learn namesake. The intercept is never penalised: data are centred on the
//! column means first, and the intercept is recovered as `ȳ − x̄·w`.
//!
//! OLS and ridge solve the normal equations by Cholesky. Constant columns get weight zero
//! (the minimum-norm solution); other rank deficiency (collinear features, or fewer rows
//! than features) is a typed error asking for `ridge`, rather than a silently regularised
//! answer. Elastic net runs scikit-learn's cyclic coordinate descent with its
//! duality-gap stopping rule, so the coefficients agree with scikit-learn's at the same
//! `tol`.

mod solve;

use crate::error::{ModelError, Result};
use crate::facade::*;
use mlpipe_core::{FeatureSetId, Score};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};
use solve::{centre, enet_cd, normal_equations};

/// Hyper-parameters of `linear_regression` (scikit-learn `LinearRegression`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OlsParams {
    /// Learn an intercept.
    pub fit_intercept: bool,
}

impl Default for OlsParams {
    fn default() -> Self {
        Self {
            fit_intercept: true,
        }
    }
}

/// Hyper-parameters of `ridge` (scikit-learn `Ridge`): minimises `‖y − Xw‖² + alpha‖w‖²`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RidgeParams {
    /// Penalty strength (≥ 0).
    pub alpha: f64,
    /// Learn an (unpenalised) intercept.
    pub fit_intercept: bool,
}

impl Default for RidgeParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            fit_intercept: true,
        }
    }
}

/// Hyper-parameters of `elastic_net` (scikit-learn `ElasticNet`): minimises
/// `1/(2n)‖y − Xw‖² + alpha·l1_ratio‖w‖₁ + ½·alpha·(1 − l1_ratio)‖w‖²`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ElasticNetParams {
    /// Penalty strength (≥ 0).
    pub alpha: f64,
    /// Share of the L1 penalty, in `[0, 1]`; 1 is the lasso.
    pub l1_ratio: f64,
    /// Learn an (unpenalised) intercept.
    pub fit_intercept: bool,
    /// Coordinate-descent sweeps at most.
    pub max_iter: usize,
    /// Stop when the duality gap is below `tol · ‖y − ȳ‖²`.
    pub tol: f64,
}

impl Default for ElasticNetParams {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            l1_ratio: 0.5,
            fit_intercept: true,
            max_iter: 1000,
            tol: 1e-4,
        }
    }
}

/// The OLS trainer.
#[derive(Clone, Debug, Default)]
pub struct LinearRegression(pub OlsParams);
/// The ridge trainer.
#[derive(Clone, Debug, Default)]
pub struct Ridge(pub RidgeParams);
/// The elastic-net trainer.
#[derive(Clone, Debug, Default)]
pub struct ElasticNet(pub ElasticNetParams);

/// Learned parameters of every linear model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearState {
    /// One weight per feature.
    pub coef: Vec<f64>,
    /// The intercept.
    pub intercept: f64,
    /// Coordinate-descent sweeps used (elastic net; 0 for direct solves).
    #[serde(default)]
    pub n_iter: usize,
    /// Final duality gap (elastic net).
    #[serde(default)]
    pub dual_gap: Option<f64>,
}

/// A fitted linear model of any of the three kinds.
#[derive(Clone, Debug)]
pub struct LinearModel {
    kind: String,
    state: LinearState,
    params: serde_json::Value,
    feature_set_id: FeatureSetId,
    input: Vec<String>,
}

fn params_error(kind: &str, reason: String) -> ModelError {
    ModelError::Params {
        kind: kind.into(),
        reason,
    }
}

fn direct(kind: &str, data: &TrainingData<'_>, alpha: f64, intercept: bool) -> Result<LinearState> {
    check_regression(kind, data)?;
    let (n, d) = data.x.dim();
    if alpha == 0.0 && n < d + usize::from(intercept) {
        return Err(ModelError::TooManyFeatures {
            kind: kind.into(),
            features: d,
            rows: n,
            hint: "least squares needs at least as many rows as features (plus one for the intercept); use `ridge` or select features".into(),
        });
    }
    let c = centre(data.x, data.y, intercept);
    let w = normal_equations(&c, alpha).ok_or_else(|| ModelError::Numeric {
        kind: kind.into(),
        reason: "features are linearly dependent (collinear); drop redundant features or use `ridge` with alpha > 0".into(),
    })?;
    let intercept = c.y_mean - w.iter().zip(&c.x_mean).map(|(w, m)| w * m).sum::<f64>();
    Ok(LinearState {
        coef: w,
        intercept,
        n_iter: 0,
        dual_gap: None,
    })
}

impl LinearModel {
    fn new(kind: &str, state: LinearState, params: serde_json::Value, d: &TrainingData) -> Self {
        Self {
            kind: kind.into(),
            state,
            params,
            feature_set_id: d.feature_set_id.clone(),
            input: d.feature_names.to_vec(),
        }
    }

    /// Rebuilds a model of `kind` (`linear_regression`, `ridge` or `elastic_net`) from its
    /// artefact.
    pub fn from_artefact(a: &ModelArtefact) -> Result<Self> {
        let bad = |e: serde_json::Error| ModelError::Artefact(format!("params of {}: {e}", a.kind));
        match a.kind.as_str() {
            "linear_regression" => serde_json::from_value::<OlsParams>(a.params.clone())
                .map(drop)
                .map_err(bad)?,
            "ridge" => serde_json::from_value::<RidgeParams>(a.params.clone())
                .map(drop)
                .map_err(bad)?,
            "elastic_net" => serde_json::from_value::<ElasticNetParams>(a.params.clone())
                .map(drop)
                .map_err(bad)?,
            other => {
                return Err(ModelError::Artefact(format!(
                    "`{other}` is not a linear model kind"
                )))
            }
        }
        let state: LinearState = a.learned_as()?;
        if state.coef.len() != a.input_schema.len()
            || !state.intercept.is_finite()
            || state.coef.iter().any(|v| !v.is_finite())
        {
            return Err(ModelError::Artefact(format!(
                "{}: learned parameters do not match {} inputs or are not finite",
                a.kind,
                a.input_schema.len()
            )));
        }
        Ok(Self {
            kind: a.kind.clone(),
            state,
            params: a.params.clone(),
            feature_set_id: a.feature_set_id.clone(),
            input: a.input_schema.clone(),
        })
    }

    /// The learned parameters.
    pub fn state(&self) -> &LinearState {
        &self.state
    }

    /// The prediction for one row of the right width.
    pub fn predict_value(&self, x: &[f64]) -> f64 {
        self.state.intercept
            + self
                .state
                .coef
                .iter()
                .zip(x)
                .map(|(w, v)| w * v)
                .sum::<f64>()
    }
}

impl Trainer for LinearRegression {
    fn kind(&self) -> &str {
        "linear_regression"
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        let kind = self.kind();
        let state = direct(kind, data, 0.0, self.0.fit_intercept)?;
        Ok(Box::new(LinearModel::new(kind, state, self.params(), data)))
    }
}

impl Trainer for Ridge {
    fn kind(&self) -> &str {
        "ridge"
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        let kind = self.kind();
        let a = self.0.alpha;
        if !(a >= 0.0 && a.is_finite()) {
            return Err(params_error(
                kind,
                format!("alpha must be a finite number ≥ 0, got {a}"),
            ));
        }
        let state = direct(kind, data, a, self.0.fit_intercept)?;
        Ok(Box::new(LinearModel::new(kind, state, self.params(), data)))
    }
}

impl Trainer for ElasticNet {
    fn kind(&self) -> &str {
        "elastic_net"
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.0).unwrap_or_default()
    }

    fn train(&self, data: &TrainingData<'_>) -> Result<Box<dyn Model>> {
        let kind = self.kind();
        let p = &self.0;
        let ok = p.alpha >= 0.0
            && p.alpha.is_finite()
            && (0.0..=1.0).contains(&p.l1_ratio)
            && p.max_iter > 0
            && p.tol >= 0.0
            && p.tol.is_finite();
        if !ok {
            return Err(params_error(
                kind,
                format!(
                    "need alpha ≥ 0, 0 ≤ l1_ratio ≤ 1, max_iter ≥ 1, tol ≥ 0 (got alpha {}, l1_ratio {}, max_iter {}, tol {})",
                    p.alpha, p.l1_ratio, p.max_iter, p.tol
                ),
            ));
        }
        check_regression(kind, data)?;
        let c = centre(data.x, data.y, p.fit_intercept);
        let n = data.x.nrows() as f64;
        let r = enet_cd(
            &c,
            p.alpha * p.l1_ratio * n,
            p.alpha * (1.0 - p.l1_ratio) * n,
            p.max_iter,
            p.tol,
        );
        let intercept = c.y_mean - r.w.iter().zip(&c.x_mean).map(|(w, m)| w * m).sum::<f64>();
        if r.w.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::Numeric {
                kind: kind.into(),
                reason: "coordinate descent diverged; scale the features".into(),
            });
        }
        let state = LinearState {
            coef: r.w,
            intercept,
            n_iter: r.n_iter,
            dual_gap: Some(r.gap),
        };
        Ok(Box::new(LinearModel::new(kind, state, self.params(), data)))
    }
}

impl Model for LinearModel {
    fn kind(&self) -> &str {
        &self.kind
    }

    fn n_features(&self) -> usize {
        self.input.len()
    }

    fn predict_batch(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Score>> {
        score_rows(self.input.len(), x, |r| Score::Value {
            value: self.predict_value(r),
        })
    }

    fn predict_row(&self, x: &[f64]) -> Result<Score> {
        check_width(self.input.len(), x.len())?;
        Ok(Score::Value {
            value: self.predict_value(x),
        })
    }

    fn artefact(&self) -> Result<ModelArtefact> {
        ModelArtefact::with_state(
            &self.kind,
            self.feature_set_id.clone(),
            self.input.clone(),
            self.params.clone(),
            &self.state,
        )
    }
}
