//! Reusable pieces of the console, one per file.

mod empty_state;
mod sandbox_banner;
mod top_bar;

pub use empty_state::EmptyState;
pub use sandbox_banner::SandboxBanner;
pub use top_bar::TopBar;
