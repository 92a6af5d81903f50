//! The in-process broker: tokio primitives, the same ack/redelivery/dead-letter semantics
//! as the distributed brokers, nothing durable (a restart forgets undelivered messages).

use super::*;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Weak};
use tokio::sync::Notify;
use tokio::time::Instant;

/// A broker living inside the process.
///
/// Cheap to clone; clones share topics and groups.
///
/// ```
/// # tokio_test_block(async {
/// use mlpipe_core::broker::{Broker, InProcessBroker, Message, SubscribeOptions};
/// let broker = InProcessBroker::new();
/// let mut sub = broker.subscribe("t", "g", SubscribeOptions::default()).await?;
/// broker.publish(Message::new("t", "hello")).await?;
/// let d = sub.next().await?.expect("a delivery");
/// assert_eq!(&d.message.payload[..], b"hello");
/// d.ack().await?;
/// # Ok::<(), mlpipe_core::Error>(())
/// # });
/// # fn tokio_test_block<F: std::future::Future<Output = Result<(), mlpipe_core::Error>>>(f: F) {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f).unwrap()
/// # }
/// ```
#[derive(Clone, Default)]
pub struct InProcessBroker {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    topics: Mutex<HashMap<String, TopicState>>,
}

#[derive(Default)]
struct TopicState {
    groups: Vec<Arc<Group>>,
    /// Dead-letter topics keep what was published to them for groups that join later.
    retained: Vec<Message>,
}

struct Group {
    name: String,
    topic: String,
    options: SubscribeOptions,
    state: Mutex<GroupState>,
    notify: Notify,
}

#[derive(Default)]
struct GroupState {
    ready: VecDeque<(Message, u32)>,
    delayed: BTreeMap<(Instant, u64), (Message, u32)>,
    in_flight: HashMap<u64, (Message, u32, Instant)>,
    next_tag: u64,
}

impl InProcessBroker {
    /// A new broker with no topics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Messages waiting or in flight for `group` on `topic` (for tests and monitoring).
    pub fn pending(&self, topic: &str, group: &str) -> usize {
        let topics = self.inner.topics.lock();
        topics
            .get(topic)
            .and_then(|t| t.groups.iter().find(|g| g.name == group))
            .map(|g| {
                let s = g.state.lock();
                s.ready.len() + s.delayed.len() + s.in_flight.len()
            })
            .unwrap_or(0)
    }
}

impl Inner {
    fn publish(&self, message: Message) {
        let mut topics = self.topics.lock();
        let state = topics.entry(message.topic.clone()).or_default();
        if message.topic.ends_with(".dead-letter") {
            state.retained.push(message.clone());
        }
        for group in &state.groups {
            group.state.lock().ready.push_back((message.clone(), 0));
            group.notify.notify_waiters();
        }
    }
}

fn dead_letter(
    inner: &Weak<Inner>,
    group: &Group,
    mut message: Message,
    attempts: u32,
    reason: &str,
) {
    tracing::warn!(
        topic = %group.topic, group = %group.name, id = %message.id, attempts, reason,
        "message dead-lettered"
    );
    let Some(inner) = inner.upgrade() else { return };
    message
        .headers
        .insert(HEADER_ERROR.to_string(), reason.to_string());
    message
        .headers
        .insert(HEADER_ATTEMPTS.to_string(), attempts.to_string());
    message
        .headers
        .insert(HEADER_ORIGINAL_TOPIC.to_string(), group.topic.clone());
    message
        .headers
        .insert(HEADER_GROUP.to_string(), group.name.clone());
    message.topic = dead_letter_topic(&group.topic);
    inner.publish(message);
}

#[async_trait]
impl Broker for InProcessBroker {
    async fn publish(&self, message: Message) -> Result<()> {
        if message.topic.is_empty() {
            return Err(Error::invalid("a message needs a topic"));
        }
        self.inner.publish(message);
        Ok(())
    }

    async fn subscribe(
        &self,
        topic: &str,
        group: &str,
        options: SubscribeOptions,
    ) -> Result<Box<dyn Subscription>> {
        options.validate()?;
        if topic.is_empty() || group.is_empty() {
            return Err(Error::invalid("topic and group must not be empty"));
        }
        let mut topics = self.inner.topics.lock();
        let state = topics.entry(topic.to_string()).or_default();
        let existing = state.groups.iter().find(|g| g.name == group).cloned();
        let group = match existing {
            Some(g) => g,
            None => {
                let g = Arc::new(Group {
                    name: group.to_string(),
                    topic: topic.to_string(),
                    options,
                    state: Mutex::new(GroupState::default()),
                    notify: Notify::new(),
                });
                g.state
                    .lock()
                    .ready
                    .extend(state.retained.iter().cloned().map(|m| (m, 0)));
                state.groups.push(g.clone());
                g
            }
        };
        Ok(Box::new(InProcessSubscription {
            group,
            broker: Arc::downgrade(&self.inner),
        }))
    }

