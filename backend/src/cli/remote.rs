//! `knit --server URL --token T <cluster> <action>`: the same commands through a running knit's
//! API, so the server's roles, operators, confirmation, approvals, lock and audit apply (how a
//! CI job deploys). The output and the exit codes are those of a local run: 0 when every step
//! succeeded everywhere, 1 when the run failed, 2 when the server refused to start it.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use knit_shared::{
    ApiErrorBody, ClusterHosts, ClusterList, ClusterSummary, FreezeRequest, ReleaseList, RunDetail,
    RunDiff, RunEvent, RunEventBody, RunList, RunStatus, RunSummary,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ClusterArgs;
use super::cluster_args::Action;
use super::listings::{
    print_clusters, print_diff, print_hosts, print_launch_changes, print_releases, print_runs,
};
use super::printer::Printer;
use super::terminal::{ask_confirmation, exit_code};

/// How long a dropped event stream is tried again before the command gives up on the run
/// (which goes on on the server).
const RESUME_FOR: Duration = Duration::from_secs(5 * 60);

/// How long a read from the server may wait before the connection counts as stalled.
const STALLED_AFTER: Duration = Duration::from_secs(60);

/// The API token: from `--token` (or KNIT_TOKEN), or the first line of `file`.
pub fn token(given: Option<&str>, file: Option<&Path>) -> anyhow::Result<String> {
    if std::env::args().any(|arg| arg == "--token" || arg.starts_with("--token=")) {
        eprintln!(
            "knit: warning: a token given with --token shows in `ps` to every user of this \
             machine; use KNIT_TOKEN or --token-file instead"
        );
    }
    match (given, file) {
        (_, Some(file)) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the token file {}", file.display()))?;
            Ok(text.lines().next().unwrap_or_default().trim().to_owned())
        }
        (Some(token), None) => Ok(token.to_owned()),
        (None, None) => Ok(String::new()),
    }
}

/// Warns when `url` sends the token in the clear to another machine.
fn warn_if_plain(url: &str) {
    let Some(rest) = url.strip_prefix("http://") else {
        return;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback());
    if !loopback {
        eprintln!(
            "knit: warning: {url} is plain http: the API token crosses the network unencrypted; \
             use https://"
        );
    }
}

