//! The bar at the top of every page: the name, the main sections, and who is signed in.

use knit_shared::Role;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::ScopePicker;
use crate::{api, session};

fn sign_out(_: leptos::ev::MouseEvent) {
    leptos::task::spawn_local(async {
        let _ = api::log_out().await;
        let _ = window().location().set_href("/login");
    });
}

#[component]
pub fn TopBar() -> impl IntoView {
    // The section links keep the chosen profile and region.
    let query = use_query_map();
    let href = move |path: &'static str| {
        move || {
            let mut scope = leptos_router::params::ParamsMap::new();
            for key in ["profile", "region"] {
                if let Some(value) = query.get().get(key) {
                    scope.replace(key, value);
                }
            }
            format!("{path}{}", scope.to_query_string())
        }
    };
    view! {
        <header class="top-bar">
            <a class="brand" href="/instances">
                <img src="/favicon.svg" alt="" width="22" height="22" />
                "knit"
            </a>
            <Show when=|| session::me().is_some()>
            <nav aria-label="Sections">
                <A href=href("/instances")>"Instances"</A>
                <Show when=|| session::may(Role::Admin)>
                    <A href=href("/wizard")>"Launch"</A>
                </Show>
                <A href=href("/clusters")>"Clusters"</A>
                <A href=href("/runs")>"Runs"</A>
                <Show when=|| session::may(Role::Admin)>
                    <A href=href("/audit")>"Audit"</A>
                </Show>
                <A href="/api-docs">"API"</A>
                // The manual is pages of its own, not the console's: the router lets it load.
                <a href="/docs/" rel="external">"Docs"</a>
            </nav>
            <div class="scope">
                <ScopePicker />
            </div>
            </Show>
            {move || session::me().map(|me| view! {
                <div class="who">
                    <a href="/account" id="signed-in-as" title="Your API tokens and, for admins, the accounts">{me.name}</a>
                    <span class="role">{me.role.name()}</span>
                    <button class="button" id="sign-out" on:click=sign_out>"Sign out"</button>
                </div>
            })}
        </header>
    }
}
