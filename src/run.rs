//! Following a run to its end: a source is announced, and the events it causes — and the
//! dead letters of the stages that failed on them — are followed through the broker, so
//! the caller learns the deployed version, or the stage that failed and why, instead of
//! waiting on a log line. Built on the events alone, so it works on every broker (NATS
//! too) whatever process runs the stages.
//!
//! One [`Runs`] per process subscribes once (its own consumer group on every topic and
//! dead-letter topic) and hands each run the events descended from its announcement, in
//! causal order even when topics are read out of order.

use crate::error::{Error, Result};
use crate::pipeline::StageConfig;
use mlpipe_core::broker::*;
use mlpipe_core::events::*;
use mlpipe_core::service::{spawn_consumer, ServiceHandle};
use mlpipe_core::{EventId, ModelRef};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Something a stage did for a run.
#[derive(Clone, Debug)]
pub enum StageOutcome {
    /// A stage published an event of the run (`stage` is the producer: `ingest`,
    /// `prepare`, `train`, `evaluate`, `deploy`, `score`, or `announce` for the source).
    Completed {
        /// The stage that published it.
        stage: &'static str,
        /// The event.
        event: Envelope,
    },
    /// A stage gave up on an event of the run: it is on the dead-letter topic.
    Failed {
        /// The stage (from the consumer group, `mlpipe-prepare` → `prepare`).
        stage: String,
        /// The topic of the event it failed on.
        topic: String,
        /// The stage's error.
        reason: String,
        /// Deliveries tried (1 for a permanent error, dead-lettered at once).
        attempts: u32,
    },
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RunEnd {
    /// The dataset has no feature definition: the run ends with the raw batch.
    Ingested(RawDataExtracted),
    /// The dataset has features but no training configured.
    Prepared(FeaturesGenerated),
    /// Evaluation chose no candidate (the reasons say why).
    Rejected(ModelRejected),
    /// A version went live.
    Deployed(ModelDeployed),
}

impl RunEnd {
    /// The version deployed, if the run deployed one.
    pub fn deployed(&self) -> Option<&ModelRef> {
        match self {
            RunEnd::Deployed(d) => Some(&d.model),
            _ => None,
        }
    }
}

/// The stage that publishes events of `topic`.
pub fn producer(topic: Topic) -> &'static str {
    match topic {
        Topic::SourceDataAvailable => "announce",
        Topic::RawDataExtracted => "ingest",
        Topic::FeaturesGenerated => "prepare",
        Topic::ModelTrained => "train",
        Topic::ModelReady | Topic::ModelRejected => "evaluate",
        Topic::ModelDeployed => "deploy",
        Topic::ScoresGenerated => "score",
        Topic::PredictionServed => "serve",
        Topic::OutcomeObserved => "outcomes",
        Topic::ModelDegraded => "monitor",
    }
}

/// Consumer groups whose failure ends a run: the stages on its path to deployment.
const PATH_GROUPS: &[&str] = &[
    mlpipe_ingest::service::GROUP,
    mlpipe_features::service::GROUP,
    mlpipe_models::service::GROUP,
    mlpipe_eval::service::GROUP,
    mlpipe_serve::deploy::GROUP,
];

#[derive(Clone, Debug)]
enum Seen {
    Event(Envelope),
    DeadLetter {
        envelope: Envelope,
        topic: String,
        group: String,
        reason: String,
        attempts: u32,
    },
}

impl Seen {
    /// The id whose run this belongs to, and the id it adds to that run.
    fn link(&self) -> (Option<&EventId>, &EventId) {
        match self {
            Seen::Event(e) => (e.caused_by.as_ref(), &e.id),
            Seen::DeadLetter { envelope, .. } => (None, &envelope.id),
        }
    }
}

/// Orphans (events whose cause is not known yet) are kept this long, and this many.
const ORPHAN_TTL: Duration = Duration::from_secs(600);
const ORPHAN_MAX: usize = 10_000;

