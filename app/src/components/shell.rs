//! The signed-in frame: top bar, offline banner, sidebar, and the inbox with
//! the open conversation beside it (or Settings).

use leptos::prelude::*;

use super::avatar::Avatar;
use super::conversation::ConversationPane;
use super::inbox::{InboxList, visible_rows};
use super::keyboard::{HelpOverlay, Shortcuts};
use super::notifications::Bell;
use super::settings::SettingsPage;
use super::sidebar::Sidebar;
use super::ui::Ui;
use crate::state::{
    Connection, Route, use_clock, use_inbox, use_navigation, use_session, use_sync,
};

#[component]
pub fn Shell() -> impl IntoView {
    let nav = use_navigation();
    let ui = Ui::new();
    provide_context(ui);
    provide_context(visible_rows());
    view! {
        <Shortcuts />
        <div class="shell">
            <TopBar />
            <ConnectionBanner />
            <div class="body">
                <Sidebar />
                {move || match nav.route() {
                    Route::Settings => view! { <SettingsPage /> }.into_any(),
                    Route::Inbox => view! {
                        <main class="workspace-split">
                            <h1 class="visually-hidden">"Inbox"</h1>
                            <InboxList />
                            <section class="conversation-pane empty-pane" aria-label="Conversation">
                                <p class="muted">"Pick a conversation, or press j and k to move and Enter to open."</p>
                            </section>
                        </main>
                    }.into_any(),
                    Route::Conversation(doc) => view! {
                        <main class="workspace-split with-conversation">
                            <h1 class="visually-hidden">"Inbox"</h1>
                            <InboxList />
                            <ConversationPane doc=doc />
                        </main>
                    }.into_any(),
                }}
            </div>
        </div>
        <HelpOverlay />
    }
}

#[component]
fn TopBar() -> impl IntoView {
    let session = use_session();
    let nav = use_navigation();
    let ui = expect_context::<Ui>();
    let signed_in = move || session.signed_in();
    let workspace_name = move || {
        session.workspace().with(|w| {
            if w.settings.name.is_empty() {
                "Inbox".to_owned()
            } else {
                w.settings.name.clone()
            }
        })
    };
    let away = move || session.is_away();
    view! {
        <header class="topbar">
            <button class="icon-button menu-button" data-testid="menu" aria-label="Views and filters"
                aria-controls="views-menu" aria-expanded=move || ui.menu.get().to_string()
                on:click=move |_| ui.menu.update(|m| *m = !*m)>
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                    <path fill="currentColor" d="M3 6h18v2H3zm0 5h18v2H3zm0 5h18v2H3z"/>
                </svg>
            </button>
            <a class="brand" href="#/" on:click=move |_| nav.go(Route::Inbox)>"Baton"</a>
            <span class="workspace-name">{workspace_name}</span>
            <span class="spacer"></span>
            <ConnectionPill />
            <button class="icon-button keyboard-help" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)"
                on:click=move |_| ui.help.update(|h| *h = !*h)>"?"</button>
            <Bell />
            <a class="me" href="#/settings" data-testid="whoami" on:click=move |_| nav.go(Route::Settings)
                title="Settings">
                {move || signed_in().map(|s| view! {
                    <Avatar name=s.name.clone() id=s.me.to_string() small=true />
                    <span class="me-name">{s.name.clone()}</span>
                })}
                <span class="status-dot" class:away=away aria-label=move || if away() { "Away" } else { "Available" }></span>
            </a>
            <button class="ghost logout" data-testid="logout" on:click=move |_| leptos::task::spawn_local(session.logout())>
                "Sign out"
            </button>
        </header>
    }
}

#[component]
fn ConnectionPill() -> impl IntoView {
    let sync = use_sync();
    let inbox = use_inbox();
    let pending = move || inbox.pending_count();
    view! {
        <span class="pill" data-testid="connection"
            data-saved=move || sync.saved().to_string()
            title=move || if sync.saved() { "Everything is saved on this device" } else { "Saving on this device…" }
            class:online=move || sync.connection() == Connection::Online
            class:offline=move || matches!(sync.connection(), Connection::Offline { .. })>
            {move || match sync.connection() {
                Connection::Online if pending() > 0 => format!("Syncing {}…", pending()),
                Connection::Online => "Live".to_owned(),
                Connection::Connecting => "Connecting…".to_owned(),
                Connection::Offline { .. } => "Offline".to_owned(),
            }}
        </span>
    }
}

/// Shown while offline: what still works and when the next try is.
#[component]
fn ConnectionBanner() -> impl IntoView {
    let sync = use_sync();
    let inbox = use_inbox();
    let clock = use_clock();
    let offline = move || matches!(sync.connection(), Connection::Offline { .. });
    let text = move || {
        let Connection::Offline { retry_at } = sync.connection() else {
            return String::new();
        };
        let pending = inbox.pending_count();
        let wait = retry_at.saturating_sub(clock.now()) / 1000;
        let changes = match pending {
            0 => "You can keep working; changes are kept on this device.".to_owned(),
            1 => "1 conversation has changes waiting to sync.".to_owned(),
            n => format!("{n} conversations have changes waiting to sync."),
        };
        let when = if wait == 0 {
            "Reconnecting…".to_owned()
        } else {
            format!("Retrying in {wait}s.")
        };
        format!("You're offline. {changes} {when}")
    };
    view! {
        <Show when=offline>
            <div class="banner offline" role="status" data-testid="offline-banner">
                <span>{text}</span>
                <button class="link" on:click=move |_| sync.retry_now()>"Retry now"</button>
            </div>
        </Show>
    }
}
