//! An instance state as a coloured badge.

use knit_shared::InstanceState;
use leptos::prelude::*;

#[component]
pub fn StateBadge(state: InstanceState) -> impl IntoView {
    let class = format!("badge state-{}", state.as_str());
    view! { <span class=class data-state=state.as_str()>{state.as_str()}</span> }
}
