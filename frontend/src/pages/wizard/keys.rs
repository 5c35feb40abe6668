//! Step 5: an existing key pair, a new one (EC2 makes it; its private key is offered once
//! after the launch), an imported public key, or none after an explicit acknowledgement.

use knit_shared::{NewKey, WizardRequest, validate};
use leptos::prelude::*;

use super::{Draft, DraftCheck, FieldError};
use crate::api;
use crate::components::Loaded;

/// The ways to log in, as the radio buttons offer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Existing,
    Create,
    Import,
    None,
}

impl Mode {
    fn of(request: &WizardRequest) -> Self {
        match (&request.key_name, &request.new_key) {
            (Some(_), _) => Self::Existing,
            (None, Some(key)) if key.public_key.is_some() => Self::Import,
            (None, Some(_)) => Self::Create,
            (None, None) => Self::None,
        }
    }

    /// Switches `request` to this mode, keeping what fits.
    fn apply(self, request: &mut WizardRequest) {
        let name = request
            .new_key
            .take()
            .map(|key| key.name)
            .unwrap_or_default();
        request.key_name = None;
        match self {
            Self::Existing => {}
            Self::Create => {
                request.new_key = Some(NewKey {
                    name,
                    public_key: None,
                })
            }
            Self::Import => {
                request.new_key = Some(NewKey {
                    name,
                    public_key: Some(String::new()),
                })
            }
            Self::None => {}
        }
    }
}

#[component]
pub fn Keys(draft: RwSignal<Draft>) -> impl IntoView {
    let keys = api::resource(api::key_pairs);
    let mode = move || draft.with(|d| Mode::of(&d.request));
    // "Existing" with nothing chosen yet lives only here; it is where a new draft starts.
    let picking = RwSignal::new(draft.with_untracked(|d| !d.request.no_key_acknowledged));
    let shown = move || {
        if picking.get() && mode() == Mode::None {
            Mode::Existing
        } else {
            mode()
        }
    };
    let error = Signal::derive(move || {
        draft.with(|d| {
            let r = &d.request;
            if let Some(key) = &r.new_key {
                let name = validate::key_pair_name(&key.name).err();
                let public = key
                    .public_key
                    .as_deref()
                    .and_then(|text| validate::public_key(text).err());
                return name.or(public).map(|e| e.message);
            }
            (r.key_name.is_none() && !r.no_key_acknowledged)
                .then(|| "choose a key pair, or acknowledge launching without one".to_owned())
        })
    });
    let choose = move |chosen: Mode| {
        picking.set(chosen == Mode::Existing);
        draft.update(|d| chosen.apply(&mut d.request));
    };
    let radio = move |value: Mode, id: &'static str, label: &'static str| {
        view! {
            <label class="check">
                <input type="radio" name="key-mode" id=id prop:checked=move || shown() == value
                    on:change=move |_| choose(value) />
                {format!(" {label}")}
            </label>
        }
    };
    let new_name = move || {
        draft.with(|d| {
            d.request
                .new_key
                .as_ref()
                .map(|k| k.name.clone())
                .unwrap_or_default()
        })
    };
    view! {
        <h2>"SSH keys"</h2>
        <fieldset class="choices">
            <legend>"How will you log in?"</legend>
            {radio(Mode::Existing, "key-existing", "With a key pair EC2 already has")}
            {radio(Mode::Create, "key-create", "With a new key pair (you download its private key once, after the launch)")}
            {radio(Mode::Import, "key-import", "With my own public key (imported into EC2)")}
            {radio(Mode::None, "key-none", "Without a key pair")}
        </fieldset>
        <div hidden=move || shown() != Mode::Existing>
            <Loaded resource=keys reading="the key pairs" let:list>
                <label for="key-pair">"Key pair"</label>
                <select id="key-pair" on:change=move |e| {
                    let name = event_target_value(&e);
                    draft.update(|d| {
                        d.request.new_key = None;
                        d.request.key_name = (!name.is_empty()).then_some(name);
                    });
                }>
                    <option value="" selected=move || draft.with(|d| d.request.key_name.is_none())>"Choose…"</option>
                    {list.key_pairs.into_iter().map(|name| {
                        let selected = {
                            let name = name.clone();
                            move || draft.with(|d| d.request.key_name.as_deref() == Some(name.as_str()))
                        };
                        view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                    }).collect_view()}
                </select>
            </Loaded>
        </div>
        <div hidden=move || !matches!(shown(), Mode::Create | Mode::Import)>
            <label for="new-key-name">"Name of the key pair in EC2"</label>
            <input id="new-key-name" type="text" prop:value=new_name
                on:input=move |e| {
                    let name = event_target_value(&e);
                    draft.update(|d| if let Some(key) = d.request.new_key.as_mut() { key.name = name });
                } />
        </div>
        <div hidden=move || shown() != Mode::Import>
            <label for="public-key">"Public key (the contents of e.g. ~/.ssh/id_ed25519.pub)"</label>
            <textarea id="public-key" rows="3"
                prop:value=move || draft.with(|d| d.request.new_key.as_ref().and_then(|k| k.public_key.clone()).unwrap_or_default())
                on:input=move |e| {
                    let text = event_target_value(&e);
                    draft.update(|d| if let Some(key) = d.request.new_key.as_mut() { key.public_key = Some(text) });
                }></textarea>
        </div>
        <p class="muted" hidden=move || shown() != Mode::Create>
            "EC2 makes the key pair when you launch. Its private key is shown to you once, right "
            "after the launch, to download: knit keeps no copy and neither does AWS."
        </p>
        <div hidden=move || shown() != Mode::None>
            <DraftCheck draft id="no-key-ack" get={|r| r.no_key_acknowledged} set={|r, on| r.no_key_acknowledged = on}
                label="I understand that without a key pair nobody can log in to these instances over SSH." />
        </div>
        <FieldError message=error />
    }
}
