//! Views with live counts, the channel filter, open or resolved. On a phone
//! it is a drawer, opened from the top bar's menu button.

use baton_shared::model::Status;
use leptos::prelude::*;

use super::ui::Ui;
use crate::state::inbox::View;
use crate::state::{Route, use_inbox, use_navigation, use_session};

#[component]
pub fn Sidebar() -> impl IntoView {
    let (session, inbox, nav) = (use_session(), use_inbox(), use_navigation());
    let ui = expect_context::<Ui>();
    let counts = Memo::new(move |_| match session.signed_in() {
        Some(agent) => inbox.counts(&agent.me),
        None => Default::default(),
    });
    let channels = move || {
        session.workspace().with(|w| {
            let mut channels: Vec<_> = w.channels.values().cloned().collect();
            channels.sort_by(|a, b| a.name.cmp(&b.name));
            channels
        })
    };
    let pick_view = move |view: View| {
        inbox.filter.update(|f| f.view = view);
        inbox.selection.update(|s| s.clear());
        ui.menu.set(false);
        if nav.route_untracked() == Route::Settings {
            nav.go(Route::Inbox);
        }
    };
    view! {
        <Show when=move || ui.menu.get()>
            <button class="menu-backdrop" aria-label="Close the menu" tabindex="-1"
                on:click=move |_| ui.menu.set(false)></button>
        </Show>
        <nav class="sidebar" class:open=move || ui.menu.get() aria-label="Views" id="views-menu"
            data-testid="views-menu">
            <div class="drawer-head">
                <strong>"Views"</strong>
                <span class="spacer"></span>
                <button class="icon-button" data-testid="menu-close" aria-label="Close the menu"
                    on:click=move |_| ui.menu.set(false)>"×"</button>
            </div>
            <ul class="views">
                {View::ALL.into_iter().map(|view| view! {
                    <li>
                        <button
                            class="view"
                            data-testid=format!("view-{}", view.slug())
                            class:active=move || inbox.filter.with(|f| f.view == view)
                            aria-pressed=move || inbox.filter.with(|f| f.view == view).to_string()
                            on:click=move |_| pick_view(view)
                        >
                            <span>{view.label()}</span>
                            <span class="count" data-testid=format!("count-{}", view.slug())>
                                {move || counts.get().of(view)}
                            </span>
                        </button>
                    </li>
                }).collect_view()}
            </ul>
            <label class="field-label" for="status-filter">"Status"</label>
            <select id="status-filter" data-testid="status-filter"
                on:change=move |ev| {
                    let status = if event_target_value(&ev) == "resolved" { Status::Resolved } else { Status::Open };
                    inbox.filter.update(|f| f.status = status);
                    inbox.selection.update(|s| s.clear());
                }>
                <option value="open" selected=move || inbox.filter.with(|f| f.status == Status::Open)>"Open"</option>
                <option value="resolved" selected=move || inbox.filter.with(|f| f.status == Status::Resolved)>"Resolved"</option>
            </select>
            <label class="field-label" for="channel-filter">"Channel"</label>
            <select id="channel-filter" data-testid="channel-filter"
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    inbox.filter.update(|f| f.channel = value.parse().ok());
                    inbox.selection.update(|s| s.clear());
                }>
                <option value="">"All channels"</option>
                <For
                    each=channels
                    key=|c| (c.id.clone(), c.name.clone())
                    children=move |channel| {
                        let id = channel.id.clone();
                        view! {
                            <option value=channel.id.to_string()
                                selected=move || inbox.filter.with(|f| f.channel.as_ref() == Some(&id))>
                                {channel.name.clone()}
                            </option>
                        }
                    }
                />
            </select>
            <button class="ghost drawer-only" data-testid="menu-logout"
                on:click=move |_| leptos::task::spawn_local(session.logout())>"Sign out"</button>
        </nav>
    }
}
