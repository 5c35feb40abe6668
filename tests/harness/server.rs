//! The real `knit` binary, as `knit serve` on a free port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::process::ProcessGroup;

/// The `knit` binary cargo built for this test run; for a benchmark, `KNIT_BENCH_BIN` if set
/// (`.ci/bench` builds a release knit, what users run).
pub fn knit_command() -> Command {
    let mut command = match std::env::var_os("KNIT_BENCH_BIN") {
        Some(bin) => Command::new(bin),
        None => Command::new(env!("CARGO_BIN_EXE_knit")),
    };
    // The schedules' tests run occurrences seconds apart.
    command.env(knit::clusters::schedule::SECONDS_ALLOWED, "1");
    command
}

/// A stand-in console folder for tests that do not load the page.
pub fn dummy_web_dir(parent: &Path) -> PathBuf {
    let dir = parent.join("web");
    std::fs::create_dir_all(&dir).expect("create web dir");
    std::fs::write(dir.join("index.html"), "<!DOCTYPE html><title>knit</title>").expect("write");
    dir
}

/// The admin every test server has, made with `knit user add` before the server starts.
pub const TEST_ADMIN: &str = "tester";
/// The AWS secret key every test server is given: a value no output has by chance, so a test can
/// prove it never shows.
pub const TEST_AWS_SECRET: &str = "knit-test-aws-secret-3f9c2a7b51";
/// What a sandbox whose launched instances boot machines prints.
pub const MACHINES_RUN: &str = "knit: sandbox machines: each launched instance boots";
/// Every account the tests make has this password.
pub const TEST_PASSWORD: &str = "a long test password";

#[derive(Debug)]
pub struct KnitServer {
    process: ProcessGroup,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    pub data_dir: PathBuf,
    log: PathBuf,
    /// What it printed on standard output, kept line by line.
    printed: PathBuf,
    /// `--data-dir` and `--database-url` as the server has them, for `knit user|token`.
    store_args: Vec<String>,
    /// An API token of `TEST_ADMIN`, which `client()` sends.
    pub token: String,
    /// The sandbox's sign-in, when it printed one: account and password.
    pub sandbox_sign_in: Option<(String, String)>,
}

impl KnitServer {
    /// `knit serve` on EC2 at `moto`, with the console in `web` and `options` besides.
    pub fn on_moto(
        data_dir: &Path,
        moto: &knit::sandbox::Moto,
        web: &Path,
        options: &[&str],
    ) -> Self {
        let endpoint = moto.endpoint();
        let mut args = vec![
            "--ec2-endpoint",
            &endpoint,
            "--web-dir",
            web.to_str().expect("utf-8"),
        ];
        args.extend_from_slice(options);
        Self::start(data_dir, &args)
    }

    /// Starts `knit serve --listen 127.0.0.1:0 --data-dir DATA_DIR` plus `args`, and waits until
    /// it prints its URL. Panics with the server's log if it exits instead.
    pub fn start(data_dir: &Path, args: &[&str]) -> Self {
        Self::start_with(data_dir, args, |_| {})
    }

    /// As `start`, with the command changed by `adjust` first (its folder, its environment).
    pub fn start_with(data_dir: &Path, args: &[&str], adjust: impl FnOnce(&mut Command)) -> Self {
        let mut store_args = vec!["--data-dir".to_owned(), path_text(data_dir)];
        if let Some(at) = args.iter().position(|arg| *arg == "--database-url") {
            store_args.extend(["--database-url".to_owned(), args[at + 1].to_owned()]);
        }
        // A read-only database takes no new account: such a test brings its token along.
        let writable = !args.iter().any(|arg| arg.contains("mode=ro"));
        let token = if writable {
            add_user(&store_args, TEST_ADMIN, "admin");
            create_token(&store_args, TEST_ADMIN)
        } else {
            String::new()
        };
        let log = data_dir.with_extension("log");
        let mut command = knit_command();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .env("KNIT_LOG", "knit=debug,tower_http=debug")
            // Fake credentials, and none of this machine's AWS configuration: the SDK reads
            // <data>/aws-config and <data>/aws-credentials, which exist only if a test writes them.
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", TEST_AWS_SECRET)
            .env("AWS_CONFIG_FILE", data_dir.join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                data_dir.join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("create server log"));
        adjust(&mut command);
        let mut process = ProcessGroup::spawn(command).expect("spawn knit");
        let stdout = process.child().stdout.take().expect("piped stdout");
        let (found, url) = mpsc::channel();
        let printed = data_dir.with_extension("out");
        let mut kept = std::fs::File::create(&printed).expect("create the server's output");
        std::thread::spawn(move || {
            use std::io::Write;
            let mut sign_in = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(kept, "{line}");
                if let Some(said) = line.strip_prefix("knit: sandbox sign-in: ") {
                    sign_in = said
                        .split_once(" with password ")
                        .map(|(name, password)| (name.to_owned(), password.to_owned()));
                }
                if let Some(url) = line.strip_prefix("knit: console at ") {
                    let _ = found.send((url.trim_end_matches('/').to_owned(), sign_in.clone()));
                }
            }
        });
        // A machine-running sandbox's first start on a new machine builds the machines' image
        // (75 s alone, minutes under a whole test run's load) before it prints its URL.
        match url.recv_timeout(Duration::from_secs(600)) {
            Ok((url, sandbox_sign_in)) => Self {
                process,
                url,
                data_dir: data_dir.to_owned(),
                log,
                printed,
                store_args,
                token,
                sandbox_sign_in,
            },
            Err(_) => panic!(
                "knit serve did not start; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ),
        }
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api{path}", self.url)
    }

