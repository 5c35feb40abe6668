//! The home page: every EC2 instance of the chosen region, live, with actions.
//!
//! The URL holds the query (region, filters, sort), the server filters and sorts, and the live
//! feed updates the rows in place.

mod actions;
mod detail;
mod table;
mod terminate;
mod toolbar;

use std::collections::BTreeSet;

use knit_shared::{ActionRequest, Instance, InstanceAction, InstanceChanges, InstanceList};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

use crate::api::{self, ApiFailure};
use actions::{ActionBar, Notice};
use detail::InstanceDetail;
use table::InstanceTable;
use terminate::TerminateDialog;
use toolbar::Toolbar;

/// Rows drawn at once; the rest are a click away, so 2,000 instances stay smooth.
pub const PAGE_SIZE: usize = 100;

/// Everything the page's pieces share.
#[derive(Clone, Copy)]
pub struct ListState {
    pub rows: RwSignal<Vec<Instance>>,
    pub selected: RwSignal<BTreeSet<String>>,
    pub detail: RwSignal<Option<String>>,
    pub page: RwSignal<usize>,
    pub notice: RwSignal<Option<Notice>>,
    pub pending: RwSignal<bool>,
    pub confirming: RwSignal<Option<Vec<Instance>>>,
    /// Changing a URL parameter: `set_param("q", "web")`; an empty value removes it.
    pub set_param: Callback<(&'static str, String)>,
    pub act: Callback<(InstanceAction, Vec<String>, Vec<String>)>,
    pub refresh: Callback<()>,
}

#[component]
pub fn InstancesPage() -> impl IntoView {
    let query = use_query_map();
    let location = use_location();
    let navigate = use_navigate();
    let forced_refreshes = RwSignal::new(0_u32);
    let served_refreshes = StoredValue::new(0_u32);

    let list = api::resource(move || {
        let mut params = query.get();
        let forced = forced_refreshes.get();
        if forced != served_refreshes.get_value() {
            served_refreshes.set_value(forced);
            params.replace("refresh", "true".to_owned());
        }
        async move { api::instances(&params.to_query_string()).await }
    });

    let set_param = Callback::new(move |(key, value): (&'static str, String)| {
        let mut params = query.get_untracked();
        if value.is_empty() {
            params.remove(key);
        } else {
            params.replace(key, value);
        }
        let url = format!(
            "{}{}",
            location.pathname.get_untracked(),
            params.to_query_string()
        );
        navigate(
            &url,
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    });

    let state = ListState {
        rows: RwSignal::new(Vec::new()),
        selected: RwSignal::new(BTreeSet::new()),
        detail: RwSignal::new(None),
        page: RwSignal::new(0),
        notice: RwSignal::new(None),
        pending: RwSignal::new(false),
        confirming: RwSignal::new(None),
        set_param,
        act: Callback::new(move |_| {}),
        refresh: Callback::new(move |()| forced_refreshes.update(|n| *n += 1)),
    };
    let state = ListState {
        act: Callback::new(move |(action, ids, confirm)| {
            run_action(state, query, action, ids, confirm)
        }),
        ..state
    };

    // A new list replaces the rows; a new query starts on the first page.
    Effect::new(move |_| {
        if let Some(Ok(list)) = list.get() {
            state.rows.set(list.instances);
        }
    });
    Effect::new(move |_| {
        query.track();
        state.page.set(0);
    });

    // The live feed of the profile and region: states change in place; arrivals and departures
    // reload the list, which the server filters and sorts.
    let scope = Memo::new(move |_| {
        let params = query.get();
        api::scope_query(params.get("profile"), params.get("region"))
    });
    Effect::new(move |_| {
        // The first message of a feed holds the whole region: nothing in it is news to the list.
        let first = std::cell::Cell::new(true);
        api::watch_instances(scope.get(), move |changes| {
            apply_changes(state, changes, list, first.replace(false))
        })
        .ok()
    });

    view! {
        <div class="instances-header">
            <h1>"Instances"</h1>
            <a class="button primary" href="/wizard">"Launch instance"</a>
        </div>
        <Toolbar state fetched=Signal::derive(move || list.get().and_then(Result::ok)) />
        <ActionBar state />
        {move || match list.get() {
            None => view! { <p class="loading" role="status">"Loading instances…"</p> }.into_any(),
            Some(Err(failure)) => view! { <ListError failure state /> }.into_any(),
            Some(Ok(list)) if list.total == 0 => view! { <NoInstances region=list.region /> }.into_any(),
            Some(Ok(list)) if list.instances.is_empty() => view! {
                <section class="empty-state">
                    <h2>"No instance matches these filters"</h2>
                    <p>{format!("The region has {} instances; clear the filters to see them.", list.total)}</p>
                </section>
            }.into_any(),
            Some(Ok(_)) => view! { <InstanceTable state /> }.into_any(),
        }}
        <InstanceDetail state />
        <TerminateDialog state />
    }
}

fn apply_changes(
    state: ListState,
    changes: InstanceChanges,
    list: LocalResource<Result<InstanceList, ApiFailure>>,
    first: bool,
) {
    let mut unknown = !changes.removed.is_empty();
    state.rows.update(|rows| {
        for changed in changes.changed {
            match rows.iter_mut().find(|row| row.id == changed.id) {
                Some(row) => *row = changed,
                None => unknown = true,
            }
        }
    });
    if unknown && !first {
        list.refetch();
    }
}

fn run_action(
    state: ListState,
    query: Memo<leptos_router::params::ParamsMap>,
    action: InstanceAction,
    instance_ids: Vec<String>,
    confirm: Vec<String>,
) {
    state.pending.set(true);
    let params = query.get_untracked();
    let (profile, region) = (params.get("profile"), params.get("region"));
    spawn_local(async move {
        let request = ActionRequest {
            profile,
            region,
            action,
            instance_ids,
            confirm,
        };
        let answer = api::act(&request).await;
        state.pending.set(false);
        match answer {
            Ok(response) => {
                state.rows.update(|rows| {
                    for outcome in &response.outcomes {
                        if let (Some(new), Some(row)) = (
                            outcome.state,
                            rows.iter_mut().find(|r| r.id == outcome.instance_id),
                        ) {
                            row.state = new;
                        }
                    }
                });
                state.selected.set(BTreeSet::new());
                state.notice.set(Some(Notice::of(&response)));
            }
            Err(failure) => state.notice.set(Some(Notice::failed(action, &failure))),
        }
    });
}

#[component]
fn ListError(failure: ApiFailure, state: ListState) -> impl IntoView {
    view! {
        <section class="error-state" role="alert">
            <h2>"The instances could not be listed"</h2>
            <p>{failure.to_string()}</p>
            <button class="button" on:click=move |_| state.refresh.run(())>"Try again"</button>
        </section>
    }
}

#[component]
fn NoInstances(region: String) -> impl IntoView {
    view! {
        <section class="empty-state">
            <h2>{format!("No instances in {region}")}</h2>
            <p>"Launch one with the wizard, or pick another region in the top bar."</p>
            <a class="button primary" href="/wizard">"Launch instance"</a>
        </section>
    }
}