#[derive(Default)]
struct State {
    next: u64,
    runs: HashMap<u64, mpsc::UnboundedSender<Seen>>,
    owner: HashMap<EventId, u64>,
    orphans: VecDeque<(Instant, Seen)>,
}

impl State {
    fn run_of(&self, seen: &Seen) -> Option<u64> {
        let (cause, id) = seen.link();
        self.owner
            .get(id)
            .or_else(|| cause.and_then(|c| self.owner.get(c)))
            .copied()
    }

    /// Hands `seen` to its run, then every kept orphan it makes known.
    fn offer(&mut self, seen: Seen) {
        let Some(run) = self.run_of(&seen) else {
            let now = Instant::now();
            while self
                .orphans
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > ORPHAN_TTL)
                || self.orphans.len() >= ORPHAN_MAX
            {
                self.orphans.pop_front();
            }
            self.orphans.push_back((now, seen));
            return;
        };
        let mut queue = vec![(run, seen)];
        while let Some((run, seen)) = queue.pop() {
            let (_, id) = seen.link();
            let new = self.owner.insert(id.clone(), run).is_none();
            if let Some(tx) = self.runs.get(&run) {
                let _ = tx.send(seen);
            }
            if new {
                queue.extend(self.adopt(run).into_iter().map(|o| (run, o)));
            }
        }
    }

    /// Takes out the kept orphans that belong to `run` now.
    fn adopt(&mut self, run: u64) -> Vec<Seen> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < self.orphans.len() {
            if self.run_of(&self.orphans[i].1) == Some(run) {
                if let Some((_, o)) = self.orphans.remove(i) {
                    found.push(o);
                }
            } else {
                i += 1;
            }
        }
        found
    }

    fn forget(&mut self, run: u64) {
        self.runs.remove(&run);
        self.owner.retain(|_, r| *r != run);
    }
}

/// The process's follower of runs.
pub struct Runs {
    broker: Arc<dyn Broker>,
    state: Arc<Mutex<State>>,
    handle: Mutex<Option<ServiceHandle>>,
}

fn seen_of(message: &Message) -> Option<Seen> {
    let envelope = message.envelope().ok()?;
    Some(match message.dead_letter() {
        Some(dl) => Seen::DeadLetter {
            envelope,
            topic: dl.topic,
            group: dl.group,
            reason: dl.error,
            attempts: dl.attempts.unwrap_or(0),
        },
        None => Seen::Event(envelope),
    })
}

impl Runs {
    /// Subscribes (under a consumer group of this process's own) to every topic and
    /// dead-letter topic of `broker`.
    pub async fn start(broker: Arc<dyn Broker>) -> Result<Arc<Self>> {
        let group = format!("mlpipe-runs-{}", EventId::generate());
        let state = Arc::new(Mutex::new(State::default()));
        let topics = Topic::ALL
            .iter()
            .flat_map(|t| [t.as_str().to_string(), dead_letter_topic(t.as_str())])
            .collect();
        let shared = state.clone();
        let on = move |d: Delivery| {
            let state = shared.clone();
            async move {
                let seen = seen_of(&d.message);
                let _ = d.ack().await;
                if let Some(seen) = seen {
                    state.lock().offer(seen);
                }
            }
        };
        let handle = spawn_consumer(
            broker.clone(),
            topics,
            &group,
            SubscribeOptions::default(),
            on,
        )
        .await?;
        Ok(Arc::new(Self {
            broker,
            state,
            handle: Mutex::new(Some(handle)),
        }))
    }

    /// Announces `source` for `dataset` (a `source-data-available` event) and follows
    /// the run it starts; `stages` says where the run ends (a dataset without features
    /// ends at ingestion, one without training at preparation).
    pub async fn announce(
        &self,
        stages: &StageConfig,
        dataset: &str,
        source: SourceRef,
    ) -> Result<RunHandle> {
        let envelope = Envelope::new(Event::SourceDataAvailable(SourceDataAvailable {
            dataset: dataset.to_string(),
            source,
        }));
        let handle = self.follow(stages, dataset, &envelope.id);
        self.broker.publish_event(&envelope).await?;
        Ok(handle)
    }