    /// An HTTP client that sends the test admin's API token.
    pub fn client(&self) -> reqwest::Client {
        client_with(&self.token)
    }

    /// `GET /api{path}` as the test admin.
    pub async fn get(&self, path: &str) -> reqwest::Result<reqwest::Response> {
        self.client().get(self.api(path)).send().await
    }

    /// `GET /api{path}` as the test admin, read as JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let response = self.get(path).await.expect("GET");
        let text = response.text().await.expect("body");
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("GET {path}: {error}: {text}"))
    }

    /// `POST /api{path}` of `body` as JSON, as the test admin.
    pub async fn post(&self, path: &str, body: &impl serde::Serialize) -> reqwest::Response {
        self.client()
            .post(self.api(path))
            .json(body)
            .send()
            .await
            .unwrap_or_else(|error| panic!("POST {path}: {error}"))
    }

    /// Writes cluster definition `text` as `<file>` beside the sandbox's demo cluster, its
    /// `{KEY_FILE}` the sandbox's own key (which its launched machines accept).
    pub fn add_sandbox_cluster(&self, file: &str, text: &str) {
        let key_file = self.data_dir.join("sandbox/client_ed25519");
        std::fs::write(
            self.data_dir.join("sandbox/clusters").join(file),
            text.replace("{KEY_FILE}", &key_file.display().to_string()),
        )
        .expect("the definition");
    }

    /// Runs `scenario` of `cluster` through the API to its end (at most `patience`): its
    /// summary and its whole log.
    pub async fn run_to_end(
        &self,
        cluster: &str,
        scenario: &str,
        patience: Duration,
    ) -> (knit_shared::RunSummary, String) {
        let request = knit_shared::StartRun {
            cluster: cluster.to_owned(),
            scenario: scenario.to_owned(),
            ..knit_shared::StartRun::default()
        };
        self.start_to_end(&request, patience).await
    }

    /// Starts `request` through the API and waits for its end (at most `patience`): its
    /// summary and its whole log.
    pub async fn start_to_end(
        &self,
        request: &knit_shared::StartRun,
        patience: Duration,
    ) -> (knit_shared::RunSummary, String) {
        let (cluster, scenario) = (&request.cluster, &request.scenario);
        let text = self
            .post("/runs", request)
            .await
            .text()
            .await
            .expect("body");
        let run: knit_shared::RunSummary =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        let (detail, log) = self.wait_for_end(run.id, patience).await;
        assert!(
            !detail.run.status.is_going(),
            "{scenario} of {cluster} did not end within {patience:?}"
        );
        (detail.run, log)
    }

    /// Waits until run `id` ends, or `patience` passes: its detail then, and its whole log.
    pub async fn wait_for_end(
        &self,
        id: i64,
        patience: Duration,
    ) -> (knit_shared::RunDetail, String) {
        let deadline = std::time::Instant::now() + patience;
        loop {
            let detail: knit_shared::RunDetail = self.get_json(&format!("/runs/{id}")).await;
            if !detail.run.status.is_going() || std::time::Instant::now() >= deadline {
                let log = self.get(&format!("/runs/{id}/log")).await.expect("the log");
                return (detail, log.text().await.expect("the log's text"));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The audit log's entries whose action starts with `action`, newest first.
    pub async fn audit(&self, action: &str) -> Vec<knit_shared::AuditEntry> {
        let list: knit_shared::AuditList = self.get_json(&format!("/audit?action={action}")).await;
        list.events
    }

    /// A new account with `TEST_PASSWORD`, made on the command line as an operator would.
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    pub fn add_user(&self, name: &str, role: &str) {
        add_user(&self.store_args, name, role);
    }

    /// A new API token of account `name`, from `knit token create`.
    pub fn token_of(&self, name: &str) -> String {
        create_token(&self.store_args, name)
    }

    /// `knit ARGS` on this server's database, with `input` on standard input.
    pub fn cli(&self, args: &[&str], input: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = knit_command()
            .args(args)
            .args(&self.store_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run knit");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(input.as_bytes())
            .expect("write standard input");
        child.wait_with_output().expect("knit ends")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// What the server printed on standard output so far: the lines a person running it reads.
    pub fn printed(&self) -> String {
        std::fs::read_to_string(&self.printed).unwrap_or_default()
    }

    /// Stops the server the way an operator does (SIGTERM) and returns how it exited. One that
    /// runs machines powers them off first, each allowed 30 s, slower under a test run's load.
    pub fn stop(mut self) -> ExitStatus {
        let patience = if self.printed().contains(MACHINES_RUN) {
            Duration::from_secs(120)
        } else {
            Duration::from_secs(20)
        };
        self.process
            .terminate(patience)
            .unwrap_or_else(|| panic!("knit did not exit within {patience:?} of SIGTERM"))
    }
}

impl Drop for KnitServer {
    /// A sandbox's demo site runs daemons that knit stops when it stops; a test that ends
    /// otherwise (a failure) must not leave them running, nor any test its files.
    fn drop(&mut self) {
        // Machines boot outside knit's process group, so only knit's own stop removes them.
        if self.printed().contains(MACHINES_RUN) {
            let _ = self.process.terminate(Duration::from_secs(120));
        }
        if self.sandbox_sign_in.is_some() {
            knit::sandbox::stop_site(&self.data_dir);
            if let Ok(root) = knit::sandbox::site_root(&self.data_dir) {
                let _ = std::fs::remove_dir_all(root);
            }
        }
    }
}

fn path_text(path: &Path) -> String {
    path.to_str().expect("test paths are UTF-8").to_owned()
}

/// An HTTP client that sends `token` as its bearer credential.
pub fn client_with(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header value"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("HTTP client")
}

/// `knit user add NAME --role ROLE` with `TEST_PASSWORD` on standard input; an account that
/// exists already (a server started again on the same data) is left as it is.
fn add_user(store_args: &[String], name: &str, role: &str) {
    use std::io::Write;
    let mut child = knit_command()
        .args(["user", "add", name, "--role", role])
        .args(store_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run knit user add");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(TEST_PASSWORD.as_bytes())
        .expect("write the password");
    let output = child.wait_with_output().expect("knit user add ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() || stderr.contains("exists already"),
        "knit user add {name} failed: {stderr}"
    );
}

fn create_token(store_args: &[String], name: &str) -> String {
    let output = knit_command()
        .args(["token", "create", "--user", name])
        .args(store_args)
        .output()
        .expect("run knit token create");
    assert!(
        output.status.success(),
        "knit token create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}

/// The status of an error answer and its message, which must be knit's JSON error body.
pub async fn error_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: knit_shared::ApiErrorBody = response.json().await.expect("a JSON error");
    (status, body.error)
}

/// Who `client`'s credential signs in as on `server`.
pub async fn signed_in_as(client: &reqwest::Client, server: &KnitServer) -> knit_shared::Me {
    client
        .get(server.api("/session"))
        .send()
        .await
        .expect("GET /session")
        .json()
        .await
        .expect("who am I")
}

/// The `knit` CLI with the definitions of `clusters` and the data folder `data`, on moto's EC2 at
/// `moto` with dummy credentials and none of the machine's AWS set-up.
pub fn knit_on_moto(
    clusters: &Path,
    data: &Path,
    moto: &str,
    args: &[&str],
) -> std::process::Output {
    knit_command()
        .arg("--clusters")
        .arg(clusters)
        .arg("--data-dir")
        .arg(data)
        .args(["--ec2-endpoint", moto])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", data.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", data.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("knit runs")
}

/// Signs in as `name` with `TEST_PASSWORD` from this console's origin; the cookie header set.
pub async fn sign_in(server: &KnitServer, name: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.api("/session"))
        .header(reqwest::header::ORIGIN, &server.url)
        .json(&serde_json::json!({"name": name, "password": TEST_PASSWORD}))
        .send()
        .await
        .expect("sign in")
}

/// `knit_session=…` of a sign-in's answer.
pub fn session_cookie(response: &reqwest::Response) -> String {
    let set = response
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .expect("a cookie is set")
        .to_str()
        .expect("text");
    set.split(';').next().expect("name=value").to_owned()
}