    fn capabilities(&self) -> BrokerCapabilities {
        BrokerCapabilities {
            durable: false,
            distributed: false,
        }
    }
}

struct InProcessSubscription {
    group: Arc<Group>,
    broker: Weak<Inner>,
}

enum Step {
    Deliver(Delivery),
    Wait(Option<Instant>),
}

impl InProcessSubscription {
    fn step(&self) -> Step {
        let group = &self.group;
        let now = Instant::now();
        let mut expired_to_dead = Vec::new();
        let step = {
            let mut s = group.state.lock();
            // Redeliver in-flight messages whose ack deadline passed.
            let expired: Vec<u64> = s
                .in_flight
                .iter()
                .filter(|(_, (_, _, deadline))| *deadline <= now)
                .map(|(tag, _)| *tag)
                .collect();
            for tag in expired {
                if let Some((msg, attempt, _)) = s.in_flight.remove(&tag) {
                    if attempt >= group.options.max_deliveries {
                        expired_to_dead.push((msg, attempt));
                    } else {
                        let at = now + group.options.backoff_for(attempt);
                        let seq = s.next_tag;
                        s.next_tag += 1;
                        s.delayed.insert((at, seq), (msg, attempt));
                    }
                }
            }
            // Move due delayed messages to the ready queue, oldest first.
            while let Some(entry) = s.delayed.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let (msg, attempt) = entry.remove();
                s.ready.push_back((msg, attempt));
            }
            if let Some((msg, attempt)) = s.ready.pop_front() {
                let tag = s.next_tag;
                s.next_tag += 1;
                let attempt = attempt + 1;
                s.in_flight
                    .insert(tag, (msg.clone(), attempt, now + group.options.ack_wait));
                Step::Deliver(Delivery::new(
                    msg,
                    attempt,
                    Box::new(InProcessAcker {
                        group: group.clone(),
                        broker: self.broker.clone(),
                        tag,
                    }),
                ))
            } else {
                let next_delayed = s.delayed.keys().next().map(|(at, _)| *at);
                let next_expiry = s.in_flight.values().map(|(_, _, d)| *d).min();
                Step::Wait(match (next_delayed, next_expiry) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                })
            }
        };
        for (msg, attempt) in expired_to_dead {
            dead_letter(
                &self.broker,
                group,
                msg,
                attempt,
                "not acknowledged within ack_wait on the last attempt",
            );
        }
        step
    }
}

#[async_trait]
impl Subscription for InProcessSubscription {
    async fn next(&mut self) -> Result<Option<Delivery>> {
        loop {
            let notified = self.group.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.step() {
                Step::Deliver(d) => return Ok(Some(d)),
                Step::Wait(until) => {
                    if self.broker.strong_count() == 0 {
                        return Ok(None);
                    }
                    match until {
                        Some(at) => {
                            tokio::select! {
                                _ = &mut notified => {}
                                _ = tokio::time::sleep_until(at) => {}
                            }
                        }
                        None => notified.await,
                    }
                }
            }
        }
    }
}

struct InProcessAcker {
    group: Arc<Group>,
    broker: Weak<Inner>,
    tag: u64,
}

impl InProcessAcker {
    fn settle(&self, failure: Option<(&str, bool)>) {
        let group = &self.group;
        let mut to_dead = None;
        {
            let mut s = group.state.lock();
            // A delivery whose deadline already passed was redelivered: settling it is a no-op.
            let Some((msg, attempt, _)) = s.in_flight.remove(&self.tag) else {
                return;
            };
            if let Some((reason, reject)) = failure {
                if reject || attempt >= group.options.max_deliveries {
                    to_dead = Some((msg, attempt, reason.to_string()));
                } else {
                    let at = Instant::now() + group.options.backoff_for(attempt);
                    let seq = s.next_tag;
                    s.next_tag += 1;
                    s.delayed.insert((at, seq), (msg, attempt));
                }
            }
        }
        group.notify.notify_waiters();
        if let Some((msg, attempt, reason)) = to_dead {
            dead_letter(&self.broker, group, msg, attempt, &reason);
        }
    }
}

#[async_trait]
impl Acker for InProcessAcker {
    async fn ack(&self) -> Result<()> {
        self.settle(None);
        Ok(())
    }
    async fn nack(&self, reason: &str) -> Result<()> {
        self.settle(Some((reason, false)));
        Ok(())
    }
    async fn reject(&self, reason: &str) -> Result<()> {
        self.settle(Some((reason, true)));
        Ok(())
    }
    async fn in_progress(&self) -> Result<()> {
        let mut s = self.group.state.lock();
        // Already redelivered (its deadline passed): nothing to extend.
        if let Some((_, _, deadline)) = s.in_flight.get_mut(&self.tag) {
            *deadline = Instant::now() + self.group.options.ack_wait;
        }
        Ok(())
    }
}
