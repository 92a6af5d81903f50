//! Online ingestion: records handed on at once, buffered into raw batches by size and by
//! age, flushed when the last ingestor is dropped or on shutdown, bad records quarantined,
//! lineage and `raw-data-extracted` for each batch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use mlpipe_core::broker::{Broker, BrokerExt, InProcessBroker, SubscribeOptions};
use mlpipe_core::events::{Event, Topic};
use mlpipe_core::store::{Node, Stores};
use mlpipe_core::table::rows_of;
use mlpipe_core::Row;
use mlpipe_ingest::*;
use std::sync::Arc;
use std::time::Duration;

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("user", DataType::Utf8, false),
        Field::new("amount", DataType::Float64, true),
    ]))
}

fn row(i: i64) -> Row {
    Row::new()
        .with("user", format!("u{i}"))
        .with("amount", i as f64 * 1.5)
}

fn config(max_rows: usize, max_age: Duration) -> OnlineConfig {
    let mut c = OnlineConfig::new("clicks", schema());
    c.max_rows = max_rows;
    c.max_age = max_age;
    c
}

fn broker() -> Arc<dyn Broker> {
    Arc::new(InProcessBroker::new())
}

async fn stored_rows(stores: &Stores) -> Vec<Row> {
    let mut all = Vec::new();
    for info in stores.raw.list(Some("clicks")).await.unwrap() {
        for b in stores.raw.read(&info.id).await.unwrap() {
            all.extend(rows_of(&b).unwrap());
        }
    }
    all
}

#[tokio::test]
async fn dropping_every_ingestor_persists_every_row() {
    let stores = Stores::in_memory();
    let (ingestor, task) = OnlineIngestion::start(
        stores.clone(),
        broker(),
        config(1000, Duration::from_secs(3600)),
    )
    .unwrap();
    let other = ingestor.clone();
    let writer = tokio::spawn(async move {
        for i in 50..100 {
            other.push(row(i)).await.unwrap();
        }
    });
    for i in 0..50 {
        ingestor.push(row(i)).await.unwrap();
    }
    writer.await.unwrap();
    assert!(
        stores.raw.list(None).await.unwrap().is_empty(),
        "nothing persisted before a trigger"
    );
    drop(ingestor);
    let written = task.wait().await.unwrap();
    assert_eq!((written.rows, written.batches.len()), (100, 1));
    let mut back = stored_rows(&stores).await;
    back.sort_by_key(|r| r.f64("amount").map(|a| (a * 2.0) as i64));
    assert_eq!(back, (0..100).map(row).collect::<Vec<_>>());
    let info = &written.batches[0];
    assert_eq!(info.meta.format, "online");
    assert_eq!(info.meta.source, "online:clicks");
    assert_eq!(info.summary.checksum.len(), 32);
}

#[tokio::test]
async fn the_buffer_is_flushed_when_it_reaches_max_rows() {
    let stores = Stores::in_memory();
    let (ingestor, task) = OnlineIngestion::start(
        stores.clone(),
        broker(),
        config(3, Duration::from_secs(3600)),
    )
    .unwrap();
    for i in 0..7 {
        ingestor.push(row(i)).await.unwrap();
    }
    // The size trigger does not wait for shutdown.
    let mut listed = Vec::new();
    for _ in 0..200 {
        listed = stores.raw.list(Some("clicks")).await.unwrap();
        if listed.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        listed.iter().map(|b| b.rows).collect::<Vec<_>>(),
        vec![3, 3]
    );
    let written = task.shutdown().await.unwrap();
    assert_eq!(
        written.batches.iter().map(|b| b.rows).collect::<Vec<_>>(),
        vec![3, 3, 1]
    );
    assert_eq!(
        stored_rows(&stores).await,
        (0..7).map(row).collect::<Vec<_>>()
    );
    // After shutdown the ingestor refuses records instead of losing them.
    let e = ingestor.push(row(8)).await;
    assert!(matches!(e, Err(IngestError::OnlineStopped(_))), "{e:?}");
}

