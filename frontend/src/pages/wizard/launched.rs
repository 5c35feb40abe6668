//! `/launched?ids=…`: the instances of a launch, live, from pending to running, through their
//! status checks, until their SSH port answers.

use knit_shared::{InstanceProgress, InstanceState, WizardProgress};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api;

#[component]
pub fn LaunchedPage() -> impl IntoView {
    let ids = use_query_map()
        .read_untracked()
        .get("ids")
        .unwrap_or_default();
    let progress = RwSignal::new(None::<WizardProgress>);
    let failure = RwSignal::new(None::<String>);
    let source = StoredValue::new_local(None);
    match api::watch_wizard(&ids, move |now: WizardProgress| {
        // The server ends the stream once everything settled; the browser must not reopen it.
        if now.settled() {
            source.update_value(
                |s: &mut Option<gloo_net::eventsource::futures::EventSource>| {
                    if let Some(source) = s.take() {
                        source.close();
                    }
                },
            );
        }
        progress.set(Some(now));
    }) {
        Ok(opened) => source.set_value(Some(opened)),
        Err(error) => failure.set(Some(error.to_string())),
    }
    on_cleanup(move || source.update_value(|s| drop(s.take())));
    let list_link = format!("/instances?q={}", ids.replace(',', " "));
    view! {
        <h1>"Launched instances"</h1>
        {move || failure.get().map(|text| view! { <p class="notice failed" role="alert">{text}</p> })}
        <table class="progress" id="launch-progress">
            <thead><tr><th>"Instance"</th><th>"Address"</th><th>"Running"</th><th>"Status checks"</th><th>"SSH port"</th></tr></thead>
            <tbody>
                {move || progress.get().map(|now| now.instances.into_iter().map(row).collect_view())}
            </tbody>
        </table>
        {move || match progress.get() {
            None => view! { <p class="loading">"Asking EC2…"</p> }.into_any(),
            Some(now) if now.instances.iter().all(InstanceProgress::ready) => view! {
                <p class="notice ok" id="launch-ready">"Every instance runs, passed its checks and answers on port 22."</p>
            }.into_any(),
            Some(now) if now.settled() => view! {
                <p class="notice failed" id="launch-ready">"Some instances stopped or ended before they were ready."</p>
            }.into_any(),
            Some(_) => view! { <p class="muted">"Updates by itself every few seconds."</p> }.into_any(),
        }}
        <p><a href=list_link id="launched-list">"See them in the instance list"</a></p>
    }
}

fn row(instance: InstanceProgress) -> impl IntoView {
    let running = instance.state.as_str();
    let checks = if instance.checks.is_empty() {
        "waiting".to_owned()
    } else {
        instance.checks.clone()
    };
    let ssh = if instance.ssh {
        "answers"
    } else if instance.state == InstanceState::Running {
        "not yet"
    } else {
        "waiting"
    };
    view! {
        <tr data-instance=instance.id.clone()>
            <td>{instance.id.clone()}</td>
            <td>{instance.address.clone().unwrap_or_default()}</td>
            <td class="stage-state">{running}</td>
            <td class="stage-checks">{checks}</td>
            <td class="stage-ssh">{ssh}</td>
        </tr>
    }
}
