//! The bulk action bar over the selected instances, and the notice of what an action did.

use knit_shared::{ActionResponse, InstanceAction, Role};
use leptos::prelude::*;

use super::ListState;
use crate::api::ApiFailure;
use crate::session;

/// The last action's result, shown until the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub ok: bool,
    pub text: String,
    /// One line per instance that failed.
    pub failures: Vec<String>,
}

impl Notice {
    pub fn of(response: &ActionResponse) -> Self {
        let failures: Vec<String> = response
            .outcomes
            .iter()
            .filter(|o| !o.ok)
            .map(|o| format!("{}: {}", o.instance_id, o.message))
            .collect();
        let done = response.outcomes.len() - failures.len();
        let verb = response.action.verb();
        let text = match (done, failures.len()) {
            (_, 0) => format!("{verb}: done for {done} instance(s)"),
            (0, failed) => format!("{verb}: failed for {failed} instance(s)"),
            (done, failed) => format!("{verb}: done for {done}, failed for {failed}"),
        };
        Self {
            ok: failures.is_empty(),
            text,
            failures,
        }
    }

    pub fn failed(action: InstanceAction, failure: &ApiFailure) -> Self {
        Self {
            ok: false,
            text: format!("{}: {failure}", action.verb()),
            failures: Vec::new(),
        }
    }
}

#[component]
pub fn ActionBar(state: ListState) -> impl IntoView {
    let count = move || state.selected.with(|s| s.len());
    // A viewer sees the bar but may not use it; the server would refuse it anyway.
    let idle = move || count() == 0 || state.pending.get() || !session::may(Role::Deployer);
    let run = move |action: InstanceAction| {
        move |_| {
            let ids: Vec<String> = state.selected.get_untracked().into_iter().collect();
            if action == InstanceAction::Terminate {
                let chosen = state.rows.with_untracked(|rows| {
                    rows.iter()
                        .filter(|r| ids.contains(&r.id))
                        .cloned()
                        .collect()
                });
                state.confirming.set(Some(chosen));
            } else {
                state.act.run((action, ids, Vec::new()));
            }
        }
    };
    view! {
        <div class="action-bar">
            <span class="selection">{move || format!("{} selected", count())}</span>
            <button class="button" id="action-start" disabled=idle on:click=run(InstanceAction::Start)>"Start"</button>
            <button class="button" id="action-stop" disabled=idle on:click=run(InstanceAction::Stop)>"Stop"</button>
            <button class="button" id="action-reboot" disabled=idle on:click=run(InstanceAction::Reboot)>"Reboot"</button>
            <Show when=|| session::may(InstanceAction::Terminate.needs())>
                <button class="button danger" id="action-terminate" disabled=idle on:click=run(InstanceAction::Terminate)>
                    "Terminate…"
                </button>
            </Show>
            <Show when=move || state.pending.get()>
                <span class="pending" role="status">"Working…"</span>
            </Show>
        </div>
        {move || state.notice.get().map(|notice| view! {
            <div class=if notice.ok { "notice ok" } else { "notice failed" } role="status" id="action-notice">
                <p>{notice.text}</p>
                <ul>{notice.failures.into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
            </div>
        })}
    }
}
