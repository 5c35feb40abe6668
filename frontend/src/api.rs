//! The only module that talks to the server. Every call returns a `shared` type or an
//! `ApiFailure` carrying the status and the server's message. Over 400 lines because it is
//! the one door: a short function per endpoint, which a split would only scatter.

use std::fmt;
use std::pin::Pin;

use futures_util::StreamExt;
use gloo_net::eventsource::futures::EventSource;
use gloo_net::http::{Request, Response};
use knit_shared::{
    ActionRequest, ActionResponse, ApiErrorBody, AuditList, ClientAddress, ClusterHosts,
    ClusterList, ConsoleOutput, Decision, FreezeRequest, Health, ImageList, ImageQuery,
    InstanceChanges, InstanceList, InstanceProfileList, InstanceTypeList, KeyPairList,
    LaunchChanges, LogIn, Me, Profiles, QuickStartList, Regions, ReleaseList, RunDetail, RunDiff,
    RunEvent, RunList, RunSummary, SecurityGroupList, StartRun, SubnetList, WizardCheck,
    WizardLaunched, WizardProgress, WizardRequest, Zones,
};
use knit_shared::{CreatedToken, NewToken, NewUser, Role, RoleChange, TokenList, UserList};
use leptos::prelude::LocalResource;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A failed API call, in words fit to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// HTTP status, or `None` when the server could not be reached at all.
    pub status: Option<u16>,
    pub message: String,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} (HTTP {status})", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for ApiFailure {}

