//! Reusable pieces of the console, one per file.

mod empty_state;
mod live_releases;
mod loaded;
mod progress_grid;
mod query_filters;
mod run_dialog;
mod run_diff;
mod run_log;
mod sandbox_banner;
mod scope_picker;
mod state_badge;
mod top_bar;
mod topology;

pub use empty_state::EmptyState;
pub use live_releases::LiveReleases;
pub use loaded::Loaded;
pub use progress_grid::ProgressGrid;
pub use query_filters::QueryFilters;
pub use run_dialog::RunDialog;
pub use run_diff::RunDiffView;
pub use run_log::{LogLine, RunLog};
pub use sandbox_banner::SandboxBanner;
pub use scope_picker::ScopePicker;
pub use state_badge::StateBadge;
pub use top_bar::TopBar;
pub use topology::Topology;
