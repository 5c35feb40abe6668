//! `GET /metrics`: knit's metrics in Prometheus' text format, for a signed-in scraper (an API
//! token), or without one on `--metrics-listen`.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use knit_shared::{RunQuery, RunStatus};

use crate::app::App;
use crate::error::ApiError;

/// Runs counted as waiting at most.
const COUNTED: u32 = 10_000;

pub async fn scrape(State(app): State<App>) -> Result<impl IntoResponse, ApiError> {
    let mut waiting = 0;
    for status in [RunStatus::Queued, RunStatus::AwaitingApproval] {
        let query = RunQuery {
            status: Some(status.as_str().to_owned()),
            ..RunQuery::default()
        };
        waiting += app.runs.store().runs(&query, COUNTED).await?.len();
    }
    let text = crate::metrics::render(waiting, app.runs.connections_kept());
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
