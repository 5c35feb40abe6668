//! A run's log as a download: its lines in the order they were recorded, as text or as JSON
//! lines, read from the store a page at a time so that a log of any length streams in the same
//! memory.

use futures_util::Stream;
use knit_shared::{LogFormat, RunEvent, RunEventBody, RunPlan, Stream as Output};

use crate::store::{Store, StoreError, time_text};

/// Events read from the store at a time.
const PAGE: u32 = 2000;

/// The lines of run `id` (of `plan`), of `host` only when given, in `format`, a page at a time.
pub fn download(
    store: Store,
    id: i64,
    plan: RunPlan,
    host: Option<String>,
    format: LogFormat,
) -> impl Stream<Item = Result<String, StoreError>> {
    futures_util::stream::try_unfold(Some(0), move |after| {
        let (store, plan, host) = (store.clone(), plan.clone(), host.clone());
        async move {
            let Some(after) = after else {
                return Ok(None);
            };
            let events = store.run_events(id, after, PAGE).await?;
            let Some(last) = events.last().map(|event| event.seq) else {
                return Ok(None);
            };
            let next = (events.len() == PAGE as usize).then_some(last);
            let page: String = events
                .iter()
                .filter_map(|event| render(event, &plan, host.as_deref(), format))
                .collect();
            Ok(Some((page, next)))
        }
    })
}

/// One event as a line of the download, if it is a line of output (of `host`, when given).
fn render(
    event: &RunEvent,
    plan: &RunPlan,
    host: Option<&str>,
    format: LogFormat,
) -> Option<String> {
    let RunEventBody::Line {
        step,
        host: from,
        stream,
        text,
    } = &event.body
    else {
        return None;
    };
    if host.is_some_and(|host| host != from) {
        return None;
    }
    let at = time_text(event.at_ms);
    let step = plan.steps.get(*step).map_or("?", |step| step.name.as_str());
    let stream = match stream {
        Output::Stdout => "stdout",
        Output::Stderr => "stderr",
        Output::Knit => "knit",
    };
    Some(match format {
        LogFormat::Text => format!("{at} {from} {step} {stream} | {text}\n"),
        LogFormat::Jsonl => {
            let line = serde_json::json!({
                "at": at,
                "host": from,
                "step": step,
                "stream": stream,
                "text": text,
            });
            format!("{line}\n")
        }
    })
}
