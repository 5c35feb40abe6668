//! Runs of a scenario: what the server records and streams, and the progress grid both sides
//! rebuild from the same events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /api/runs`: run `scenario` (or `install`) of `cluster`, optionally on fewer hosts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartRun {
    /// The cluster's name.
    pub cluster: String,
    /// A scenario of the cluster, or `install`.
    pub scenario: String,
    /// Only these hosts (by name, e.g. `web-1`); all when empty.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Only the tasks of these roles; all when empty.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Values of the scenario's parameters, by name; the others take their defaults.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Rolling batches for this run, over the scenario's `serial`: `[1, "25%"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>))]
    pub serial: Option<Vec<crate::rollout::BatchSize>>,
    /// The share of hosts (0–100) that may fail before the rollout stops, over the scenario's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fail_percentage: Option<u8>,
    /// How many hosts work at once, over the cluster's `parallel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<u16>,
    /// Run again on the hosts that failed, were skipped or were never reached in this run, with
    /// its scenario and parameters (`cluster` and `scenario` must be that run's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<i64>,
    /// The cluster's name, typed by the person starting the run: a cluster with `confirm` (by
    /// default one tagged `Stage=Production`) refuses a start without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<String>,
    /// Wait in line behind the run that holds the cluster instead of being refused: the run is
    /// `queued` until its turn.
    #[serde(default)]
    pub wait: bool,
}

impl StartRun {
    /// A run of `scenario` of `cluster` on every host, with the defaults of everything else.
    pub fn new(cluster: &str, scenario: &str) -> Self {
        Self {
            cluster: cluster.to_owned(),
            scenario: scenario.to_owned(),
            ..Self::default()
        }
    }
}

/// The scenario that creates machines and firewall groups rather than deploying to them.
pub const LAUNCH_SCENARIO: &str = "launch";

/// The least role that may run `scenario`: `launch` creates machines, which is an admin's;
/// every other scenario a deployer may run.
pub fn scenario_needs(scenario: &str) -> crate::Role {
    if scenario == LAUNCH_SCENARIO {
        crate::Role::Admin
    } else {
        crate::Role::Deployer
    }
}

/// How a run ended, or that it has not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for an approver's yes before it may start.
    AwaitingApproval,
    /// An approver said no; it never ran.
    Rejected,
    /// No approver answered in time; it never ran.
    Expired,
    /// Waiting in line for the run that holds its cluster.
    Queued,
    /// Still going.
    Running,
    /// Every step succeeded on every host.
    Ok,
    /// At least one step failed on at least one host.
    Failed,
    /// Someone cancelled it.
    Cancelled,
    /// The process running it stopped before it ended; the log holds what happened until then.
    Interrupted,
}

impl RunStatus {
    /// The word stored and shown, e.g. `ok`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "awaiting_approval",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Interrupted => "interrupted",
        }
    }

    /// Whether the run has not ended: awaiting approval, queued or running.
    pub fn is_going(self) -> bool {
        matches!(self, Self::AwaitingApproval | Self::Queued | Self::Running)
    }

    /// The status named `word`, if any.
    pub fn parse(word: &str) -> Option<Self> {
        [
            Self::AwaitingApproval,
            Self::Rejected,
            Self::Expired,
            Self::Queued,
            Self::Running,
            Self::Ok,
            Self::Failed,
            Self::Cancelled,
            Self::Interrupted,
        ]
        .into_iter()
        .find(|status| status.as_str() == word)
    }
}

/// One run as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    /// The run's number.
    pub id: i64,
    /// The cluster it ran on.
    pub cluster: String,
    /// The scenario it ran.
    pub scenario: String,
    /// Who started it.
    pub actor: String,
    /// Where it stands.
    pub status: RunStatus,
    /// When it started, `YYYY-MM-DDTHH:MM:SS.sssZ`.
    pub started_at: String,
    /// When it ended, if it has.
    pub finished_at: Option<String>,
    /// The values of its scenario's parameters (`****` for secret ones).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// The run it retries on the hosts that one left undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<i64>,
    /// Who approved or rejected it, for a run that needed approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// What they said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// The releases it left live (`::knit-output release=`), each once: one for a deploy
    /// or rollback that went the same way on every host. Said in lists of runs only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<String>,
}

