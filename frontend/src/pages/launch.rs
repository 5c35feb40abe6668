//! The launch wizard: AMI, hardware, monitoring, tags, SSH keys, security group, review.

use leptos::prelude::*;

use crate::components::EmptyState;

#[component]
pub fn LaunchPage() -> impl IntoView {
    view! {
        <h1>"Launch an instance"</h1>
        <EmptyState title="The launch wizard is not built yet">
            <ol class="steps">
                <li>"AMI"</li>
                <li>"Hardware"</li>
                <li>"Monitoring"</li>
                <li>"Tags"</li>
                <li>"SSH keys"</li>
                <li>"Security group"</li>
                <li>"Review & launch"</li>
            </ol>
        </EmptyState>
    }
}
