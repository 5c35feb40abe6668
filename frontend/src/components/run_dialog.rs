//! Asking before a scenario runs: which cluster, which steps, a field per parameter (checked as
//! it is typed, by the server's own rules); a cluster that wants confirmation (by default a
//! production one) has its name typed, and the server checks it again.
//! "What will change" asks the hosts what the run would change, before it starts. Confirming
//! starts the run and opens its view.

use std::collections::BTreeSet;

use knit_shared::{ClusterHost, ScenarioParam, ScenarioSummary, StartRun};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::components::{Loaded, RunDiffView};

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
    let fields: Vec<(ScenarioParam, RwSignal<String>)> = scenario
        .params
        .iter()
        .map(|param| {
            (
                param.clone(),
                // A secret's default is never sent to the console: empty means the default.
                RwSignal::new(match param.secret {
                    true => String::new(),
                    false => param.default.clone().unwrap_or_default(),
                }),
            )
        })
        .collect();
    // The hosts to run on: all of them, until some are unchecked. A launch makes hosts.
    let launch = scenario.name == "launch";
    let hosts = api::resource({
        let cluster = cluster.clone();
        move || {
            let cluster = cluster.clone();
            async move {
                match launch {
                    true => Vec::new(),
                    false => api::cluster_hosts(&cluster)
                        .await
                        .map(|list| list.hosts)
                        .unwrap_or_default(),
                }
            }
        }
    });
    let unchecked = RwSignal::new(BTreeSet::<String>::new());
    let chosen = move || {
        let all = hosts.get().unwrap_or_default();
        let left: Vec<String> = unchecked.with(|unchecked| {
            all.iter()
                .filter(|host| !unchecked.contains(&host.name))
                .map(|host| host.name.clone())
                .collect()
        });
        (left.len(), all.len(), left)
    };
    let ready = {
        let cluster = cluster.clone();
        let fields = fields.clone();
        move || {
            !starting.get()
                && (launch || chosen().0 > 0)
                && (!production || typed.get().trim() == cluster)
                && fields
                    .iter()
                    .all(|(param, value)| problem(param, &value.get()).is_none())
        }
    };
    let start = {
        let ready = ready.clone();
        let (cluster, scenario_name, fields) =
            (cluster.clone(), scenario.name.clone(), fields.clone());
        move |_| {
            if !ready() {
                return;
            }
            starting.set(true);
            // Every host checked runs on all of them, as the cluster has them when it starts.
            let (left, all, names) = chosen();
            let request = StartRun {
                cluster: cluster.clone(),
                scenario: scenario_name.clone(),
                hosts: if left == all { Vec::new() } else { names },
                roles: Vec::new(),
                params: fields
                    .iter()
                    .map(|(param, value)| (param.name.clone(), value.get_untracked()))
                    .filter(|(name, value)| !value.is_empty() || !has_default(&fields, name))
                    .collect(),
                confirm: production.then(|| typed.get_untracked().trim().to_owned()),
                ..StartRun::default()
            };
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
    // The parameters as typed when "What will change" was pressed: the diff is of those.
    let asked = RwSignal::new(None::<Vec<(String, String)>>);
    let ask = {
        let fields = fields.clone();
        move |_| {
            let params = fields
                .iter()
                .map(|(param, value)| (param.name.clone(), value.get_untracked()))
                .filter(|(name, value)| !value.is_empty() || !has_default(&fields, name))
                .collect();
            asked.set(Some(params));
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
                {fields.into_iter().map(|(param, value)| view! { <ParamField param value /> }).collect_view()}
                {move || {
                    let hosts = hosts.get().unwrap_or_default();
                    (!hosts.is_empty()).then(|| view! { <HostPicker hosts unchecked /> })
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
                {
                    let (cluster, scenario_name) = (cluster.clone(), scenario.name.clone());
                    move || asked.get().map(|params| view! {
                        <RunDiffView cluster=cluster.clone() scenario=scenario_name.clone() params />
                    })
                }
                <div class="modal-actions">
                    <button class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    {(!launch).then(|| view! {
                        <button class="button" id="run-diff-ask" on:click=ask>"What will change"</button>
                    })}
                    <button class="button primary" id="run-go" disabled=move || !ready() on:click=start>
                        {format!("Run {}", scenario.name)}
                    </button>
                </div>
            </div>
        </div>
    }
}

/// The cluster's hosts by machine, each with a box: unchecked ones are left out of the run.
#[component]
fn HostPicker(hosts: Vec<ClusterHost>, unchecked: RwSignal<BTreeSet<String>>) -> impl IntoView {
    let mut machines: Vec<(String, Vec<String>, Vec<ClusterHost>)> = Vec::new();
    for host in hosts {
        match machines
            .iter_mut()
            .find(|(machine, _, _)| *machine == host.machine)
        {
            Some((_, _, members)) => members.push(host),
            None => machines.push((host.machine.clone(), host.roles.clone(), vec![host])),
        }
    }
    view! {
        <fieldset class="host-picker" id="run-hosts">
            <legend>"Hosts"</legend>
            {machines.into_iter().map(|(machine, roles, members)| view! {
                <div class="host-group">
                    <span class="host-machine">{machine}</span>
                    {roles.into_iter().map(|role| view! { <span class="chip">{role}</span> }).collect_view()}
                    {members.into_iter().map(|host| {
                        let name = host.name.clone();
                        let toggle = {
                            let name = name.clone();
                            move |_| unchecked.update(|unchecked| {
                                if !unchecked.remove(&name) {
                                    unchecked.insert(name.clone());
                                }
                            })
                        };
                        let checked = {
                            let name = name.clone();
                            move || unchecked.with(|unchecked| !unchecked.contains(&name))
                        };
                        view! {
                            <label class="host-choice" title=host.address.clone()>
                                <input type="checkbox" data-host=name.clone() prop:checked=checked on:change=toggle />
                                {name}
                            </label>
                        }
                    }).collect_view()}
                </div>
            }).collect_view()}
        </fieldset>
    }
}

/// Why `value` cannot be given for `param`, if it cannot. Empty is its default, when it has one.
fn problem(param: &ScenarioParam, value: &str) -> Option<String> {
    match (value.is_empty(), &param.default) {
        (true, None) => Some(format!("{} is required", param.name)),
        (true, Some(_)) => None,
        (false, _) => param.check(value).err().map(|invalid| invalid.message),
    }
}

/// Whether parameter `name` has a default, which an empty field leaves to the server.
fn has_default(fields: &[(ScenarioParam, RwSignal<String>)], name: &str) -> bool {
    fields
        .iter()
        .any(|(param, _)| param.name == name && param.default.is_some())
}

/// One parameter: a select of its choices, or a field (hidden as typed when secret).
#[component]
fn ParamField(param: ScenarioParam, value: RwSignal<String>) -> impl IntoView {
    let id = format!("param-{}", param.name);
    let label = match &param.description {
        Some(description) => format!("{} — {description}", param.name),
        None => param.name.clone(),
    };
    let input = if param.choices.is_empty() {
        let kind = if param.secret { "password" } else { "text" };
        view! {
            <input id=id.clone() type=kind autocomplete="off"
                prop:value=move || value.get()
                on:input=move |event| value.set(event_target_value(&event)) />
        }
        .into_any()
    } else {
        view! {
            <select id=id.clone() on:change=move |event| value.set(event_target_value(&event))>
                {param.choices.iter().map(|choice| {
                    let selected = value.get_untracked() == *choice;
                    view! { <option value=choice.clone() selected=selected>{choice.clone()}</option> }
                }).collect_view()}
            </select>
        }
        .into_any()
    };
    let error_id = format!("{id}-error");
    view! {
        <label for=id.clone()>{label}</label>
        {input}
        {move || problem(&param, &value.get()).map(|message| view! {
            <p class="field-error" id=error_id.clone()>{message}</p>
        })}
    }
}

/// What a launch would change, read from EC2 when the dialog opens.
#[component]
fn LaunchChanges(cluster: String) -> impl IntoView {
    let changes = api::resource(move || api::launch_changes(cluster.clone()));
    view! {
        <Loaded resource=changes reading="what launch would change" let:plan>
            {if plan.changes.is_empty() {
                view! { <p id="launch-changes">"EC2 already matches the definition: nothing to create."</p> }.into_any()
            } else {
                view! {
                    <p>"Launch will:"</p>
                    <ul class="plan-changes" id="launch-changes">
                        {plan.changes.iter().map(|change| view! { <li>{change.describe()}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </Loaded>
    }
}
