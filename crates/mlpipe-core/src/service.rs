//! Running a stage: a handler subscribed to a topic, acking what it handled, nacking what
//! failed (so the broker redelivers it with back-off and finally dead-letters it), and
//! rejecting (dead-lettering at once) what cannot be decoded or failed [`Permanent`]ly.

use crate::broker::{Broker, Delivery, SubscribeOptions};
use crate::events::{Envelope, Topic};
use crate::Result;
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::Instrument;

/// The error a handler returns: any error type, kept for the dead-letter reason.
///
/// The delivery is retried with back-off, unless the error is [`Permanent`].
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// A handler failure that no redelivery can mend (data that fails a quality gate, a
/// definition error): the delivery goes to the dead-letter topic at once instead of
/// being retried until its attempts run out.
///
/// ```
/// use mlpipe_core::service::{HandlerError, Permanent};
/// let e: HandlerError = Permanent::new("label column `y` is missing").into();
/// assert!(e.is::<Permanent>());
/// assert_eq!(e.to_string(), "label column `y` is missing");
/// ```
#[derive(Debug)]
pub struct Permanent(pub HandlerError);

impl Permanent {
    /// Wraps `e` as a failure retrying cannot mend.
    pub fn new(e: impl Into<HandlerError>) -> Self {
        Permanent(e.into())
    }
}

impl std::fmt::Display for Permanent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Permanent {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

/// The handler error for `e`: retried with back-off when `transient`, dead-lettered at
/// once ([`Permanent`]) otherwise. Every stage's handler classifies its errors with it,
/// from its error type's `is_transient`.
///
/// ```
/// use mlpipe_core::service::{handler_error, Permanent};
/// let e = mlpipe_core::Error::invalid("bad data");
/// assert!(handler_error(e, false).is::<Permanent>());
/// ```
pub fn handler_error<E>(e: E, transient: bool) -> HandlerError
where
    E: std::error::Error + Send + Sync + 'static,
{
    if transient {
        Box::new(e)
    } else {
        Box::new(Permanent::new(e))
    }
}

/// A stage's reaction to one event.
///
/// # Contract
/// Handlers are idempotent: the same envelope (same id) may arrive more than once and must
/// not change anything the second time.
#[async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Handles one event. `attempt` counts deliveries from 1.
    async fn handle(&self, envelope: Envelope, attempt: u32) -> Result<(), HandlerError>;
}

/// A stage as the broker sees it: the topics it consumes, the consumer group its workers
/// share, and its handler. Every stage starts the same way, with [`StageExt::start`].
///
/// # Contract
/// - `group` is the same in every process running the stage (workers of one stage share
///   its events) and differs from every other stage's.
/// - The handler ([`EventHandler`]) ignores events of its topics that are not for it
///   (returns `Ok`), is idempotent, and returns [`Permanent`] for what no retry can mend.
///
/// # Example
/// ```
/// use async_trait::async_trait;
/// use mlpipe_core::broker::{Broker, InProcessBroker, SubscribeOptions};
/// use mlpipe_core::events::{Envelope, Topic};
/// use mlpipe_core::service::{EventHandler, HandlerError, Stage, StageExt};
/// use std::sync::Arc;
///
/// /// Counts the models deployed.
/// struct Counter { broker: Arc<dyn Broker>, seen: std::sync::atomic::AtomicUsize }
/// #[async_trait]
/// impl EventHandler for Counter {
///     async fn handle(&self, _env: Envelope, _attempt: u32) -> Result<(), HandlerError> {
///         self.seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
///         Ok(())
///     }
/// }
/// impl Stage for Counter {
///     fn group(&self) -> &str { "my-app-counter" }
///     fn topics(&self) -> Vec<Topic> { vec![Topic::ModelDeployed] }
///     fn broker(&self) -> Arc<dyn Broker> { self.broker.clone() }
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let counter = Arc::new(Counter { broker: Arc::new(InProcessBroker::new()), seen: Default::default() });
/// let handle = counter.start(SubscribeOptions::default()).await.unwrap();
/// handle.shutdown().await;
/// # });
/// ```
pub trait Stage: EventHandler {
    /// The consumer group every worker of this stage joins.
    fn group(&self) -> &str;
    /// The topics it consumes.
    fn topics(&self) -> Vec<Topic>;
    /// Deliveries one process handles at once (per topic).
    fn concurrency(&self) -> usize {
        1
    }
    /// The broker it consumes from.
    fn broker(&self) -> Arc<dyn Broker>;
}

/// The one way every stage starts.
#[async_trait]
pub trait StageExt {
    /// Subscribes the stage's handler to each of its topics under its group; returns once
    /// subscribed, so events published afterwards are received.
    async fn start(self: Arc<Self>, options: SubscribeOptions) -> Result<ServiceHandle>;
}

#[async_trait]
impl<S: Stage> StageExt for S {
    async fn start(self: Arc<Self>, options: SubscribeOptions) -> Result<ServiceHandle> {
        let mut handles = Vec::new();
        for topic in self.topics() {
            let h = spawn_handler(
                self.broker(),
                topic,
                self.group(),
                options.clone(),
                self.concurrency(),
                self.clone(),
            )
            .await;
            match h {
                Ok(h) => handles.push(h),
                Err(e) => {
                    for h in handles {
                        h.shutdown().await;
                    }
                    return Err(e);
                }
            }
        }
        Ok(ServiceHandle::merge(self.group(), handles))
    }
}

