//! The online path end to end: records pushed into online ingestion are persisted in raw
//! batches *and* handed at once to online feature preparation, so their features are in
//! the online store before the next request asks for them.
//!
//! ```no_run
//! # async fn f(stores: mlpipe::core::store::Stores, broker: std::sync::Arc<dyn mlpipe::core::broker::Broker>,
//! #   preparer: mlpipe::features::OnlinePreparer, schema: mlpipe::core::SchemaRef) -> Result<(), Box<dyn std::error::Error>> {
//! use mlpipe::ingest::{OnlineConfig, OnlineIngestion};
//! use std::sync::Arc;
//! let mut config = OnlineConfig::new("clicks", schema);
//! config.sink = Some(Arc::new(mlpipe::online::PrepareOnline::new(Arc::new(preparer))));
//! let (ingestor, task) = OnlineIngestion::start(stores, broker, config)?;
//! // ingestor.push(row).await? — features of `row` are online when push returns.
//! drop(ingestor);
//! task.wait().await?;
//! # Ok(()) }
//! ```

use async_trait::async_trait;
use mlpipe_core::Row;
use mlpipe_features::OnlinePreparer;
use mlpipe_ingest::RecordSink;
use std::sync::Arc;

/// A [`RecordSink`] that prepares each record's features online with one fitted
/// pipeline (see [`OnlinePreparer`]); when the online ingestion stops, the records the
/// preparer still keeps are written offline.
pub struct PrepareOnline(Arc<OnlinePreparer>);

impl PrepareOnline {
    /// Hands records to `preparer`.
    pub fn new(preparer: Arc<OnlinePreparer>) -> Self {
        Self(preparer)
    }

    /// The preparer (to [`flush`](OnlinePreparer::flush) its kept records offline).
    pub fn preparer(&self) -> &Arc<OnlinePreparer> {
        &self.0
    }
}

#[async_trait]
impl RecordSink for PrepareOnline {
    async fn record(&self, row: &Row) -> mlpipe_core::Result<()> {
        self.0
            .prepare(row)
            .await
            .map(|_| ())
            .map_err(|e| mlpipe_core::Error::invalid(format!("online preparation: {e}")))
    }

    /// Persists the records the preparer still keeps as an offline feature batch.
    async fn close(&self) -> mlpipe_core::Result<()> {
        self.0.flush().await.map(|_| ()).map_err(|e| {
            mlpipe_core::Error::invalid(format!("online preparation, final flush: {e}"))
        })
    }
}
