//! Real sshd hosts on loopback for run tests, each with its own host key trusted in a
//! known_hosts file of the test, and a world-writable work folder the remote commands write
//! into and the test reads back.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use knit::clusters::{Definition, Library, Plan, load_dir};
use knit::runs::Runs;
use knit::sandbox::{SshHost, sandbox_user};
use knit::ssh::{self, KnownHosts};
use knit::store::Store;

pub struct TestHosts {
    pub hosts: Vec<SshHost>,
    pub key: PathBuf,
    pub known_hosts: KnownHosts,
    /// Where the remote commands may write; `{{ work }}` in a definition names it.
    pub work: PathBuf,
    pub clusters: PathBuf,
}

/// Starts one sshd per name in `dir`.
pub async fn start_hosts(dir: &Path, names: &[&str]) -> TestHosts {
    start_hosts_configured(dir, names, "").await
}

/// The same, with `extra` lines in each sshd's configuration.
pub async fn start_hosts_configured(dir: &Path, names: &[&str], extra: &str) -> TestHosts {
    std::fs::create_dir_all(dir).expect("hosts dir");
    let user = sandbox_user().expect("an account to log in as (the README's set-up makes it)");
    let key = ssh::ensure_key_pair(&dir.join("client_ed25519"), "knit-test")
        .await
        .expect("client key");
    let public = key.public_key().await.expect("public key");
    let known_hosts = KnownHosts::new(dir.join("known_hosts"));
    let mut hosts = Vec::new();
    for name in names {
        let host_dir = dir.join("hosts").join(name);
        std::fs::create_dir_all(&host_dir).expect("host dir");
        let host = SshHost::start_configured(&host_dir, name, &user, &public, extra)
            .await
            .expect("sshd starts");
        known_hosts
            .trust(&ssh::host_pattern("127.0.0.1", host.port), &host.public_key)
            .await
            .expect("trust");
        hosts.push(host);
    }
    let work = dir.join("work");
    std::fs::create_dir_all(&work).expect("work dir");
    // The hosts log in as the sandbox account, the test may run as root: both must write here.
    for folder in [dir, work.as_path()] {
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    }
    let clusters = dir.join("clusters");
    std::fs::create_dir_all(&clusters).expect("clusters dir");
    TestHosts {
        hosts,
        key: key.private,
        known_hosts,
        work,
        clusters,
    }
}

impl TestHosts {
    /// Cuts every SSH connection to host `name`, as a network failure would: the sshd processes
    /// that hold them are killed; the host keeps listening.
    pub fn drop_connections(&self, name: &str) {
        signal(&self.connection_processes(name), "KILL");
    }

    /// Silences every SSH connection to host `name`, as a host that went away without a word
    /// would: the sshd processes that hold them are stopped (the client hears nothing, not even
    /// a close); the host keeps listening. They are killed when the result is dropped.
    pub fn silence_connections(&self, name: &str) -> Silenced {
        let processes = self.connection_processes(name);
        signal(&processes, "STOP");
        Silenced(processes)
    }

