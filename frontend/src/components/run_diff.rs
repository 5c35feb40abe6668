//! What a run would change, asked before it starts: per host, what its roles say (the app's
//! commits and migrations) and each file it would write, a changed one with its diff against
//! the host's. Asked when the person asks, since it reads every host over SSH.

use knit_shared::{FileChange, FileDiff, HostDiff, RunDiff};
use leptos::prelude::*;

use crate::api;
use crate::components::Loaded;

/// The answer for `scenario` of `cluster` with `params`, read when this is shown.
#[component]
pub fn RunDiffView(
    cluster: String,
    scenario: String,
    params: Vec<(String, String)>,
) -> impl IntoView {
    let diff =
        api::resource(move || api::run_diff(cluster.clone(), scenario.clone(), params.clone()));
    view! {
        <Loaded resource=diff reading="what the run would change" let:diff>
            <Hosts diff />
        </Loaded>
    }
}

#[component]
fn Hosts(diff: RunDiff) -> impl IntoView {
    view! {
        <div class="run-diff" id="run-diff">
            {diff.hosts.into_iter().map(|host| view! { <Host host /> }).collect_view()}
        </div>
    }
}

#[component]
fn Host(host: HostDiff) -> impl IntoView {
    let (name, heading) = (host.host.clone(), host.host);
    view! {
        <section class="run-diff-host" data-host=name>
            <h3>{heading}</h3>
            <ul class="run-diff-notes">
                {host.notes.into_iter().map(|note| view! { <li>{note}</li> }).collect_view()}
            </ul>
            {host.files.into_iter().map(|file| view! { <File file /> }).collect_view()}
            {host.error.map(|error| view! { <p class="notice failed">{format!("not asked: {error}")}</p> })}
        </section>
    }
}

#[component]
fn File(file: FileDiff) -> impl IntoView {
    let change = file.change_said();
    let class = if file.change == FileChange::Unchanged {
        "run-diff-file unchanged"
    } else {
        "run-diff-file"
    };
    let (path, shown) = (file.path.clone(), file.path);
    view! {
        <div class=class data-path=path>
            <p><span class="chip">{file.role}</span>" "<code>{shown}</code>" "{change}</p>
            {(!file.diff.is_empty()).then(|| view! { <pre class="run-diff-text">{file.diff}</pre> })}
        </div>
    }
}
