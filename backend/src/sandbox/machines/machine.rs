//! One machine: an overlay of the base image, a namespace on the network, and systemd-nspawn
//! booting it; powered off, booted again and destroyed as EC2's instance actions ask.

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::packages::MACHINE_PORT;
use super::relay::Relay;
use super::repositories;
use super::{Image, MachineError, Network, io_error, run};

const BOOT: &str = include_str!("boot.sh");
const USER_DATA_UNIT: &str = include_str!("user-data.service");
/// systemd-nspawn's exit status when the machine rebooted itself.
const REBOOTED: i32 = 133;
/// How long a power-off may take before the machine is killed.
const POWER_OFF: Duration = Duration::from_secs(30);

/// What a new machine is: its name and hostname, its private address, the public key its
/// `admin` user accepts, and the user data it runs once at first boot if that is a script.
#[derive(Debug, Clone)]
pub struct MachineSpec {
    /// Names its folder, namespace and cgroup.
    pub name: String,
    pub hostname: String,
    pub address: Ipv4Addr,
    pub authorized_key: String,
    pub user_data: Option<String>,
}

/// A machine, booted or not. Its disk (the overlay's upper folder) lasts until `destroy`.
#[derive(Debug)]
pub struct Machine {
    pub name: String,
    pub hostname: String,
    pub address: Ipv4Addr,
    /// The public half of the machine's SSH host key, which the sandbox made before its first
    /// boot: knit trusts it from here, never from a first connection.
    pub host_key: String,
    /// The host's loopback port that reaches the machine's port 22.
    pub ssh: Relay,
    /// The host's loopback port that reaches the machine's port 80.
    pub http: Relay,
    /// The machine's own `127.0.0.1:3142`, which reaches the package proxy.
    pub packages: Relay,
    /// The machine's own `127.0.0.1:9418`, which reaches the sandbox's git repositories.
    pub repositories: Relay,
    dir: PathBuf,
    network: Network,
    running: Option<Running>,
}

#[derive(Debug)]
struct Running {
    stop: oneshot::Sender<()>,
    supervisor: JoinHandle<()>,
}

/// What every machine of a sandbox is made from and attached to.
#[derive(Debug, Clone, Copy)]
pub struct Wiring<'a> {
    pub image: &'a Image,
    pub network: &'a Network,
    /// The package proxy's port on the host's loopback.
    pub packages: u16,
    /// The git server's port on the host's loopback.
    pub repositories: u16,
}

impl Machine {
    /// Makes the machine's disk and network, powered off.
    pub async fn create(
        dir: &Path,
        wiring: Wiring<'_>,
        spec: &MachineSpec,
    ) -> Result<Self, MachineError> {
        let Wiring {
            image,
            network,
            packages,
            repositories,
        } = wiring;
        let dir = dir.join(&spec.name);
        for folder in ["upper", "work", "root"] {
            let path = dir.join(folder);
            tokio::fs::create_dir_all(&path)
                .await
                .map_err(|source| io_error(&path, source))?;
        }
        let options = format!(
            "lowerdir={},upperdir={},workdir={}",
            image.root.display(),
            dir.join("upper").display(),
            dir.join("work").display()
        );
        let mut mount = Command::new("mount");
        mount
            .args(["-t", "overlay", "overlay", "-o", &options])
            .arg(dir.join("root"));
        run("mounting a machine's disk", &mut mount).await?;
        let root = dir.join("root");
        let host_key = first_boot_files(&root, spec).await?;
        network.attach(&spec.name, spec.address).await?;
        let namespace = network.namespace_path(&spec.name);
        let relay = |port| Relay::into_namespace(namespace.clone(), port);
        let relay_error = |source| io_error(&namespace, source);
        let out = |port, target| Relay::out_of_namespace(namespace.clone(), port, target);
        let packages = out(MACHINE_PORT, packages);
        let repositories = out(repositories::MACHINE_PORT, repositories);
        Ok(Self {
            name: spec.name.clone(),
            hostname: spec.hostname.clone(),
            address: spec.address,
            host_key,
            ssh: relay(22).await.map_err(relay_error)?,
            http: relay(80).await.map_err(relay_error)?,
            packages: packages.await.map_err(relay_error)?,
            repositories: repositories.await.map_err(relay_error)?,
            dir,
            network: network.clone(),
            running: None,
        })
    }

