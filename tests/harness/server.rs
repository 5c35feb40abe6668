//! The real `knit` binary, as `knit serve` on a free port.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::process::ProcessGroup;

/// The `knit` binary cargo built for this test run.
pub fn knit_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_knit"))
}

/// A stand-in console folder for tests that do not load the page.
pub fn dummy_web_dir(parent: &Path) -> PathBuf {
    let dir = parent.join("web");
    std::fs::create_dir_all(&dir).expect("create web dir");
    std::fs::write(dir.join("index.html"), "<!DOCTYPE html><title>knit</title>").expect("write");
    dir
}

#[derive(Debug)]
pub struct KnitServer {
    process: ProcessGroup,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    pub data_dir: PathBuf,
    log: PathBuf,
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
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_CONFIG_FILE", data_dir.join("aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                data_dir.join("aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("create server log"));
        let mut process = ProcessGroup::spawn(command).expect("spawn knit");
        let stdout = process.child().stdout.take().expect("piped stdout");
        let (found, url) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("knit: console at ") {
                    let _ = found.send(url.trim_end_matches('/').to_owned());
                }
            }
        });
        match url.recv_timeout(Duration::from_secs(180)) {
            Ok(url) => Self {
                process,
                url,
                data_dir: data_dir.to_owned(),
                log,
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

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the server the way an operator does (SIGTERM) and returns how it exited.
    pub fn stop(mut self) -> ExitStatus {
        self.process
            .terminate(Duration::from_secs(20))
            .expect("knit exits within 20 s of SIGTERM")
    }
}
