//! Keeping logs for a while: with `--keep-runs-days N`, the server deletes the output lines of
//! runs that ended more than N days ago, at start and every hour. The runs stay listed with
//! their grids, parameters and what their hosts reported, and the audit log is untouched.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::{Store, now_ms};

/// How often old lines are looked for.
const EVERY: Duration = Duration::from_secs(3600);
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Deletes the lines of runs that ended more than `days` days ago now and every hour, until
/// `stopping`.
pub async fn keep_for(store: Store, days: u32, stopping: CancellationToken) {
    loop {
        let cutoff = now_ms() - i64::from(days) * DAY_MS;
        match store.forget_run_lines(cutoff).await {
            Ok(0) => {}
            Ok(lines) => tracing::info!(lines, days, "deleted the log lines of old runs"),
            Err(error) => tracing::error!(%error, "cannot delete the log lines of old runs"),
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            () = stopping.cancelled() => return,
        }
    }
}
