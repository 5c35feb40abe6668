//! The sandbox's real machines: Debian 12 with systemd, booted by systemd-nspawn, each in a
//! network namespace of its own on a private network, reached from the host only over
//! loopback. Needs root, systemd-nspawn and debootstrap, as `.ci/setup` gives CI; the base
//! image is built into `$KNIT_CACHE` on the first run (about two minutes) and kept.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use knit::sandbox::machines::{Machine, MachineSpec, Machines};

use crate::harness::{names_starting, output_until};

const BOOT: Duration = Duration::from_secs(90);

fn cache() -> PathBuf {
    std::env::var_os("KNIT_CACHE").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/knit"),
        PathBuf::from,
    )
}

/// The host's own routes and links, which machines must never change.
fn host_network() -> String {
    let ip = |args: &[&str]| {
        let output = std::process::Command::new("ip")
            .args(args)
            .output()
            .expect("ip runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let links: Vec<String> = ip(&["-o", "link", "show"])
        .lines()
        .filter_map(|line| line.split(':').nth(1).map(|name| name.trim().to_owned()))
        .collect();
    format!(
        "{}{}{}",
        ip(&["-4", "route", "show", "table", "all"]),
        ip(&["-6", "route", "show", "table", "all"]),
        links.join(" ")
    )
}

/// A client of the machines: a key pair and a known_hosts file holding what the sandbox says
/// each machine's host key is.
struct Client {
    key: PathBuf,
    known_hosts: PathBuf,
}

impl Client {
    fn new(dir: &Path) -> Self {
        let key = dir.join("client");
        let made = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key)
            .status()
            .expect("ssh-keygen runs");
        assert!(made.success());
        Self {
            key,
            known_hosts: dir.join("known_hosts"),
        }
    }

    fn public_key(&self) -> String {
        std::fs::read_to_string(self.key.with_extension("pub")).expect("the public key")
    }

    fn trust(&self, port: u16, host_key: &str) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.known_hosts)
            .expect("known_hosts");
        writeln!(file, "[127.0.0.1]:{port} {host_key}").expect("a known host");
    }

    /// Runs `command` as `admin` on the machine behind loopback `port`, checking its host key.
    async fn ssh(&self, port: u16, command: &str) -> std::process::Output {
        tokio::process::Command::new("ssh")
            .args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=5"])
            .args([
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "KexAlgorithms=curve25519-sha256",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.known_hosts.display()))
            .arg("-i")
            .arg(&self.key)
            .args(["-p", &port.to_string(), "admin@127.0.0.1", command])
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .expect("ssh runs")
    }

    /// What `command` printed once it succeeds; panics with the last failure after `patience`.
    async fn ssh_until(&self, port: u16, command: &str, patience: Duration) -> String {
        let what = format!("`{command}` on port {port}");
        output_until(&what, patience, || self.ssh(port, command)).await
    }
}

fn spec(name: &str, address: [u8; 4], client: &Client, user_data: Option<&str>) -> MachineSpec {
    MachineSpec {
        name: name.to_owned(),
        hostname: name.to_owned(),
        address: Ipv4Addr::from(address),
        authorized_key: client.public_key(),
        user_data: user_data.map(str::to_owned),
    }
}

