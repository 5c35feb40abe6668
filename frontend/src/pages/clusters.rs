//! Clusters from the definition files: machines with their roles, and scenarios with their steps.

use std::time::Duration;

use knit_shared::runs::{LAUNCH_SCENARIO, scenario_needs};
use knit_shared::{
    ClusterList, ClusterSummary, Freeze, Role, RunSummary, ScenarioSummary, ScheduleSummary,
};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::{EmptyState, LiveReleases, Loaded, RunDialog, Topology};
use crate::{api, session};

/// How often the page looks again for runs that took or freed a cluster.
const REFRESH: Duration = Duration::from_secs(3);

/// The scenario the confirmation dialog asks about: cluster, production or not, scenario.
type Asking = Option<(String, bool, ScenarioSummary)>;

/// Every cluster.
#[component]
pub fn ClustersPage() -> impl IntoView {
    view! { <Clusters only=None /> }
}

/// One cluster, at `/clusters/<name>`.
#[component]
pub fn ClusterPage() -> impl IntoView {
    let params = use_params_map();
    move || {
        let name = params.read().get("name");
        view! { <Clusters only=name /> }
    }
}

#[component]
fn Clusters(only: Option<String>) -> impl IntoView {
    let list = api::resource(api::clusters);
    if let Ok(timer) = set_interval_with_handle(move || list.refetch(), REFRESH) {
        on_cleanup(move || timer.clear());
    }
    let asking = RwSignal::new(Asking::None);
    // The cluster whose freeze is being asked for: its dialog outlives the list's refreshes.
    let freezing = RwSignal::new(None::<String>);
    let title = if only.is_some() {
        "Cluster"
    } else {
        "Clusters"
    };
    view! {
        <h1>{title}</h1>
        {move || asking.get().map(|(cluster, production, scenario)| view! {
            <RunDialog cluster production scenario on_close=Callback::new(move |()| asking.set(None)) />
        })}
        {move || freezing.get().map(|cluster| view! {
            <FreezeDialog cluster on_close=Callback::new(move |()| {
                freezing.set(None);
                list.refetch();
            }) />
        })}
        <Loaded resource=list reading="the cluster definitions" let:list>
        {
            let list = narrowed(list, only.as_deref());
            view! {
                {(!list.errors.is_empty()).then(|| view! {
                    <section class="error-state" role="alert" id="definition-errors">
                        <h2>"Some definition files have mistakes"</h2>
                        <ul>{list.errors.into_iter().map(|e| view! { <li><code>{e}</code></li> }).collect_view()}</ul>
                    </section>
                })}
                {if list.clusters.is_empty() && only.is_some() {
                    view! {
                        <EmptyState title="No such cluster">
                            <p><a href="/clusters">"All clusters"</a></p>
                        </EmptyState>
                    }.into_any()
                } else if list.clusters.is_empty() {
                    view! {
                        <EmptyState title="No cluster definitions found">
                            <p>
                                "Start knit with " <code>"--clusters DIR"</code>
                                ", a folder of *.toml definition files in your repository."
                            </p>
                        </EmptyState>
                    }.into_any()
                } else {
                    list.clusters.into_iter().map(|cluster| view! { <ClusterCard cluster asking freezing /> }).collect_view().into_any()
                }}
            }.into_any()
        }
        </Loaded>
    }
}

/// `list` with only cluster `only`, when one is named; the mistakes of other files are for
/// the list of all clusters.
fn narrowed(mut list: ClusterList, only: Option<&str>) -> ClusterList {
    if let Some(name) = only {
        list.clusters.retain(|cluster| cluster.name == name);
        list.errors.clear();
    }
    list
}

