//! Reusable pieces of the console, one per file.

mod empty_state;
mod region_picker;
mod sandbox_banner;
mod state_badge;
mod top_bar;

pub use empty_state::EmptyState;
pub use region_picker::RegionPicker;
pub use sandbox_banner::SandboxBanner;
pub use state_badge::StateBadge;
pub use top_bar::TopBar;
