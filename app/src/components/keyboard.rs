//! Keyboard shortcuts: j/k move, x select, Shift+x range, Enter open,
//! a assign, r reply, Esc close, ? help.

use baton_shared::ids::DocumentId;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use std::sync::Arc;

use super::ui::{Picker, Ui};
use crate::state::summary::Summary;
use crate::state::{Route, use_inbox, use_navigation};

pub const SHORTCUTS: [(&str, &str); 9] = [
    ("j / k", "Next / previous conversation"),
    ("Enter", "Open the conversation"),
    ("x", "Select or deselect"),
    ("Shift + x", "Select the range from the last selected"),
    (
        "a",
        "Assign or reassign (the selection, or the open conversation)",
    ),
    ("r", "Reply"),
    (
        "Esc",
        "Close the dropdown, the conversation, or clear the selection",
    ),
    ("/", "Search"),
    ("?", "Show this help"),
];

fn typing_in_a_field(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

#[component]
pub fn Shortcuts() -> impl IntoView {
    let (inbox, nav) = (use_inbox(), use_navigation());
    let ui = expect_context::<Ui>();
    let rows = expect_context::<Memo<Vec<Arc<Summary>>>>();
    let order =
        move || -> Vec<DocumentId> { rows.with_untracked(|r| r.iter().map(|s| s.doc).collect()) };
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            if ui.close_top() {
                return;
            }
            if typing_in_a_field(&ev) {
                return;
            }
            if inbox.selection.with_untracked(|s| !s.is_empty()) {
                inbox.selection.update(|s| s.clear());
            } else if matches!(nav.route_untracked(), Route::Conversation(_)) {
                nav.go(Route::Inbox);
            }
            return;
        }
        if typing_in_a_field(&ev) || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let cursor = inbox.cursor.get_untracked();
        let move_by = |step: isize| {
            let order = order();
            if order.is_empty() {
                return;
            }
            let at = cursor.and_then(|c| order.iter().position(|d| *d == c));
            let next = match at {
                None => 0,
                Some(i) => (i as isize + step).clamp(0, order.len() as isize - 1) as usize,
            };
            inbox.cursor.set(Some(order[next]));
        };
        match ev.key().as_str() {
            "j" | "ArrowDown" if nav.route_untracked() != Route::Settings => {
                ev.prevent_default();
                move_by(1);
            }
            "k" | "ArrowUp" if nav.route_untracked() != Route::Settings => {
                ev.prevent_default();
                move_by(-1);
            }
            "Enter" | "o" => {
                if let Some(doc) = cursor {
                    nav.go(Route::Conversation(doc));
                }
            }
            "x" => {
                if let Some(doc) = cursor {
                    inbox.selection.update(|s| s.toggle(&doc));
                }
            }
            "X" => {
                if let Some(doc) = cursor {
                    let order = order();
                    inbox.selection.update(|s| s.extend_to(&doc, &order));
                }
            }
            "a" => {
                ev.prevent_default();
                if inbox.selection.with_untracked(|s| !s.is_empty()) {
                    ui.picker.set(Picker::Bulk);
                } else if matches!(nav.route_untracked(), Route::Conversation(_)) {
                    ui.picker.set(Picker::Conversation);
                } else if let Some(doc) = cursor {
                    nav.go(Route::Conversation(doc));
                    ui.picker.set(Picker::Conversation);
                }
            }
            "r" => {
                ev.prevent_default();
                if let (Route::Inbox, Some(doc)) = (nav.route_untracked(), cursor) {
                    nav.go(Route::Conversation(doc));
                }
                ui.focus_reply.update(|n| *n += 1);
            }
            "/" => {
                ev.prevent_default();
                if let Some(search) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.query_selector("[data-testid=search]").ok().flatten())
                    .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = search.focus();
                }
            }
            "?" => ui.help.update(|h| *h = !*h),
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}

#[component]
pub fn HelpOverlay() -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        <Show when=move || ui.help.get()>
            <div class="overlay" on:click=move |_| ui.help.set(false)>
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="help-title" data-testid="help"
                    on:click=|ev| ev.stop_propagation()>
                    <h2 id="help-title">"Keyboard shortcuts"</h2>
                    <dl class="shortcuts">
                        {SHORTCUTS.iter().map(|(key, what)| view! {
                            <dt><kbd>{*key}</kbd></dt>
                            <dd>{*what}</dd>
                        }).collect_view()}
                    </dl>
                    <button class="primary" on:click=move |_| ui.help.set(false)>"Close"</button>
                </div>
            </div>
        </Show>
    }
}