/// A running knit, reached with an API token.
#[derive(Clone)]
struct Server {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// The server's answer: what was asked for, or its refusal.
enum Answer<T> {
    Ok(T),
    /// A 4xx: the person's request, refused with the server's reason.
    Refused(String),
}

impl Server {
    fn new(url: &str, token: &str) -> anyhow::Result<Self> {
        if token.is_empty() {
            bail!(
                "--server needs an API token: give --token or set KNIT_TOKEN (`knit token create`)"
            );
        }
        warn_if_plain(url);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // A live stream hears the server at least every 15 s (its keep-alive): a silence
            // much longer than that is a stalled connection, dropped and resumed.
            .read_timeout(STALLED_AFTER)
            .build()
            .context("cannot make an HTTP client")?;
        Ok(Self {
            base: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<Answer<T>> {
        let request = self.http.get(format!("{}/api{path}", self.base));
        self.send(request, path).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<Answer<T>> {
        let request = self
            .http
            .post(format!("{}/api{path}", self.base))
            .json(body);
        self.send(request, path).await
    }

    /// `get`, where a refusal is an error too.
    async fn read<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        match self.get(path).await? {
            Answer::Ok(value) => Ok(value),
            Answer::Refused(reason) => bail!("{}: {reason}", self.base),
        }
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        path: &str,
    ) -> anyhow::Result<Answer<T>> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("cannot reach knit at {}", self.base))?;
        let status = response.status();
        let text = response.text().await.context("the answer broke off")?;
        if status.is_success() {
            // 202 and 204 answer with nothing.
            let text = if text.is_empty() { "null" } else { &text };
            return serde_json::from_str(text)
                .map(Answer::Ok)
                .with_context(|| format!("{path}: an answer knit did not expect: {text}"));
        }
        let reason = serde_json::from_str::<ApiErrorBody>(&text)
            .map_or_else(|_| format!("{status}: {text}"), |body| body.error);
        if status.is_client_error() {
            Ok(Answer::Refused(reason))
        } else {
            bail!("knit at {} failed: {reason}", self.base)
        }
    }
}

pub async fn run(args: &ClusterArgs, url: &str, token: &str) -> anyhow::Result<ExitCode> {
    let server = Server::new(url, token)?;
    let Some(name) = args.cluster.as_deref() else {
        bail!("name a cluster, or `clusters` to list them (see knit --help)");
    };
    let list: ClusterList = server.read("/clusters").await?;
    if name == "clusters" {
        print_clusters(&list);
        return Ok(exit_code(list.errors.is_empty()));
    }
    let Some(cluster) = list.clusters.iter().find(|c| c.name == name) else {
        let known: Vec<&str> = list.clusters.iter().map(|c| c.name.as_str()).collect();
        bail!(
            "knit at {url} has no cluster {name}; clusters: {}",
            known.join(", ")
        );
    };
    let Some(word) = args.action.as_deref() else {
        bail!("name a scenario of {name}, `install`, `launch`, `plan` or `hosts`");
    };
    let path = format!("/clusters/{name}");
    match Action::parse(word) {
        Action::Changes => {
            print_launch_changes(name, &server.read(&format!("{path}/changes")).await?)
        }
        Action::Hosts => {
            let hosts: ClusterHosts = server.read(&format!("{path}/hosts")).await?;
            print_hosts(&hosts.hosts);
        }
        Action::Releases => {
            let releases: ReleaseList = server.read(&format!("{path}/releases")).await?;
            print_releases(&releases.hosts);
        }
        Action::Runs => {
            let runs: RunList = server
                .read(&format!("/runs?cluster={name}&limit=50"))
                .await?;
            print_runs(&runs.runs);
        }
        action @ (Action::Freeze | Action::Unfreeze) => {
            let body = FreezeRequest {
                message: args.message.clone().unwrap_or_default(),
            };
            let (word, done) = match action {
                Action::Freeze => ("freeze", "frozen"),
                _ => ("unfreeze", "not frozen"),
            };
            let answer: Answer<serde_json::Value> =
                server.post(&format!("{path}/{word}"), &body).await?;
            if let Answer::Refused(reason) = answer {
                eprintln!("knit: {reason}");
                return Ok(ExitCode::from(2));
            }
            println!("{name} is {done}");
        }
        Action::Start(scenario) => {
            return start_and_follow(&server, args, cluster, &scenario).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn start_and_follow(
    server: &Server,
    args: &ClusterArgs,
    cluster: &ClusterSummary,
    scenario: &str,
) -> anyhow::Result<ExitCode> {
    if args.dry_run {
        bail!(
            "--dry-run works where the definitions are: run it without --server, in a checkout \
             of the cluster files"
        );
    }
    let mut request = args.start_run(&cluster.name, scenario);
    if args.diff {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("scenario", scenario)
            .extend_pairs(&request.params)
            .finish();
        let path = format!("/clusters/{}/diff?{query}", cluster.name);
        return match server.get::<RunDiff>(&path).await? {
            Answer::Ok(diff) => {
                print_diff(&diff);
                Ok(ExitCode::SUCCESS)
            }
            Answer::Refused(reason) => {
                eprintln!("knit: {reason}");
                Ok(ExitCode::from(2))
            }
        };
    }
    if cluster.confirm && request.confirm.is_none() {
        request.confirm = ask_confirmation(&cluster.name, scenario);
    }
    let run: RunSummary = match server.post("/runs", &request).await? {
        Answer::Ok(run) => run,
        Answer::Refused(reason) => {
            eprintln!("knit: {reason}; nothing ran");
            return Ok(ExitCode::from(2));
        }
    };
    let id = run.id;
    let detail: RunDetail = server.read(&format!("/runs/{id}")).await?;
    let steps: Vec<String> = detail.plan.steps.iter().map(|s| s.name.clone()).collect();
    eprintln!(
        "knit: run {id}: {scenario} on {}, {} steps on {} hosts ({}/runs/{id})",
        cluster.name,
        steps.len(),
        detail.plan.hosts.len(),
        server.base
    );
    match detail.run.status {
        RunStatus::Queued => eprintln!("knit: run {id} waits in line behind the cluster's run"),
        RunStatus::AwaitingApproval => {
            eprintln!("knit: run {id} awaits an approver's yes on the run's page; it starts then");
        }
        _ => {}
    }
    let interrupt = cancel_on_ctrl_c(server, id);
    let began = Instant::now();
    let mut printer = Printer::new(steps, args.verbose);
    let status = follow(server, id, &mut printer).await;
    interrupt.abort();
    let status = status?;
    eprintln!(
        "knit: run {id} {} in {:.1} s ({})",
        status.as_str(),
        began.elapsed().as_secs_f64(),
        printer.summary()
    );
    Ok(exit_code(status == RunStatus::Ok))
}

/// Ctrl-C asks the server to cancel the run; the stream then shows how it ends.
fn cancel_on_ctrl_c(server: &Server, id: i64) -> tokio::task::JoinHandle<()> {
    let server = server.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("knit: cancelling run {id} (press Ctrl-C again to stop the finally steps)");
            let path = format!("/runs/{id}/cancel");
            match server.post::<serde_json::Value>(&path, &()).await {
                Ok(Answer::Ok(_)) => {}
                Ok(Answer::Refused(reason)) => eprintln!("knit: {reason}"),
                Err(error) => eprintln!("knit: {error:#}"),
            }
        }
    })
}

/// Prints the run's events until its end, resuming after the last one seen when the stream
/// drops; returns how the run ended.
async fn follow(server: &Server, id: i64, printer: &mut Printer) -> anyhow::Result<RunStatus> {
    let mut after = 0;
    let mut dropped_at: Option<Instant> = None;
    loop {
        let before = after;
        let streamed = stream_events(server, id, &mut after, printer).await;
        if after > before {
            // It moved on: a later drop has its own time to resume in.
            dropped_at = None;
        }
        match streamed {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => eprintln!("knit: the run's stream closed before its end; resuming"),
            Err(error) => eprintln!("knit: the run's stream dropped ({error:#}); resuming"),
        }
        let since = *dropped_at.get_or_insert_with(Instant::now);
        if since.elapsed() > RESUME_FOR {
            bail!(
                "lost the run's stream for {} s: run {id} goes on on the server ({}/runs/{id})",
                RESUME_FOR.as_secs(),
                server.base
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// One connection to the run's Server-Sent Events after event `after`: prints each event and
/// moves `after` on. `Some(status)` once the run ended; `None` when the stream closed first.
async fn stream_events(
    server: &Server,
    id: i64,
    after: &mut i64,
    printer: &mut Printer,
) -> anyhow::Result<Option<RunStatus>> {
    let mut response = server
        .http
        .get(format!(
            "{}/api/runs/{id}/events?after={after}",
            server.base
        ))
        .bearer_auth(&server.token)
        .send()
        .await?
        .error_for_status()?;
    let mut pending = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        pending.extend_from_slice(&chunk);
        // An event ends with a blank line; its `data:` is one line of JSON.
        while let Some(end) = pending.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = pending.drain(..end + 2).collect();
            let block = String::from_utf8_lossy(&block);
            let Some(data) = block.lines().find_map(|line| line.strip_prefix("data:")) else {
                continue;
            };
            let event: RunEvent = serde_json::from_str(data.trim_start())
                .with_context(|| format!("an event knit did not expect: {data}"))?;
            if event.seq <= *after {
                continue;
            }
            *after = event.seq;
            printer.print(&event);
            if let RunEventBody::RunFinished { status } = event.body {
                return Ok(Some(status));
            }
        }
    }
    Ok(None)
}
