//! Following a run: its stored events after a given number, then the live ones as they come,
//! each exactly once and in order, ending with the run's end. A watcher that falls behind, or a
//! run carried out by another process (the CLI), is caught up from the store.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use knit_shared::{Grid, RunDetail, RunEvent, RunEventBody};
use tokio::sync::broadcast;

use super::Runs;
use crate::store::StoreError;

/// Events read from the store at a time.
const PAGE: u32 = 2000;
/// How often to look in the store for a run that another process carries out.
const POLL: Duration = Duration::from_millis(500);

struct Follower {
    runs: Arc<Runs>,
    id: i64,
    last: i64,
    live: Option<broadcast::Receiver<RunEvent>>,
    pending: VecDeque<RunEvent>,
    ended: bool,
}

impl Runs {
    /// Run `id` with its grid as recorded so far; `None` when there is no such run.
    pub async fn detail(&self, id: i64) -> Result<Option<RunDetail>, StoreError> {
        let Some((run, plan)) = self.store.run(id).await? else {
            return Ok(None);
        };
        let mut grid = Grid::new(&plan);
        let mut last_seq = 0;
        loop {
            let events = self.store.run_events(id, last_seq, PAGE).await?;
            let Some(last) = events.last() else {
                break;
            };
            last_seq = last.seq;
            for event in &events {
                grid.apply(&plan, event);
            }
        }
        Ok(Some(RunDetail {
            retries: self.store.retries_of(id).await?,
            notifications: self.store.deliveries(id).await?,
            run,
            plan,
            grid,
            last_seq,
        }))
    }

    /// Every event of run `id` after number `after`, ending after the run's end.
    pub fn follow(
        self: &Arc<Self>,
        id: i64,
        after: i64,
    ) -> impl Stream<Item = Result<RunEvent, StoreError>> + use<> {
        // Subscribe before the first read of the store, so no event falls between the two.
        let follower = Follower {
            live: self.watch(id),
            runs: Arc::clone(self),
            id,
            last: after,
            pending: VecDeque::new(),
            ended: false,
        };
        futures_util::stream::unfold(follower, |mut follower| async move {
            match follower.next().await {
                Ok(Some(event)) => Some((Ok(event), follower)),
                Ok(None) => None,
                Err(error) => {
                    follower.ended = true;
                    Some((Err(error), follower))
                }
            }
        })
    }
}

impl Follower {
    async fn next(&mut self) -> Result<Option<RunEvent>, StoreError> {
        loop {
            if self.ended {
                return Ok(None);
            }
            if let Some(event) = self.pending.pop_front() {
                if event.seq <= self.last {
                    continue;
                }
                self.last = event.seq;
                self.ended = matches!(event.body, RunEventBody::RunFinished { .. });
                return Ok(Some(event));
            }
            let stored = self.runs.store.run_events(self.id, self.last, PAGE).await?;
            if !stored.is_empty() {
                self.pending.extend(stored);
                continue;
            }
            match &mut self.live {
                Some(live) => match live.recv().await {
                    Ok(event) => self.pending.push_back(event),
                    // Behind or finished: the store has what was missed.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => self.live = None,
                },
                None => {
                    let running = self
                        .runs
                        .store
                        .run(self.id)
                        .await?
                        .is_some_and(|(run, _)| run.status.is_going());
                    if !running {
                        // Its end is stored; one last read finds what is left.
                        let rest = self.runs.store.run_events(self.id, self.last, PAGE).await?;
                        if rest.is_empty() {
                            return Ok(None);
                        }
                        self.pending.extend(rest);
                        continue;
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }
}