    /// Whether the machine is booted (not powered off, from outside or from inside).
    pub fn is_running(&self) -> bool {
        self.running
            .as_ref()
            .is_some_and(|running| !running.supervisor.is_finished())
    }

    /// Boots the machine; a reboot from inside boots it again, a power-off from inside ends it.
    pub fn boot(&mut self) -> Result<(), MachineError> {
        if self.is_running() {
            return Ok(());
        }
        let launch = Launch {
            cgroup: format!("knit/{}", self.network.namespace(&self.name)),
            root: self.dir.join("root"),
            hostname: self.hostname.clone(),
            namespace: self.network.namespace_path(&self.name),
            console: self.console_path(),
        };
        let first = launch.spawn()?;
        let (stop, stopped) = oneshot::channel();
        let supervisor = tokio::spawn(launch.supervise(first, stopped));
        self.running = Some(Running { stop, supervisor });
        Ok(())
    }

    /// Powers the machine off, as EC2's stop does; its disk is kept.
    pub async fn power_off(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            let _ = running.supervisor.await;
        }
    }

    /// Reboots the machine: powered off and booted again, which from the outside (a dropped
    /// connection, the same disk after) is what an EC2 reboot is.
    pub async fn reboot(&mut self) -> Result<(), MachineError> {
        self.power_off().await;
        self.boot()
    }

    /// Powers the machine off and removes its disk and network, as EC2's terminate does.
    pub async fn destroy(mut self) -> Result<(), MachineError> {
        self.power_off().await;
        unmount(&self.dir.join("root")).await?;
        self.network.detach(&self.name).await;
        tokio::fs::remove_dir_all(&self.dir)
            .await
            .map_err(|source| io_error(&self.dir, source))
    }

    /// What the machine printed while booting, its host key in the block cloud-init prints
    /// once booted (where a launch reads it, as on EC2), and its user data's output.
    pub async fn console(&self) -> String {
        let mut text = tokio::fs::read_to_string(self.console_path())
            .await
            .unwrap_or_default();
        if !text.is_empty() {
            text.push_str(&format!(
                "-----BEGIN SSH HOST KEY KEYS-----\n{}\n-----END SSH HOST KEY KEYS-----\n",
                self.host_key
            ));
        }
        let user_data = self.dir.join("upper/var/log/knit-user-data.log");
        if let Ok(output) = tokio::fs::read_to_string(user_data).await {
            text.push_str(&output);
        }
        text
    }

    fn console_path(&self) -> PathBuf {
        self.dir.join("console.log")
    }
}

/// Writes what cloud-init would on a first boot: hostname, host keys, `admin`'s authorized
/// key, the user data; returns the public host key.
async fn first_boot_files(root: &Path, spec: &MachineSpec) -> Result<String, MachineError> {
    let write = |path: PathBuf, text: String| async move {
        tokio::fs::write(&path, text)
            .await
            .map_err(|source| io_error(&path, source))
    };
    write(root.join("etc/hostname"), format!("{}\n", spec.hostname)).await?;
    write(
        root.join("etc/hosts"),
        format!("127.0.0.1 localhost\n127.0.1.1 {}\n", spec.hostname),
    )
    .await?;
    way_to_packages(root).await?;
    let mut keys = Command::new("ssh-keygen");
    keys.arg("-A").arg("-f").arg(root);
    run("making a machine's host keys", &mut keys).await?;
    let host_key_path = root.join("etc/ssh/ssh_host_ed25519_key.pub");
    let host_key = tokio::fs::read_to_string(&host_key_path)
        .await
        .map_err(|source| io_error(&host_key_path, source))?;

    let ssh = root.join("home/admin/.ssh");
    tokio::fs::create_dir_all(&ssh)
        .await
        .map_err(|source| io_error(&ssh, source))?;
    let authorized = ssh.join("authorized_keys");
    write(
        authorized.clone(),
        format!("{}\n", spec.authorized_key.trim()),
    )
    .await?;
    let (uid, gid) = admin_ids(root).await?;
    for path in [&ssh, &authorized] {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| io_error(path, e))?;
    }
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| io_error(&ssh, e))?;

    if let Some(script) = spec
        .user_data
        .as_ref()
        .filter(|data| data.starts_with("#!"))
    {
        let folder = root.join("var/lib/knit");
        tokio::fs::create_dir_all(&folder)
            .await
            .map_err(|source| io_error(&folder, source))?;
        let path = folder.join("user-data");
        write(path.clone(), script.clone()).await?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io_error(&path, e))?;
        let unit = "knit-user-data.service";
        write(
            root.join("etc/systemd/system").join(unit),
            USER_DATA_UNIT.to_owned(),
        )
        .await?;
        let wants = root.join("etc/systemd/system/multi-user.target.wants");
        tokio::fs::create_dir_all(&wants)
            .await
            .map_err(|source| io_error(&wants, source))?;
        let link = wants.join(unit);
        let _ = tokio::fs::remove_file(&link).await;
        tokio::fs::symlink(format!("/etc/systemd/system/{unit}"), &link)
            .await
            .map_err(|source| io_error(&link, source))?;
    }
    Ok(host_key.trim().to_owned())
}