    /// Follows the run started by the event `id` (published already or about to be).
    pub fn follow(&self, stages: &StageConfig, dataset: &str, id: &EventId) -> RunHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut st = self.state.lock();
        let key = st.next;
        st.next += 1;
        st.runs.insert(key, tx);
        st.owner.insert(id.clone(), key);
        // What arrived before the run was followed.
        for o in st.adopt(key) {
            st.offer(o);
        }
        RunHandle {
            id: id.clone(),
            dataset: dataset.to_string(),
            features: stages.features.datasets.contains_key(dataset),
            training: stages.training.datasets.contains_key(dataset),
            rx,
            key,
            state: self.state.clone(),
            result: None,
        }
    }

    /// Stops following.
    pub async fn shutdown(&self) {
        let h = self.handle.lock().take();
        if let Some(h) = h {
            h.shutdown().await;
        }
    }
}

/// One run being followed: its outcomes as they happen, and how it ended.
pub struct RunHandle {
    /// The id of the event that started the run.
    pub id: EventId,
    dataset: String,
    features: bool,
    training: bool,
    rx: mpsc::UnboundedReceiver<Seen>,
    key: u64,
    state: Arc<Mutex<State>>,
    result: Option<Result<RunEnd>>,
}

impl Drop for RunHandle {
    fn drop(&mut self) {
        self.state.lock().forget(self.key);
    }
}

impl RunHandle {
    /// The next thing a stage did for the run; `None` once the run has ended (after the
    /// outcome that ended it; [`outcome`](Self::outcome) then says how).
    pub async fn next(&mut self) -> Option<StageOutcome> {
        if self.result.is_some() {
            return None;
        }
        let seen = self.rx.recv().await?;
        Some(match seen {
            Seen::Event(event) => {
                if let Some(end) = self.end_of(&event) {
                    self.result = Some(Ok(end));
                }
                StageOutcome::Completed {
                    stage: producer(event.topic()),
                    event,
                }
            }
            Seen::DeadLetter {
                topic,
                group,
                reason,
                attempts,
                ..
            } => {
                let stage = group.strip_prefix("mlpipe-").unwrap_or(&group).to_string();
                if PATH_GROUPS.contains(&group.as_str()) {
                    self.result = Some(Err(Error::Stage {
                        stage: stage.clone(),
                        topic: topic.clone(),
                        reason: reason.clone(),
                        attempts,
                    }));
                }
                StageOutcome::Failed {
                    stage,
                    topic,
                    reason,
                    attempts,
                }
            }
        })
    }

    fn end_of(&self, env: &Envelope) -> Option<RunEnd> {
        match &env.event {
            Event::RawDataExtracted(e) if !self.features && e.dataset == self.dataset => {
                Some(RunEnd::Ingested(e.clone()))
            }
            Event::FeaturesGenerated(e) if !self.training && e.dataset == self.dataset => {
                Some(RunEnd::Prepared(e.clone()))
            }
            Event::ModelRejected(e) => Some(RunEnd::Rejected(e.clone())),
            Event::ModelDeployed(e) => Some(RunEnd::Deployed(e.clone())),
            _ => None,
        }
    }

    /// Waits for the end of the run (reading the outcomes not read yet): how it ended,
    /// or [`Error::Stage`] for the stage that failed on the way.
    pub async fn outcome(mut self) -> Result<RunEnd> {
        while self.result.is_none() {
            if self.next().await.is_none() {
                break;
            }
        }
        self.result.take().unwrap_or_else(|| {
            Err(Error::Core(mlpipe_core::Error::Config(
                "the run follower stopped before the run ended".into(),
            )))
        })
    }
}
