//! The history of every run, from the console and the CLI, filtered by cluster, scenario,
//! status or person through the URL.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api;
use crate::components::{EmptyState, QueryFilters};

const FILTERS: [(&str, &str); 4] = [
    ("cluster", "Cluster"),
    ("scenario", "Scenario"),
    ("status", "Status"),
    ("actor", "Person"),
];

#[component]
pub fn RunsPage() -> impl IntoView {
    let query = use_query_map();
    let list = LocalResource::new(move || {
        let search = query.get().to_query_string();
        async move { api::runs(&search).await }
    });
    view! {
        <h1>"Runs"</h1>
        <QueryFilters path="/runs" filters=&FILTERS />
        {move || match list.get() {
            None => view! { <p class="loading" role="status">"Reading the runs…"</p> }.into_any(),
            Some(Err(failure)) => view! {
                <section class="error-state" role="alert"><p>{failure.to_string()}</p></section>
            }.into_any(),
            Some(Ok(list)) if list.runs.is_empty() => view! {
                <EmptyState title="No runs">
                    <p>"Every install and scenario run, from the CLI or the console, is listed here."</p>
                </EmptyState>
            }.into_any(),
            Some(Ok(list)) => view! {
                <table class="runs" id="runs-table">
                    <thead><tr>
                        <th>"Run"</th><th>"Cluster"</th><th>"Scenario"</th><th>"With"</th><th>"Status"</th>
                        <th>"By"</th><th>"Started"</th><th>"Ended"</th>
                    </tr></thead>
                    <tbody>
                        {list.runs.into_iter().map(|run| view! {
                            <tr data-run=run.id>
                                <td><a href=format!("/runs/{}", run.id)>{run.id}</a></td>
                                <td>{run.cluster}</td>
                                <td>{run.scenario}</td>
                                <td class="run-params">{run.params.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join(", ")}</td>
                                <td><span class=format!("badge run-{}", run.status.as_str())>{run.status.as_str()}</span></td>
                                <td>{run.actor}</td>
                                <td>{run.started_at}</td>
                                <td>{run.finished_at.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
    }
}
