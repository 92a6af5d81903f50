//! The ingestion service end to end on in-memory stores and broker: events in, raw batch,
//! lineage and `raw-data-extracted` out; redelivery is idempotent; too many bad rows fail.

use mlpipe_core::broker::{Broker, BrokerExt, InProcessBroker, SubscribeOptions};
use mlpipe_core::events::{Event, SourceRef, Topic};
use mlpipe_core::service::StageExt as _;
use mlpipe_core::store::*;
use mlpipe_core::Envelope;
use mlpipe_ingest::*;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

fn csv_file(content: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap_or_else(|e| panic!("{e}"));
    f.write_all(content.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    f
}

fn source(f: &tempfile::NamedTempFile) -> SourceRef {
    SourceRef {
        uri: f.path().display().to_string(),
        format: "csv".into(),
        options: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_in_batch_and_event_out_and_redelivery_ingests_once() {
    let stores = Stores::in_memory();
    let broker = Arc::new(InProcessBroker::new());
    let mut out = broker
        .subscribe_topic(Topic::RawDataExtracted, "test", SubscribeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let svc = Arc::new(IngestionService::new(
        stores.clone(),
        broker.clone(),
        IngestConfig::default(),
    ));
    let handle = svc
        .clone()
        .start(SubscribeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let f = csv_file("x,y\n1,2\n3,4\n5,6\n");
    let env = Envelope::new(Event::SourceDataAvailable(
        mlpipe_core::events::SourceDataAvailable {
            dataset: "toy".into(),
            source: source(&f),
        },
    ));
    broker
        .publish_event(&env)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The same event again, as a redelivery would bring it.
    broker
        .publish_event(&env)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut batch_ids = Vec::new();
    for _ in 0..2 {
        let d = tokio::time::timeout(Duration::from_secs(10), out.next())
            .await
            .unwrap_or_else(|_| panic!("no raw-data-extracted"))
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("closed"));
        let e = d.message.envelope().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.caused_by.as_ref(), Some(&env.id));
        let Event::RawDataExtracted(r) = e.event else {
            panic!("wrong event")
        };
        assert_eq!(r.rows, 3);
        batch_ids.push(r.batch_id);
        d.ack().await.unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        batch_ids[0], batch_ids[1],
        "the same event must map to the same batch"
    );
    let listed = stores.raw.list(Some("toy")).await.unwrap_or_default();
    assert_eq!(listed.len(), 1, "ingested once");
    let up = stores
        .lineage
        .upstream(&Node::RawBatch(batch_ids[0].clone()))
        .await
        .unwrap_or_default();
    assert!(up.iter().any(|l| matches!(&l.from, Node::Source(_))));
    assert!(up.iter().any(|l| l.from == Node::Event(env.id.clone())));
    assert_eq!(
        stores
            .lineage
            .audit_trail(None)
            .await
            .unwrap_or_default()
            .len(),
        1
    );
    handle.shutdown().await;
}

#[tokio::test]
async fn a_new_event_for_the_same_file_makes_a_new_batch_unless_deduplicating_by_content() {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let f = csv_file("x\n1\n");
    let svc = IngestionService::new(stores.clone(), broker.clone(), IngestConfig::default());
    for _ in 0..2 {
        let mut s = open_source(&source(&f)).unwrap_or_else(|e| panic!("{e}"));
        svc.ingest("d", s.as_mut(), Some(&mlpipe_core::EventId::generate()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        stores.raw.list(Some("d")).await.unwrap_or_default().len(),
        2
    );

    let stores = Stores::in_memory();
    let cfg = IngestConfig {
        dedupe: Dedupe::PerContent,
        ..Default::default()
    };
    let svc = IngestionService::new(stores.clone(), broker, cfg);
    let mut reports = Vec::new();
    for _ in 0..2 {
        let mut s = open_source(&source(&f)).unwrap_or_else(|e| panic!("{e}"));
        reports.push(
            svc.ingest("d", s.as_mut(), None)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    assert!(!reports[0].already_ingested);
    assert!(reports[1].already_ingested);
    assert_eq!(reports[0].batch.id, reports[1].batch.id);
    assert_eq!(
        stores.raw.list(Some("d")).await.unwrap_or_default().len(),
        1
    );
}

#[tokio::test]
async fn quarantined_rows_are_stored_with_the_batch_and_too_many_fail_it() {
    let stores = Stores::in_memory();
    let broker: Arc<dyn Broker> = Arc::new(InProcessBroker::new());
    let f =
        csv_file("x,y\n1,2\n3,oops\n5,6\n7,8\n9,10\n11,12\n13,14\n15,16\n17,18\n19,20\n21,22\n");
    let svc = IngestionService::new(stores.clone(), broker.clone(), IngestConfig::default());
    let mut s = open_source(&source(&f)).unwrap_or_else(|e| panic!("{e}"));
    let r = svc
        .ingest("d", s.as_mut(), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((r.batch.rows, r.batch.quarantined), (10, 1));
    let q = stores
        .raw
        .quarantined(&r.batch.id)
        .await
        .unwrap_or_default();
    assert_eq!(q[0].raw, "3,oops");
    assert_eq!(q[0].row, 2);

    let strict = IngestionService::new(
        stores.clone(),
        broker,
        IngestConfig {
            max_bad_ratio: 0.05,
            ..Default::default()
        },
    );
    let mut s = open_source(&source(&f)).unwrap_or_else(|e| panic!("{e}"));
    let e = strict.ingest("strict", s.as_mut(), None).await;
    assert!(
        matches!(
            e,
            Err(IngestError::TooManyBadRows {
                bad: 1,
                total: 11,
                ..
            })
        ),
        "{e:?}"
    );
    assert!(
        stores
            .raw
            .list(Some("strict"))
            .await
            .unwrap_or_default()
            .is_empty(),
        "a failed batch leaves nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_file_ends_in_the_dead_letter_topic_after_retries() {
    let stores = Stores::in_memory();
    let broker = Arc::new(InProcessBroker::new());
    let opts = SubscribeOptions {
        max_deliveries: 2,
        ack_wait: Duration::from_secs(5),
        backoff: vec![Duration::from_millis(10)],
    };
    let mut dlq = broker
        .subscribe(
            &mlpipe_core::broker::dead_letter_topic("source-data-available"),
            "t",
            opts.clone(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let svc = Arc::new(IngestionService::new(
        stores,
        broker.clone(),
        IngestConfig::default(),
    ));
    let h = svc.start(opts).await.unwrap_or_else(|e| panic!("{e}"));
    let id = announce_source(
        broker.as_ref(),
        "d",
        SourceRef {
            uri: "/no/such/file.csv".into(),
            format: "csv".into(),
            options: Default::default(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let d = tokio::time::timeout(Duration::from_secs(10), dlq.next())
        .await
        .unwrap_or_else(|_| panic!("nothing dead-lettered"))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("closed"));
    assert_eq!(d.message.id, id);
    assert_eq!(
        d.message.headers.get("mlpipe-attempts").map(String::as_str),
        Some("2")
    );
    assert!(d
        .message
        .headers
        .get("mlpipe-error")
        .is_some_and(|e| e.contains("does not exist")));
    h.shutdown().await;
}