/// Points apt, pip, curl and sudo at the package proxy on the machine's own loopback, and
/// makes the machine trust the certificate authorities the host added (a host behind an
/// inspecting proxy sees PyPI's certificates signed by one).
async fn way_to_packages(root: &Path) -> Result<(), MachineError> {
    let proxy = format!("http://127.0.0.1:{MACHINE_PORT}");
    let private = "localhost,127.0.0.1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16";
    let files = [
        (
            "etc/apt/apt.conf.d/01knit-sandbox-proxy",
            format!("Acquire::http::Proxy \"{proxy}\";\nAcquire::https::Proxy \"{proxy}\";\n"),
        ),
        (
            "etc/pip.conf",
            format!("[global]\nproxy = {proxy}\ncert = /etc/ssl/certs/ca-certificates.crt\n"),
        ),
        (
            "etc/environment",
            format!("http_proxy={proxy}\nhttps_proxy={proxy}\nno_proxy={private}\n"),
        ),
        (
            "etc/sudoers.d/05knit-sandbox-proxy",
            "Defaults env_keep += \"http_proxy https_proxy no_proxy\"\n".to_owned(),
        ),
    ];
    for (path, text) in files {
        let path = root.join(path);
        tokio::fs::write(&path, text)
            .await
            .map_err(|source| io_error(&path, source))?;
    }
    let sudoers = root.join("etc/sudoers.d/05knit-sandbox-proxy");
    std::fs::set_permissions(&sudoers, std::fs::Permissions::from_mode(0o440))
        .map_err(|e| io_error(&sudoers, e))?;
    let added = Path::new("/usr/local/share/ca-certificates");
    if let Ok(mut entries) = tokio::fs::read_dir(added).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            let to = root
                .join("usr/local/share/ca-certificates")
                .join(entry.file_name());
            tokio::fs::copy(entry.path(), &to)
                .await
                .map_err(|source| io_error(&to, source))?;
        }
        // The host's bundle already holds them; the machine's update-ca-certificates keeps them.
        let bundle = root.join("etc/ssl/certs/ca-certificates.crt");
        tokio::fs::copy("/etc/ssl/certs/ca-certificates.crt", &bundle)
            .await
            .map_err(|source| io_error(&bundle, source))?;
    }
    Ok(())
}

/// `admin`'s user and group ids in the image's passwd file.
async fn admin_ids(root: &Path) -> Result<(u32, u32), MachineError> {
    let path = root.join("etc/passwd");
    let passwd = tokio::fs::read_to_string(&path)
        .await
        .map_err(|source| io_error(&path, source))?;
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&"admin"))
        .and_then(|fields| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))
        .ok_or_else(|| MachineError::Command {
            what: "reading the image's users".to_owned(),
            detail: format!("{} has no user admin", path.display()),
        })
}

/// How one machine is booted, again after each reboot from inside.
struct Launch {
    cgroup: String,
    root: PathBuf,
    hostname: String,
    namespace: PathBuf,
    console: PathBuf,
}

