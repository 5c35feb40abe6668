//! A run's log: every host interleaved or one host, step headers, ANSI colours, and scrolling
//! that follows new lines until the reader scrolls up. Only the lines in view are in the page,
//! so a log of 100,000 lines scrolls as lightly as one of 100; a search finds lines among all
//! of them (text, or `/a pattern/`), goes from one to the next, or shows only those. Each
//! command shows as its headline; its script is folded under it and opens on a click.

use std::collections::{BTreeSet, HashMap};

use knit_shared::Stream;
use knit_shared::command_lines::{is_headline, is_script_line};
use knit_shared::log_search::Finder;
use leptos::html::Div;
use leptos::prelude::*;

use crate::ansi;

/// One line of the log as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub host: String,
    /// `None` for a step header.
    pub stream: Option<Stream>,
    pub text: String,
}

/// Pixels per line; the stylesheet's `.log-line` has the same height. Positions are set through
/// `style:` properties (CSSOM), which the Content-Security-Policy allows, not `style` attributes.
const LINE_HEIGHT: f64 = 18.0;
/// Lines drawn beyond the visible ones, above and below.
const MARGIN: usize = 10;

/// The scripts folded under their headlines: for each script line the headline it belongs to,
/// and for each headline how many lines its script has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Folds {
    owner: HashMap<usize, usize>,
    count: HashMap<usize, usize>,
}

impl Folds {
    fn of(lines: &[LogLine]) -> Self {
        let mut folds = Self::default();
        let mut headline: HashMap<&str, usize> = HashMap::new();
        for (index, line) in lines.iter().enumerate() {
            if line.stream != Some(Stream::Knit) {
                continue;
            }
            if is_headline(&line.text) {
                headline.insert(&line.host, index);
            } else if is_script_line(&line.text)
                && let Some(owner) = headline.get(line.host.as_str())
            {
                folds.owner.insert(index, *owner);
                *folds.count.entry(*owner).or_default() += 1;
            }
        }
        folds
    }
}

/// Where a search stands: the lines it found (indexes into the log, in order), or why it
/// cannot look.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Search {
    active: bool,
    found: Vec<usize>,
    error: Option<String>,
}