/// `POST /api/runs/{id}/approve` or `.../reject`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    /// Why, shown with the run.
    #[serde(default)]
    pub comment: String,
}

/// `GET /api/runs`: runs, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunList {
    /// The runs that match the query, newest first, one page of them.
    pub runs: Vec<RunSummary>,
    /// The `before` of the next page (older runs); none on the last page.
    #[serde(default)]
    pub next: Option<i64>,
}

/// `GET /api/runs` query: each field narrows the list when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RunQuery {
    /// Runs of this cluster.
    pub cluster: Option<String>,
    /// Runs of this scenario.
    pub scenario: Option<String>,
    /// Runs with this status (`running`, `ok`, `failed`, `cancelled`, `interrupted`).
    pub status: Option<String>,
    /// Runs started by this person.
    pub actor: Option<String>,
    /// Runs numbered below this one: the `next` of the page before.
    pub before: Option<i64>,
    /// Runs on a page [default: 100, at most 500].
    pub limit: Option<u32>,
}

/// `GET /api/runs/{id}/log` query: which host's lines, in which form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct LogQuery {
    /// Only this host's lines [default: every host's].
    pub host: Option<String>,
    /// `text` (the default): `time host step stream | line`; `jsonl`: one JSON object a line.
    #[serde(default)]
    pub format: LogFormat,
}

/// The form of a downloaded log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// A line of text for each: `time host step stream | line`.
    #[default]
    Text,
    /// A JSON object for each: `at`, `host`, `step`, `stream`, `text`.
    Jsonl,
}

/// The shape of a run, fixed when it starts: its steps in order and its hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunPlan {
    /// Steps in the order they run.
    pub steps: Vec<PlannedStep>,
    /// Hosts, in the order shown.
    pub hosts: Vec<PlannedHost>,
    /// How many of the hosts, in order, each rolling batch takes; empty: one batch of all.
    #[serde(default)]
    pub batches: Vec<usize>,
    /// When the run (or the first run it retries) was planned, UTC, e.g.
    /// `20261204T190000.123Z`: the app kind names the releases it makes `<stamp>-<commit>`.
    #[serde(default)]
    pub stamp: String,
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedStep {
    /// `role.task` or `ALL.task`.
    pub name: String,
    /// Runs at the end even after a failure.
    pub finally: bool,
    /// Hosts (by name) the step runs on.
    pub hosts: Vec<String>,
}

/// One host of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedHost {
    /// Short name, e.g. `web-1`.
    pub name: String,
    /// The machine of the definition it belongs to.
    pub machine: String,
    /// Where knit logs in, `user@host:port`.
    pub address: String,
}

/// Where a step stands on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// Not started.
    Pending,
    /// Started, not finished.
    Running,
    /// Every command succeeded.
    Ok,
    /// A command failed, timed out, or the host could not be reached.
    Failed,
    /// Not run: an earlier step failed, the run was cancelled, or the host was unreachable.
    Skipped,
    /// Stopped by a cancel while it ran.
    Cancelled,
}

/// Which output a log line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    /// The command's standard output.
    Stdout,
    /// The command's standard error.
    Stderr,
    /// knit's own line: the command it runs, an upload, why it stopped.
    Knit,
}

/// One thing that happened in a run, numbered from 1 in the order it was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunEvent {
    /// Position in the run's log; the SSE event id, to resume after.
    pub seq: i64,
    /// Milliseconds since the Unix epoch, on the server's clock.
    pub at_ms: i64,
    /// What happened.
    #[serde(flatten)]
    pub body: RunEventBody,
}