async fn console_until(machine: &Machine, text: &str) -> String {
    let deadline = tokio::time::Instant::now() + BOOT;
    loop {
        let console = machine.console().await;
        if console.contains(text) || tokio::time::Instant::now() >= deadline {
            return console;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn machines_boot_with_systemd_answer_ssh_with_their_own_keys_share_a_private_network_keep_their_disks_and_leave_nothing_behind()
 {
    let before = host_network();
    let dir = tempfile::tempdir().expect("a folder");
    let client = Client::new(dir.path());
    let name = format!("knit-test{}", std::process::id());
    let machines = Machines::start(
        &cache(),
        &dir.path().join("machines"),
        &name,
        &dir.path().join("repositories"),
    )
    .await
    .expect("machines can run here (root, systemd-nspawn, debootstrap)");
    let user_data = "#!/bin/sh\necho \"user data ran as $(id -un)\"\n";
    let web = spec("web-1", [172, 31, 7, 10], &client, Some(user_data));
    let mut web = machines.create(&web).await.expect("web-1 is made");
    let db = spec("db-1", [172, 31, 7, 20], &client, None);
    let mut db = machines.create(&db).await.expect("db-1 is made");
    web.boot().expect("web-1 boots");
    db.boot().expect("db-1 boots");
    client.trust(web.ssh.port, &web.host_key);
    client.trust(db.ssh.port, &db.host_key);

    let said = client
        .ssh_until(
            web.ssh.port,
            "sudo -n id -u; hostname; timeout 60 systemctl is-system-running --wait",
            BOOT,
        )
        .await;
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines[..2], ["0", "web-1"], "{said}");
    assert!(matches!(lines[2], "running" | "degraded"), "{said}");

    // The private network: web-1 reaches db-1's sshd by db-1's private address.
    client.ssh_until(db.ssh.port, "true", BOOT).await;
    let banner = client
        .ssh_until(
            web.ssh.port,
            "timeout 5 bash -c 'exec 3<>/dev/tcp/172.31.7.20/22; head -c 4 <&3'",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(banner, "SSH-");

    let console = console_until(&web, "user data ran as root").await;
    assert!(console.contains("user data ran as root"), "{console}");

    // Each machine has keys of its own: db-1's key offered for web-1 is refused.
    let wrong = Client {
        key: client.key.clone(),
        known_hosts: dir.path().join("wrong_known_hosts"),
    };
    wrong.trust(web.ssh.port, &db.host_key);
    let refused = wrong.ssh(web.ssh.port, "true").await;
    assert!(!refused.status.success());
    let refusal = String::from_utf8_lossy(&refused.stderr);
    assert!(refusal.contains("IDENTIFICATION HAS CHANGED"), "{refusal}");

    // Stopped and started, the disk is the same; while off, nothing answers.
    client
        .ssh_until(web.ssh.port, "echo kept | sudo -n tee /srv/mark", BOOT)
        .await;
    web.power_off().await;
    assert!(!web.is_running());
    assert!(!client.ssh(web.ssh.port, "true").await.status.success());
    web.boot().expect("web-1 boots again");
    let mark = client.ssh_until(web.ssh.port, "cat /srv/mark", BOOT).await;
    assert_eq!(mark, "kept");
    let console = web.console().await;
    assert_eq!(
        console.matches("user data ran as root").count(),
        1,
        "{console}"
    );

    web.destroy().await.expect("web-1 is destroyed");
    db.destroy().await.expect("db-1 is destroyed");
    let proxy_port = machines.packages.port;
    let git_port = machines.repositories.port;
    machines.stop().await;
    let git = std::net::TcpStream::connect(("127.0.0.1", git_port));
    assert!(git.is_err(), "the git daemon still listens");
    let namespaces = names_starting("/run/netns", &name);
    assert!(namespaces.is_empty(), "{namespaces:?}");
    let mounts = std::fs::read_to_string("/proc/self/mounts").expect("mounts");
    let machines_dir = dir.path().join("machines").display().to_string();
    let proxy = std::net::TcpStream::connect(("127.0.0.1", proxy_port));
    assert!(proxy.is_err(), "the package proxy still listens");
    assert!(!mounts.contains(&machines_dir), "{mounts}");
    for hierarchy in ["systemd", "unified"] {
        let cgroup = Path::new("/sys/fs/cgroup").join(hierarchy).join("knit");
        let left = names_starting(&cgroup, &name);
        assert!(left.is_empty(), "{hierarchy}: {left:?}");
    }
    assert_eq!(
        host_network(),
        before,
        "the host's routes and links changed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn machines_get_debians_packages_and_pypi_through_the_sandboxs_proxy_and_reach_nothing_else()
{
    let dir = tempfile::tempdir().expect("a folder");
    let client = Client::new(dir.path());
    let name = format!("knit-pkg{}", std::process::id());
    let machines = Machines::start(
        &cache(),
        &dir.path().join("machines"),
        &name,
        &dir.path().join("repositories"),
    )
    .await
    .expect("machines can run here");
    let mut app = machines
        .create(&spec("app-1", [10, 4, 0, 9], &client, None))
        .await
        .expect("app-1 is made");
    app.boot().expect("app-1 boots");
    client.trust(app.ssh.port, &app.host_key);

    // A fresh machine's package lists are empty, as on a new EC2 image.
    let install = "sudo -n apt-get -q update >/dev/null && \
        sudo -n DEBIAN_FRONTEND=noninteractive apt-get -q -y install hello >/dev/null && hello";
    let said = client
        .ssh_until(app.ssh.port, install, Duration::from_secs(300))
        .await;
    assert_eq!(said, "Hello, world!");
    let cached = std::process::Command::new("find")
        .arg(dir.path().join("machines/packages/cache"))
        .args(["-name", "hello_*.deb"])
        .output()
        .expect("find runs");
    assert!(!cached.stdout.is_empty(), "the proxy kept no copy of hello");

    // PyPI over HTTPS (with sudo too, as a kind's build runs); every other host is refused,
    // and nothing goes out without the proxy.
    let code = |url: &str| format!("curl -s -m 20 -o /dev/null -w '%{{http_code}}' {url}");
    let pypi = client
        .ssh_until(
            app.ssh.port,
            &format!("sudo -n {}", code("https://pypi.org/simple/pip/")),
            Duration::from_secs(30),
        )
        .await;
    assert_eq!(pypi, "200");
    for refused in ["http://example.com/", "https://example.com/"] {
        let answer = client.ssh(app.ssh.port, &code(refused)).await;
        let answer = String::from_utf8_lossy(&answer.stdout).into_owned();
        assert!(
            matches!(answer.as_str(), "403" | "000"),
            "{refused}: {answer}"
        );
    }
    let direct = client
        .ssh(
            app.ssh.port,
            &format!(
                "curl --noproxy '*' -s -m 5 -o /dev/null -w '%{{http_code}}' {}",
                machines.image.mirror().expect("a mirror")
            ),
        )
        .await;
    assert_eq!(String::from_utf8_lossy(&direct.stdout), "000");

    app.destroy().await.expect("app-1 is destroyed");
    machines.stop().await;
}
