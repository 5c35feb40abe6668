//! One run: the progress grid and the log, live until the run ends; cancel while it runs,
//! rerun after. A reload or a dropped connection picks the stream up again with nothing lost
//! and nothing twice: every event carries its number, and the page keeps the last it applied.

use std::time::Duration;

use knit_shared::{
    Delivery, Grid, RunDetail, RunEvent, RunEventBody, RunPlan, RunStatus, StartRun,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api;
use crate::components::{Loaded, LogLine, ProgressGrid, RunLog};

/// How often buffered events reach the page, and the running cells' clocks tick.
const FRAME: Duration = Duration::from_millis(100);

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    move || {
        let id = params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok());
        match id {
            Some(id) => view! { <RunView id /> }.into_any(),
            None => view! { <p class="error-state">"No such run."</p> }.into_any(),
        }
    }
}

#[component]
fn RunView(id: i64) -> impl IntoView {
    let detail = api::resource(move || api::run(id));
    view! {
        <Loaded resource=detail reading="the run" let:found>
            <Live detail=found />
        </Loaded>
    }
}

/// The run as it goes: events are buffered as they arrive and applied once per frame.
#[component]
fn Live(detail: RunDetail) -> impl IntoView {
    let id = detail.run.id;
    let plan = detail.plan.clone();
    let (summary, set_summary) = signal(detail.run.clone());
    let notifications = RwSignal::new(detail.notifications.clone());
    let (grid, set_grid) = signal(Grid::new(&plan));
    let (lines, set_lines) = signal(Vec::<LogLine>::new());
    let (now, set_now) = signal(js_sys::Date::now());
    let pending = StoredValue::new(Vec::<RunEvent>::new());
    let last_seq = StoredValue::new(0_i64);
    let source = StoredValue::new_local(None);
    let ended = RwSignal::new(false);

    match api::watch_run(id, move |event| {
        pending.update_value(|queue| queue.push(event))
    }) {
        Ok(watching) => source.set_value(Some(watching)),
        Err(failure) => leptos::logging::warn!("cannot follow run {id}: {failure}"),
    }
    let frame_plan = plan.clone();
    let tick = move || {
        set_now.set(js_sys::Date::now());
        let events = pending.try_update_value(std::mem::take).unwrap_or_default();
        if events.is_empty() {
            return;
        }
        let fresh: Vec<RunEvent> = events
            .into_iter()
            .filter(|event| {
                let new = event.seq > last_seq.get_value();
                if new {
                    last_seq.set_value(event.seq);
                }
                new
            })
            .collect();
        set_grid.update(|grid| {
            fresh
                .iter()
                .for_each(|event| grid.apply(&frame_plan, event))
        });
        // A run that waited in line runs once its first step starts.
        if fresh
            .iter()
            .any(|e| matches!(e.body, RunEventBody::StepStarted { .. }))
        {
            set_summary.update(|run| {
                if run.status.is_going() {
                    run.status = RunStatus::Running;
                }
            });
        }
        set_lines
            .update(|lines| lines.extend(fresh.iter().filter_map(|e| log_line(&frame_plan, e))));
        if let Some(status) = fresh.iter().find_map(|e| match e.body {
            RunEventBody::RunFinished { status } => Some(status),
            _ => None,
        }) {
            ended.set(true);
            set_summary.update(|run| run.status = status);
            // The end is recorded: stop following, read the end's time and the rest.
            source.set_value(None);
            leptos::task::spawn_local(async move {
                if let Ok(done) = api::run(id).await {
                    set_summary.set(done.run);
                    notifications.set(done.notifications);
                }
            });
        }
    };
    if let Ok(timer) = set_interval_with_handle(tick, FRAME) {
        on_cleanup(move || timer.clear());
    }
    on_cleanup(move || source.set_value(None));

    let hosts: Vec<String> = plan.hosts.iter().map(|h| h.name.clone()).collect();
    let retries = detail.retries.clone();
    let header_plan = plan.clone();
    view! {
        <RunHeader summary set_summary ended grid plan=header_plan retries />
        <Notifications notifications />
        <ProgressGrid plan grid now />
        <h2>"Log"</h2>
        <p class="log-downloads">
            "Download the whole log: "
            <a id="log-download" href=format!("/api/runs/{id}/log") download="">"as text"</a>
            " · "
            <a id="log-download-jsonl" href=format!("/api/runs/{id}/log?format=jsonl") download="">
                "as JSON lines"
            </a>
        </p>
        <RunLog lines hosts />
    }
}