/// What happened: a cell started or finished, a line of output, or the run's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RunEventBody {
    /// Step number `step` (0-based) started on `host`.
    StepStarted {
        /// Index into the plan's steps.
        step: usize,
        /// Host name.
        host: String,
    },
    /// A line of output of step `step` on `host`.
    Line {
        /// Index into the plan's steps.
        step: usize,
        /// Host name.
        host: String,
        /// Which output.
        stream: Stream,
        /// The line, without its line break.
        text: String,
    },
    /// Step `step` ended on `host`.
    StepFinished {
        /// Index into the plan's steps.
        step: usize,
        /// Host name.
        host: String,
        /// How it ended.
        status: CellStatus,
        /// The failing command's exit code, when it exited.
        exit_code: Option<i32>,
        /// Why it failed or was skipped, for a person.
        reason: Option<String>,
    },
    /// A value `host` reported for the run, by printing `::knit-output name=value` during step
    /// `step` (e.g. the release it now serves).
    Output {
        /// Index into the plan's steps.
        step: usize,
        /// Host name.
        host: String,
        /// What the value is, e.g. `release`.
        name: String,
        /// The value.
        value: String,
    },
    /// The run ended.
    RunFinished {
        /// How.
        status: RunStatus,
    },
}

/// One host × step of the progress grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cell {
    /// Where it stands.
    pub status: CellStatus,
    /// When it started, ms since the epoch.
    pub started_ms: Option<i64>,
    /// When it ended, ms since the epoch.
    pub finished_ms: Option<i64>,
    /// The failing command's exit code.
    pub exit_code: Option<i32>,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
}

/// The progress grid: for each step (outer), each host of the plan (inner). A host the step
/// does not run on has no cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grid {
    /// `cells[step][host]`, hosts in the plan's order.
    pub cells: Vec<Vec<Option<Cell>>>,
    /// What each host reported (`::knit-output name=value`), by host, then name.
    #[serde(default)]
    pub outputs: BTreeMap<String, BTreeMap<String, String>>,
}

impl Grid {
    /// Every cell pending.
    pub fn new(plan: &RunPlan) -> Self {
        let cells = plan
            .steps
            .iter()
            .map(|step| {
                plan.hosts
                    .iter()
                    .map(|host| {
                        step.hosts.contains(&host.name).then_some(Cell {
                            status: CellStatus::Pending,
                            started_ms: None,
                            finished_ms: None,
                            exit_code: None,
                            reason: None,
                        })
                    })
                    .collect()
            })
            .collect();
        Self {
            cells,
            outputs: BTreeMap::new(),
        }
    }

    /// Applies one event of a run of `plan`; lines and unknown cells change nothing. The end of
    /// an interrupted run fails the cells still running and skips those still pending.
    pub fn apply(&mut self, plan: &RunPlan, event: &RunEvent) {
        match &event.body {
            RunEventBody::StepStarted { step, host } => {
                if let Some(cell) = self.cell(plan, *step, host) {
                    cell.status = CellStatus::Running;
                    cell.started_ms = Some(event.at_ms);
                }
            }
            RunEventBody::StepFinished {
                step,
                host,
                status,
                exit_code,
                reason,
            } => {
                if let Some(cell) = self.cell(plan, *step, host) {
                    cell.status = *status;
                    cell.finished_ms = Some(event.at_ms);
                    cell.exit_code = *exit_code;
                    cell.reason.clone_from(reason);
                }
            }
            RunEventBody::RunFinished {
                status: RunStatus::Interrupted,
            } => {
                // Nothing will end these cells any more: say so rather than leave them going.
                for cell in self.cells.iter_mut().flatten().flatten() {
                    match cell.status {
                        CellStatus::Running => {
                            cell.status = CellStatus::Failed;
                            cell.reason = Some("interrupted: knit stopped during the run".into());
                        }
                        CellStatus::Pending => cell.status = CellStatus::Skipped,
                        _ => {}
                    }
                }
            }
            RunEventBody::Output {
                host, name, value, ..
            } => {
                self.outputs
                    .entry(host.clone())
                    .or_default()
                    .insert(name.clone(), value.clone());
            }
            RunEventBody::Line { .. } | RunEventBody::RunFinished { .. } => {}
        }
    }

    fn cell(&mut self, plan: &RunPlan, step: usize, host: &str) -> Option<&mut Cell> {
        let column = plan.hosts.iter().position(|h| h.name == host)?;
        self.cells.get_mut(step)?.get_mut(column)?.as_mut()
    }
}

