//! The conversation list: a search, select-all, the bulk bar, and a
//! virtualized list (only the rows in view are in the DOM, so 10,000
//! conversations scroll like 50).

use std::sync::Arc;

use baton_shared::ids::DocumentId;
use leptos::html;
use leptos::prelude::*;

use super::avatar::Avatar;
use super::bulk_bar::BulkBar;
use super::ui::Ui;
use crate::state::inbox::View;
use crate::state::summary::Summary;
use crate::state::{InboxState, Route, use_clock, use_inbox, use_navigation, use_session};
use crate::time;

/// Every row is this tall (CSS `--row-height` matches), which is what makes
/// the list cheap to virtualize.
pub const ROW_HEIGHT: f64 = 78.0;
/// Rows rendered above and below the viewport.
const OVERSCAN: usize = 8;

/// The rows of the current view, in order (also used by the keyboard).
pub fn visible_rows() -> Memo<Vec<Arc<Summary>>> {
    let (session, inbox) = (use_session(), use_inbox());
    Memo::new(move |_| match session.signed_in() {
        Some(agent) => inbox.visible(&agent.me),
        None => Vec::new(),
    })
}

#[component]
pub fn InboxList() -> impl IntoView {
    let inbox = use_inbox();
    let rows = expect_context::<Memo<Vec<Arc<Summary>>>>();
    let list = NodeRef::<html::Div>::new();
    let scroll_top = RwSignal::new(0.0f64);
    let viewport = RwSignal::new(800.0f64);
    let measure = move || {
        if let Some(el) = list.get_untracked() {
            viewport.set(f64::from(el.client_height().max(1)));
        }
    };
    Effect::new(move |_| {
        if list.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    keep_cursor_in_view(list, rows);
    let window = Memo::new(move |_| {
        let first = ((scroll_top.get() / ROW_HEIGHT).floor() as usize).saturating_sub(OVERSCAN);
        let count = (viewport.get() / ROW_HEIGHT).ceil() as usize + 2 * OVERSCAN;
        rows.with(|r| {
            r.iter()
                .enumerate()
                .skip(first)
                .take(count)
                .map(|(i, s)| (i, s.clone()))
                .collect::<Vec<_>>()
        })
    });
    let total = move || rows.with(|r| r.len());
    let all_selected = move || {
        let selected = inbox.selection.with(|s| s.len());
        selected > 0
            && rows.with(|r| {
                r.iter()
                    .all(|s| inbox.selection.with(|sel| sel.contains(&s.doc)))
            })
    };
    let toggle_all = move |_| {
        if all_selected() {
            inbox.selection.update(|s| s.clear());
        } else {
            let order: Vec<DocumentId> = rows.with_untracked(|r| r.iter().map(|s| s.doc).collect());
            inbox.selection.update(|s| s.select_all(&order));
        }
    };
    let title = move || inbox.filter.with(|f| f.view.label());
    let empty_text = move || empty_words(inbox);
    view! {
        <section class="inbox" aria-label="Conversations">
            <div class="inbox-head">
                <input type="checkbox" class="select-all" data-testid="select-all"
                    aria-label="Select every conversation in view"
                    prop:checked=all_selected on:click=toggle_all />
                <h2>{title}</h2>
                <span class="muted" data-testid="row-count">{move || total()}</span>
                <input type="search" class="search" placeholder="Search" aria-label="Search conversations"
                    data-testid="search"
                    prop:value=move || inbox.filter.with(|f| f.query.clone())
                    on:input=move |ev| inbox.filter.update(|f| f.query = event_target_value(&ev)) />
            </div>
            <BulkBar rows=rows />
            <div class="list" node_ref=list data-testid="inbox-list" role="list"
                on:scroll=move |_| {
                    if let Some(el) = list.get_untracked() {
                        scroll_top.set(f64::from(el.scroll_top()));
                    }
                }>
                <Show when=move || total() == 0>
                    <p class="empty" data-testid="inbox-empty">{empty_text}</p>
                </Show>
                <div class="list-inner" style:height=move || format!("{}px", total() as f64 * ROW_HEIGHT)>
                    <For
                        each=move || window.get()
                        key=|(i, s)| (*i, s.doc, s.version)
                        children=move |(index, summary)| view! { <Row index=index summary=summary rows=rows /> }
                    />
                </div>
            </div>
        </section>
    }
}

#[component]
fn Row(index: usize, summary: Arc<Summary>, rows: Memo<Vec<Arc<Summary>>>) -> impl IntoView {
    let (inbox, session, nav, clock) = (use_inbox(), use_session(), use_navigation(), use_clock());
    let ui = expect_context::<Ui>();
    let doc = summary.doc;
    let selected = move || inbox.selection.with(|s| s.contains(&doc));
    let open = move || nav.is(&Route::Conversation(doc));
    let unread = {
        let summary = summary.clone();
        move || inbox.is_unread(&summary)
    };
    let pending = move || inbox.is_pending(&doc);
    let channel = {
        let id = summary.channel.clone();
        move || {
            session.workspace().with(|w| {
                w.channels
                    .get(&id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default()
            })
        }
    };
    let assignee = summary.assignee.clone();
    let assignee_view = move || match &assignee {
        Some(agent) => {
            let name = session.agent_name(agent);
            view! {
                <Avatar name=name.clone() id=agent.to_string() small=true />
                <span>{name}</span>
            }
            .into_any()
        }
        None => view! { <span class="unassigned">"Unassigned"</span> }.into_any(),
    };
    let last_message_at = summary.last_message_at;
    let on_check = move |ev: leptos::ev::MouseEvent| {
        ev.stop_propagation();
        if ev.shift_key() || ui.range.get_untracked() {
            ui.range.set(false);
            let order: Vec<DocumentId> = rows.with_untracked(|r| r.iter().map(|s| s.doc).collect());
            inbox.selection.update(|s| s.extend_to(&doc, &order));
        } else {
            inbox.selection.update(|s| s.toggle(&doc));
        }
        inbox.cursor.set(Some(doc));
    };
    let label = format!("Select “{}” from {}", summary.subject, summary.customer);
    view! {
        <div class="row" role="listitem"
            data-testid="inbox-row"
            data-conversation=summary.id.to_string()
            data-doc=doc.to_string()
            data-index=index
            class:selected=selected
            class:open=open
            class:cursor=move || inbox.cursor.get() == Some(doc)
            class:unread=unread
            style:transform=format!("translateY({}px)", index as f64 * ROW_HEIGHT)
            on:click=move |_| {
                inbox.cursor.set(Some(doc));
                nav.go(Route::Conversation(doc));
            }>
            <input type="checkbox" data-testid="row-select" aria-label=label
                prop:checked=selected on:click=on_check />
            <div class="row-main">
                <div class="row-top">
                    <span class="customer">{summary.customer.clone()}</span>
                    {summary.contested.then(|| view! { <span class="tag warn" title="Changed at the same time by two agents; settling">"Settling"</span> })}
                </div>
                <a class="subject" href=Route::Conversation(doc).hash()
                    on:click=move |ev| { ev.prevent_default(); }>
                    {summary.subject.clone()}
                </a>
                <div class="preview">{summary.preview.clone()}</div>
            </div>
            <div class="row-meta">
                <span class="age" title="Last message">{move || time::age(clock.now(), last_message_at)}</span>
                <span class="assignee" data-testid="row-assignee">{assignee_view}</span>
                <span class="channel">{channel}</span>
                <Show when=pending>
                    <span class="tag pending" data-testid="row-pending" title="Saved on this device; not yet on the server">"Not yet synced"</span>
                </Show>
            </div>
        </div>
    }
}

/// Scrolls the list so the keyboard's row stays in view.
fn keep_cursor_in_view(list: NodeRef<html::Div>, rows: Memo<Vec<Arc<Summary>>>) {
    let inbox = use_inbox();
    let cursor = inbox.cursor;
    Effect::new(move |_| {
        let Some(cursor) = cursor.get() else {
            return;
        };
        let Some(el) = list.get_untracked() else {
            return;
        };
        let Some(index) = rows.with_untracked(|r| r.iter().position(|s| s.doc == cursor)) else {
            return;
        };
        let top = index as f64 * ROW_HEIGHT;
        let bottom = top + ROW_HEIGHT;
        let view_top = f64::from(el.scroll_top());
        let view_bottom = view_top + f64::from(el.client_height());
        if top < view_top {
            el.set_scroll_top(top as i32);
        } else if bottom > view_bottom {
            el.set_scroll_top((bottom - f64::from(el.client_height())) as i32);
        }
    });
}

/// What an empty list says.
fn empty_words(inbox: InboxState) -> &'static str {
    if !inbox.loaded() {
        "Loading conversations…"
    } else if inbox.filter.with(|f| !f.query.trim().is_empty()) {
        "No conversation matches your search."
    } else {
        match inbox.filter.with(|f| f.view) {
            View::Unassigned => "Nothing unassigned. Every conversation is in someone's hands.",
            View::Mine => "Nothing assigned to you right now.",
            View::All => "No conversations here yet.",
        }
    }
}
