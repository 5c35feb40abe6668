//! The launch wizard: seven steps, each a route (`/wizard/<step>`), over one draft kept in the
//! browser's local storage, so back, forward and reload keep what was chosen.

mod ami;
mod configure;
mod hardware;
mod keys;
mod launched;
mod network;
mod review;
mod tags;

pub use launched::LaunchedPage;

use knit_shared::{NewGroup, WizardRequest};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// The steps: route segment and title.
pub const STEPS: [(&str, &str); 7] = [
    ("ami", "AMI"),
    ("hardware", "Hardware"),
    ("configure", "Configure & monitoring"),
    ("tags", "Tags"),
    ("keys", "SSH keys"),
    ("network", "Security group"),
    ("review", "Review & launch"),
];

const STORAGE_KEY: &str = "knit.launch.draft";

/// What the wizard has chosen so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub request: WizardRequest,
    /// The chosen AMI's architecture, to tell which instance types can run it.
    pub image_architecture: String,
    /// Why the last dry run or launch failed, shown again on the step it concerns.
    #[serde(default)]
    pub failure: Option<String>,
}

impl Draft {
    fn new() -> Self {
        Self {
            request: WizardRequest {
                count: 1,
                tags: vec![("Name".to_owned(), String::new())],
                client_token: client_token(),
                ..WizardRequest::default()
            },
            image_architecture: String::new(),
            failure: None,
        }
    }

    /// A new draft like `instance`: its AMI, type, zone, monitoring, key, groups and tags
    /// (not AWS's own), one instance.
    fn like(instance: &knit_shared::Instance) -> Self {
        let mut draft = Self::new();
        let request = &mut draft.request;
        request.image_id = instance.image_id.clone().unwrap_or_default();
        request.instance_type = instance.instance_type.clone();
        request.zone = instance.availability_zone.clone();
        request.detailed_monitoring = instance.monitoring == "enabled";
        request.key_name = instance.key_name.clone();
        request.security_groups = instance
            .security_groups
            .iter()
            .map(|g| g.id.clone())
            .collect();
        let mut tags: Vec<(String, String)> = instance
            .tags
            .iter()
            .filter(|(key, _)| !key.to_ascii_lowercase().starts_with("aws:"))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        // Name first, the others in their order.
        if let Some(at) = tags.iter().position(|(key, _)| key == "Name") {
            tags[..=at].rotate_right(1);
        }
        request.tags = tags;
        draft
    }

    fn load() -> Self {
        storage()
            .and_then(|storage| storage.get_item(STORAGE_KEY).ok().flatten())
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_else(Self::new)
    }

    fn save(&self) {
        if let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(self)) {
            let _ = storage.set_item(STORAGE_KEY, &json);
        }
    }

    /// The new group of the draft, made if there is none.
    pub fn new_group(&mut self) -> &mut NewGroup {
        self.request.new_group.get_or_insert_with(|| NewGroup {
            name: String::new(),
            rules: Vec::new(),
        })
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// A token unique to this draft: the server launches once per token.
fn client_token() -> String {
    let random = || (js_sys::Math::random() * f64::from(u32::MAX)) as u32;
    format!("knit-{:08x}{:08x}{:08x}", random(), random(), random())
}

#[component]
pub fn WizardPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let draft = RwSignal::new(Draft::load());
    Effect::new(move |_| draft.with(Draft::save));
    // `?like=i-…` (the instance panel's "launch a similar instance") starts a draft from it.
    let like = query.read_untracked().get("like");
    let liked = RwSignal::new(None::<String>);
    if let Some(id) = like {
        leptos::task::spawn_local(async move {
            let found = crate::api::instances(&format!("?q={id}")).await;
            let instance = found
                .ok()
                .and_then(|list| list.instances.into_iter().find(|i| i.id == id));
            match instance {
                Some(instance) => {
                    draft.set(Draft::like(&instance));
                    liked.set(Some(format!(
                        "Prefilled from {id}: check each step, then launch."
                    )));
                }
                None => liked.set(Some(format!(
                    "No instance {id} in this region to start from."
                ))),
            }
        });
    }
    let step = move || {
        params
            .read()
            .get("step")
            .unwrap_or_else(|| "ami".to_owned())
    };
    view! {
        <h1>"Launch instances"</h1>
        <nav class="wizard-steps" aria-label="Launch steps">
            <ol>
                {STEPS.iter().enumerate().map(|(index, (slug, title))| {
                    let current = move || (step() == *slug).then_some("step");
                    view! {
                        <li>
                            <a href=format!("/wizard/{slug}") aria-current=current>
                                {format!("{}. {title}", index + 1)}
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </nav>
        {move || liked.get().map(|text| view! { <p class="notice" id="launch-like">{text}</p> })}
        {move || {
            let failure = draft.with(|d| d.failure.clone())?;
            (knit_shared::wizard::step_of(&failure) == Some(step().as_str()) && step() != "review").then(|| view! {
                <p class="notice failed" id="step-failure" role="alert">
                    {format!("The last launch attempt failed because of this step: {failure}")}
                </p>
            })
        }}
        <section class="wizard-step" id=move || format!("step-{}", step())>
            {move || match step().as_str() {
                "hardware" => view! { <hardware::Hardware draft /> }.into_any(),
                "configure" => view! { <configure::Configure draft /> }.into_any(),
                "tags" => view! { <tags::Tags draft /> }.into_any(),
                "keys" => view! { <keys::Keys draft /> }.into_any(),
                "network" => view! { <network::Network draft /> }.into_any(),
                "review" => view! { <review::Review draft on_launched=Callback::new(move |()| draft.set(Draft::new())) /> }.into_any(),
                _ => view! { <ami::Ami draft /> }.into_any(),
            }}
        </section>
        <WizardNav step=Signal::derive(step) />
    }
}

/// Back and next, as links, so the browser's history follows the steps.
#[component]
fn WizardNav(step: Signal<String>) -> impl IntoView {
    let index = move || {
        STEPS
            .iter()
            .position(|(slug, _)| *slug == step.get())
            .unwrap_or(0)
    };
    view! {
        <div class="wizard-nav">
            {move || (index() > 0).then(|| view! {
                <a class="button" id="wizard-back" href=format!("/wizard/{}", STEPS[index() - 1].0)>"Back"</a>
            })}
            {move || (index() + 1 < STEPS.len()).then(|| view! {
                <a class="button primary" id="wizard-next" href=format!("/wizard/{}", STEPS[index() + 1].0)>"Next"</a>
            })}
        </div>
    }
}

/// A field's mistake, shown next to it as the person types.
#[component]
pub fn FieldError(message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message
            .get()
            .map(|text| view! { <p class="field-error" role="alert">{text}</p> })
    }
}

/// A labelled checkbox over one flag of the draft's request.
#[component]
pub fn DraftCheck(
    draft: RwSignal<Draft>,
    id: &'static str,
    label: &'static str,
    get: fn(&WizardRequest) -> bool,
    set: fn(&mut WizardRequest, bool),
) -> impl IntoView {
    view! {
        <label class="check">
            <input id=id type="checkbox"
                prop:checked=move || draft.with(|d| get(&d.request))
                on:change=move |e| draft.update(|d| set(&mut d.request, event_target_checked(&e))) />
            {format!(" {label}")}
        </label>
    }
}
