//! Delivering notifications: each to its receiver in the background, tried a few times with
//! growing pauses, and how it went recorded with the run (and in the server's log when it did
//! not arrive). Errors are told without the URL, which is a secret.

use std::sync::OnceLock;
use std::time::Duration;

use tokio_util::task::TaskTracker;

use super::{Event, Receiver, Summary};
use crate::store::Store;

/// Tries per notification.
const TRIES: u32 = 4;
/// The pause after the first failed try; each next one is twice as long.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// How long one try may take.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct Notifier {
    /// Made at the first notification: reading the system's root certificates takes tens of
    /// milliseconds that a run without notifications should not wait for.
    client: OnceLock<reqwest::Client>,
    store: Store,
    /// Where the console is, for links to runs (`--public-url`).
    public_url: OnceLock<String>,
    deliveries: TaskTracker,
}

impl Notifier {
    pub fn new(store: Store) -> Self {
        Self {
            client: OnceLock::new(),
            store,
            public_url: OnceLock::new(),
            deliveries: TaskTracker::new(),
        }
    }

    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            reqwest::Client::builder()
                .timeout(TIMEOUT)
                // A receiver is the URL the definition names: one that redirects is not
                // followed elsewhere (another host, or this machine's own services).
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default()
        })
    }

    /// Links in notifications go to the console at `url`.
    pub fn link_to(&self, url: &str) {
        let _ = self.public_url.set(url.trim_end_matches('/').to_owned());
    }

    /// The console's page of run `id`, when knit knows where the console is.
    pub fn link(&self, id: i64) -> Option<String> {
        self.public_url.get().map(|url| format!("{url}/runs/{id}"))
    }

    /// Sends `summary` of `event` to each of `receivers` that wants it, in the background.
    pub fn send(&self, receivers: &[Receiver], event: Event, summary: &Summary) {
        let summary = Summary {
            event: event.as_str(),
            ..summary.clone()
        };
        for (position, receiver) in receivers.iter().enumerate() {
            if !receiver.on.contains(&event) {
                continue;
            }
            let delivery = Delivery {
                client: self.client().clone(),
                store: self.store.clone(),
                receiver: receiver.clone(),
                position,
                event,
                summary: summary.clone(),
            };
            self.deliveries.spawn(delivery.run());
        }
    }

    /// Waits until every delivery begun has ended (the CLI, before it exits).
    pub async fn settle(&self) {
        self.deliveries.close();
        self.deliveries.wait().await;
        self.deliveries.reopen();
    }
}

/// One notification to one receiver.
struct Delivery {
    client: reqwest::Client,
    store: Store,
    receiver: Receiver,
    position: usize,
    event: Event,
    summary: Summary,
}

impl Delivery {
    async fn run(self) {
        let mut pause = FIRST_PAUSE;
        let mut attempts = 0;
        let error = loop {
            attempts += 1;
            let error = match self.post().await {
                Ok(()) => {
                    self.record("delivered", attempts, None).await;
                    return;
                }
                Err(error) => error,
            };
            if attempts == TRIES || self.receiver.url.is_err() {
                break error;
            }
            self.record("pending", attempts, Some(&error)).await;
            tokio::time::sleep(pause).await;
            pause *= 2;
        };
        tracing::warn!(
            run = self.summary.run,
            event = self.event.as_str(),
            receiver = %self.receiver.shown(),
            attempts,
            %error,
            "a notification was not delivered"
        );
        self.record("failed", attempts, Some(&error)).await;
    }

    async fn post(&self) -> Result<(), String> {
        let url = self.receiver.url.as_ref().map_err(ToString::to_string)?;
        let answer = self
            .client
            .post(url)
            .json(&self.summary.body(self.receiver.format))
            .send()
            .await
            .map_err(|error| error.without_url().to_string())?;
        match answer.status() {
            status if status.is_success() => Ok(()),
            status => Err(format!("the receiver answered {status}")),
        }
    }

    async fn record(&self, status: &str, attempts: u32, error: Option<&str>) {
        let recorded = self
            .store
            .record_delivery(
                self.summary.run,
                self.event.as_str(),
                self.position,
                &self.receiver.shown(),
                status,
                attempts,
                error,
            )
            .await;
        if let Err(error) = recorded {
            tracing::error!(run = self.summary.run, %error, "cannot record a notification");
        }
    }
}
