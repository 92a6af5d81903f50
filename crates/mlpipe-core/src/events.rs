//! The pipeline events and their topics.
//!
//! Events carry ids and small counts, never payload data: the data is in the stores, the
//! event says where to find it. Every event travels in an [`Envelope`] that gives it an id
//! (redeliveries keep it, so handlers can be idempotent), a time and its cause.

use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The topics of the pipeline, one per event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topic {
    /// A producer says new source data can be ingested.
    SourceDataAvailable,
    /// Ingestion persisted a raw batch.
    RawDataExtracted,
    /// Preparation wrote features for a feature set.
    FeaturesGenerated,
    /// Training saved candidates.
    ModelTrained,
    /// Evaluation chose a candidate for deployment.
    ModelReady,
    /// A model version went live.
    ModelDeployed,
    /// Batch scoring wrote scores.
    ScoresGenerated,
    /// An online request was answered.
    PredictionServed,
    /// The true outcome of an earlier prediction arrived.
    OutcomeObserved,
    /// Monitoring found a model performing worse than allowed.
    ModelDegraded,
    /// An evaluation run chose no candidate: none met the thresholds or beat the deployed
    /// version (the reasons are in the event and the audit trail).
    ModelRejected,
}

impl Topic {
    /// Every topic, in pipeline order.
    pub const ALL: [Topic; 11] = [
        Topic::SourceDataAvailable,
        Topic::RawDataExtracted,
        Topic::FeaturesGenerated,
        Topic::ModelTrained,
        Topic::ModelReady,
        Topic::ModelDeployed,
        Topic::ScoresGenerated,
        Topic::PredictionServed,
        Topic::OutcomeObserved,
        Topic::ModelDegraded,
        Topic::ModelRejected,
    ];

    /// The topic's name on the broker, e.g. `raw-data-extracted`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Topic::SourceDataAvailable => "source-data-available",
            Topic::RawDataExtracted => "raw-data-extracted",
            Topic::FeaturesGenerated => "features-generated",
            Topic::ModelTrained => "model-trained",
            Topic::ModelReady => "model-ready",
            Topic::ModelDeployed => "model-deployed",
            Topic::ScoresGenerated => "scores-generated",
            Topic::PredictionServed => "prediction-served",
            Topic::OutcomeObserved => "outcome-observed",
            Topic::ModelDegraded => "model-degraded",
            Topic::ModelRejected => "model-rejected",
        }
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where source data is and how to read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceRef {
    /// Location, e.g. `file:///data/in.csv` or a plain path.
    pub uri: String,
    /// Format name understood by ingestion: `csv`, `jsonl`, `parquet`, …
    pub format: String,
    /// Format options (delimiter, header, …).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// `source-data-available`: a producer announces data to ingest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceDataAvailable {
    /// Logical dataset the data belongs to, e.g. `breast-cancer`.
    pub dataset: String,
    /// Where the data is.
    pub source: SourceRef,
}

/// `raw-data-extracted`: a raw batch was persisted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawDataExtracted {
    /// Dataset of the batch.
    pub dataset: String,
    /// The persisted batch.
    pub batch_id: BatchId,
    /// Rows stored.
    pub rows: u64,
    /// Rows quarantined.
    pub quarantined: u64,
}

/// `features-generated`: features for a feature set were written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeaturesGenerated {
    /// Dataset the features describe.
    pub dataset: String,
    /// The fitted feature set.
    pub feature_set_id: FeatureSetId,
    /// Raw batches the features were computed from.
    pub batch_ids: Vec<BatchId>,
    /// Rows written.
    pub rows: u64,
}

/// `model-trained`: a training run saved its candidates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelTrained {
    /// The training run.
    pub run_id: RunId,
    /// Dataset trained on.
    pub dataset: String,
    /// Features the candidates consume.
    pub feature_set_id: FeatureSetId,
    /// The split the training rows came from.
    pub split_id: SplitId,
    /// Candidates saved in the registry.
    pub candidates: Vec<ModelRef>,
    /// Candidates that failed after all retries, with the reason.
    #[serde(default)]
    pub failed: Vec<(String, String)>,
}

