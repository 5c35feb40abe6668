//! Clusters from the definition files: machines with their roles, and scenarios with their steps.

use knit_shared::{ClusterSummary, ScenarioSummary};
use leptos::prelude::*;

use crate::api;
use crate::components::EmptyState;

#[component]
pub fn ClustersPage() -> impl IntoView {
    let list = LocalResource::new(api::clusters);
    view! {
        <h1>"Clusters"</h1>
        {move || match list.get() {
            None => view! { <p class="loading" role="status">"Reading cluster definitions…"</p> }.into_any(),
            Some(Err(failure)) => view! {
                <section class="error-state" role="alert">
                    <h2>"The clusters could not be read"</h2>
                    <p>{failure.to_string()}</p>
                </section>
            }.into_any(),
            Some(Ok(list)) => view! {
                {(!list.errors.is_empty()).then(|| view! {
                    <section class="error-state" role="alert" id="definition-errors">
                        <h2>"Some definition files have mistakes"</h2>
                        <ul>{list.errors.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view()}</ul>
                    </section>
                })}
                {if list.clusters.is_empty() {
                    view! {
                        <EmptyState title="No cluster definitions found">
                            <p>
                                "Start knit with " <code>"--clusters DIR"</code>
                                ", a folder of *.toml definition files in your repository."
                            </p>
                        </EmptyState>
                    }.into_any()
                } else {
                    list.clusters.into_iter().map(|cluster| view! { <ClusterCard cluster /> }).collect_view().into_any()
                }}
            }.into_any(),
        }}
    }
}

#[component]
fn ClusterCard(cluster: ClusterSummary) -> impl IntoView {
    let tags = cluster
        .tags
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let name = cluster.name.clone();
    view! {
        <section class="cluster" data-cluster=name>
            <header>
                <h2>{cluster.name.clone()}</h2>
                <span class="muted">{cluster.region.unwrap_or_default()} " " {tags}</span>
            </header>
            <p class="muted file">{cluster.file}</p>
            <table class="machines">
                <thead><tr><th>"Machine"</th><th>"Where"</th><th>"Roles"</th></tr></thead>
                <tbody>
                    {cluster.machines.into_iter().map(|machine| {
                        let place = if machine.hosts.is_empty() {
                            format!("{} · {}", machine.ami.unwrap_or_default(), machine.instance_type.unwrap_or_default())
                        } else {
                            machine.hosts.join(", ")
                        };
                        view! {
                            <tr>
                                <td>{machine.name}</td>
                                <td class="ip">{place}</td>
                                <td>{machine.roles.into_iter().map(|(role, kind)| view! {
                                    <span class="chip" title=kind>{role}</span>
                                }).collect_view()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <h3>"Scenarios"</h3>
            <ul class="scenarios">
                {cluster.scenarios.into_iter().map(|scenario| view! { <Scenario scenario /> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn Scenario(scenario: ScenarioSummary) -> impl IntoView {
    let name = scenario.name.clone();
    view! {
        <li data-scenario=name>
            <strong>{scenario.name}</strong>
            <ol class="steps-inline">
                {scenario.steps.into_iter().map(|step| view! { <li class="chip">{step}</li> }).collect_view()}
                {scenario.finally.into_iter().map(|step| view! {
                    <li class="chip finally" title="runs at the end, even after a failure">{step}</li>
                }).collect_view()}
            </ol>
        </li>
    }
}