/// `GET /api/runs/{id}`: a run with its plan and the grid as recorded so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunDetail {
    /// The run.
    pub run: RunSummary,
    /// Its steps and hosts.
    pub plan: RunPlan,
    /// Where each step stands on each host.
    pub grid: Grid,
    /// The number of the last event recorded; stream `/events` after it for what comes next.
    pub last_seq: i64,
    /// The runs that retried this one, oldest first.
    #[serde(default)]
    pub retries: Vec<i64>,
    /// The notifications of this run (`[[cluster.notify]]`) and whether they arrived.
    #[serde(default)]
    pub notifications: Vec<Delivery>,
}

/// A notification of a run to one receiver, and how its delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// What it told: `start`, `success`, `failure` or `approval`.
    pub event: String,
    /// The receiver's host name (its whole address is a secret, never shown).
    pub receiver: String,
    /// `delivered`, `failed` (after every try) or `pending` (still trying).
    pub status: String,
    /// Tries so far.
    pub attempts: u32,
    /// Why the last try failed.
    pub error: Option<String>,
}

impl Grid {
    /// The hosts of a run of `plan` it left undone: a step failed, was skipped (but for a step
    /// that ran once elsewhere), or never ran there.
    pub fn unfinished_hosts(&self, plan: &RunPlan) -> Vec<String> {
        plan.hosts
            .iter()
            .enumerate()
            .filter(|(column, _)| {
                self.cells.iter().any(|step| {
                    step.get(*column)
                        .cloned()
                        .flatten()
                        .is_some_and(|cell| match cell.status {
                            CellStatus::Ok => false,
                            CellStatus::Skipped => !cell
                                .reason
                                .as_deref()
                                .is_some_and(|reason| reason.starts_with("runs once")),
                            _ => true,
                        })
                })
            })
            .map(|(_, host)| host.name.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> RunPlan {
        let host = |name: &str| PlannedHost {
            name: name.to_owned(),
            machine: "web".to_owned(),
            address: format!("deploy@{name}:22"),
        };
        RunPlan {
            steps: vec![PlannedStep {
                name: "app.update".to_owned(),
                finally: false,
                hosts: vec!["web-2".to_owned()],
            }],
            hosts: vec![host("web-1"), host("web-2")],
            batches: Vec::new(),
            stamp: String::new(),
        }
    }

    #[test]
    fn the_grid_follows_start_and_finish_of_the_cells_a_step_has() {
        let plan = plan();
        let mut grid = Grid::new(&plan);
        assert_eq!(grid.cells[0][0], None, "web-1 does not run the step");
        let event = |seq, body| RunEvent {
            seq,
            at_ms: seq * 10,
            body,
        };
        grid.apply(
            &plan,
            &event(
                1,
                RunEventBody::StepStarted {
                    step: 0,
                    host: "web-2".to_owned(),
                },
            ),
        );
        let cell = grid.cells[0][1].clone().expect("a cell");
        assert_eq!(
            (cell.status, cell.started_ms),
            (CellStatus::Running, Some(10))
        );
        grid.apply(
            &plan,
            &event(
                2,
                RunEventBody::StepFinished {
                    step: 0,
                    host: "web-2".to_owned(),
                    status: CellStatus::Failed,
                    exit_code: Some(3),
                    reason: Some("exit 3".to_owned()),
                },
            ),
        );
        let cell = grid.cells[0][1].clone().expect("a cell");
        assert_eq!(
            (cell.status, cell.exit_code, cell.finished_ms),
            (CellStatus::Failed, Some(3), Some(20))
        );
    }

    #[test]
    fn events_travel_as_tagged_json() {
        let event = RunEvent {
            seq: 7,
            at_ms: 1,
            body: RunEventBody::Line {
                step: 0,
                host: "web-1".to_owned(),
                stream: Stream::Stdout,
                text: "hello".to_owned(),
            },
        };
        let json = serde_json::to_value(&event).expect("json");
        assert_eq!(json["type"], "line");
        assert_eq!(json["stream"], "stdout");
        let back: RunEvent = serde_json::from_value(json).expect("back");
        assert_eq!(back, event);
    }

    #[test]
    fn statuses_read_back_from_their_words() {
        for status in [RunStatus::Running, RunStatus::Ok, RunStatus::Interrupted] {
            assert_eq!(RunStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(RunStatus::parse("done"), None);
    }
}
