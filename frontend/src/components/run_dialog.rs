//! Asking before a scenario runs: which cluster, which steps; a production cluster's name must
//! be typed. Confirming starts the run and opens its view.

use knit_shared::{ScenarioSummary, StartRun};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api;

#[component]
pub fn RunDialog(
    cluster: String,
    production: bool,
    scenario: ScenarioSummary,
    on_close: Callback<()>,
) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<String>);
    let starting = RwSignal::new(false);
    let navigate = use_navigate();
    let ready = {
        let cluster = cluster.clone();
        move || !starting.get() && (!production || typed.get().trim() == cluster)
    };
    let request = StartRun {
        cluster: cluster.clone(),
        scenario: scenario.name.clone(),
        hosts: Vec::new(),
        roles: Vec::new(),
    };
    let start = {
        let ready = ready.clone();
        move |_| {
            if !ready() {
                return;
            }
            starting.set(true);
            let request = request.clone();
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                match api::start_run(&request).await {
                    Ok(run) => navigate(&format!("/runs/{}", run.id), Default::default()),
                    Err(error) => {
                        failure.set(Some(error.to_string()));
                        starting.set(false);
                    }
                }
            });
        }
    };
    let title = format!("Run {} on {cluster}", scenario.name);
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" aria-labelledby="run-title" id="run-dialog">
                <h2 id="run-title">{title}</h2>
                {if scenario.name == "launch" {
                    view! { <LaunchChanges cluster=cluster.clone() /> }.into_any()
                } else {
                    view! {
                        <p>"These steps run in order, each on every host of its role:"</p>
                        <ol class="steps-inline">
                            {scenario.steps.iter().map(|step| view! { <li class="chip">{step.clone()}</li> }).collect_view()}
                            {scenario.finally.iter().map(|step| view! {
                                <li class="chip finally" title="runs at the end, even after a failure">{step.clone()}</li>
                            }).collect_view()}
                        </ol>
                    }.into_any()
                }}
                {production.then(|| view! {
                    <label for="run-confirm">
                        {format!("{cluster} is a production cluster. Type its name to confirm.")}
                    </label>
                    <input id="run-confirm" type="text" autocomplete="off"
                        prop:value=move || typed.get()
                        on:input=move |event| typed.set(event_target_value(&event)) />
                })}
                {move || failure.get().map(|message| view! {
                    <p class="notice failed" role="alert" id="run-refused">{message}</p>
                })}
                <div class="modal-actions">
                    <button class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button class="button primary" id="run-go" disabled=move || !ready() on:click=start>
                        {format!("Run {}", scenario.name)}
                    </button>
                </div>
            </div>
        </div>
    }
}

/// What a launch would change, read from EC2 when the dialog opens.
#[component]
fn LaunchChanges(cluster: String) -> impl IntoView {
    let plan = LocalResource::new(move || api::launch_plan(cluster.clone()));
    move || {
        match plan.get() {
        None => view! { <p class="loading" role="status">"Comparing with EC2…"</p> }.into_any(),
        Some(Err(failure)) => view! { <p class="notice failed">{failure.to_string()}</p> }.into_any(),
        Some(Ok(plan)) if plan.changes.is_empty() => {
            view! { <p id="launch-changes">"EC2 already matches the definition: nothing to create."</p> }.into_any()
        }
        Some(Ok(plan)) => view! {
            <p>"Launch will:"</p>
            <ul class="plan-changes" id="launch-changes">
                {plan.changes.iter().map(|change| view! { <li>{change.describe()}</li> }).collect_view()}
            </ul>
        }.into_any(),
    }
    }
}
