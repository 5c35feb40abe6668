//! A steady load on a site while a run goes on: requests at a fixed rate until stopped, each
//! answer counted by its status and body, each failure kept.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What a load's requests were answered.
#[derive(Debug, Default)]
pub struct Tally {
    /// `<status> <body>` of each answer, and how many came.
    pub answers: BTreeMap<String, usize>,
    /// Requests that got no answer, each with why.
    pub failures: Vec<String>,
    /// When each status was first and last answered.
    pub seen: BTreeMap<u16, (Instant, Instant)>,
}

impl Tally {
    /// Every request sent.
    pub fn sent(&self) -> usize {
        self.answers.values().sum::<usize>() + self.failures.len()
    }

    fn add(&mut self, other: Tally) {
        for (answer, count) in other.answers {
            *self.answers.entry(answer).or_default() += count;
        }
        self.failures.extend(other.failures);
        for (status, (first, last)) in other.seen {
            let seen = self.seen.entry(status).or_insert((first, last));
            *seen = (seen.0.min(first), seen.1.max(last));
        }
    }
}

/// Requests running in the background.
pub struct Load {
    stop: CancellationToken,
    workers: JoinSet<Tally>,
}

/// Requests from one worker at a time; `per_second` spread over this many.
const WORKERS: u32 = 10;

impl Load {
    /// GETs `url` `per_second` times a second, each on a connection of its own: a request sent
    /// on a kept connection just as a reloading nginx closes it is the client's to send again
    /// (browsers do), which is not what is measured here.
    pub fn start(url: &str, per_second: u32) -> Self {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        let stop = CancellationToken::new();
        let mut workers = JoinSet::new();
        let period = Duration::from_secs(1) * WORKERS / per_second.max(1);
        for _ in 0..WORKERS {
            let (client, stop, url) = (client.clone(), stop.clone(), url.to_owned());
            workers.spawn(async move {
                let mut tally = Tally::default();
                let mut ticks = tokio::time::interval(period);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return tally,
                        _ = ticks.tick() => {}
                    }
                    match client.get(&url).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let now = Instant::now();
                            let seen = tally.seen.entry(status).or_insert((now, now));
                            seen.1 = now;
                            let body = response.text().await.unwrap_or_default();
                            let answer = format!("{status} {}", body.trim());
                            *tally.answers.entry(answer).or_default() += 1;
                        }
                        Err(error) => tally.failures.push(format!("{error:?}")),
                    }
                }
            });
        }
        Self { stop, workers }
    }

    /// Stops the requests; what they were answered.
    pub async fn stop(mut self) -> Tally {
        self.stop.cancel();
        let mut tally = Tally::default();
        while let Some(worker) = self.workers.join_next().await {
            tally.add(worker.expect("a load worker"));
        }
        tally
    }
}
