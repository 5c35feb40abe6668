//! Wire types and validation rules shared by the knit server and the browser console.
//!
//! Everything here compiles for `wasm32-unknown-unknown`: no I/O, no async runtime, no AWS or SSH.

#![warn(missing_docs)]

pub mod accounts;
pub mod actions;
pub mod api;
pub mod audit;
pub mod catalog;
pub mod clusters;
pub mod command_lines;
pub mod diff;
pub mod instances;
pub mod launch;
pub mod log_search;
pub mod params;
pub mod progress;
pub mod rollout;
pub mod runs;
pub mod security_groups;
pub mod shell;
pub mod ssh_target;
pub mod validate;
pub mod webhooks;
pub mod wizard;

pub use accounts::{
    CreatedToken, LogIn, Me, NewToken, NewUser, Role, RoleChange, TokenList, TokenSummary,
    UserList, UserSummary,
};
pub use actions::{ActionOutcome, ActionRequest, ActionResponse, InstanceAction};
pub use api::{
    ApiErrorBody, Health, Profiles, Regions, SandboxHost, SandboxInfo, ScopeQuery, Zones,
};
pub use audit::{AuditEntry, AuditList, AuditQuery};
pub use catalog::{
    IMAGE_LIMIT, IMAGE_OWNERS, ImageList, ImageQuery, ImageSummary, InstanceProfileList,
    InstanceProfileSummary, InstanceTypeList, InstanceTypeSummary, KeyPairList, PriceSources,
    QuickStartImage, QuickStartList, SubnetList, SubnetSummary,
};
pub use clusters::{
    ClusterHost, ClusterHosts, ClusterList, ClusterSummary, FirewallSummary, Freeze, FreezeRequest,
    HostRelease, MachineInstance, MachineSummary, ReleaseList, RuleSummary, ScenarioSummary,
    ScheduleSummary,
};
pub use diff::{FileChange, FileDiff, HostDiff, RunDiff};
pub use instances::{
    ConsoleOutput, GroupRef, Instance, InstanceChanges, InstanceList, InstanceQuery, InstanceState,
    SortKey, SortOrder,
};
pub use launch::{Change, LaunchChanges};
pub use params::ScenarioParam;
pub use progress::{InstanceProgress, ProgressQuery, WizardProgress};
pub use runs::{
    Cell, CellStatus, Decision, Delivery, Grid, LogFormat, LogQuery, PlannedHost, PlannedStep,
    RunDetail, RunEvent, RunEventBody, RunList, RunPlan, RunQuery, RunStatus, RunSummary, StartRun,
    Stream,
};
pub use security_groups::{InboundRule, SecurityGroup, SecurityGroupList, SecurityGroupQuery};
pub use ssh_target::SshTarget;
pub use validate::Invalid;
pub use wizard::{
    ClientAddress, NewGroup, NewKey, NewRule, WizardCheck, WizardLaunched, WizardRequest,
};