impl Launch {
    fn spawn(&self) -> Result<Child, MachineError> {
        let console = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.console)
            .map_err(|source| io_error(&self.console, source))?;
        let errors = console
            .try_clone()
            .map_err(|e| io_error(&self.console, e))?;
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(BOOT)
            .arg("sh")
            .arg(&self.cgroup)
            .arg(&self.root)
            .arg(&self.hostname)
            .arg(&self.namespace)
            .stdin(Stdio::null())
            .stdout(console)
            .stderr(errors)
            // Ctrl-C in a terminal reaches knit, which powers its machines off in order.
            .process_group(0)
            .kill_on_drop(true);
        command
            .spawn()
            .map_err(|source| io_error(&self.root, source))
    }

    async fn supervise(self, mut child: Child, mut stop: oneshot::Receiver<()>) {
        loop {
            tokio::select! {
                status = child.wait() => {
                    let rebooted = status.ok().and_then(|s| s.code()) == Some(REBOOTED);
                    match (rebooted, self.spawn()) {
                        (true, Ok(next)) => child = next,
                        (true, Err(error)) => {
                            tracing::warn!(%error, machine = %self.hostname, "a rebooted machine did not boot again");
                            break;
                        }
                        (false, _) => break,
                    }
                }
                _ = &mut stop => {
                    power_off(&mut child).await;
                    break;
                }
            }
        }
        remove_cgroup(&self.cgroup).await;
    }
}

/// SIGTERM makes nspawn power the machine off; one that takes too long is killed.
async fn power_off(child: &mut Child) {
    let Some(pid) = child.id().and_then(|id| Pid::from_raw(id as i32)) else {
        return;
    };
    let _ = kill_process(pid, Signal::TERM);
    if tokio::time::timeout(POWER_OFF, child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
}

/// Kills every process in a machine's cgroup (a machine a killed sandbox left running), and
/// waits, up to ten seconds, until none is left.
pub(super) async fn kill_cgroup(cgroup: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let pids = cgroup_processes(cgroup).await;
        if pids.is_empty() || tokio::time::Instant::now() >= deadline {
            return;
        }
        for pid in pids {
            let _ = kill_process(pid, Signal::KILL);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The processes in a machine's cgroup of the systemd hierarchy and every cgroup below it.
async fn cgroup_processes(cgroup: &str) -> Vec<Pid> {
    let mut pids = Vec::new();
    for folder in cgroup_folders("systemd", cgroup).await {
        let procs = tokio::fs::read_to_string(folder.join("cgroup.procs")).await;
        pids.extend(
            procs
                .unwrap_or_default()
                .lines()
                .filter_map(|line| line.trim().parse().ok())
                .filter_map(Pid::from_raw),
        );
    }
    pids
}

/// A cgroup's folder in `hierarchy` and every folder below it, each after its parent.
async fn cgroup_folders(hierarchy: &str, cgroup: &str) -> Vec<PathBuf> {
    let top = Path::new("/sys/fs/cgroup").join(hierarchy).join(cgroup);
    let mut folders = Vec::new();
    let mut pending = vec![top];
    while let Some(folder) = pending.pop() {
        if let Ok(mut entries) = tokio::fs::read_dir(&folder).await {
            while let Ok(Some(entry)) = entries.next_entry().await {
                if entry.file_type().await.is_ok_and(|t| t.is_dir()) {
                    pending.push(entry.path());
                }
            }
            folders.push(folder);
        }
    }
    folders
}

/// Removes a machine's cgroup folders, the deepest first (cgroupfs removes only empty ones).
pub(super) async fn remove_cgroup(cgroup: &str) {
    for hierarchy in ["systemd", "unified"] {
        for folder in cgroup_folders(hierarchy, cgroup).await.iter().rev() {
            let _ = tokio::fs::remove_dir(folder).await;
        }
    }
}

/// Unmounts a machine's disk, trying again while something inside still holds it.
pub(super) async fn unmount(root: &Path) -> Result<(), MachineError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut umount = Command::new("umount");
        umount.arg(root);
        match run("unmounting a machine's disk", &mut umount).await {
            Ok(_) => return Ok(()),
            Err(_) if !is_mounted(root).await => return Ok(()),
            Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn is_mounted(path: &Path) -> bool {
    let mounts = tokio::fs::read_to_string("/proc/self/mounts")
        .await
        .unwrap_or_default();
    let path = path.display().to_string();
    mounts
        .lines()
        .any(|line| line.split_whitespace().nth(1) == Some(path.as_str()))
}