/// `model-ready`: evaluation chose a model for deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelReady {
    /// The chosen model.
    pub model: ModelRef,
    /// The evaluation run that chose it.
    pub evaluation_run: RunId,
    /// Metric it was chosen by.
    pub metric: String,
    /// Its value.
    pub value: f64,
}

/// `model-deployed`: a model version is live.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelDeployed {
    /// The version now live (and default).
    pub model: ModelRef,
    /// The version it replaced as default, if any.
    pub previous: Option<ModelRef>,
}

/// `scores-generated`: a batch-scoring run saved its scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoresGenerated {
    /// The scoring run (scores are stored under it).
    pub run_id: RunId,
    /// The model that scored.
    pub model: ModelRef,
    /// Features scored.
    pub feature_set_id: FeatureSetId,
    /// Raw batches the scored features came from.
    pub batch_ids: Vec<BatchId>,
    /// Rows scored.
    pub rows: u64,
}

/// `prediction-served`: an online request was answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PredictionServed {
    /// The request.
    pub request_id: RequestId,
    /// The version that answered.
    pub model: ModelRef,
    /// Time spent answering, in microseconds.
    pub latency_us: u64,
    /// Whether a fallback version answered instead of the one asked for.
    pub fallback: bool,
}

/// `outcome-observed`: the true outcome of a request is in the score store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeObserved {
    /// The request whose outcome arrived.
    pub request_id: RequestId,
}

/// `model-degraded`: a model's measured quality fell below its threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelDegraded {
    /// The degraded version.
    pub model: ModelRef,
    /// The metric that fell.
    pub metric: String,
    /// Its measured value.
    pub value: f64,
    /// The threshold it crossed.
    pub threshold: f64,
    /// The version that took over, if one did.
    pub reverted_to: Option<ModelRef>,
}

/// No candidate of an evaluation run qualified for deployment (`model-rejected`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelRejected {
    /// The model line the candidates belong to.
    pub model: ModelId,
    /// The evaluation run.
    pub evaluation_run: RunId,
    /// The candidates evaluated.
    pub candidates: Vec<ModelRef>,
    /// Why none qualifies, one line per reason.
    pub reasons: Vec<String>,
}

/// Any pipeline event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Event {
    SourceDataAvailable(SourceDataAvailable),
    RawDataExtracted(RawDataExtracted),
    FeaturesGenerated(FeaturesGenerated),
    ModelTrained(ModelTrained),
    ModelReady(ModelReady),
    ModelDeployed(ModelDeployed),
    ScoresGenerated(ScoresGenerated),
    PredictionServed(PredictionServed),
    OutcomeObserved(OutcomeObserved),
    ModelDegraded(ModelDegraded),
    ModelRejected(ModelRejected),
}

impl Event {
    /// The topic this event is published on.
    pub fn topic(&self) -> Topic {
        match self {
            Event::SourceDataAvailable(_) => Topic::SourceDataAvailable,
            Event::RawDataExtracted(_) => Topic::RawDataExtracted,
            Event::FeaturesGenerated(_) => Topic::FeaturesGenerated,
            Event::ModelTrained(_) => Topic::ModelTrained,
            Event::ModelReady(_) => Topic::ModelReady,
            Event::ModelDeployed(_) => Topic::ModelDeployed,
            Event::ScoresGenerated(_) => Topic::ScoresGenerated,
            Event::PredictionServed(_) => Topic::PredictionServed,
            Event::OutcomeObserved(_) => Topic::OutcomeObserved,
            Event::ModelDegraded(_) => Topic::ModelDegraded,
            Event::ModelRejected(_) => Topic::ModelRejected,
        }
    }
}

/// An event with its identity: the unit that travels on the broker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Unique id; a redelivery carries the same id.
    pub id: EventId,
    /// When the event was created.
    pub occurred_at: DateTime<Utc>,
    /// The event that caused this one, for tracing a chain of stages.
    pub caused_by: Option<EventId>,
    /// The event itself.
    pub event: Event,
}

impl Envelope {
    /// Wraps an event with a fresh id and the current time.
    pub fn new(event: Event) -> Self {
        Self {
            id: EventId::generate(),
            occurred_at: Utc::now(),
            caused_by: None,
            event,
        }
    }

