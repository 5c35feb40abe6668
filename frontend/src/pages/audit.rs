//! The audit log: every change made or refused, newest first, filtered by person or action
//! through the URL.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api;
use crate::components::{EmptyState, Loaded, QueryFilters};

const FILTERS: [(&str, &str); 2] = [("actor", "Person"), ("action", "Action starts with")];

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let list = api::resource(move || {
        let search = query.get().to_query_string();
        async move { api::audit(&search).await }
    });
    view! {
        <h1>"Audit log"</h1>
        <QueryFilters path="/audit" filters=&FILTERS />
        <Loaded resource=list reading="the audit log" let:list>
        {if list.events.is_empty() {
            view! {
                <EmptyState title="Nothing recorded">
                    <p>"Every launch, start, stop, reboot, termination and run is recorded here, refused ones too."</p>
                </EmptyState>
            }.into_any()
        } else {
            view! {
                <table class="audit" id="audit-table">
                    <thead><tr>
                        <th>"When"</th><th>"Who"</th><th>"From"</th><th>"Action"</th><th>"Target"</th><th>"Outcome"</th>
                    </tr></thead>
                    <tbody>
                        {list.events.into_iter().map(|event| view! {
                            <tr data-action=event.action.clone()>
                                <td>{event.at}</td>
                                <td>{event.actor}</td>
                                <td>{event.address.unwrap_or_else(|| "command line".to_owned())}</td>
                                <td>{event.action.clone()}</td>
                                <td class="audit-target">{event.target}</td>
                                <td>{event.outcome}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        </Loaded>
    }
}