/// `LocalResource::new` with its fetch boxed: each call site's closure and future are types of
/// their own, and the resource's code in the console would be made again for each of them;
/// boxed, it is made once per type read.
pub fn resource<T, Fut>(fetch: impl Fn() -> Fut + 'static) -> LocalResource<T>
where
    T: 'static,
    Fut: Future<Output = T> + 'static,
{
    let boxed: Box<dyn Fn() -> Pin<Box<dyn Future<Output = T>>>> =
        Box::new(move || Box::pin(fetch()));
    LocalResource::new(boxed)
}

fn unreachable_server(error: impl fmt::Display) -> ApiFailure {
    ApiFailure {
        status: None,
        message: format!("cannot reach the knit server: {error}"),
    }
}

pub async fn me() -> Result<Me, ApiFailure> {
    get("/api/session").await
}

pub async fn log_in(form: &LogIn) -> Result<Me, ApiFailure> {
    post("/api/session", form).await
}

pub async fn log_out() -> Result<(), ApiFailure> {
    without_answer(Request::delete("/api/session").send().await).await
}

pub async fn users() -> Result<UserList, ApiFailure> {
    get("/api/users").await
}

pub async fn add_user(user: &NewUser) -> Result<(), ApiFailure> {
    let request = Request::post("/api/users")
        .json(user)
        .map_err(unreachable_server)?;
    without_answer(request.send().await).await
}

pub async fn set_role(name: &str, role: Role) -> Result<(), ApiFailure> {
    let request = Request::put(&format!("/api/users/{}/role", encode(name)))
        .json(&RoleChange { role })
        .map_err(unreachable_server)?;
    without_answer(request.send().await).await
}

pub async fn remove_user(name: &str) -> Result<(), ApiFailure> {
    without_answer(
        Request::delete(&format!("/api/users/{}", encode(name)))
            .send()
            .await,
    )
    .await
}

pub async fn tokens() -> Result<TokenList, ApiFailure> {
    get("/api/tokens").await
}

pub async fn create_token(token: &NewToken) -> Result<CreatedToken, ApiFailure> {
    post("/api/tokens", token).await
}

pub async fn revoke_token(id: i64) -> Result<(), ApiFailure> {
    without_answer(Request::delete(&format!("/api/tokens/{id}")).send().await).await
}

fn encode(segment: &str) -> String {
    js_sys::encode_uri_component(segment).into()
}

/// The outcome of a request whose success has no body.
async fn without_answer(sent: Result<Response, gloo_net::Error>) -> Result<(), ApiFailure> {
    answer(sent).await.map(|_| ())
}

/// The API's OpenAPI document, as JSON to walk.
pub async fn openapi() -> Result<serde_json::Value, ApiFailure> {
    get("/api/openapi.json").await
}

pub async fn health() -> Result<Health, ApiFailure> {
    get("/api/health").await
}

pub async fn clusters() -> Result<ClusterList, ApiFailure> {
    get("/api/clusters").await
}

pub async fn regions() -> Result<Regions, ApiFailure> {
    get("/api/regions").await
}

pub async fn profiles() -> Result<Profiles, ApiFailure> {
    get("/api/profiles").await
}

/// `?profile=..&region=..` for the parts that are chosen; empty when neither is.
pub fn scope_query(profile: Option<String>, region: Option<String>) -> String {
    let parts: Vec<String> = [("profile", profile), ("region", region)]
        .into_iter()
        .filter_map(|(key, value)| value.map(|value| format!("{key}={value}")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// `query_string` is empty or `?...` in `InstanceQuery`'s terms, as the page's own URL has it.
pub async fn instances(query_string: &str) -> Result<InstanceList, ApiFailure> {
    get(&format!("/api/instances{query_string}")).await
}

/// The end of instance `id`'s system log, in a scope (see `scope_query`).
pub async fn console_output(id: &str, scope: &str) -> Result<ConsoleOutput, ApiFailure> {
    get(&format!("/api/instances/{}/console{scope}", encode(id))).await
}

/// The security groups `ids` of a scope (see `scope_query`), with their rules.
pub async fn security_groups(
    scope: String,
    ids: Vec<String>,
) -> Result<SecurityGroupList, ApiFailure> {
    let join = if scope.is_empty() { '?' } else { '&' };
    get(&format!(
        "/api/security-groups{scope}{join}ids={}",
        ids.join(",")
    ))
    .await
}

pub async fn act(request: &ActionRequest) -> Result<ActionResponse, ApiFailure> {
    post("/api/instances/actions", request).await
}

/// Opens the live feed of a scope (see `scope_query`); `on_changes` runs for every message.
/// Dropping the returned `EventSource` closes the feed.
pub fn watch_instances(
    scope: String,
    on_changes: impl Fn(InstanceChanges) + 'static,
) -> Result<EventSource, ApiFailure> {
    follow(
        &format!("/api/instances/events{scope}"),
        "changes",
        on_changes,
    )
}

/// Images matching `query`, searched by EC2.
pub async fn images(query: ImageQuery) -> Result<ImageList, ApiFailure> {
    let fields = [
        ("owner", query.owner),
        ("q", query.q),
        ("arch", query.arch),
        ("root_device", query.root_device),
        ("deprecated", query.deprecated.map(|on| on.to_string())),
    ];
    let query_string: Vec<String> = fields
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| format!("{name}={}", encode(&value))))
        .collect();
    get(&format!("/api/images?{}", query_string.join("&"))).await
}

/// The current images of the common distributions.
pub async fn quick_start() -> Result<QuickStartList, ApiFailure> {
    get("/api/images/quick-start").await
}

pub async fn instance_types() -> Result<InstanceTypeList, ApiFailure> {
    get("/api/instance-types").await
}

pub async fn zones() -> Result<Zones, ApiFailure> {
    get("/api/zones").await
}

pub async fn subnets() -> Result<SubnetList, ApiFailure> {
    get("/api/subnets").await
}

pub async fn instance_profiles() -> Result<InstanceProfileList, ApiFailure> {
    get("/api/instance-profiles").await
}

pub async fn client_address() -> Result<ClientAddress, ApiFailure> {
    get("/api/client-address").await
}

pub async fn wizard_check(request: &WizardRequest) -> Result<WizardCheck, ApiFailure> {
    post("/api/wizard/check", request).await
}

pub async fn key_pairs() -> Result<KeyPairList, ApiFailure> {
    get("/api/key-pairs").await
}

/// The security groups of VPC `vpc_id`.
pub async fn vpc_security_groups(vpc_id: String) -> Result<SecurityGroupList, ApiFailure> {
    get(&format!("/api/security-groups?vpc_id={}", encode(&vpc_id))).await
}

pub async fn wizard_launch(request: &WizardRequest) -> Result<WizardLaunched, ApiFailure> {
    post("/api/wizard/launch", request).await
}

pub async fn launch_changes(cluster: String) -> Result<LaunchChanges, ApiFailure> {
    get(&format!("/api/clusters/{cluster}/changes")).await
}

/// What a run of `scenario` with `params` would change on each host, asked of the hosts now.
pub async fn run_diff(
    cluster: String,
    scenario: String,
    params: Vec<(String, String)>,
) -> Result<RunDiff, ApiFailure> {
    let query: String = std::iter::once(("scenario".to_owned(), scenario))
        .chain(params)
        .map(|(name, value)| format!("&{}={}", encode(&name), encode(&value)))
        .collect();
    get(&format!(
        "/api/clusters/{}/diff?{}",
        encode(&cluster),
        &query[1..]
    ))
    .await
}

pub async fn cluster_hosts(cluster: &str) -> Result<ClusterHosts, ApiFailure> {
    get(&format!("/api/clusters/{}/hosts", encode(cluster))).await
}

pub async fn releases(cluster: String) -> Result<ReleaseList, ApiFailure> {
    get(&format!("/api/clusters/{cluster}/releases")).await
}

/// Freezes `cluster` with `message`, or unfreezes it when `message` is `None`.
pub async fn set_freeze(cluster: &str, message: Option<String>) -> Result<(), ApiFailure> {
    let sent = match message {
        Some(message) => {
            Request::post(&format!("/api/clusters/{}/freeze", encode(cluster)))
                .json(&FreezeRequest { message })
                .map_err(unreachable_server)?
                .send()
                .await
        }
        None => {
            Request::post(&format!("/api/clusters/{}/unfreeze", encode(cluster)))
                .send()
                .await
        }
    };
    without_answer(sent).await
}

/// Pauses (`paused`) or resumes the schedule of `cluster`'s `scenario` (admins).
pub async fn set_schedule_paused(
    cluster: &str,
    scenario: &str,
    paused: bool,
) -> Result<(), ApiFailure> {
    let what = if paused { "pause" } else { "resume" };
    let path = format!(
        "/api/clusters/{}/schedules/{}/{what}",
        encode(cluster),
        encode(scenario)
    );
    without_answer(Request::post(&path).send().await).await
}

pub async fn start_run(request: &StartRun) -> Result<RunSummary, ApiFailure> {
    post("/api/runs", request).await
}

/// `query_string` is empty or `?...` in `RunQuery`'s terms.
pub async fn audit(query_string: &str) -> Result<AuditList, ApiFailure> {
    get(&format!("/api/audit{query_string}")).await
}

pub async fn runs(query_string: &str) -> Result<RunList, ApiFailure> {
    get(&format!("/api/runs{query_string}")).await
}

pub async fn run(id: i64) -> Result<RunDetail, ApiFailure> {
    get(&format!("/api/runs/{id}")).await
}

/// Approves (`approved`) or rejects run `id`.
pub async fn decide(id: i64, approved: bool, decision: &Decision) -> Result<(), ApiFailure> {
    let verb = if approved { "approve" } else { "reject" };
    let request = Request::post(&format!("/api/runs/{id}/{verb}"))
        .json(decision)
        .map_err(unreachable_server)?;
    without_answer(request.send().await).await
}

pub async fn cancel_run(id: i64) -> Result<(), ApiFailure> {
    without_answer(
        Request::post(&format!("/api/runs/{id}/cancel"))
            .send()
            .await,
    )
    .await
}

/// Follows run `id` from its first event; the browser resumes after the last event id by
/// itself when the connection drops. Dropping the returned `EventSource` stops following.
pub fn watch_run(
    id: i64,
    on_event: impl Fn(RunEvent) + 'static,
) -> Result<EventSource, ApiFailure> {
    follow(&format!("/api/runs/{id}/events"), "run", on_event)
}

/// Follows the instances `ids` after a launch; `on_progress` runs for every change.
pub fn watch_wizard(
    ids: &str,
    on_progress: impl Fn(WizardProgress) + 'static,
) -> Result<EventSource, ApiFailure> {
    let url = format!(
        "/api/wizard/progress?ids={}",
        js_sys::encode_uri_component(ids)
    );
    follow(&url, "progress", on_progress)
}

/// Opens Server-Sent Events at `url` and calls `on_message` with every `event` message until the
/// source closes. A dropped connection does not close it: the browser makes it again, sending
/// the last event's id, and each feed resumes from there. Dropping the returned `EventSource`
/// closes it.
fn follow<T: DeserializeOwned + 'static>(
    url: &str,
    event: &str,
    on_message: impl Fn(T) + 'static,
) -> Result<EventSource, ApiFailure> {
    let mut source = EventSource::new(url).map_err(unreachable_server)?;
    let mut messages = source.subscribe(event).map_err(unreachable_server)?;
    leptos::task::spawn_local(async move {
        while let Some(Ok((_, message))) = messages.next().await {
            let text = message.data().as_string().unwrap_or_default();
            if let Ok(value) = serde_json::from_str::<T>(&text) {
                on_message(value);
            }
        }
    });
    Ok(source)
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    decode(answer(Request::get(path).send().await).await?)
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiFailure> {
    let request = Request::post(path).json(body).map_err(unreachable_server)?;
    decode(answer(request.send().await).await?)
}

/// A successful answer's status and body, or a failed one's message. Apart from `decode` and
/// not generic, so the console's code has it once rather than once per type it reads.
async fn answer(sent: Result<Response, gloo_net::Error>) -> Result<(u16, String), ApiFailure> {
    let response = sent.map_err(unreachable_server)?;
    let status = response.status();
    let body = response.text().await;
    if response.ok() {
        return body
            .map(|text| (status, text))
            .map_err(|error| unexpected(status, error));
    }
    if status == 401 {
        // The session ended (or never began): sign in, then come back here.
        sign_in_again();
    }
    let message = body
        .ok()
        .and_then(|text| serde_json::from_str::<ApiErrorBody>(&text).ok())
        .map_or_else(|| response.status_text(), |body| body.error);
    Err(ApiFailure {
        status: Some(status),
        message,
    })
}

fn decode<T: DeserializeOwned>((status, text): (u16, String)) -> Result<T, ApiFailure> {
    serde_json::from_str(&text).map_err(|error| unexpected(status, error))
}

fn unexpected(status: u16, error: impl fmt::Display) -> ApiFailure {
    ApiFailure {
        status: Some(status),
        message: format!("the server answered something unexpected: {error}"),
    }
}

/// Leaves for the sign-in page, to come back to the page shown now.
fn sign_in_again() {
    let location = leptos::prelude::window().location();
    let path = location.pathname().unwrap_or_default();
    if path == "/login" {
        return;
    }
    let here = format!("{path}{}", location.search().unwrap_or_default());
    let next = js_sys::encode_uri_component(&here);
    let _ = location.set_href(&format!("/login?next={next}"));
}
