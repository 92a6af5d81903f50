//! Conformance of [`ScoreStore`] implementations.

use super::{ok, unique};
use crate::ids::*;
use crate::score::Score;
use crate::store::scores::*;
use crate::Error;
use chrono::Utc;
use std::sync::Arc;

fn record(model: &ModelRef, run: Option<&RunId>, key: Option<String>, score: Score) -> ScoreRecord {
    ScoreRecord {
        request_id: RequestId::generate(),
        run_id: run.cloned(),
        model: model.clone(),
        entity_key: key,
        score,
        latency_us: Some(42),
        created_at: Utc::now(),
    }
}

/// Runs every score-store check.
pub async fn conformance(store: Arc<dyn ScoreStore>) {
    let s = store.as_ref();
    let m = ModelRef::new(unique("model"), 1);
    let run = RunId::new(unique("run"));
    let batch: Vec<ScoreRecord> = (0..25)
        .map(|i| {
            record(
                &m,
                Some(&run),
                Some(format!("k{i}")),
                Score::Probabilities {
                    classes: vec![0, 1],
                    probabilities: vec![1.0 - i as f64 / 25.0, i as f64 / 25.0],
                },
            )
        })
        .collect();
    ok(s.put(batch.clone()).await);
    ok(s.put(batch[..3].to_vec()).await); // redelivery: no duplicates
    assert_eq!(ok(s.count_run(&run).await), 25);
    let page = ok(s.by_run(&run, 20, 10).await);
    assert_eq!(page.len(), 5);
    assert_eq!(page[0].request_id, batch[20].request_id);
    assert_eq!(page[0].score, batch[20].score);
    let got = ok(s.get(&batch[7].request_id).await).unwrap();
    assert_eq!(got.score, batch[7].score);
    assert_eq!(got.entity_key.as_deref(), Some("k7"));
    assert_eq!(got.latency_us, Some(42));
    assert!(ok(s.get(&RequestId::generate()).await).is_none());

    // Online scores, latest per key.
    let online1 = record(&m, None, Some("user-1".into()), Score::Value { value: 1.0 });
    ok(s.put(vec![online1.clone()]).await);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let mut online2 = record(&m, None, Some("user-1".into()), Score::Value { value: 2.0 });
    online2.created_at = Utc::now();
    ok(s.put(vec![online2.clone()]).await);
    let latest = ok(s.latest_for_key(&m.model, "user-1").await).unwrap();
    assert_eq!(latest.request_id, online2.request_id);
    assert!(ok(s.latest_for_key(&m.model, "nobody").await).is_none());

    // Outcomes.
    ok(s.put_outcome(&online1.request_id, 1.0).await);
    ok(s.put_outcome(&batch[0].request_id, 0.0).await);
    assert!(matches!(
        s.put_outcome(&online1.request_id, 0.0).await,
        Err(Error::AlreadyExists { .. })
    ));
    assert!(matches!(
        s.put_outcome(&RequestId::generate(), 1.0).await,
        Err(Error::NotFound { .. })
    ));
    let outcomes = ok(s.outcomes(&m).await);
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0].record.request_id, online1.request_id);
    assert_eq!(outcomes[0].observed, 1.0);
    assert_eq!(outcomes[1].observed, 0.0);
    assert!(ok(s.outcomes(&ModelRef::new(unique("m"), 1)).await).is_empty());

    // Every score kind round-trips.
    let kinds = vec![
        Score::Class { label: 3 },
        Score::Cluster {
            cluster: 2,
            distance: Some(0.5),
        },
        Score::Ranked {
            items: vec![crate::RankedItem {
                item: "a".into(),
                score: 0.9,
            }],
        },
        Score::Forecast(crate::Forecast {
            mean: vec![1.0, 2.0],
            lower: vec![0.5, 1.0],
            upper: vec![1.5, 3.0],
            level: 0.95,
        }),
    ];
    for k in kinds {
        let r = record(&m, None, None, k.clone());
        ok(s.put(vec![r.clone()]).await);
        assert_eq!(ok(s.get(&r.request_id).await).unwrap().score, k);
    }
}
