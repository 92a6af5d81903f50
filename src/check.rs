//! Every name in the stage configuration checked against the registries when the
//! configuration is read: an unknown step kind, model kind, split strategy or metric is
//! refused at start with the section it is in, the unknown word and the registered ones.

use crate::error::Result;
use crate::parts::Parts;
use crate::pipeline::StageConfig;
use mlpipe_core::Error as CoreError;

fn at(section: String) -> impl Fn(&dyn std::fmt::Display) -> crate::Error {
    move |e| CoreError::Config(format!("{section}: {e}")).into()
}

/// Builds every step, trainer, split strategy and evaluator the configuration names (which
/// also checks their parameters); nothing runs.
pub(crate) fn check_names(stages: &StageConfig, parts: &Parts) -> Result<()> {
    for (name, d) in &stages.features.datasets {
        let err = at(format!("[features.datasets.{name}]"));
        let p = &d.pipeline;
        for spec in &p.extract {
            parts.steps.extractor(spec).map_err(|e| err(&e))?;
        }
        for spec in &p.transform {
            parts.steps.transformer(spec).map_err(|e| err(&e))?;
        }
        if let Some(spec) = &p.select {
            parts.steps.selector(spec).map_err(|e| err(&e))?;
        }
        if let Some(split) = &p.fit_split {
            split.build_in(&parts.splits).map_err(|e| err(&e))?;
        }
    }
    for (name, t) in &stages.training.datasets {
        let err = at(format!("[training.datasets.{name}]"));
        for c in &t.candidates {
            parts
                .algorithms
                .trainer(&c.kind, &c.params)
                .map_err(|e| err(&format!("candidate `{}`: {e}", c.name)))?;
        }
        t.split.build_in(&parts.splits).map_err(|e| err(&e))?;
    }
    stages
        .evaluation
        .evaluators_in(&parts.evaluators)
        .map_err(|e| at("[evaluation]".into())(&e))?;
    Ok(())
}
