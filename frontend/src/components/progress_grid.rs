//! The progress grid of a run: hosts down, steps across, each cell's state with its time.

use knit_shared::{Cell, CellStatus, Grid, RunPlan};
use leptos::prelude::*;

#[component]
pub fn ProgressGrid(
    plan: RunPlan,
    grid: ReadSignal<Grid>,
    /// Milliseconds since the epoch, ticking, for the time of running cells.
    now: ReadSignal<f64>,
) -> impl IntoView {
    let steps = plan.steps.clone();
    view! {
        <div class="grid-scroll">
            <table class="progress-grid" id="progress-grid">
                <thead>
                    <tr>
                        <th>"Host"</th>
                        {steps.iter().map(|step| {
                            let class = if step.finally { "finally" } else { "" };
                            let title = if step.finally { "runs at the end, even after a failure" } else { "" };
                            view! { <th class=class title=title>{step.name.clone()}</th> }
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {plan.hosts.iter().enumerate().map(|(column, host)| view! {
                        {band(&plan, column, grid)}
                        <tr>
                            <th class="host" title=host.address.clone()>
                                {host.name.clone()}
                                <span class="muted">" "{host.address.clone()}</span>
                                <Reported grid host=host.name.clone() />
                            </th>
                            {(0..steps.len()).map(|step| {
                                let host = host.name.clone();
                                move || {
                                    let cell = grid.with(|grid| grid.cells[step][column].clone());
                                    view! { <GridCell cell host=host.clone() step now /> }
                                }
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The band above the first host of a rolling batch: which batch, how many hosts, and whether
/// it is the one running.
fn band(plan: &RunPlan, column: usize, grid: ReadSignal<Grid>) -> Option<impl IntoView + use<>> {
    let mut first = 0;
    let (number, size) = plan.batches.iter().enumerate().find_map(|(number, size)| {
        let starts_here = first == column;
        first += size;
        starts_here.then_some((number, *size))
    })?;
    let total = plan.batches.len();
    let columns = (column..column + size).collect::<Vec<_>>();
    let running = move || {
        grid.with(|grid| {
            grid.cells.iter().any(|step| {
                columns.iter().any(|column| {
                    step.get(*column)
                        .cloned()
                        .flatten()
                        .is_some_and(|cell| cell.status == CellStatus::Running)
                })
            })
        })
    };
    let hosts = if size == 1 { "1 host" } else { "hosts" };
    let label = match size {
        1 => format!("Batch {} of {total} · {hosts}", number + 1),
        _ => format!("Batch {} of {total} · {size} {hosts}", number + 1),
    };
    Some(view! {
        <tr class="batch-band" data-batch=number + 1>
            <th colspan=plan.steps.len() + 1>
                {label}
                <span class="batch-running">{move || running().then_some(" · running")}</span>
            </th>
        </tr>
    })
}

/// What `host` reported in the run (`::knit-output`), e.g. the release it now serves.
#[component]
fn Reported(grid: ReadSignal<Grid>, host: String) -> impl IntoView {
    let id = format!("reported-{host}");
    move || {
        let reported = grid.with(|grid| grid.outputs.get(&host).cloned().unwrap_or_default());
        (!reported.is_empty()).then(|| {
            let shown: Vec<String> = reported
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect();
            view! { <span class="reported" id=id.clone()>{shown.join(" · ")}</span> }
        })
    }
}

#[component]
fn GridCell(cell: Option<Cell>, host: String, step: usize, now: ReadSignal<f64>) -> impl IntoView {
    let Some(cell) = cell else {
        return view! { <td class="cell none" title="nothing to do on this host"></td> }.into_any();
    };
    let status = word(cell.status);
    let started = cell.started_ms;
    let finished = cell.finished_ms;
    let time = move || match (started, finished) {
        (Some(start), Some(end)) => seconds((end - start) as f64),
        (Some(start), None) => seconds(now.get() - start as f64),
        _ => String::new(),
    };
    let title = cell.reason.clone().unwrap_or_else(|| status.to_owned());
    view! {
        <td class=format!("cell {status}") data-host=host data-step=step data-status=status title=title>
            <span class="cell-status">{status}</span>
            <span class="cell-time">{time}</span>
        </td>
    }
    .into_any()
}

fn seconds(ms: f64) -> String {
    format!("{:.1} s", ms.max(0.0) / 1000.0)
}

fn word(status: CellStatus) -> &'static str {
    match status {
        CellStatus::Pending => "pending",
        CellStatus::Running => "running",
        CellStatus::Ok => "ok",
        CellStatus::Failed => "failed",
        CellStatus::Skipped => "skipped",
        CellStatus::Cancelled => "cancelled",
    }
}