#[component]
fn ClusterCard(
    cluster: ClusterSummary,
    asking: RwSignal<Asking>,
    freezing: RwSignal<Option<String>>,
) -> impl IntoView {
    let production = cluster.confirm;
    let active = cluster.active_run.clone();
    let frozen = cluster.frozen.clone();
    let operators = cluster.operators.clone();
    let mut scenarios = cluster.scenarios.clone();
    if cluster
        .machines
        .iter()
        .any(|machine| machine.hosts.is_empty())
    {
        scenarios.insert(
            0,
            ScenarioSummary {
                name: LAUNCH_SCENARIO.to_owned(),
                steps: vec!["create firewall groups and machines".to_owned()],
                finally: Vec::new(),
                params: Vec::new(),
                schedule: None,
            },
        );
    }
    if !scenarios.iter().any(|scenario| scenario.name == "install") {
        scenarios.push(ScenarioSummary {
            name: "install".to_owned(),
            steps: vec!["ALL.install".to_owned()],
            finally: Vec::new(),
            params: Vec::new(),
            schedule: None,
        });
    }
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
                <h2><a href=format!("/clusters/{}", cluster.name)>{cluster.name.clone()}</a></h2>
                <span class="muted">{cluster.region.clone().unwrap_or_default()} " " {tags}</span>
            </header>
            <p class="muted file">{cluster.file.clone()}</p>
            <Topology cluster=cluster.clone() />
            {cluster.hourly_cost().map(|(hourly, unpriced)| {
                let unpriced = match unpriced {
                    0 => String::new(),
                    n => format!(" and {n} of a type knit has no price for"),
                };
                view! {
                    <p class="muted cluster-cost">
                        {format!(
                            "Its running instances cost about ${hourly:.4} an hour, ${:.2} a month on demand{unpriced} (us-east-1's list).",
                            hourly * knit_shared::clusters::HOURS_A_MONTH
                        )}
                    </p>
                }
            })}
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
            <h3>"Live"</h3>
            <LiveReleases cluster=cluster.name.clone() />
            <h3>"Scenarios"</h3>
            <Frozen cluster=cluster.name.clone() frozen=cluster.frozen.clone() operators=operators.clone() freezing />
            {active.clone().map(|run| view! { <Locked run /> })}
            <ul class="scenarios">
                {scenarios.into_iter().map(|scenario| {
                    let cluster = cluster.name.clone();
                    let held = match (&frozen, &active) {
                        (Some(freeze), _) => Some(format!("frozen by {}: {}", freeze.by, freeze.message)),
                        (None, Some(run)) => Some(format!("run {} by {} holds the cluster", run.id, run.actor)),
                        (None, None) => None,
                    };
                    view! { <Scenario scenario cluster production held operators=operators.clone() asking /> }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// A frozen cluster's banner with Unfreeze, or the way to freeze it, for those who may: admins
/// and the cluster's operators.
#[component]
fn Frozen(
    cluster: String,
    frozen: Option<Freeze>,
    operators: Vec<String>,
    freezing: RwSignal<Option<String>>,
) -> impl IntoView {
    let may = move || {
        session::may(Role::Admin) || session::me().is_some_and(|me| operators.contains(&me.name))
    };
    let failure = RwSignal::new(None::<String>);
    match frozen {
        Some(freeze) => {
            let unfreeze = move |_| {
                let cluster = cluster.clone();
                leptos::task::spawn_local(async move {
                    if let Err(error) = api::set_freeze(&cluster, None).await {
                        failure.set(Some(error.to_string()));
                    }
                });
            };
            view! {
                <p class="notice frozen" role="status" id="freeze-banner">
                    {format!("Frozen by {} since {}: {}. No run starts until it is unfrozen. ", freeze.by, freeze.since, freeze.message)}
                    <button class="button small" id="unfreeze" hidden=move || !may() on:click=unfreeze>"Unfreeze"</button>
                </p>
                {move || failure.get().map(|message| view! { <p class="notice failed" role="alert">{message}</p> })}
            }
            .into_any()
        }
        None => view! {
            <button class="button small" id="freeze" hidden=move || !may()
                on:click=move |_| freezing.set(Some(cluster.clone()))>
                "Freeze"
            </button>
        }
        .into_any(),
    }
}

/// Asks why the cluster is frozen, then freezes it.
#[component]
fn FreezeDialog(cluster: String, on_close: Callback<()>) -> impl IntoView {
    let message = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<String>);
    let freeze = {
        let cluster = cluster.clone();
        move |_| {
            let cluster = cluster.clone();
            let text = message.get_untracked();
            leptos::task::spawn_local(async move {
                match api::set_freeze(&cluster, Some(text)).await {
                    Ok(()) => on_close.run(()),
                    Err(error) => failure.set(Some(error.to_string())),
                }
            });
        }
    };
    view! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" id="freeze-dialog">
                <h2>{format!("Freeze {cluster}")}</h2>
                <p>"No run starts on it until it is unfrozen; everyone whose run it refuses reads why."</p>
                <label for="freeze-message">"Why"</label>
                <input id="freeze-message" type="text" autocomplete="off"
                    prop:value=move || message.get()
                    on:input=move |event| message.set(event_target_value(&event)) />
                {move || failure.get().map(|text| view! { <p class="notice failed" role="alert">{text}</p> })}
                <div class="modal-actions">
                    <button class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button class="button danger" id="freeze-go"
                        disabled=move || message.get().trim().is_empty() on:click=freeze>"Freeze"</button>
                </div>
            </div>
        </div>
    }
}

/// Why the buttons are disabled: the run that holds the cluster.
#[component]
fn Locked(run: RunSummary) -> impl IntoView {
    view! {
        <p class="notice" role="status">
            <a href=format!("/runs/{}", run.id)>{format!("Run {}", run.id)}</a>
            {format!(" ({}) by {} is in progress since {}; the scenarios wait for it.", run.scenario, run.actor, run.started_at)}
        </p>
    }
}

#[component]
fn Scenario(
    scenario: ScenarioSummary,
    cluster: String,
    production: bool,
    /// Why no run may start now: the run that holds the cluster, or its freeze.
    held: Option<String>,
    operators: Vec<String>,
    asking: RwSignal<Asking>,
) -> impl IntoView {
    let name = scenario.name.clone();
    let needs = scenario_needs(&scenario.name);
    let locked_by = held.clone();
    let may_run = {
        let operators = operators.clone();
        move || {
            session::may(needs)
                && (operators.is_empty()
                    || session::me().is_some_and(|me| operators.contains(&me.name)))
        }
    };
    let reason = {
        let may_run = may_run.clone();
        move || {
            if !may_run() {
                Some(if operators.is_empty() {
                    format!("needs the {needs} role")
                } else {
                    format!("only {} may run this cluster", operators.join(", "))
                })
            } else {
                locked_by.clone()
            }
        }
    };
    let disabled = {
        let locked = held.is_some();
        move || locked || !may_run()
    };
    let schedule = scenario
        .schedule
        .clone()
        .map(|schedule| schedule_line(cluster.clone(), scenario.name.clone(), schedule));
    let ask = {
        let scenario = scenario.clone();
        move |_| asking.set(Some((cluster.clone(), production, scenario.clone())))
    };
    view! {
        <li data-scenario=name>
            <button class="button primary run-button" disabled=disabled title=reason on:click=ask>
                {scenario.name.clone()}
            </button>
            <ol class="steps-inline">
                {scenario.steps.into_iter().map(|step| view! { <li class="chip">{step}</li> }).collect_view()}
                {scenario.finally.into_iter().map(|step| view! {
                    <li class="chip finally" title="runs at the end, even after a failure">{step}</li>
                }).collect_view()}
            </ol>
            {schedule}
        </li>
    }
}

/// When the server runs a scenario by itself: the expression, the next occurrence or who paused
/// it, the latest run, and (for admins) pause or resume.
fn schedule_line(cluster: String, scenario: String, schedule: ScheduleSummary) -> impl IntoView {
    let failure = RwSignal::new(None::<String>);
    let paused = schedule.paused_by.is_some();
    let toggle = move |_| {
        let (cluster, scenario) = (cluster.clone(), scenario.clone());
        leptos::task::spawn_local(async move {
            if let Err(error) = api::set_schedule_paused(&cluster, &scenario, !paused).await {
                failure.set(Some(error.to_string()));
            }
        });
    };
    let when = match (&schedule.paused_by, &schedule.next) {
        (Some(by), _) => format!("paused by {by}"),
        (None, Some(next)) => format!("next {next}"),
        (None, None) => "no next occurrence".to_owned(),
    };
    let last = schedule.last_run.map(|run| {
        view! {
            " · last: "
            <a href=format!("/runs/{}", run.id)>{format!("run {} {}", run.id, run.status.as_str())}</a>
        }
    });
    view! {
        <p class="schedule muted">
            {format!("On schedule {} ({}){} · {when}", schedule.cron, schedule.timezone,
                if schedule.catch_up { ", catching up" } else { "" })}
            {last}
            " "
            <button class="button small schedule-toggle" hidden=move || !session::may(Role::Admin) on:click=toggle>
                {if paused { "Resume" } else { "Pause" }}
            </button>
        </p>
        {move || failure.get().map(|message| view! { <p class="notice failed" role="alert">{message}</p> })}
    }
}
