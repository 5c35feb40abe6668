//! Step 1: the AMI: a quick start of the common distributions' current images, a search that
//! EC2 runs (by name, owner, architecture, root device), or an id pasted.

use knit_shared::{IMAGE_OWNERS, ImageQuery, ImageSummary, QuickStartImage, validate};
use leptos::prelude::*;

use super::{Draft, FieldError};
use crate::api;
use crate::components::Loaded;

#[component]
pub fn Ami(draft: RwSignal<Draft>) -> impl IntoView {
    let search = RwSignal::new(ImageQuery {
        owner: Some("amazon".to_owned()),
        ..ImageQuery::default()
    });
    let quick_start = api::resource(api::quick_start);
    // A search of everything is the whole catalog: one runs once there is something to find.
    let wanted = move || {
        search.with(|q| {
            let words = q.q.as_deref().is_some_and(|q| !q.trim().is_empty());
            let own = q.owner.as_deref() == Some("self");
            (words || own).then(|| q.clone())
        })
    };
    let search_error =
        Signal::derive(move || search.with(|q| q.check().err().map(|e| e.to_string())));
    let images = api::resource(move || {
        let query = wanted().filter(|q| q.check().is_ok());
        async move {
            match query {
                Some(query) => api::images(query).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let chosen = move || draft.with(|d| d.request.image_id.clone());
    let pick = move |image: &ImageSummary| {
        let (id, arch) = (image.id.clone(), image.architecture.clone());
        draft.update(|d| {
            d.request.image_id = id;
            d.image_architecture = arch;
        });
    };
    let id_error = Signal::derive(move || {
        let id = chosen();
        (!id.is_empty())
            .then(|| validate::image_id(&id).err().map(|e| e.message))
            .flatten()
    });
    let field = move |get: fn(&ImageQuery) -> Option<String>| {
        move || search.with(|q| get(q).unwrap_or_default())
    };
    let set = move |put: fn(&mut ImageQuery, String)| {
        move |e: leptos::ev::Event| {
            let value = event_target_value(&e);
            search.update(|q| put(q, value));
        }
    };
    view! {
        <h2>"Choose an image (AMI)"</h2>
        <h3>"Quick start"</h3>
        <Loaded resource=quick_start reading="the current images" let:list>
            <ul class="quick-start" id="quick-start">
                {list.images.into_iter().map(|entry| quick_start_entry(entry, draft, search, pick)).collect_view()}
            </ul>
        </Loaded>
        <h3>"Search"</h3>
        <div class="toolbar">
            <label for="ami-owner">"Owner"</label>
            <input id="ami-owner" type="text" list="ami-owners" size="14"
                prop:value=field(|q| q.owner.clone())
                on:change=set(|q, v| q.owner = Some(v.trim().to_owned())) />
            <datalist id="ami-owners">
                {IMAGE_OWNERS.iter().map(|owner| view! { <option value=*owner></option> }).collect_view()}
            </datalist>
            <label for="ami-search">"Name"</label>
            <input id="ami-search" type="search" placeholder="words, a pattern (ubuntu*24.04*) or ami-…"
                prop:value=field(|q| q.q.clone())
                on:change=set(|q, v| q.q = Some(v)) />
            <label for="ami-arch">"Architecture"</label>
            <select id="ami-arch" prop:value=field(|q| q.arch.clone()) on:change=set(|q, v| q.arch = Some(v))>
                <option value="">"Any"</option>
                <option value="x86_64">"x86_64"</option>
                <option value="arm64">"arm64"</option>
            </select>
            <label for="ami-root">"Root device"</label>
            <select id="ami-root" prop:value=field(|q| q.root_device.clone()) on:change=set(|q, v| q.root_device = Some(v))>
                <option value="">"Any"</option>
                <option value="ebs">"EBS"</option>
                <option value="instance-store">"Instance store"</option>
            </select>
            <label class="check">
                <input id="ami-deprecated" type="checkbox"
                    prop:checked=move || search.with(|q| q.deprecated == Some(true))
                    on:change=move |e| search.update(|q| q.deprecated = Some(event_target_checked(&e))) />
                " Deprecated too"
            </label>
        </div>
        <FieldError message=search_error />
        <p class="muted">
            "Owners: amazon, self (your own), aws-marketplace, all (public and community images), or "
            "an account id. EBS-backed images can be stopped and started again with their disk; "
            "instance-store images cannot be stopped, and their disk is gone when the instance ends."
        </p>
        <label for="ami-id">"Or paste an AMI id"</label>
        <input id="ami-id" type="text" prop:value=chosen
            on:input=move |e| draft.update(|d| {
                d.request.image_id = event_target_value(&e).trim().to_owned();
                d.image_architecture.clear();
            }) />
        <FieldError message=id_error />
        <Loaded resource=images reading="the matching images" let:found>
            {match found {
                None => view! {
                    <p class="muted" id="ami-hint">"Type a name to search, or choose “self” for your own images."</p>
                }.into_any(),
                Some(list) => view! {
                    <p class="muted" id="ami-count">{format!("{} images", list.images.len())}</p>
                    {list.more.then(|| view! {
                        <p class="notice warning" id="ami-more">"More images match than are shown: refine the search."</p>
                    })}
                    <table class="choices" id="ami-table">
                        <thead><tr>
                            <th></th><th>"Name"</th><th>"Id"</th><th>"Owner"</th><th>"Created"</th>
                            <th>"Root device"</th><th>"Virtualization"</th><th>"Architecture"</th>
                        </tr></thead>
                        <tbody>
                            {list.images.into_iter().map(|image| {
                                let id = image.id.clone();
                                let selected = {
                                    let id = id.clone();
                                    move || chosen() == id
                                };
                                let highlighted = selected.clone();
                                let choose = {
                                    let image = image.clone();
                                    move |_| pick(&image)
                                };
                                view! {
                                    <tr data-image=id class:selected=highlighted>
                                        <td><input type="radio" name="ami" prop:checked=selected on:change=choose
                                            aria-label=format!("choose {}", image.name) /></td>
                                        <td>
                                            {image.name}<br/><span class="muted">{image.description}</span>
                                            {image.deprecation_time.map(|at| view! { <br/><span class="muted">{format!("deprecated {at}")}</span> })}
                                        </td>
                                        <td class="ip">{image.id}</td>
                                        <td>{image.owner}</td>
                                        <td>{image.creation_date}</td>
                                        <td>{image.root_device_type}</td>
                                        <td>{image.virtualization}</td>
                                        <td>{image.architecture}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </Loaded>
    }
}

/// A distribution's current image: chosen with one click, or its versions searched.
fn quick_start_entry(
    entry: QuickStartImage,
    draft: RwSignal<Draft>,
    search: RwSignal<ImageQuery>,
    pick: impl Fn(&ImageSummary) + Copy + 'static,
) -> impl IntoView {
    let versions = entry.search.clone();
    let title = format!("{} ({})", entry.label, entry.architecture);
    let found = entry.image.map(|image| {
        let id = image.id.clone();
        let selected = move || draft.with(|d| d.request.image_id == id);
        let choose = {
            let image = image.clone();
            move |_| pick(&image)
        };
        view! {
            <label class="check">
                <input type="radio" name="ami" class="quick-pick" prop:checked=selected on:change=choose
                    aria-label=format!("choose {title}") />
                <span class="ip">{format!(" {}", image.id)}</span>
            </label>
            <span class="muted">{format!("{} · {}", image.name, image.creation_date)}</span>
        }
    });
    let published = found.is_some();
    let parameter = entry.parameter.clone();
    let label = format!("{} {}", entry.label, entry.architecture);
    view! {
        <li data-parameter=parameter data-label=label>
            <strong>{format!("{} ", entry.label)}</strong><span class="muted">{entry.architecture}</span>
            {found}
            {(!published).then(|| view! { <span class="muted">" not published in this region"</span> })}
            <button class="button small quick-versions" title=entry.parameter
                on:click=move |_| search.set(versions.clone())>"All versions"</button>
        </li>
    }
}
