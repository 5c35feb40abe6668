//! Terminating asks for the instances to be named: an instance's Name or id when it is one,
//! the number of instances when there are several.

use knit_shared::{Instance, InstanceAction};
use leptos::prelude::*;

use super::ListState;

/// What the person must type to terminate `instances`.
fn expected(instances: &[Instance]) -> String {
    match instances {
        [one] => one.name.clone().unwrap_or_else(|| one.id.clone()),
        many => many.len().to_string(),
    }
}

#[component]
pub fn TerminateDialog(state: ListState) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let close = move || {
        typed.set(String::new());
        state.confirming.set(None);
    };
    move || {
        let instances = state.confirming.get()?;
        let expect = expected(&instances);
        let prompt = match instances.as_slice() {
            [_] => format!("Type {expect} to confirm."),
            _ => format!("Type the number of instances, {expect}, to confirm."),
        };
        let ids: Vec<String> = instances.iter().map(|i| i.id.clone()).collect();
        let matches = {
            let expect = expect.clone();
            move || typed.get().trim() == expect
        };
        let confirm = {
            let matches = matches.clone();
            move |_| {
                if matches() {
                    state
                        .act
                        .run((InstanceAction::Terminate, ids.clone(), ids.clone()));
                    close();
                }
            }
        };
        Some(view! {
            <div class="modal-backdrop">
                <div class="modal" role="dialog" aria-modal="true" aria-labelledby="terminate-title">
                    <h2 id="terminate-title">"Terminate instances"</h2>
                    <p>"Terminated instances are gone for good, with their instance-store data and any volume set to delete on termination."</p>
                    <ul class="doomed">
                        {instances.iter().map(|i| view! {
                            <li><code>{i.id.clone()}</code>" "{i.name.clone().unwrap_or_default()}</li>
                        }).collect_view()}
                    </ul>
                    <label for="terminate-confirm">{prompt}</label>
                    <input id="terminate-confirm" type="text" autocomplete="off"
                        prop:value=move || typed.get()
                        on:input=move |event| typed.set(event_target_value(&event)) />
                    <div class="modal-actions">
                        <button class="button" on:click=move |_| close()>"Cancel"</button>
                        <button class="button danger" id="terminate-go" disabled=move || !matches() on:click=confirm>
                            "Terminate"
                        </button>
                    </div>
                </div>
            </div>
        })
    }
}
