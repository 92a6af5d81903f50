//! # mlpipe-models
//!
//! Training: the [`Trainer`] / [`Model`] facade, self-describing [`ModelArtefact`]s that
//! load without executing code, the [`Algorithms`] catalogue of model kinds (linear,
//! ridge, elastic-net and logistic regression, CART trees, random forests, Gaussian naive
//! Bayes, k-means and [`arima`] ARIMA(p,d,q) forecasting built in; users register more), and the
//! [`TrainingService`].
//!
//! Offline and online scoring give identical results: batch prediction runs the very same
//! per-row code as single-row prediction.

#![forbid(unsafe_code)]

mod algorithms;
pub mod arima;
pub mod checkpoint;
mod error;
mod facade;
pub mod forest;
pub mod kmeans;
pub mod linalg;
pub mod linear;
pub mod logistic;
pub mod naive_bayes;
pub mod service;
pub mod tree;

pub use algorithms::{parse_params, Algorithms};
pub use arima::{Arima, ArimaModel, ArimaTrainer, FittedArima};
pub use error::{ModelError, Result};
pub use facade::*;
pub use service::{
    CandidateSpec, DatasetTraining, SplitSpec, TrainingConfig, TrainingReport, TrainingService,
};
/// The regression tree (also at [`tree::regressor`]).
pub use tree::regressor as tree_regressor;