    /// Wraps an event caused by `cause`.
    pub fn caused_by(event: Event, cause: &EventId) -> Self {
        Self {
            caused_by: Some(cause.clone()),
            ..Self::new(event)
        }
    }

    /// An envelope caused by `cause` whose id is derived from the cause and `what` (what
    /// the handler produced, e.g. the feature set and batch): a handler that runs again
    /// on a redelivery of the cause publishes the same id, so consumers that derive their
    /// work from event ids do it once (and JetStream drops the duplicate).
    pub fn derived_from(event: Event, cause: &EventId, what: &str) -> Self {
        Self {
            id: EventId::derived(&format!("{cause}|{}|{what}", event.topic())),
            ..Self::caused_by(event, cause)
        }
    }

    /// The envelope a handler publishes for what it produced (`what`, e.g. the feature
    /// set and batch): derived from the event it handles when there is one (so a
    /// redelivery republishes the same id, see [`Self::derived_from`]), fresh otherwise
    /// (a direct API call). Every stage publishes through this one rule.
    pub fn after(event: Event, cause: Option<&EventId>, what: &str) -> Self {
        match cause {
            Some(c) => Self::derived_from(event, c, what),
            None => Self::new(event),
        }
    }

    /// The event's topic.
    pub fn topic(&self) -> Topic {
        self.event.topic()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips_and_names_its_topic() {
        let m = ModelRef::new("m", 1);
        let events = vec![
            Event::SourceDataAvailable(SourceDataAvailable {
                dataset: "d".into(),
                source: SourceRef {
                    uri: "x.csv".into(),
                    format: "csv".into(),
                    options: Default::default(),
                },
            }),
            Event::RawDataExtracted(RawDataExtracted {
                dataset: "d".into(),
                batch_id: BatchId::new("b"),
                rows: 3,
                quarantined: 0,
            }),
            Event::FeaturesGenerated(FeaturesGenerated {
                dataset: "d".into(),
                feature_set_id: FeatureSetId::new("f"),
                batch_ids: vec![BatchId::new("b")],
                rows: 3,
            }),
            Event::ModelTrained(ModelTrained {
                run_id: RunId::new("r"),
                dataset: "d".into(),
                feature_set_id: FeatureSetId::new("f"),
                split_id: SplitId::new("s"),
                candidates: vec![m.clone()],
                failed: vec![],
            }),
            Event::ModelReady(ModelReady {
                model: m.clone(),
                evaluation_run: RunId::new("e"),
                metric: "auc".into(),
                value: 0.9,
            }),
            Event::ModelDeployed(ModelDeployed {
                model: m.clone(),
                previous: None,
            }),
            Event::ScoresGenerated(ScoresGenerated {
                run_id: RunId::new("r"),
                model: m.clone(),
                feature_set_id: FeatureSetId::new("f"),
                batch_ids: vec![],
                rows: 1,
            }),
            Event::PredictionServed(PredictionServed {
                request_id: RequestId::new("q"),
                model: m.clone(),
                latency_us: 5,
                fallback: false,
            }),
            Event::OutcomeObserved(OutcomeObserved {
                request_id: RequestId::new("q"),
            }),
            Event::ModelDegraded(ModelDegraded {
                model: m,
                metric: "accuracy".into(),
                value: 0.5,
                threshold: 0.8,
                reverted_to: None,
            }),
            Event::ModelRejected(ModelRejected {
                model: ModelId::new("m"),
                evaluation_run: RunId::new("r"),
                candidates: vec![ModelRef::new("m", 1)],
                reasons: vec!["m@1: accuracy 0.5 < 0.9".into()],
            }),
        ];
        assert_eq!(events.len(), Topic::ALL.len());
        for (e, t) in events.into_iter().zip(Topic::ALL) {
            assert_eq!(e.topic(), t);
            let env = Envelope::new(e);
            let json = serde_json::to_string(&env).unwrap_or_default();
            assert!(json.contains(t.as_str()), "{json} should name {t}");
            let back: Envelope = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(back, env);
        }
    }
}
