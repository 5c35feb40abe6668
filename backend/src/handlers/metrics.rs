//! `GET /metrics`: knit's metrics in Prometheus' text format, for a signed-in scraper (an API
//! token), or without one on `--metrics-listen`.

use crate::app::App;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

pub async fn scrape(State(app): State<App>) -> Result<impl IntoResponse, ApiError> {
    let waiting = app.runs.store().runs_waiting().await?;
    let text = crate::metrics::render(waiting, app.runs.connections_kept());
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}
