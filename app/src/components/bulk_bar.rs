//! The bar over the list while rows are selected: Reassign, Unassign,
//! Resolve, applied to every selected conversation at once.

use std::sync::Arc;

use baton_shared::ids::{AgentId, DocumentId};
use leptos::prelude::*;

use super::agent_picker::AgentPicker;
use super::ui::{Picker, Ui};
use crate::state::summary::Summary;
use crate::state::{use_conversations, use_inbox, use_session, use_toasts};

#[component]
pub fn BulkBar(rows: Memo<Vec<Arc<Summary>>>) -> impl IntoView {
    let (inbox, conversations, session, toasts) = (
        use_inbox(),
        use_conversations(),
        use_session(),
        use_toasts(),
    );
    let ui = expect_context::<Ui>();
    let count = move || inbox.selection.with(|s| s.len());
    // The selection in the list's order.
    let selected = move || -> Vec<DocumentId> {
        rows.with_untracked(|r| {
            inbox.selection.with_untracked(|s| {
                r.iter()
                    .filter(|row| s.contains(&row.doc))
                    .map(|row| row.doc)
                    .collect()
            })
        })
    };
    let assign = move |to: Option<AgentId>| {
        let docs = selected();
        ui.picker.set(Picker::Closed);
        inbox.selection.update(|s| s.clear());
        let who = to.as_ref().map(|a| session.agent_name(a));
        leptos::task::spawn_local(async move {
            let (changed, problems) = conversations.assign(docs, to).await;
            toasts.info(match who {
                Some(name) => format!("Assigned {changed} to {name}"),
                None => format!("Unassigned {changed}"),
            });
            if let Some(problem) = problems.first() {
                toasts.problem(format!("{} not changed: {problem}", problems.len()), None);
            }
        });
    };
    let resolve = move |_| {
        let docs = selected();
        inbox.selection.update(|s| s.clear());
        leptos::task::spawn_local(async move {
            let (changed, problems) = conversations.resolve_many(docs).await;
            toasts.info(format!("Resolved {changed}"));
            if let Some(problem) = problems.first() {
                toasts.problem(format!("{} not resolved: {problem}", problems.len()), None);
            }
        });
    };
    view! {
        <Show when=move || { count() > 0 }>
            <div class="bulk-bar" data-testid="bulk-bar" role="toolbar" aria-label="Selected conversations">
                <strong data-testid="bulk-count">{move || format!("{} selected", count())}</strong>
                <span class="spacer"></span>
                <div class="anchor">
                    <button class="primary" data-testid="bulk-reassign"
                        aria-expanded=move || (ui.picker.get() == Picker::Bulk).to_string()
                        on:click=move |_| ui.picker.update(|p| *p = if *p == Picker::Bulk { Picker::Closed } else { Picker::Bulk })>
                        "Reassign"
                    </button>
                    <Show when=move || ui.picker.get() == Picker::Bulk>
                        <AgentPicker
                            current=None
                            on_pick=Callback::new(assign)
                            on_close=Callback::new(move |_| ui.picker.set(Picker::Closed))
                        />
                    </Show>
                </div>
                <button class="ghost" data-testid="bulk-unassign" on:click=move |_| assign(None)>"Unassign"</button>
                <button class="ghost" data-testid="bulk-resolve" on:click=resolve>"Resolve"</button>
                <button class="ghost" data-testid="bulk-range" class:active=move || ui.range.get()
                    aria-pressed=move || ui.range.get().to_string()
                    title="Then tick another row: everything between is selected (Shift+Click does the same)"
                    on:click=move |_| ui.range.update(|r| *r = !*r)>"Select range"</button>
                <button class="ghost" data-testid="bulk-clear" on:click=move |_| {
                    ui.range.set(false);
                    inbox.selection.update(|s| s.clear());
                }>
                    "Clear"
                </button>
            </div>
        </Show>
    }
}