/// Running consumers; dropping it leaves them running, [`ServiceHandle::shutdown`] stops them.
pub struct ServiceHandle {
    name: String,
    stop: Vec<watch::Sender<bool>>,
    tasks: Vec<JoinHandle<()>>,
}

impl ServiceHandle {
    /// The service's name (its consumer group).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A handle over tasks that stop when `stop` is set to `true`.
    pub fn from_parts(name: &str, stop: watch::Sender<bool>, tasks: Vec<JoinHandle<()>>) -> Self {
        Self {
            name: name.to_string(),
            stop: vec![stop],
            tasks,
        }
    }

    /// One handle over several: shutting it down stops them all.
    pub fn merge(name: &str, handles: Vec<ServiceHandle>) -> Self {
        let mut merged = Self {
            name: name.to_string(),
            stop: Vec::new(),
            tasks: Vec::new(),
        };
        for h in handles {
            merged.stop.extend(h.stop);
            merged.tasks.extend(h.tasks);
        }
        merged
    }

    /// Stops taking new deliveries, lets handlers in progress finish, and waits.
    pub async fn shutdown(self) {
        for s in &self.stop {
            let _ = s.send(true);
        }
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Consumes the raw messages of `topics` under `group`: one task per entry (a topic named
/// twice gets two consumers), each handing every delivery to `on`, which settles it
/// (ack, nack or reject). A failed subscription is logged and read again after a pause;
/// the tasks stop, after the delivery in hand, when the handle is shut down. Returns
/// once every topic is subscribed.
pub async fn spawn_consumer<F, Fut>(
    broker: Arc<dyn Broker>,
    topics: Vec<String>,
    group: &str,
    options: SubscribeOptions,
    on: F,
) -> Result<ServiceHandle>
where
    F: Fn(Delivery) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (stop, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for topic in topics {
        let mut sub = broker.subscribe(&topic, group, options.clone()).await?;
        let on = on.clone();
        let mut stop_rx = stop_rx.clone();
        let group = group.to_string();
        tasks.push(tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    biased;
                    _ = stop_rx.changed() => break,
                    n = sub.next() => n,
                };
                match next {
                    Ok(Some(delivery)) => on(delivery).await,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(%group, %topic, error = %e, "subscription failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    }
                }
            }
        }));
    }
    Ok(ServiceHandle::from_parts(group, stop, tasks))
}

/// Subscribes `concurrency` consumers of `group` to `topic` and runs `handler` for each
/// delivery. Returns once subscribed, so events published afterwards are received.
pub async fn spawn_handler(
    broker: Arc<dyn Broker>,
    topic: Topic,
    group: &str,
    options: SubscribeOptions,
    concurrency: usize,
    handler: Arc<dyn EventHandler>,
) -> Result<ServiceHandle> {
    let keep_alive_every = (options.ack_wait / 2).max(std::time::Duration::from_millis(10));
    let topics = vec![topic.as_str().to_string(); concurrency.max(1)];
    let name = group.to_string();
    let on = move |delivery: Delivery| {
        let handler = handler.clone();
        let group = name.clone();
        async move {
            let envelope = match delivery.message.envelope() {
                Ok(env) => env,
                Err(e) => {
                    let reason = e.to_string();
                    if let Err(e) = delivery.reject(&reason).await {
                        tracing::error!(%group, error = %e, "could not reject a message");
                    }
                    return;
                }
            };
            let attempt = delivery.attempt;
            let id = envelope.id.clone();
            let span = tracing::info_span!("handle", %group, %topic, event = %id, attempt);
            // Everything the handler logs, across its awaits, is inside the span.
            let handling = handler.handle(envelope, attempt).instrument(span);
            // A handler that runs longer than `ack_wait` (a long training) keeps its
            // delivery: without this the broker would deliver the event again while
            // it runs, and dead-letter it after `max_deliveries` such rounds.
            // The reports run beside the handler (which is polled all along), each
            // bounded in time, so a broker that does not answer delays neither the
            // handler nor shutdown.
            let result = {
                let keep_alive = async {
                    let mut tick = tokio::time::interval_at(
                        tokio::time::Instant::now() + keep_alive_every,
                        keep_alive_every,
                    );
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tick.tick().await;
                        match tokio::time::timeout(keep_alive_every, delivery.in_progress()).await {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => {
                                tracing::warn!(%group, event = %id, error = %e, "could not extend the ack deadline")
                            }
                            Err(_) => {
                                tracing::warn!(%group, event = %id, "extending the ack deadline timed out")
                            }
                        }
                    }
                };
                tokio::pin!(handling);
                tokio::pin!(keep_alive);
                tokio::select! {
                    r = &mut handling => r,
                    // The loop above never ends; this arm only satisfies the types.
                    () = &mut keep_alive => Err("the keep-alive stopped".into()),
                }
            };
            let settled = match result {
                Ok(()) => delivery.ack().await,
                Err(e) if e.is::<Permanent>() => {
                    tracing::warn!(%group, %topic, event = %id, attempt, error = %e, "handler failed for good; dead-lettering");
                    delivery.reject(&e.to_string()).await
                }
                Err(e) => {
                    tracing::warn!(%group, %topic, event = %id, attempt, error = %e, "handler failed");
                    delivery.nack(&e.to_string()).await
                }
            };
            if let Err(e) = settled {
                tracing::error!(%group, event = %id, error = %e, "could not settle a delivery");
            }
        }
    };
    spawn_consumer(broker, topics, group, options, on).await
}
