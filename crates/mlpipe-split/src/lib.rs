//! # mlpipe-split
//!
//! Data segregation: [`SplitStrategy`] and its built-ins (random by ratio with an
//! injected seed, sequential, either with shuffling inside each subset, stratified by
//! label, time-ordered with an optional gap, group-aware, and any closure through
//! [`FnSplit`] or user type), [`FoldStrategy`] for cross-validation (k-fold, stratified
//! k-fold, any split as a hold-out fold), strategies by name from configuration
//! ([`SplitConfig`]), and the [`SegregationApi`] that training and evaluation call. The
//! API records each split (id, strategy, parameters, rows) and links it in lineage, and
//! returns [`SplitWarning`]s with the data when a split is uneven.
//!
//! Seeded splits use ChaCha8 with our own sampling, so a seed gives the same indices on
//! every platform and every run.

#![forbid(unsafe_code)]

mod catalogue;
mod columns;
mod error;
mod folds;
mod group;
pub mod rng;
mod segregation;
mod strategy;
mod stratified;
mod table;
mod time;
mod warnings;

pub use catalogue::{
    fold_strategy, parse_params, strategy, SplitConfig, SplitRegistry, FOLD_STRATEGIES,
    SPLIT_STRATEGIES,
};
pub use error::{Result, SplitError};
pub use folds::{FoldStrategy, HoldOut, KFold, StratifiedKFold};
pub use group::GroupSplit;
pub use segregation::{LabeledSet, Segregated, SegregationApi, SplitColumns, UnlabeledSet};
pub use strategy::{
    FnSplit, RandomSplit, SequentialSplit, SplitIndices, SplitInput, SplitStrategy,
};
pub use stratified::StratifiedSplit;
pub use table::FIT_SPLIT_POINTER;
pub use time::TimeSplit;
pub use warnings::{assess, SplitWarning, Subset, WarningPolicy};