#[component]
fn RunHeader(
    summary: ReadSignal<knit_shared::RunSummary>,
    /// A decision on an approval changes the run's status at once.
    set_summary: WriteSignal<knit_shared::RunSummary>,
    ended: RwSignal<bool>,
    grid: ReadSignal<Grid>,
    plan: RunPlan,
    /// Runs that retried this one.
    retries: Vec<i64>,
) -> impl IntoView {
    let failure = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    // A cluster that wants its name typed wants it for Run again and Retry too.
    let cluster_name = summary.with_untracked(|run| run.cluster.clone());
    let cluster = api::resource(move || {
        let cluster_name = cluster_name.clone();
        async move {
            api::clusters().await.ok().and_then(|list| {
                list.clusters
                    .into_iter()
                    .find(|cluster| cluster.name == cluster_name)
            })
        }
    });
    let wants_name = move || {
        cluster
            .get()
            .flatten()
            .is_some_and(|cluster| cluster.confirm)
    };
    let approvers = move || {
        cluster
            .get()
            .flatten()
            .map(|cluster| cluster.approvers)
            .unwrap_or_default()
    };
    let typed = RwSignal::new(String::new());
    let confirm = move || wants_name().then(|| typed.get_untracked().trim().to_owned());
    let named = move || !wants_name() || summary.with(|run| typed.get().trim() == run.cluster);
    let cancel = move |_| {
        let id = summary.get_untracked().id;
        leptos::task::spawn_local(async move {
            if let Err(error) = api::cancel_run(id).await {
                failure.set(Some(error.to_string()));
            }
        });
    };
    let plan = StoredValue::new(plan);
    let rerun_navigate = navigate.clone();
    let rerun = move |_| {
        let run = summary.get_untracked();
        // The same values again; a secret one is not known here, so it takes its default.
        let params = run
            .params
            .into_iter()
            .filter(|(_, value)| value != knit_shared::params::HIDDEN)
            .collect();
        // On the run's hosts again (a launch makes its own).
        let hosts = match run.scenario.as_str() {
            knit_shared::runs::LAUNCH_SCENARIO => Vec::new(),
            _ => plan.with_value(|plan| plan.hosts.iter().map(|host| host.name.clone()).collect()),
        };
        let request = StartRun {
            cluster: run.cluster,
            scenario: run.scenario,
            hosts,
            params,
            confirm: confirm(),
            ..StartRun::default()
        };
        let navigate = rerun_navigate.clone();
        leptos::task::spawn_local(async move {
            match api::start_run(&request).await {
                Ok(run) => navigate(&format!("/runs/{}", run.id), Default::default()),
                Err(error) => failure.set(Some(error.to_string())),
            }
        });
    };
    let undone =
        move || plan.with_value(|plan| grid.with(|grid| grid.unfinished_hosts(plan).len()));
    let retry = {
        let navigate = navigate.clone();
        move |_| {
            let run = summary.get_untracked();
            let request = StartRun {
                cluster: run.cluster,
                scenario: run.scenario,
                retry_of: Some(run.id),
                confirm: confirm(),
                ..StartRun::default()
            };
            let navigate = navigate.clone();
            leptos::task::spawn_local(async move {
                match api::start_run(&request).await {
                    Ok(run) => navigate(&format!("/runs/{}", run.id), Default::default()),
                    Err(error) => failure.set(Some(error.to_string())),
                }
            });
        }
    };
    let running = move || summary.with(|run| run.status.is_going()) && !ended.get();
    let comment = RwSignal::new(String::new());
    let decide = move |approved: bool| {
        let id = summary.get_untracked().id;
        let decision = knit_shared::Decision {
            comment: comment.get_untracked(),
        };
        leptos::task::spawn_local(async move {
            match api::decide(id, approved, &decision).await {
                Ok(()) => {
                    if let Ok(detail) = api::run(id).await {
                        set_summary.set(detail.run);
                    }
                }
                Err(error) => failure.set(Some(error.to_string())),
            }
        });
    };
    // Approvers other than the person who asked may answer a run awaiting approval.
    let may_decide = move || {
        let me = crate::session::me().map(|me| me.name).unwrap_or_default();
        summary.with(|run| run.actor != me) && approvers().contains(&me)
    };
    view! {
        <header class="run-header">
            <h1>{move || summary.with(|run| format!("Run {}: {} on {}", run.id, run.scenario, run.cluster))}</h1>
            <span class=move || format!("badge run-{}", summary.with(|run| run.status.as_str()))
                id="run-status">
                {move || summary.with(|run| run.status.as_str())}
            </span>
            <p class="muted">
                {move || summary.with(|run| {
                    let ended = run.finished_at.as_deref().map(|at| {
                        format!(", ended {at}{}", took(&run.started_at, at))
                    }).unwrap_or_default();
                    format!("started by {} at {}{ended}", run.actor, run.started_at)
                })}
            </p>
            {move || summary.with(|run| (!run.params.is_empty()).then(|| {
                let shown: Vec<String> = run.params.iter().map(|(name, value)| format!("{name}={value}")).collect();
                view! { <p class="muted" id="run-params">{format!("with {}", shown.join(", "))}</p> }
            }))}
            {move || summary.with(|run| (run.status == RunStatus::AwaitingApproval).then(|| {
                let who = approvers().join(", ");
                view! {
                    <div class="notice approval" role="status" id="run-approval">
                        {format!("Awaiting approval by {who}: it starts once one of them says yes.")}
                        {move || may_decide().then(|| view! {
                            <label>" Comment "
                                <input id="approval-comment" type="text" autocomplete="off"
                                    prop:value=move || comment.get()
                                    on:input=move |event| comment.set(event_target_value(&event)) />
                            </label>
                            <button class="button primary" id="run-approve" on:click=move |_| decide(true)>"Approve"</button>
                            <button class="button danger" id="run-reject" on:click=move |_| decide(false)>"Reject"</button>
                        })}
                    </div>
                }
            }))}
            {move || summary.with(|run| run.decided_by.clone().map(|by| view! {
                <p class="muted" id="run-decision">
                    {format!("{} by {by}{}", if run.status == RunStatus::Rejected { "Rejected" } else { "Approved" },
                        run.decision.as_deref().filter(|c| !c.is_empty()).map(|c| format!(": {c}")).unwrap_or_default())}
                </p>
            }))}
            {move || summary.with(|run| run.retry_of.map(|of| view! {
                <p class="muted" id="run-retry-of">"Retries "<a href=format!("/runs/{of}")>{format!("run {of}")}</a>" on the hosts it left undone"</p>
            }))}
            {(!retries.is_empty()).then(|| view! {
                <p class="muted" id="run-retries">"Retried by "
                    {retries.iter().map(|id| view! { <a href=format!("/runs/{id}")>{format!("run {id}")}</a>" " }).collect_view()}
                </p>
            })}
            <div class="run-actions">
                <button class="button danger" id="run-cancel" hidden=move || !running() on:click=cancel>"Cancel"</button>
                {move || (wants_name() && !running()).then(|| view! {
                    <label class="confirm-again">
                        {move || summary.with(|run| format!("Type {} to run it again: ", run.cluster))}
                        <input id="run-again-confirm" type="text" autocomplete="off"
                            prop:value=move || typed.get()
                            on:input=move |event| typed.set(event_target_value(&event)) />
                    </label>
                })}
                <button class="button" id="run-again" hidden=running disabled=move || !named() on:click=rerun>"Run again"</button>
                <button class="button" id="run-retry" hidden=move || running() || undone() == 0 disabled=move || !named() on:click=retry
                    title="the same scenario and parameters, on the hosts where a step failed, was skipped or never ran">
                    {move || match undone() {
                        1 => "Retry the host left undone".to_owned(),
                        count => format!("Retry the {count} hosts left undone"),
                    }}
                </button>
                <a class="button" href="/runs">"All runs"</a>
            </div>
            {move || failure.get().map(|message| view! { <p class="notice failed" role="alert">{message}</p> })}
        </header>
    }
}

