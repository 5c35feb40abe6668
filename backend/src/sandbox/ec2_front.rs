//! The sandbox's EC2 endpoint when its instances boot machines: moto behind a thin front that
//! passes every call on, and adds what moto cannot know. A reboot (which moto accepts and
//! forgets) reboots the instances' machines; an instance's console output is its machine's, with
//! the host keys in the block cloud-init prints, so a launch can trust them as on EC2.

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::free_port;
use super::launched::Ask;

/// The running front; it stops when dropped.
#[derive(Debug)]
pub struct Ec2Front {
    pub endpoint: String,
    serving: JoinHandle<()>,
}

struct Passing {
    upstream: String,
    client: reqwest::Client,
    asks: mpsc::UnboundedSender<Ask>,
}

impl Ec2Front {
    /// Serves on a loopback port, passing calls on to the EC2 endpoint `upstream`.
    pub async fn start(upstream: &str, asks: mpsc::UnboundedSender<Ask>) -> std::io::Result<Self> {
        let port = free_port()?;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(std::io::Error::other)?;
        let passing = Arc::new(Passing {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client,
            asks,
        });
        let app = axum::Router::new().fallback(pass).with_state(passing);
        let serving = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            serving,
        })
    }
}

impl Drop for Ec2Front {
    fn drop(&mut self) {
        self.serving.abort();
    }
}

async fn pass(
    State(passing): State<Arc<Passing>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let action = field("Action").unwrap_or_default();
    if action == "GetConsoleOutput"
        && let Some(id) = field("InstanceId")
        && let Some(output) = machine_console(&passing.asks, &id).await
    {
        return console_answer(&id, &output);
    }
    let answer = match forward(&passing, method, &uri, headers, body).await {
        Ok(answer) => answer,
        Err(error) => {
            let detail = format!("the sandbox's EC2 (moto) did not answer: {error}");
            return (StatusCode::BAD_GATEWAY, detail).into_response();
        }
    };
    if action == "RebootInstances" && answer.status().is_success() {
        let ids = form
            .iter()
            .filter(|(key, _)| key.starts_with("InstanceId."))
            .map(|(_, id)| id.clone())
            .collect();
        let _ = passing.asks.send(Ask::Reboot(ids));
    }
    answer
}

/// The machine's console output, or None when the instance has no machine.
async fn machine_console(asks: &mpsc::UnboundedSender<Ask>, id: &str) -> Option<String> {
    let (answer, answered) = oneshot::channel();
    asks.send(Ask::Console(id.to_owned(), answer)).ok()?;
    answered.await.ok().flatten()
}

async fn forward(
    passing: &Passing,
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, reqwest::Error> {
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    let mut headers = headers;
    headers.remove(header::HOST);
    let answer = passing
        .client
        .request(method, format!("{}{path}", passing.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await?;
    let status = answer.status();
    let mut kept = HeaderMap::new();
    if let Some(kind) = answer.headers().get(header::CONTENT_TYPE) {
        kept.insert(header::CONTENT_TYPE, kind.clone());
    }
    let body = answer.bytes().await?;
    Ok((status, kept, body).into_response())
}

/// EC2's answer to GetConsoleOutput: the output in base64, as EC2 gives it.
fn console_answer(id: &str, output: &str) -> Response {
    let encoded = base64::engine::general_purpose::STANDARD.encode(output);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <GetConsoleOutputResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
         <requestId>knit-sandbox</requestId><instanceId>{id}</instanceId>\
         <timestamp>{now}</timestamp><output>{encoded}</output></GetConsoleOutputResponse>"
    );
    ([(header::CONTENT_TYPE, "text/xml")], xml).into_response()
}
