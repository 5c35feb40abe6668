//! A run's journal: numbers each event, writes it to the store as it comes (many at once when
//! they come fast), and only then hands it to live watchers, so whatever a watcher has seen is
//! already stored and a watcher that resumes from the store misses nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use knit_shared::{CellStatus, RunEvent, RunEventBody, Stream};
use tokio::sync::{broadcast, mpsc};

use super::mask::Mask;
use crate::store::{HEARTBEAT, Store, StoreError, now_ms};

/// Events a watcher may fall behind by before it has to catch up from the store.
const LIVE_BUFFER: usize = 4096;
/// Events written in one transaction at most.
const BATCH: usize = 512;

/// The engine's side: record what happens. Cheap to clone; the journal closes when every
/// clone is dropped.
#[derive(Debug, Clone)]
pub struct Journal {
    run_id: i64,
    sender: mpsc::UnboundedSender<(i64, RunEventBody)>,
    mask: Arc<Mask>,
}

impl Journal {
    /// Starts the writer of run `run_id`'s events, with `mask`'s secrets hidden from every
    /// line and reason, keeping at most `log_cap` bytes of output lines. `live` receives each
    /// event once stored.
    pub fn open(
        store: Store,
        run_id: i64,
        mask: Mask,
        log_cap: u64,
    ) -> (
        Self,
        broadcast::Sender<RunEvent>,
        tokio::task::JoinHandle<Written>,
    ) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        let writer = tokio::spawn(write(store, run_id, receiver, live.clone(), log_cap));
        let mask = Arc::new(mask);
        let journal = Self {
            run_id,
            sender,
            mask,
        };
        (journal, live, writer)
    }

    /// The run whose events this journal records.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    pub fn record(&self, body: RunEventBody) {
        // Stamped now, not when written: the times say when things happened on the hosts.
        // The writer ends only after every sender is gone, so this cannot fail.
        let _ = self.sender.send((now_ms(), body));
    }

    pub fn started(&self, step: usize, host: &str) {
        self.record(RunEventBody::StepStarted {
            step,
            host: host.to_owned(),
        });
    }

    pub fn line(&self, step: usize, host: &str, stream: Stream, text: String) {
        self.record(RunEventBody::Line {
            step,
            host: host.to_owned(),
            stream,
            text: self.mask.apply(text),
        });
    }

    /// A value `host` reported (`::knit-output name=value`).
    pub fn output(&self, step: usize, host: &str, name: &str, value: String) {
        self.record(RunEventBody::Output {
            step,
            host: host.to_owned(),
            name: name.to_owned(),
            value: self.mask.apply(value),
        });
    }

    pub fn finished(
        &self,
        step: usize,
        host: &str,
        status: CellStatus,
        exit_code: Option<i32>,
        reason: Option<String>,
    ) {
        self.record(RunEventBody::StepFinished {
            step,
            host: host.to_owned(),
            status,
            exit_code,
            reason: reason.map(|reason| self.mask.apply(reason)),
        });
    }
}

/// What the writer did, once every event is written.
#[derive(Debug)]
pub struct Written {
    /// The first failure to store events; the rest of the log went on being tried.
    pub outcome: Result<(), StoreError>,
    /// Hosts on which a step failed.
    pub failed_hosts: usize,
}

/// What the hosts of a run reported, kept for those whose every step ended well: what they
/// reported is what they now run.
#[derive(Debug, Default)]
struct Reported {
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    /// Hosts where a step failed or was cancelled: what they reported is not what they run.
    failed: BTreeSet<String>,
    /// Hosts where a step failed.
    broken: BTreeSet<String>,
}

impl Reported {
    /// Notes `event`; at the run's end, the outputs of the hosts that did not fail.
    fn take(&mut self, event: &RunEventBody) -> Option<BTreeMap<String, BTreeMap<String, String>>> {
        match event {
            RunEventBody::Output {
                host, name, value, ..
            } => {
                self.outputs
                    .entry(host.clone())
                    .or_default()
                    .insert(name.clone(), value.clone());
            }
            RunEventBody::StepFinished {
                host,
                status: status @ (CellStatus::Failed | CellStatus::Cancelled),
                ..
            } => {
                self.failed.insert(host.clone());
                if *status == CellStatus::Failed {
                    self.broken.insert(host.clone());
                }
            }
            RunEventBody::RunFinished { .. } => {
                let mut outputs = std::mem::take(&mut self.outputs);
                outputs.retain(|host, _| !self.failed.contains(host));
                return Some(outputs);
            }
            _ => {}
        }
        None
    }
}

/// Output lines kept until the log reaches its cap; then one line saying so, and no more.
#[derive(Debug)]
struct LogCap {
    left: u64,
    cap: u64,
    reached: bool,
}

impl LogCap {
    /// `body` as it is kept: as it is, the line saying the cap is reached, or nothing.
    fn keep(&mut self, body: RunEventBody) -> Option<RunEventBody> {
        let RunEventBody::Line {
            step, host, text, ..
        } = &body
        else {
            return Some(body);
        };
        let size = text.len() as u64;
        if !self.reached && size <= self.left {
            self.left -= size;
            return Some(body);
        }
        if std::mem::replace(&mut self.reached, true) {
            return None;
        }
        Some(RunEventBody::Line {
            step: *step,
            host: host.clone(),
            stream: Stream::Knit,
            text: format!(
                "this run's log reached its cap of {} MB (--run-log-cap-mb): later output \
                 lines are not kept; the steps go on",
                self.cap / 1_000_000
            ),
        })
    }
}

async fn write(
    store: Store,
    run_id: i64,
    mut receiver: mpsc::UnboundedReceiver<(i64, RunEventBody)>,
    live: broadcast::Sender<RunEvent>,
    log_cap: u64,
) -> Written {
    let mut cap = LogCap {
        left: log_cap,
        cap: log_cap,
        reached: false,
    };
    let mut seq = 0;
    let mut outcome = Ok(());
    let mut bodies = Vec::with_capacity(BATCH);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut reported = Reported::default();
    loop {
        tokio::select! {
            received = receiver.recv_many(&mut bodies, BATCH) => if received == 0 {
                break;
            },
            _ = heartbeat.tick() => {
                // Other machines sharing the database take a silent run for an interrupted one.
                if let Err(error) = store.heartbeat(run_id).await {
                    tracing::warn!(run_id, %error, "cannot record that the run is alive");
                }
                continue;
            }
        }
        let events: Vec<RunEvent> = bodies
            .drain(..)
            .filter_map(|(at_ms, body)| {
                let body = cap.keep(body)?;
                seq += 1;
                Some(RunEvent { seq, at_ms, body })
            })
            .collect();
        if let Err(error) = store.append_run_events(run_id, &events).await {
            tracing::error!(run_id, %error, "cannot store events of the run");
            if outcome.is_ok() {
                outcome = Err(error);
            }
        }
        for event in &events {
            if let Some(outputs) = reported.take(&event.body)
                && let Err(error) = store.record_outputs(run_id, &outputs).await
            {
                tracing::error!(run_id, %error, "cannot store what the hosts reported");
            }
        }
        for event in events {
            // No watcher is not an error.
            let _ = live.send(event);
        }
    }
    Written {
        outcome,
        failed_hosts: reported.broken.len(),
    }
}
