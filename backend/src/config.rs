//! Settings of `knit serve`, read once at start-up: defaults < environment (`KNIT_*`) < flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;

/// Everything `knit serve` needs to know. Holds no secrets: AWS credentials come from the AWS
/// default chain (environment, `~/.aws`, SSO, instance role) and are never part of the settings.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address and port the console listens on.
    #[arg(long, env = "KNIT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Folder for knit's state: the SQLite database (unless --database-url), known_hosts, and
    /// the sandbox's keys.
    #[arg(long, env = "KNIT_DATA_DIR", default_value = "knit-data")]
    pub data_dir: PathBuf,

    /// AWS credentials profile (from ~/.aws/config) used when a request names none.
    #[arg(long, env = "KNIT_PROFILE")]
    pub profile: Option<String>,

    /// AWS region used when a request names none [default: the profile's region, else us-east-1].
    #[arg(long, env = "KNIT_REGION")]
    pub region: Option<String>,

    /// Send EC2 API calls to this URL instead of AWS, e.g. a local moto server.
    #[arg(long, env = "KNIT_EC2_ENDPOINT")]
    pub ec2_endpoint: Option<String>,

    /// Database URL [default: sqlite:<data-dir>/knit.db], or PostgreSQL:
    /// postgres://USER:PASSWORD@HOST:PORT/DATABASE (add ?sslmode=require for TLS).
    #[arg(long, env = "KNIT_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Folder of cluster definition files (*.toml), usually in your own repository.
    #[arg(long, env = "KNIT_CLUSTERS")]
    pub clusters: Option<PathBuf>,

    /// Run against a local sandbox instead of AWS: a local EC2 emulator (moto) started by knit
    /// unless --ec2-endpoint is given, and local SSH hosts (sshd on loopback) as a demo cluster.
    #[arg(long, env = "KNIT_SANDBOX")]
    pub sandbox: bool,

    /// Number of local SSH hosts the sandbox starts.
    #[arg(long, env = "KNIT_SANDBOX_HOSTS", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=16))]
    pub sandbox_hosts: u8,

    /// Whether each instance launched in the sandbox boots a real Debian machine: `auto` where
    /// machines can run (Linux, root, systemd-nspawn and debootstrap), `on` (the start fails
    /// if they cannot), `off` (instances are moto's rows only).
    #[arg(long, env = "KNIT_SANDBOX_MACHINES", value_enum, default_value_t = SandboxMachines::Auto)]
    pub sandbox_machines: SandboxMachines,

    /// Where the sandbox keeps what it builds once (its machines' base image)
    /// [default: ~/.cache/knit].
    #[arg(long, env = "KNIT_CACHE")]
    pub cache: Option<PathBuf>,

    /// The moto_server program the sandbox runs as its EC2 emulator.
    #[arg(long, env = "KNIT_MOTO_SERVER", default_value = "moto_server")]
    pub moto_server: PathBuf,

    /// Instances per DescribeInstances page (5 to 1000). Smaller pages only help to test paging.
    #[arg(long, env = "KNIT_EC2_PAGE_SIZE", default_value_t = 1000, value_parser = clap::value_parser!(i32).range(5..=1000))]
    pub ec2_page_size: i32,

    /// How long a browser stays signed in, in seconds (12 hours unless told).
    #[arg(long, env = "KNIT_SESSION_SECONDS", default_value_t = 12 * 60 * 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub session_seconds: u64,

    /// The most days an API token may live; a token asked for longer is refused.
    #[arg(long, env = "KNIT_TOKEN_MAX_DAYS", default_value_t = crate::accounts::TOKEN_MAX_DAYS, value_parser = clap::value_parser!(u32).range(1..))]
    pub token_max_days: u32,

    /// Folder of the built browser console (Trunk's output) [default: the console built into
    /// knit (the `embed-console` feature), else `dist`].
    #[arg(long, env = "KNIT_WEB_DIR")]
    pub web_dir: Option<PathBuf>,

    /// The console's address as people reach it (behind a proxy, say), for links to runs in
    /// notifications, e.g. `https://knit.example.com`.
    #[arg(long, env = "KNIT_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Also serve `GET /metrics` here, to anyone who reaches it (a port only Prometheus can
    /// reach), e.g. `127.0.0.1:9180`; on the console's address it needs an API token.
    #[arg(long, env = "KNIT_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// How the server's log is written: `text` for people, `json` (an object a line) for log
    /// collectors.
    #[arg(long, env = "KNIT_LOG_FORMAT", value_enum, default_value_t = LogStyle::Text)]
    pub log_format: LogStyle,

    /// Delete the log lines of runs that ended more than this many days ago (the runs, their
    /// grids and the audit log stay); without it, logs are kept for ever.
    #[arg(long, env = "KNIT_KEEP_RUNS_DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_runs_days: Option<u32>,

    /// The most output a run's stored log keeps, in MB; lines beyond it are dropped, and the
    /// log says so where it stops.
    #[arg(long, env = "KNIT_RUN_LOG_CAP_MB", default_value_t = crate::runs::LOG_CAP_MB, value_parser = clap::value_parser!(u64).range(1..))]
    pub run_log_cap_mb: u64,
}

/// How the server's log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogStyle {
    /// Lines for people.
    Text,
    /// A JSON object a line.
    Json,
}

/// Whether the sandbox's instances boot real machines (`--sandbox-machines`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SandboxMachines {
    Auto,
    On,
    Off,
}

impl Settings {
    /// The folder of what the sandbox builds once.
    pub fn cache(&self) -> PathBuf {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let default = home.map_or_else(|| self.data_dir.join("cache"), |h| h.join(".cache/knit"));
        self.cache.clone().unwrap_or(default)
    }

    /// The database URL, defaulting to a SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        database_url(&self.data_dir, self.database_url.as_deref())
    }

    /// Where knit reads the secrets settings like `password_file` name.
    pub fn secrets_dir(&self) -> PathBuf {
        secrets_dir(&self.data_dir)
    }

    /// Where knit records the SSH host keys it trusts.
    pub fn known_hosts(&self) -> PathBuf {
        known_hosts(&self.data_dir)
    }
}

/// `url`, or the SQLite file of data folder `data_dir`: the server and the CLI share it.
pub fn database_url(data_dir: &Path, url: Option<&str>) -> String {
    match url {
        Some(url) => url.to_owned(),
        None => format!("sqlite:{}", data_dir.join("knit.db").display()),
    }
}

/// Knit's secrets folder in data folder `data_dir`: the files settings like `password_file` name.
pub fn secrets_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("secrets")
}

/// The known_hosts file of data folder `data_dir`.
pub fn known_hosts(data_dir: &Path) -> PathBuf {
    data_dir.join("known_hosts")
}
