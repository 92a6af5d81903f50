//! # mlpipe-models
//!
//! Training: the [`Trainer`] / [`Model`] facade, self-describing [`ModelArtefact`]s that
//! load without executing code, the [`Algorithms`] catalogue of model kinds (logistic
//! regression and a CART decision tree built in; users register more), and the
//! [`TrainingService`].
//!
//! Offline and online scoring give identical results: batch prediction runs the very same
//! per-row code as single-row prediction.

#![forbid(unsafe_code)]

mod algorithms;
mod error;
mod facade;
pub mod linalg;
pub mod logistic;
pub mod service;
pub mod tree;

pub use algorithms::Algorithms;
pub use error::{ModelError, Result};
pub use facade::*;
pub use service::{
    CandidateSpec, DatasetTraining, SplitSpec, TrainingConfig, TrainingReport, TrainingService,
};
