//! A run's log: every host interleaved or one host, step headers, ANSI colours, and scrolling
//! that follows new lines until the reader scrolls up. Only the lines in view are in the page,
//! so a log of 100,000 lines scrolls as lightly as one of 100.

use knit_shared::Stream;
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

#[component]
pub fn RunLog(lines: ReadSignal<Vec<LogLine>>, hosts: Vec<String>) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let shown = Memo::new(move |_| {
        let host = host.get();
        lines.with(|lines| {
            lines
                .iter()
                .enumerate()
                .filter(|(_, line)| host.is_empty() || line.host == host)
                .map(|(index, _)| index)
                .collect::<Vec<usize>>()
        })
    });
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
                    .map(|(offset, index)| (start + offset, lines[*index].clone()))
                    .collect::<Vec<_>>()
            })
        })
    };
    let all_hosts = move || host.get().is_empty();

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
        <div class="log" id="run-log" node_ref=viewport on:scroll=on_scroll>
            <div class="log-space" style:height=move || format!("{}px", shown.with(Vec::len) as f64 * LINE_HEIGHT)>
                {move || visible().into_iter().map(|(row, line)| {
                    let top = format!("{}px", row as f64 * LINE_HEIGHT);
                    let class = match line.stream {
                        None => "log-line header",
                        Some(Stream::Stderr) => "log-line stderr",
                        Some(Stream::Knit) => "log-line knit",
                        Some(Stream::Stdout) => "log-line",
                    };
                    view! {
                        <div class=class style:top=top data-host=line.host.clone()>
                            {all_hosts().then(|| view! { <span class="log-host">{line.host.clone()}</span> })}
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
