//! Conformance of [`Broker`] implementations: groups, ack/nack, redelivery, dead-letter.

use super::{ok, unique};
use crate::broker::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// Options the suite uses: quick redelivery, three attempts.
pub fn quick_options() -> SubscribeOptions {
    SubscribeOptions {
        max_deliveries: 3,
        ack_wait: Duration::from_millis(800),
        backoff: vec![Duration::from_millis(20)],
    }
}

/// The next delivery, or `None` if nothing arrives within `wait`.
pub async fn next_within(sub: &mut Box<dyn Subscription>, wait: Duration) -> Option<Delivery> {
    match tokio::time::timeout(wait, sub.next()).await {
        Ok(r) => ok(r),
        Err(_) => None,
    }
}

/// Runs every broker check.
pub async fn conformance(broker: Arc<dyn Broker>) {
    fan_out_and_queue_groups(broker.as_ref()).await;
    nack_redelivers(broker.as_ref()).await;
    dead_letter_after_max_deliveries(broker.as_ref()).await;
    reject_dead_letters_at_once(broker.as_ref()).await;
    unacked_is_redelivered(broker.as_ref()).await;
    in_progress_keeps_a_delivery(broker.as_ref()).await;
}

/// Every group gets each message; inside a group each message goes to one consumer.
pub async fn fan_out_and_queue_groups(b: &dyn Broker) {
    let topic = unique("t");
    let a1 = ok(b.subscribe(&topic, "group-a", quick_options()).await);
    let a2 = ok(b.subscribe(&topic, "group-a", quick_options()).await);
    let mut g = ok(b.subscribe(&topic, "group-b", quick_options()).await);
    let mut sent = BTreeSet::new();
    for i in 0..20 {
        let m = Message::new(topic.clone(), format!("m{i}")).with_header("n", i.to_string());
        sent.insert(m.id.clone());
        ok(b.publish(m).await);
    }
    let mut got_b = BTreeSet::new();
    while let Some(d) = next_within(&mut g, Duration::from_secs(3)).await {
        assert_eq!(d.message.topic, topic);
        let n = d.message.headers.get("n").cloned().unwrap_or_default();
        assert_eq!(
            &d.message.payload[..],
            format!("m{n}").as_bytes(),
            "payload and headers travel together"
        );
        assert!(got_b.insert(d.message.id.clone()), "duplicate in group-b");
        ok(d.ack().await);
        if got_b.len() == sent.len() {
            break;
        }
    }
    assert_eq!(got_b, sent, "group-b must get every message");
    let collect = |mut sub: Box<dyn Subscription>| async move {
        let mut ids = Vec::new();
        while let Some(d) = next_within(&mut sub, Duration::from_millis(1500)).await {
            ids.push(d.message.id.clone());
            ok(d.ack().await);
        }
        ids
    };
    let (x, y) = tokio::join!(collect(a1), collect(a2));
    let mut all: Vec<_> = x.iter().chain(y.iter()).cloned().collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(
        total,
        all.len(),
        "a message went to two consumers of one group"
    );
    assert_eq!(
        all.into_iter().collect::<BTreeSet<_>>(),
        sent,
        "group-a must get every message once"
    );
}

/// A nacked message comes back with the same id and the next attempt number.
pub async fn nack_redelivers(b: &dyn Broker) {
    let topic = unique("t");
    let mut s = ok(b.subscribe(&topic, "g", quick_options()).await);
    let m = Message::new(topic.clone(), "x");
    ok(b.publish(m.clone()).await);
    let d = next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("first delivery");
    assert_eq!(d.attempt, 1);
    assert_eq!(d.message.id, m.id);
    ok(d.nack("try again").await);
    let d = next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("redelivery after nack");
    assert_eq!(d.attempt, 2);
    assert_eq!(d.message.id, m.id);
    assert_eq!(&d.message.payload[..], b"x");
    ok(d.ack().await);
    assert!(
        next_within(&mut s, Duration::from_millis(1200))
            .await
            .is_none(),
        "an acked message must not come back"
    );
}

