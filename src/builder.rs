//! [`PipelineBuilder`]: the one place an application assembles mlpipe from its own parts —
//! feature steps, model kinds, split strategies, evaluators and backend openers — on top of
//! the built-ins. [`Pipeline`], `mlpipe worker` (through [`crate::cli`]) and serving are all
//! built from it, so a part registered here reaches every stage.

use crate::backends::Backends;
use crate::error::Result;
use crate::parts::Parts;
use crate::pipeline::{Pipeline, StageConfig};
use crate::stages::{start_stages, Services, Stage};
use mlpipe_core::broker::{Broker, SubscribeOptions};
use mlpipe_core::service::ServiceHandle;
use mlpipe_core::store::Stores;
use mlpipe_core::{Config, Error as CoreError};
use mlpipe_eval::Evaluators;
use mlpipe_features::StepRegistry;
use mlpipe_models::Algorithms;
use mlpipe_split::SplitRegistry;
use std::sync::Arc;

/// Assembles the pipeline: the registries (built-ins first, then the application's own),
/// the backend openers by URL scheme, and optionally stores and a broker opened already.
///
/// ```no_run
/// # async fn f() -> mlpipe::Result<()> {
/// use mlpipe::PipelineBuilder;
/// let mut builder = PipelineBuilder::new();
/// builder.splits().register_split("first_half", |_| {
///     Ok(Box::new(mlpipe::split::FnSplit::new("first_half", serde_json::Value::Null, |i| {
///         let half = (i.rows / 2) as u32;
///         Ok(mlpipe::split::SplitIndices { train: (0..half).collect(), test: (half..i.rows as u32).collect() })
///     })))
/// });
/// let config = mlpipe::core::Config::load(std::path::Path::new("mlpipe.toml"))?;
/// let pipeline = builder.start(&config).await?;
/// pipeline.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PipelineBuilder {
    steps: StepRegistry,
    algorithms: Algorithms,
    splits: SplitRegistry,
    evaluators: Evaluators,
    backends: Backends,
    stores: Option<Stores>,
    broker: Option<Arc<dyn Broker>>,
}

impl std::fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("steps", &self.steps)
            .field("algorithms", &self.algorithms)
            .field("splits", &self.splits)
            .field("evaluators", &self.evaluators)
            .field("backends", &self.backends)
            .field("stores_given", &self.stores.is_some())
            .field("broker_given", &self.broker.is_some())
            .finish()
    }
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PipelineBuilder {
    /// A builder with every built-in part and backend scheme.
    pub fn new() -> Self {
        Self {
            steps: StepRegistry::builtin(),
            algorithms: Algorithms::builtin(),
            splits: SplitRegistry::builtin(),
            evaluators: Evaluators::builtin(),
            backends: Backends::builtin(),
            stores: None,
            broker: None,
        }
    }

    /// Feature steps by kind: register extractors, transformers and selectors here.
    pub fn steps(&mut self) -> &mut StepRegistry {
        &mut self.steps
    }

    /// Model kinds: register a trainer and its artefact loader here.
    pub fn algorithms(&mut self) -> &mut Algorithms {
        &mut self.algorithms
    }

    /// Split and fold strategies by name.
    pub fn splits(&mut self) -> &mut SplitRegistry {
        &mut self.splits
    }

    /// Evaluators by metric name.
    pub fn evaluators(&mut self) -> &mut Evaluators {
        &mut self.evaluators
    }

    /// Backend openers by URL scheme.
    pub fn backends(&mut self) -> &mut Backends {
        &mut self.backends
    }

    /// Uses these stores instead of opening the ones configuration names.
    pub fn with_stores(mut self, stores: Stores) -> Self {
        self.stores = Some(stores);
        self
    }

    /// Uses this broker instead of opening the one configuration names.
    pub fn with_broker(mut self, broker: Arc<dyn Broker>) -> Self {
        self.broker = Some(broker);
        self
    }

    /// The registries, frozen and shared (what every stage gets).
    pub fn parts(&self) -> Parts {
        Parts {
            steps: Arc::new(self.steps.clone()),
            algorithms: Arc::new(self.algorithms.clone()),
            splits: Arc::new(self.splits.clone()),
            evaluators: Arc::new(self.evaluators.clone()),
        }
    }

    /// Reads the stage sections of `config` and checks every name in them against the
    /// registries (step kinds, model kinds, split strategies, metrics) and every backend
    /// URL against the registered schemes, so a misspelt word is refused now, with the
    /// registered ones listed, not batch after batch at run time.
    pub fn check(&self, config: &Config) -> Result<StageConfig> {
        let stages = StageConfig::from_config(config)?;
        if self.stores.is_none() || self.broker.is_none() {
            self.backends.check(config)?;
        }
        crate::check::check_names(&stages, &self.parts())?;
        Ok(stages)
    }

    /// Opens the backends (unless given) and builds every stage's service; starts nothing.
    pub async fn assemble(&self, config: &Config) -> Result<Services> {
        let stages = self.check(config)?;
        let stores = match &self.stores {
            Some(s) => s.clone(),
            None => self.backends.open_stores(config).await?,
        };
        let broker = match &self.broker {
            Some(b) => b.clone(),
            None => self.backends.open_broker(config).await?,
        };
        Ok(Services::new(stores, broker, self.parts(), stages))
    }

    /// Every stage and in-process serving, on the backends `config` names (or those given).
    pub async fn start(&self, config: &Config) -> Result<Pipeline> {
        let services = self.assemble(config).await?;
        Pipeline::start_services(services, config.broker.subscribe_options()).await
    }

    /// Every stage on the given stores and broker, with `stages` as the stage
    /// configuration (checked against the registries first).
    pub async fn start_on(
        &self,
        stores: Stores,
        broker: Arc<dyn Broker>,
        stages: StageConfig,
        options: SubscribeOptions,
    ) -> Result<Pipeline> {
        stages.features.validate()?;
        crate::check::check_names(&stages, &self.parts())?;
        let services = Services::new(stores, broker, self.parts(), stages);
        Pipeline::start_services(services, options).await
    }

    /// The stages named (in table order), as a worker runs them: returns the services
    /// and the running handles.
    pub async fn start_worker(
        &self,
        config: &Config,
        stages: &[&'static Stage],
    ) -> Result<(Services, Vec<ServiceHandle>)> {
        if stages.is_empty() {
            return Err(CoreError::Config("name at least one stage".into()).into());
        }
        let services = self.assemble(config).await?;
        let handles = start_stages(&services, stages, &config.broker.subscribe_options()).await?;
        Ok((services, handles))
    }
}
