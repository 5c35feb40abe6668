//! The launch wizard: what its steps choose from (catalog.rs), the launch itself, checked again
//! on the server (launch.rs), and the new instances followed until SSH answers (progress.rs).
//! The instances it starts are the inventory's from then on.

mod catalog;
mod launch;
mod progress;

use std::sync::Arc;

use crate::inventory::Inventory;

pub use launch::WizardError;
pub use progress::ProgressError;

#[derive(Debug)]
pub struct Wizard {
    inventory: Arc<Inventory>,
    type_lists: catalog::Lately<knit_shared::InstanceTypeList>,
    quick_starts: catalog::Lately<knit_shared::QuickStartList>,
}

impl Wizard {
    pub fn new(inventory: Arc<Inventory>) -> Arc<Self> {
        Arc::new(Self {
            inventory,
            type_lists: Default::default(),
            quick_starts: Default::default(),
        })
    }
}
