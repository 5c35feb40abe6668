//! What `knit <cluster> <action>` is told on its command line, for a run here or through a
//! server.

use std::path::PathBuf;

use clap::Args;
use knit_shared::StartRun;
use knit_shared::rollout::BatchSize;

use super::StoreArgs;

/// What `knit <cluster> <action>` may be told besides the scenario.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// `clusters` to list the clusters, or the name of one, e.g. production.mysite.
    pub cluster: Option<String>,

    /// A scenario of the cluster; `install` (every role's install task); `plan` (what `launch`
    /// would change in EC2); `launch` (create the firewall groups and start the machines);
    /// `hosts` (list the hosts); `releases` (what each host runs now, as it last reported);
    /// `runs` (its latest runs); `freeze --message "..."` (no run starts until `unfreeze`).
    pub action: Option<String>,

    /// Folder of cluster definition files (*.toml).
    #[arg(long, env = "KNIT_CLUSTERS", default_value = "clusters")]
    pub clusters: PathBuf,

    #[command(flatten)]
    pub store: StoreArgs,

    /// Only these hosts (comma-separated names, as `hosts` lists them).
    #[arg(long, value_delimiter = ',')]
    pub hosts: Vec<String>,

    /// Only the tasks of these roles (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub roles: Vec<String>,

    /// Print the commands each host would run, and run nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print what the run would change on each host (commits, migrations, each file it would
    /// write as a diff against the host's), asking the hosts, and run nothing.
    #[arg(long, conflicts_with = "dry_run")]
    pub diff: bool,

    /// Print every line of each script as it starts, not only its headline.
    #[arg(short, long)]
    pub verbose: bool,

    /// A value for a parameter of the scenario, e.g. `--set ref=v2` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = name_and_value)]
    pub set: Vec<(String, String)>,

    /// Hosts a step runs on at the same time [default: the cluster's `parallel`, else 20].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: Option<u16>,
    /// Rolling batches, e.g. `1,25%`: a canary of one host, then a quarter at a time
    /// [default: the scenario's `serial`, else all hosts at once].
    #[arg(long, value_delimiter = ',', value_parser = BatchSize::parse)]
    pub serial: Vec<BatchSize>,
    /// The share of hosts (0-100) that may fail before the rollout stops [default: the
    /// scenario's `max_fail_percentage`, else a failed step stops the run].
    #[arg(long = "max-fail", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub max_fail_percentage: Option<u8>,
    /// Run the scenario again on the hosts run N left undone (failed, skipped or not reached),
    /// with its parameters.
    #[arg(long, value_name = "N")]
    pub retry: Option<i64>,
    /// The cluster's name, for a cluster that wants it typed before a run (`confirm`, or tagged
    /// `Stage=Production`); at a terminal knit asks instead.
    #[arg(long, value_name = "CLUSTER")]
    pub yes: Option<String>,
    /// Wait in line while another run holds the cluster, instead of being refused.
    #[arg(long)]
    pub wait: bool,
    /// Why the cluster is frozen (`freeze`), shown to everyone whose run it refuses.
    #[arg(long)]
    pub message: Option<String>,

    /// Send EC2 API calls to this URL instead of AWS (to find launched machines).
    #[arg(long, env = "KNIT_EC2_ENDPOINT")]
    pub ec2_endpoint: Option<String>,

    /// A running knit to do it through (its API), e.g. https://knit.internal: its definitions,
    /// roles, approvals, lock and audit apply.
    #[arg(long, env = "KNIT_SERVER")]
    pub server: Option<String>,
    /// An API token of that server (`knit token create`). On the command line it shows in
    /// `ps` to every user of this machine: prefer KNIT_TOKEN or --token-file.
    #[arg(long, env = "KNIT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A file holding that API token (its first line).
    #[arg(long, env = "KNIT_TOKEN_FILE", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,
}

impl ClusterArgs {
    /// A run of `scenario` of `cluster` as these arguments ask for it.
    pub fn start_run(&self, cluster: &str, scenario: &str) -> StartRun {
        StartRun {
            hosts: self.hosts.clone(),
            roles: self.roles.clone(),
            params: self.set.iter().cloned().collect(),
            serial: (!self.serial.is_empty()).then(|| self.serial.clone()),
            max_fail_percentage: self.max_fail_percentage,
            parallel: self.parallel,
            retry_of: self.retry,
            confirm: self.yes.clone(),
            wait: self.wait,
            ..StartRun::new(cluster, scenario)
        }
    }
}

/// What is asked of a cluster: the word after its name, read once for a run here or through a
/// server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// What `launch` would change in EC2.
    Changes,
    Hosts,
    Releases,
    /// Its latest runs.
    Runs,
    Freeze,
    Unfreeze,
    /// A scenario, `install` or `launch`.
    Start(String),
}

impl Action {
    pub fn parse(word: &str) -> Self {
        match word {
            "changes" => Self::Changes,
            "hosts" => Self::Hosts,
            "releases" => Self::Releases,
            "runs" => Self::Runs,
            "freeze" => Self::Freeze,
            "unfreeze" => Self::Unfreeze,
            scenario => Self::Start(scenario.to_owned()),
        }
    }
}

/// `NAME=VALUE` of `--set`.
fn name_and_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("{text:?} is not NAME=VALUE"))
}
