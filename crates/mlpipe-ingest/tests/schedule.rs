//! Scheduled announcements, progress reporting and concurrent ingestion of datasets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mlpipe_core::broker::{Broker, BrokerExt, InProcessBroker, SubscribeOptions};
use mlpipe_core::events::{Event, SourceRef, Topic};
use mlpipe_core::service::StageExt as _;
use mlpipe_core::store::Stores;
use mlpipe_ingest::*;
use std::sync::Arc;
use std::time::Duration;

#[test]
fn schedules_parse_intervals_and_cron_and_refuse_nonsense() {
    let t = chrono::DateTime::parse_from_rfc3339("2026-03-01T10:07:30Z")
        .unwrap()
        .to_utc();
    let next = |s: &str| {
        Schedule::parse(s)
            .unwrap()
            .next_after(t)
            .unwrap()
            .to_rfc3339()
    };
    assert_eq!(next("every 30s"), "2026-03-01T10:08:00+00:00");
    // Intervals are aligned to the epoch, so every process ticks at the same instants.
    assert_eq!(next("every 2h"), "2026-03-01T12:00:00+00:00");
    assert_eq!(next("every 7m"), "2026-03-01T10:08:00+00:00");
    // At minute 0 and 30 of every hour.
    assert_eq!(next("0 0,30 * * * *"), "2026-03-01T10:30:00+00:00");
    // Daily at 02:00.
    assert_eq!(next("0 0 2 * * *"), "2026-03-02T02:00:00+00:00");
    for bad in [
        "every",
        "every 0s",
        "every 5 fortnights",
        "not a cron",
        "61 * * * * *",
    ] {
        assert!(
            matches!(Schedule::parse(bad), Err(mlpipe_core::Error::Config(_))),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_schedule_announces_its_source_on_every_tick() {
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let mut sub = broker
        .subscribe_topic(
            Topic::SourceDataAvailable,
            "test",
            SubscribeOptions::default(),
        )
        .await
        .unwrap();
    let handle = start_schedules(
        broker.clone(),
        &[ScheduledSource {
            dataset: "iris".into(),
            schedule: "every 1s".into(),
            source: SourceRef {
                uri: "data/iris.csv".into(),
                format: "csv".into(),
                options: Default::default(),
            },
        }],
    )
    .unwrap();
    for _ in 0..2 {
        let d = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await
            .expect("a tick within 5 s")
            .unwrap()
            .unwrap();
        let env = d.message.envelope().unwrap();
        match &env.event {
            Event::SourceDataAvailable(e) => assert_eq!(e.dataset, "iris"),
            other => panic!("unexpected {other:?}"),
        }
        d.ack().await.unwrap();
    }
    for h in handle {
        h.shutdown().await;
    }
    assert!(start_schedules(
        broker,
        &[ScheduledSource {
            dataset: "x".into(),
            schedule: "whenever".into(),
            source: SourceRef {
                uri: "x".into(),
                format: "csv".into(),
                options: Default::default()
            },
        }]
    )
    .is_err());
}

#[tokio::test]
async fn progress_is_reported_while_ingesting() {
    let stores = Stores::in_memory();
    let svc = IngestionService::new(
        stores,
        Arc::new(InProcessBroker::new()),
        IngestConfig::default(),
    );
    let progress = svc.progress();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/breast_cancer.csv");
    let mut src = CsvSource::new(path, CsvOptions::default());
    let report = svc.ingest("bc", &mut src, None).await.unwrap();
    let p = progress.borrow().clone();
    assert!(p.done);
    assert_eq!(p.rows, 569);
    assert_eq!(p.bad_rows, 0);
    assert!(p.bytes > 569 * 30 * 8);
    assert_eq!(p.batch, Some(report.batch.id));
    // The CSV source reports how far through the file it is: all of it, at the end.
    let size = std::fs::metadata(path).unwrap().len();
    assert_eq!(p.source_position, Some((size, Some(size))));
}

/// Two workers running the same schedule announce each tick under one id, and the
/// ingestion service turns each tick into exactly one batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_schedule_in_two_workers_ingests_each_tick_once() {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let mut seen = broker
        .subscribe_topic(
            Topic::SourceDataAvailable,
            "observer",
            SubscribeOptions::default(),
        )
        .await
        .unwrap();
    let svc = Arc::new(IngestionService::new(
        stores.clone(),
        broker.clone(),
        IngestConfig::default(),
    ));
    let ingest = svc
        .clone()
        .start(SubscribeOptions::default())
        .await
        .unwrap();
    let scheduled = [ScheduledSource {
        dataset: "bc".into(),
        schedule: "every 1s".into(),
        source: SourceRef {
            uri: concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/iris.csv").into(),
            format: "csv".into(),
            options: Default::default(),
        },
    }];
    let a = start_schedules(broker.clone(), &scheduled).unwrap();
    let b = start_schedules(broker.clone(), &scheduled).unwrap();
    let mut ids = Vec::new();
    for _ in 0..4 {
        let d = tokio::time::timeout(Duration::from_secs(5), seen.next())
            .await
            .expect("announcements")
            .unwrap()
            .unwrap();
        ids.push(d.message.envelope().unwrap().id);
        d.ack().await.unwrap();
    }
    for h in a.into_iter().chain(b) {
        h.shutdown().await;
    }
    let mut distinct = ids.clone();
    distinct.sort_by(|x, y| x.as_str().cmp(y.as_str()));
    distinct.dedup();
    assert!(
        distinct.len() < ids.len(),
        "copies share their tick's id: {ids:?}"
    );
    // Let the service finish, then count batches: one per distinct tick.
    tokio::time::sleep(Duration::from_millis(500)).await;
    ingest.shutdown().await;
    let batches = stores.raw.list(Some("bc")).await.unwrap();
    assert_eq!(batches.len(), distinct.len());
}
