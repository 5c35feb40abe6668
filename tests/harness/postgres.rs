//! A throwaway PostgreSQL server from Debian's binaries: its own data folder and port, a
//! superuser `knit` trusted on loopback, fsync off. Stopped with its process group when dropped.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::process::ProcessGroup;

pub struct Postgres {
    /// `postgres://knit@127.0.0.1:PORT/postgres`.
    pub url: String,
    pub port: u16,
    /// Its data folder, owned by the account it runs as.
    pub data: PathBuf,
    _server: ProcessGroup,
    _dir: tempfile::TempDir,
}

pub fn start_postgres() -> Postgres {
    let bin = binaries();
    let dir = tempfile::Builder::new()
        .prefix("knit-postgres")
        .tempdir()
        .expect("temp dir");
    let account = Account::for_postgres();
    account.own(dir.path());
    let data = dir.path().join("data");

    let initdb = account
        .command(&bin.join("initdb"))
        .arg("--pgdata")
        .arg(&data)
        .args([
            "--username",
            "knit",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
        ])
        .args(["--locale", "C", "--no-sync", "--no-instructions"])
        .output()
        .expect("initdb runs");
    assert!(
        initdb.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&initdb.stderr)
    );

    let port = unused_port();
    let log = std::fs::File::create(dir.path().join("postgres.log")).expect("log file");
    account.own(&dir.path().join("postgres.log"));
    let mut server = account.command(&bin.join("postgres"));
    server
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-k"])
        .arg(dir.path())
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log);
    let server = ProcessGroup::spawn(server).expect("postgres starts");
    wait_until_ready(&bin, port, dir.path());
    Postgres {
        url: format!("postgres://knit@127.0.0.1:{port}/postgres"),
        port,
        data,
        _server: server,
        _dir: dir,
    }
}

/// The newest installed PostgreSQL's `bin` folder.
fn binaries() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).expect(
        "no PostgreSQL in /usr/lib/postgresql: install Debian's postgresql (.ci/setup does)",
    )
}

/// PostgreSQL refuses to run as root: then it runs as the `postgres` account Debian creates.
struct Account {
    ids: Option<(u32, u32)>,
}

impl Account {
    fn for_postgres() -> Self {
        let root = id(&["-u"]) == 0;
        Self {
            ids: root.then(|| (id(&["-u", "postgres"]), id(&["-g", "postgres"]))),
        }
    }

    fn own(&self, path: &Path) {
        if let Some((uid, gid)) = self.ids {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown to postgres");
        }
    }

    fn command(&self, program: &Path) -> Command {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(program);
        if let Some((uid, gid)) = self.ids {
            command.uid(uid).gid(gid);
        }
        command
    }
}

fn id(args: &[&str]) -> u32 {
    let output = Command::new("id").args(args).output().expect("id runs");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("`id {}` gave no number", args.join(" ")))
}

fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn wait_until_ready(bin: &Path, port: u16, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "knit"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if ready {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "postgres did not start: {}",
            std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
