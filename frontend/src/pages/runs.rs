//! The history of every run, from the console and the CLI, filtered by cluster, scenario,
//! status or person through the URL, a page at a time.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use knit_shared::RunSummary;

use crate::api;
use crate::components::{EmptyState, Loaded, QueryFilters};

const FILTERS: [(&str, &str); 4] = [
    ("cluster", "Cluster"),
    ("scenario", "Scenario"),
    ("status", "Status"),
    ("actor", "Person"),
];

#[component]
pub fn RunsPage() -> impl IntoView {
    let query = use_query_map();
    let list = api::resource(move || {
        let search = query.get().to_query_string();
        async move { api::runs(&search).await }
    });
    // Older pages, below the first, as "Show older runs" brings them; `None` until one came.
    let older = RwSignal::new(Vec::<RunSummary>::new());
    let older_next = RwSignal::new(None::<Option<i64>>);
    let failure = RwSignal::new(None::<String>);
    Effect::new(move || {
        query.track();
        older.set(Vec::new());
        older_next.set(None);
    });
    let show_older = move |before: i64| {
        let search = query.get_untracked().to_query_string();
        let joiner = if search.is_empty() { '?' } else { '&' };
        let search = format!("{search}{joiner}before={before}");
        leptos::task::spawn_local(async move {
            match api::runs(&search).await {
                Ok(page) => {
                    older.update(|runs| runs.extend(page.runs));
                    older_next.set(Some(page.next));
                    failure.set(None);
                }
                Err(error) => failure.set(Some(error.to_string())),
            }
        });
    };
    view! {
        <h1>"Runs"</h1>
        <QueryFilters path="/runs" filters=&FILTERS />
        <Loaded resource=list reading="the runs" let:list>
        {if list.runs.is_empty() {
            view! {
                <EmptyState title="No runs">
                    <p>"Every install and scenario run, from the CLI or the console, is listed here."</p>
                </EmptyState>
            }.into_any()
        } else {
            let next = move || older_next.get().unwrap_or(list.next);
            view! {
                <table class="runs" id="runs-table">
                    <thead><tr>
                        <th>"Run"</th><th>"Cluster"</th><th>"Scenario"</th><th>"With"</th><th>"Release"</th><th>"Status"</th>
                        <th>"By"</th><th>"Started"</th><th>"Ended"</th>
                    </tr></thead>
                    <tbody>
                        {list.runs.into_iter().map(row).collect_view()}
                        {move || older.get().into_iter().map(row).collect_view()}
                    </tbody>
                </table>
                {move || failure.get().map(|text| view! { <p class="notice failed" role="alert">{text}</p> })}
                {move || next().map(|before| view! {
                    <p><button id="runs-older" class="secondary" on:click=move |_| show_older(before)>
                        "Show older runs"
                    </button></p>
                })}
            }.into_any()
        }}
        </Loaded>
    }
}

fn row(run: RunSummary) -> impl IntoView {
    let params: Vec<String> = run
        .params
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    view! {
        <tr data-run=run.id>
            <td><a href=format!("/runs/{}", run.id)>{run.id}</a></td>
            <td>{run.cluster}</td>
            <td>{run.scenario}</td>
            <td class="run-params">{params.join(", ")}</td>
            <td class="run-releases">{run.releases.join(", ")}</td>
            <td><span class=format!("badge run-{}", run.status.as_str())>{run.status.as_str()}</span></td>
            <td>{run.actor}</td>
            <td>{run.started_at}</td>
            <td>{run.finished_at.unwrap_or_default()}</td>
        </tr>
    }
}
