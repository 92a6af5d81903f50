//! # mlpipe-split
//!
//! Data segregation: [`SplitStrategy`] and its built-ins (random by ratio with an
//! injected seed, sequential, either with shuffling inside each subset, and any closure
//! through [`FnSplit`]), and the [`SegregationApi`] that training and evaluation call. The
//! API records each split (id, strategy, parameters, rows) and links it in lineage, and
//! returns [`SplitWarning`]s with the data when a split is uneven.
//!
//! Seeded splits use ChaCha8 with our own sampling, so a seed gives the same indices on
//! every platform and every run.

#![forbid(unsafe_code)]

mod error;
pub mod rng;
mod segregation;
mod strategy;
mod warnings;

pub use error::{Result, SplitError};
pub use segregation::{LabeledSet, Segregated, SegregationApi, UnlabeledSet};
pub use strategy::{
    FnSplit, RandomSplit, SequentialSplit, SplitIndices, SplitInput, SplitStrategy,
};
pub use warnings::{assess, SplitWarning, Subset, WarningPolicy};
