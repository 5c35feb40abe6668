//! The banner that says, on every page, when knit is not talking to a real AWS account, or when
//! it cannot reach its own server.

use knit_shared::Health;
use leptos::prelude::*;

use crate::api::ApiFailure;

#[component]
pub fn SandboxBanner(health: LocalResource<Result<Health, ApiFailure>>) -> impl IntoView {
    move || match health.get() {
        Some(Ok(Health {
            sandbox: Some(sandbox),
            ..
        })) => {
            let where_demo_runs = match sandbox.machines {
                true => ", each instance launched there is a real Debian machine, and the demo \
                         cluster is launched onto them; "
                    .to_owned(),
                false => format!(
                    ", and the demo cluster runs on {} local SSH hosts; ",
                    sandbox.hosts.len()
                ),
            };
            Some(
                view! {
                    <div class="banner banner-sandbox" role="status" id="sandbox-banner">
                        <strong>"Sandbox"</strong>
                        " — not a real AWS account. EC2 is a local emulator at "
                        <code>{sandbox.ec2_endpoint}</code>
                        {where_demo_runs}
                        "once installed and deployed, it serves "
                        <a id="sandbox-site" href=sandbox.site.clone() target="_blank" rel="noopener">
                            {sandbox.site.clone()}
                        </a>
                        "."
                    </div>
                }
                .into_any(),
            )
        }
        Some(Err(failure)) => Some(
            view! {
                <div class="banner banner-error" role="alert">
                    {failure.to_string()}
                </div>
            }
            .into_any(),
        ),
        _ => None,
    }
}