#[component]
pub fn RunLog(lines: ReadSignal<Vec<LogLine>>, hosts: Vec<String>) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    let only_found = RwSignal::new(false);
    let search = Memo::new(move |_| {
        let host = host.get();
        match Finder::new(&query.get()) {
            Ok(None) => Search::default(),
            Err(error) => Search {
                active: true,
                found: Vec::new(),
                error: Some(error),
            },
            Ok(Some(finder)) => lines.with(|lines| Search {
                active: true,
                found: lines
                    .iter()
                    .enumerate()
                    .filter(|(_, line)| {
                        line.stream.is_some()
                            && (host.is_empty() || line.host == host)
                            && finder.finds(&line.text)
                    })
                    .map(|(index, _)| index)
                    .collect(),
                error: None,
            }),
        }
    });
    let folds = Memo::new(move |_| lines.with(|lines| Folds::of(lines)));
    // The headlines whose scripts the reader opened.
    let opened = RwSignal::new(BTreeSet::<usize>::new());
    let shown = Memo::new(move |_| {
        if only_found.get() && search.with(|search| search.active) {
            return search.with(|search| search.found.clone());
        }
        let host = host.get();
        let visible = |index: &usize| {
            folds.with(|folds| {
                folds
                    .owner
                    .get(index)
                    .is_none_or(|owner| opened.with(|opened| opened.contains(owner)))
            })
        };
        lines.with(|lines| {
            lines
                .iter()
                .enumerate()
                .filter(|(index, line)| (host.is_empty() || line.host == host) && visible(index))
                .map(|(index, _)| index)
                .collect::<Vec<usize>>()
        })
    });
    let toggle = move |headline: usize| {
        opened.update(|opened| {
            if !opened.remove(&headline) {
                opened.insert(headline);
            }
        });
    };
    // Which found line is the current one.
    let current = RwSignal::new(0_usize);
    let viewport = NodeRef::<Div>::new();
    let scroll_top = RwSignal::new(0.0);
    let height = RwSignal::new(420.0);
    let follow = RwSignal::new(true);

    // Where knit last scrolled to: a scroll above it is the reader's, who wants to stay there.
    let followed_to = StoredValue::new(0.0_f64);
    let to_bottom = move || {
        // After the page has grown by the new lines, not before.
        request_animation_frame(move || {
            if let Some(element) = viewport.get_untracked() {
                element.set_scroll_top(element.scroll_height());
                let top = f64::from(element.scroll_top());
                followed_to.set_value(top);
                scroll_top.set(top);
            }
        });
    };
    // New lines scroll the view down, unless the reader has scrolled up.
    Effect::new(move |_| {
        shown.track();
        if follow.get_untracked() {
            to_bottom();
        }
    });
    let on_scroll = move |_| {
        if let Some(element) = viewport.get() {
            let top = f64::from(element.scroll_top());
            let client = f64::from(element.client_height());
            scroll_top.set(top);
            height.set(client);
            if top + client >= f64::from(element.scroll_height()) - LINE_HEIGHT * 2.0 {
                follow.set(true);
            } else if top + 1.0 < followed_to.get_value() {
                follow.set(false);
            }
        }
    };
    let visible = move || {
        let first = (scroll_top.get() / LINE_HEIGHT) as usize;
        let count = (height.get() / LINE_HEIGHT) as usize + 1;
        let start = first.saturating_sub(MARGIN);
        shown.with(|shown| {
            let end = (first + count + MARGIN).min(shown.len());
            let start = start.min(end);
            lines.with(|lines| {
                shown[start..end]
                    .iter()
                    .enumerate()
                    .map(|(offset, index)| (start + offset, *index, lines[*index].clone()))
                    .collect::<Vec<_>>()
            })
        })
    };
    let all_hosts = move || host.get().is_empty();

    // Shows found line `number` (wrapping around) in the middle of the view.
    let go_to = move |number: usize| {
        let Some(line) = search.with_untracked(|search| {
            let count = search.found.len();
            (count > 0).then(|| search.found[number % count])
        }) else {
            return;
        };
        let count = search.with_untracked(|search| search.found.len());
        current.set(number % count);
        follow.set(false);
        // A line of a folded script opens its script.
        if let Some(owner) = folds.with_untracked(|folds| folds.owner.get(&line).copied()) {
            opened.update(|opened| {
                opened.insert(owner);
            });
        }
        let row = shown.with_untracked(|shown| shown.binary_search(&line).unwrap_or_else(|at| at));
        if let Some(element) = viewport.get_untracked() {
            let top = (row as f64 * LINE_HEIGHT - height.get_untracked() / 2.0).max(0.0);
            element.set_scroll_top(top as i32);
            followed_to.set_value(top);
            scroll_top.set(top);
        }
    };
    // A new search starts at its first line.
    Effect::new(move |_| {
        query.track();
        only_found.track();
        go_to(0);
    });
    let step = move |forward: bool| {
        let count = search.with_untracked(|search| search.found.len());
        if count > 0 {
            let now = current.get_untracked();
            go_to(if forward { now + 1 } else { now + count - 1 });
        }
    };
    let found_class = move |index: usize| {
        search.with(|search| {
            if !search.active {
                return "";
            }
            match search.found.binary_search(&index) {
                Ok(at) if at == current.get() => " found current",
                Ok(_) => " found",
                Err(_) => "",
            }
        })
    };
    let search_status = move || {
        search.with(|search| match (&search.error, search.found.len()) {
            _ if !search.active => String::new(),
            (Some(error), _) => error.clone(),
            (None, 0) => "not found".to_owned(),
            (None, count) => format!("{} of {count}", current.get().min(count - 1) + 1),
        })
    };

    view! {
        <div class="log-toolbar">
            <label for="log-host">"Host "</label>
            <select id="log-host" on:change=move |event| host.set(event_target_value(&event))>
                <option value="">"All hosts"</option>
                {hosts.into_iter().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()}
            </select>
            <span class="muted" id="log-count" data-count=move || shown.with(Vec::len)>
                {move || format!("{} lines", shown.with(Vec::len))}
            </span>
            <button class="button small" hidden=move || follow.get()
                on:click=move |_| {
                    follow.set(true);
                    to_bottom();
                }>
                "Follow"
            </button>
        </div>
        <div class="log-toolbar log-search">
            <label for="log-search">"Find "</label>
            <input id="log-search" type="search" placeholder="text, or /a pattern/"
                prop:value=move || query.get()
                on:input=move |event| query.set(event_target_value(&event))
                on:keydown=move |event| {
                    if event.key() == "Enter" {
                        event.prevent_default();
                        step(!event.shift_key());
                    }
                } />
            <button class="button small" id="log-previous" title="Previous (Shift+Enter)"
                on:click=move |_| step(false)>"‹"</button>
            <button class="button small" id="log-next" title="Next (Enter)"
                on:click=move |_| step(true)>"›"</button>
            <span class="muted" id="log-found" role="status"
                class:failed=move || search.with(|search| search.error.is_some())>
                {search_status}
            </span>
            <label class="muted">
                <input type="checkbox" id="log-only-found"
                    on:change=move |event| only_found.set(event_target_checked(&event)) />
                " only these lines"
            </label>
        </div>
        <div class="log" id="run-log" node_ref=viewport on:scroll=on_scroll>
            <div class="log-space" style:height=move || format!("{}px", shown.with(Vec::len) as f64 * LINE_HEIGHT)>
                {move || visible().into_iter().map(|(row, index, line)| {
                    let top = format!("{}px", row as f64 * LINE_HEIGHT);
                    let class = match line.stream {
                        None => "log-line header",
                        Some(Stream::Stderr) => "log-line stderr",
                        Some(Stream::Knit) => "log-line knit",
                        Some(Stream::Stdout) => "log-line",
                    };
                    let class = format!("{class}{}", found_class(index));
                    let script = folds.with(|folds| folds.count.get(&index).copied());
                    view! {
                        <div class=class style:top=top data-host=line.host.clone()>
                            {all_hosts().then(|| view! { <span class="log-host">{line.host.clone()}</span> })}
                            {script.map(|count| {
                                let open = move || opened.with(|opened| opened.contains(&index));
                                view! {
                                    <button class="fold" data-script-lines=count
                                        aria-expanded=move || open().to_string()
                                        title=move || if open() { "Fold the script" } else { "Show the script" }
                                        on:click=move |_| toggle(index)>
                                        {move || if open() { "▾" } else { "▸" }}
                                    </button>
                                }
                            })}
                            {ansi::pieces(&line.text).into_iter().map(|piece| view! {
                                <span class=piece.classes>{piece.text}</span>
                            }).collect_view()}
                        </div>
                    }
                }).collect_view()}
            </div>
        </div>
    }
}