/// After `max_deliveries` failures the message lands on the dead-letter topic with its reason.
pub async fn dead_letter_after_max_deliveries(b: &dyn Broker) {
    let topic = unique("t");
    let mut s = ok(b.subscribe(&topic, "g", quick_options()).await);
    let m = Message::new(topic.clone(), "poison");
    ok(b.publish(m.clone()).await);
    for attempt in 1..=3 {
        let d = next_within(&mut s, Duration::from_secs(3))
            .await
            .unwrap_or_else(|| panic!("delivery {attempt}"));
        assert_eq!(d.attempt, attempt);
        ok(d.nack(&format!("failure {attempt}")).await);
    }
    assert!(next_within(&mut s, Duration::from_millis(500))
        .await
        .is_none());
    // Subscribing after the fact still finds it: dead letters are kept.
    let mut dl = ok(b
        .subscribe(&dead_letter_topic(&topic), "inspect", quick_options())
        .await);
    let d = next_within(&mut dl, Duration::from_secs(3))
        .await
        .expect("dead letter");
    assert_eq!(d.message.id, m.id);
    assert_eq!(&d.message.payload[..], b"poison");
    assert_eq!(
        d.message.headers.get(HEADER_ERROR).map(String::as_str),
        Some("failure 3")
    );
    assert_eq!(
        d.message.headers.get(HEADER_ATTEMPTS).map(String::as_str),
        Some("3")
    );
    assert_eq!(d.message.headers.get(HEADER_ORIGINAL_TOPIC), Some(&topic));
    ok(d.ack().await);
}

/// A rejected message goes to the dead-letter topic after one attempt.
pub async fn reject_dead_letters_at_once(b: &dyn Broker) {
    let topic = unique("t");
    let mut s = ok(b.subscribe(&topic, "g", quick_options()).await);
    let mut dl = ok(b
        .subscribe(&dead_letter_topic(&topic), "inspect", quick_options())
        .await);
    let m = Message::new(topic.clone(), "garbage");
    ok(b.publish(m.clone()).await);
    let d = next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("delivery");
    ok(d.reject("cannot decode").await);
    let d = next_within(&mut dl, Duration::from_secs(3))
        .await
        .expect("dead letter");
    assert_eq!(d.message.id, m.id);
    assert_eq!(
        d.message.headers.get(HEADER_ATTEMPTS).map(String::as_str),
        Some("1")
    );
    assert_eq!(
        d.message.headers.get(HEADER_ERROR).map(String::as_str),
        Some("cannot decode")
    );
    ok(d.ack().await);
    assert!(next_within(&mut s, Duration::from_millis(300))
        .await
        .is_none());
}

/// A delivery neither acked nor nacked within `ack_wait` is delivered again.
pub async fn unacked_is_redelivered(b: &dyn Broker) {
    let topic = unique("t");
    let mut s = ok(b.subscribe(&topic, "g", quick_options()).await);
    let m = Message::new(topic.clone(), "slow");
    ok(b.publish(m.clone()).await);
    let d = next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("delivery");
    drop(d); // a crashed handler: never settles
    let d = next_within(&mut s, Duration::from_secs(5))
        .await
        .expect("redelivery after ack_wait");
    assert_eq!(d.message.id, m.id);
    assert_eq!(d.attempt, 2);
    ok(d.ack().await);
}

/// A delivery whose handler keeps reporting progress is not delivered again, however
/// long past `ack_wait` it runs; once it stops reporting, it is.
pub async fn in_progress_keeps_a_delivery(b: &dyn Broker) {
    let topic = unique("t");
    let opts = quick_options();
    let mut s = ok(b.subscribe(&topic, "g", opts.clone()).await);
    let m = Message::new(topic.clone(), "long");
    ok(b.publish(m.clone()).await);
    let d = next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("delivery");
    // Three ack_waits of work, reporting progress every quarter ack_wait.
    let mut waited = Duration::ZERO;
    while waited < opts.ack_wait * 3 {
        assert!(
            next_within(&mut s, opts.ack_wait / 4).await.is_none(),
            "redelivered while in progress"
        );
        waited += opts.ack_wait / 4;
        ok(d.in_progress().await);
    }
    ok(d.ack().await);
    assert!(
        next_within(&mut s, opts.ack_wait * 2).await.is_none(),
        "redelivered after the ack"
    );
    // Another delivery that stops reporting comes back.
    let m2 = Message::new(topic.clone(), "stalls");
    ok(b.publish(m2.clone()).await);
    let d = next_within(&mut s, Duration::from_secs(3))
        .await
        .expect("delivery");
    ok(d.in_progress().await);
    drop(d);
    let again = next_within(&mut s, Duration::from_secs(5))
        .await
        .expect("redelivery once progress stops");
    assert_eq!(again.message.id, m2.id);
    assert_eq!(again.attempt, 2);
    ok(again.ack().await);
}