#[tokio::test(start_paused = true)]
async fn the_buffer_is_flushed_when_its_oldest_row_reaches_max_age() {
    let stores = Stores::in_memory();
    let (ingestor, task) = OnlineIngestion::start(
        stores.clone(),
        broker(),
        config(1000, Duration::from_secs(10)),
    )
    .unwrap();
    ingestor.push(row(1)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    ingestor.push(row(2)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        stores.raw.list(None).await.unwrap().is_empty(),
        "8 s after the first row: not yet"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let listed = stores.raw.list(None).await.unwrap();
    assert_eq!(listed.len(), 1, "11 s after the first row: flushed by age");
    assert_eq!(listed[0].rows, 2);
    // An idle ingestion writes no empty batches.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(stores.raw.list(None).await.unwrap().len(), 1);
    ingestor.push(row(3)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(stores.raw.list(None).await.unwrap().len(), 2);
    drop(ingestor);
    assert_eq!(task.wait().await.unwrap().rows, 3);
}

#[tokio::test]
async fn each_row_is_handed_on_at_once_and_bad_rows_are_quarantined_not_lost() {
    let stores = Stores::in_memory();
    let (sink, mut downstream) = channel_sink(16);
    let mut c = config(1000, Duration::from_secs(3600));
    c.sink = Some(sink);
    let (ingestor, task) = OnlineIngestion::start(stores.clone(), broker(), c).unwrap();

    ingestor.push(row(1)).await.unwrap();
    assert_eq!(
        downstream.try_recv().unwrap(),
        row(1),
        "handed on before any flush"
    );
    assert!(stores.raw.list(None).await.unwrap().is_empty());

    let bad = Row::new().with("user", "u2").with("amount", "lots");
    match ingestor.push(bad).await {
        Err(IngestError::Rejected(reason)) => {
            assert!(
                reason.contains("field `amount`: expected a number"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    let missing = Row::new().with("amount", 1.0);
    assert!(matches!(
        ingestor.push(missing).await,
        Err(IngestError::Rejected(_))
    ));
    ingestor.push(row(4)).await.unwrap();
    assert_eq!(
        downstream.try_recv().unwrap(),
        row(4),
        "bad rows are not handed on"
    );

    let flushed = ingestor.flush().await.unwrap().unwrap();
    assert_eq!((flushed.rows, flushed.quarantined), (2, 2));
    assert!(
        ingestor.flush().await.unwrap().is_none(),
        "nothing buffered"
    );
    let q = stores.raw.quarantined(&flushed.id).await.unwrap();
    assert_eq!(q.iter().map(|r| r.row).collect::<Vec<_>>(), vec![2, 3]);
    assert_eq!(q[0].raw, r#"{"amount":"lots","user":"u2"}"#);
    assert!(
        q[1].reason.contains("`user` is required"),
        "{}",
        q[1].reason
    );
    drop(ingestor);
    let written = task.wait().await.unwrap();
    assert_eq!((written.rows, written.quarantined), (2, 2));
}

#[tokio::test]
async fn each_batch_has_lineage_and_is_announced() {
    let stores = Stores::in_memory();
    let broker = Arc::new(InProcessBroker::new());
    let mut events = broker
        .subscribe_topic(Topic::RawDataExtracted, "t", SubscribeOptions::default())
        .await
        .unwrap();
    let mut c = config(2, Duration::from_secs(3600));
    c.source = Some("kafka://clicks".into());
    let (ingestor, task) = OnlineIngestion::start(stores.clone(), broker.clone(), c).unwrap();
    for i in 0..3 {
        ingestor.push(row(i)).await.unwrap();
    }
    let written = task.shutdown().await.unwrap();
    assert_eq!(written.batches.len(), 2);
    for info in &written.batches {
        let d = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let Event::RawDataExtracted(e) = d.message.envelope().unwrap().event else {
            panic!("wrong event")
        };
        assert_eq!((e.batch_id.clone(), e.rows), (info.id.clone(), info.rows));
        d.ack().await.unwrap();
        let up = stores
            .lineage
            .upstream(&Node::RawBatch(info.id.clone()))
            .await
            .unwrap();
        assert!(up
            .iter()
            .any(|l| l.from == Node::Source("kafka://clicks".into())));
    }

    // Without `announce`, nothing is published.
    let mut c = config(1, Duration::from_secs(3600));
    c.announce = false;
    let (ingestor, task) = OnlineIngestion::start(stores.clone(), broker.clone(), c).unwrap();
    ingestor.push(row(9)).await.unwrap();
    drop(ingestor);
    assert_eq!(task.wait().await.unwrap().batches.len(), 1);
    let none = tokio::time::timeout(Duration::from_millis(200), events.next()).await;
    assert!(none.is_err(), "no event expected");
}

#[tokio::test]
async fn invalid_settings_are_refused() {
    let e = OnlineIngestion::start(
        Stores::in_memory(),
        broker(),
        config(0, Duration::from_secs(1)),
    );
    assert!(matches!(e, Err(IngestError::InvalidOption(_))));
    let mut c = config(10, Duration::from_secs(1));
    c.schema = Arc::new(Schema::new(vec![Field::new("d", DataType::Date32, true)]));
    assert!(matches!(
        OnlineIngestion::start(Stores::in_memory(), broker(), c),
        Err(IngestError::InvalidOption(_))
    ));
}

/// A raw store whose first `fail` batch creations fail, as a store that is briefly down.
struct Flaky {
    inner: Arc<dyn mlpipe_core::store::RawStore>,
    fail: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl mlpipe_core::store::RawStore for Flaky {
    async fn create(
        &self,
        id: &mlpipe_core::BatchId,
        meta: mlpipe_core::store::BatchMeta,
        schema: SchemaRef,
    ) -> mlpipe_core::Result<Box<dyn mlpipe_core::store::RawBatchWriter>> {
        use std::sync::atomic::Ordering;
        if self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(mlpipe_core::Error::backend("flaky", "store unavailable"));
        }
        self.inner.create(id, meta, schema).await
    }
    async fn info(
        &self,
        id: &mlpipe_core::BatchId,
    ) -> mlpipe_core::Result<mlpipe_core::store::BatchInfo> {
        self.inner.info(id).await
    }
    async fn read(
        &self,
        id: &mlpipe_core::BatchId,
    ) -> mlpipe_core::Result<Vec<arrow_array::RecordBatch>> {
        self.inner.read(id).await
    }
    async fn quarantined(
        &self,
        id: &mlpipe_core::BatchId,
    ) -> mlpipe_core::Result<Vec<mlpipe_core::store::QuarantinedRecord>> {
        self.inner.quarantined(id).await
    }
    async fn list(
        &self,
        dataset: Option<&str>,
    ) -> mlpipe_core::Result<Vec<mlpipe_core::store::BatchInfo>> {
        self.inner.list(dataset).await
    }
}

#[tokio::test]
async fn a_failed_flush_keeps_the_buffer_and_the_next_one_writes_it_to_a_durable_store() {
    let dir = tempfile::tempdir().unwrap();
    let durable: Arc<dyn mlpipe_core::store::RawStore> =
        Arc::new(mlpipe_parquet::ParquetStore::local(dir.path()).unwrap());
    let stores = Stores {
        raw: Arc::new(Flaky {
            inner: durable.clone(),
            fail: 1.into(),
        }),
        ..Stores::in_memory()
    };
    let (ingestor, task) = OnlineIngestion::start(
        stores.clone(),
        broker(),
        config(2, Duration::from_secs(3600)),
    )
    .unwrap();
    ingestor.push(row(0)).await.unwrap();
    ingestor.push(row(1)).await.unwrap(); // size trigger: this flush fails
    let retried = ingestor.flush().await.unwrap();
    assert_eq!(
        retried.map(|b| b.rows),
        Some(2),
        "the size-triggered flush failed and kept its rows; this one writes them"
    );
    ingestor.push(row(2)).await.unwrap();
    drop(ingestor);
    let written = task.wait().await.unwrap();
    assert_eq!(
        written.batches.iter().map(|b| b.rows).collect::<Vec<_>>(),
        vec![2, 1]
    );
    // Read back through a new handle on the same directory: durable.
    let reopened = mlpipe_parquet::ParquetStore::local(dir.path()).unwrap();
    let stores = Stores {
        raw: Arc::new(reopened),
        ..Stores::in_memory()
    };
    assert_eq!(
        stored_rows(&stores).await,
        (0..3).map(row).collect::<Vec<_>>()
    );
}

/// While the store is down the buffer stops at `max_buffered`: `push` waits instead of
/// memory growing, and once a retry succeeds every record is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_store_makes_push_wait_at_the_buffer_limit_and_loses_nothing() {
    let stores = Stores {
        raw: Arc::new(Flaky {
            inner: Arc::new(mlpipe_core::store::memory::MemoryRawStore::default()),
            fail: 1.into(),
        }),
        ..Stores::in_memory()
    };
    let mut c = config(2, Duration::from_secs(3600));
    c.max_buffered = Some(4);
    let (ingestor, task) = OnlineIngestion::start(stores.clone(), broker(), c).unwrap();
    // 2 rows trigger the failing flush; 2 more fill the buffer; then the channel fills.
    let mut pushed = 0i64;
    let blocked = loop {
        match tokio::time::timeout(Duration::from_millis(300), ingestor.push(row(pushed))).await {
            Ok(r) => {
                r.unwrap();
                pushed += 1;
                assert!(pushed < 100, "push never waited: the buffer is not bounded");
            }
            Err(_) => break pushed,
        }
    };
    assert!(blocked >= 4, "the first rows are taken ({blocked})");
    // The retry (a second after the failure) succeeds and the waiting push goes through.
    ingestor.push(row(blocked)).await.unwrap();
    drop(ingestor);
    let written = task.wait().await.unwrap();
    assert_eq!(written.rows, (blocked + 1) as u64);
    assert_eq!(
        stored_rows(&stores).await,
        (0..=blocked).map(row).collect::<Vec<_>>()
    );
}