    /// The sshd processes that hold the connections to host `name`: its listener's descendants.
    fn connection_processes(&self, name: &str) -> Vec<String> {
        let config = self
            .work
            .with_file_name("hosts")
            .join(name)
            .join("sshd_config");
        let listener = pgrep(&["-f", &config.display().to_string()]);
        let listener = listener
            .first()
            .unwrap_or_else(|| panic!("no sshd of {name} runs"));
        let mut descendants = Vec::new();
        let mut parents = vec![listener.clone()];
        while let Some(parent) = parents.pop() {
            let children = pgrep(&["-P", &parent]);
            parents.extend(children.iter().cloned());
            descendants.extend(children);
        }
        // Only sshd's own processes: the commands they run stay, as after a real network cut.
        descendants.retain(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|command| command.starts_with("sshd"))
        });
        assert!(!descendants.is_empty(), "{name} had no connection to cut");
        descendants
    }

    /// `user@127.0.0.1:port` of host `name`.
    pub fn address(&self, name: &str) -> String {
        let host = self
            .hosts
            .iter()
            .find(|host| host.name == name)
            .unwrap_or_else(|| panic!("no host {name}"));
        host.target().to_string()
    }

    /// Writes a definition file: `[cluster]` with the test's key, then `body`, in which
    /// `{HOST:name}` is replaced by that host's address and `{WORK}` by the work folder.
    pub fn write_cluster(&self, name: &str, body: &str) -> PathBuf {
        let mut text = format!(
            "[cluster]\nname = \"{name}\"\nkey_file = \"{}\"\n\n{body}",
            self.key.display()
        );
        for host in &self.hosts {
            text = text.replace(
                &format!("{{HOST:{}}}", host.name),
                &self.address(&host.name),
            );
        }
        text = text.replace("{WORK}", &self.work.display().to_string());
        let path = self.clusters.join(format!("{name}.toml"));
        std::fs::write(&path, text).expect("write definition");
        path
    }

    /// The definition of cluster `name` from the clusters folder, which must be valid.
    pub fn definition(&self, name: &str) -> Definition {
        let loaded = load_dir(&self.clusters, Library::builtin());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded
            .definitions
            .into_iter()
            .find(|definition| definition.name() == name)
            .unwrap_or_else(|| panic!("no cluster {name}"))
    }

    /// `knit serve` with data folder `data` (where these hosts live, so it trusts their keys),
    /// their clusters folder, EC2 at `moto` and the console in `web`.
    pub fn serve(&self, data: &Path, moto: &knit::sandbox::Moto, web: &Path) -> super::KnitServer {
        self.serve_with(data, moto, web, &[])
    }

    /// [`Self::serve`] with more options.
    pub fn serve_with(
        &self,
        data: &Path,
        moto: &knit::sandbox::Moto,
        web: &Path,
        options: &[&str],
    ) -> super::KnitServer {
        let mut args = vec!["--clusters", self.clusters.to_str().expect("utf-8")];
        args.extend_from_slice(options);
        super::KnitServer::on_moto(data, moto, web, &args)
    }

    /// `knit ARGS` on the command line with these hosts' clusters and the data folder `data`
    /// (where the hosts live, so it trusts their keys).
    pub fn knit(&self, data: &Path, args: &[&str]) -> std::process::Output {
        super::knit_command()
            .arg("--clusters")
            .arg(&self.clusters)
            .arg("--data-dir")
            .arg(data)
            .args(args)
            .output()
            .expect("knit runs")
    }

    /// Runs over a fresh database in `dir`, verifying host keys against the test's file.
    pub async fn runs(&self, dir: &Path) -> std::sync::Arc<Runs> {
        let store = Store::open(&format!("sqlite:{}", dir.join("knit.db").display()))
            .await
            .expect("open database");
        Runs::open(
            store,
            super::fleet(&self.clusters),
            self.known_hosts.clone(),
        )
        .await
        .expect("runs")
    }
}

/// Two sshd hosts (`web1`, `web2`) in `<dir>/data`, the definition `body` of cluster `name`
/// written there, moto, and `knit serve` over both with the console in `web`.
pub async fn serve_cluster(
    dir: &Path,
    name: &str,
    body: &str,
    web: &Path,
) -> (TestHosts, knit::sandbox::Moto, super::KnitServer) {
    let data = dir.join("data");
    let hosts = start_hosts(&data, &["web1", "web2"]).await;
    hosts.write_cluster(name, body);
    let moto = super::start_moto(dir).await;
    let server = hosts.serve(&data, &moto, web);
    (hosts, moto, server)
}

/// `scenario` of `definition` on all its static hosts.
pub fn plan(definition: &Definition, scenario: &str) -> Plan {
    definition
        .plan(
            Library::builtin(),
            &definition.static_hosts(),
            &knit_shared::StartRun::new(definition.name(), scenario),
            &knit::clusters::run_stamp(),
        )
        .expect("the scenario expands")
}

/// Lines of output of each host, in the order recorded.
pub fn lines_by_host(events: &[knit_shared::RunEvent]) -> BTreeMap<String, Vec<String>> {
    let mut lines: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for event in events {
        if let knit_shared::RunEventBody::Line { host, text, .. } = &event.body {
            lines.entry(host.clone()).or_default().push(text.clone());
        }
    }
    lines
}

/// sshd processes stopped by [`TestHosts::silence_connections`], killed when dropped.
pub struct Silenced(Vec<String>);

impl Drop for Silenced {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .arg("-KILL")
            .args(&self.0)
            .status();
    }
}

/// Sends `SIGNAL` to `processes`.
fn signal(processes: &[String], signal: &str) {
    let sent = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .args(processes)
        .status()
        .expect("kill runs (procps)");
    assert!(sent.success(), "cannot signal {processes:?}");
}

/// Process ids `pgrep ARGS` finds.
fn pgrep(args: &[&str]) -> Vec<String> {
    let found = std::process::Command::new("pgrep")
        .args(args)
        .output()
        .expect("pgrep runs (procps)");
    String::from_utf8_lossy(&found.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}