/// Who was told of the run (`[[cluster.notify]]`), and whether it arrived.
#[component]
fn Notifications(notifications: RwSignal<Vec<Delivery>>) -> impl IntoView {
    move || {
        let deliveries = notifications.get();
        (!deliveries.is_empty()).then(|| view! {
            <ul class="notifications muted" id="run-notifications">
                {deliveries.into_iter().map(|delivery| {
                    let outcome = match (delivery.status.as_str(), &delivery.error) {
                        ("failed", Some(error)) => format!("not delivered after {} tries: {error}", delivery.attempts),
                        ("pending", Some(error)) => format!("trying again ({} tries so far): {error}", delivery.attempts),
                        (status, _) => status.to_owned(),
                    };
                    view! {
                        <li data-event=delivery.event.clone() data-status=delivery.status.clone()>
                            {format!("Notified of {} → {}: {outcome}", delivery.event, delivery.receiver)}
                        </li>
                    }
                }).collect_view()}
            </ul>
        })
    }
}

/// ` (took 3.2 s)` between two of the server's timestamps; empty if either does not parse.
fn took(started: &str, ended: &str) -> String {
    let elapsed = js_sys::Date::parse(ended) - js_sys::Date::parse(started);
    if elapsed.is_finite() {
        format!(" (took {:.1} s)", elapsed / 1000.0)
    } else {
        String::new()
    }
}

/// What an event adds to the log: a header when a step starts on a host, or a line.
fn log_line(plan: &RunPlan, event: &RunEvent) -> Option<LogLine> {
    match &event.body {
        RunEventBody::StepStarted { step, host } => Some(LogLine {
            host: host.clone(),
            stream: None,
            text: format!(
                "── {} ──",
                plan.steps.get(*step).map_or("?", |s| s.name.as_str())
            ),
        }),
        RunEventBody::Line {
            host, stream, text, ..
        } => Some(LogLine {
            host: host.clone(),
            stream: Some(*stream),
            text: text.clone(),
        }),
        RunEventBody::StepFinished { .. }
        | RunEventBody::Output { .. }
        | RunEventBody::RunFinished { .. } => None,
    }
}
