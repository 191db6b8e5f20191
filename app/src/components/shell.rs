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
use crate::state::{AppState, Connection, Phase, Route};
use crate::time;

#[component]
pub fn Shell() -> impl IntoView {
    let state = expect_context::<AppState>();
    let ui = Ui::new();
    provide_context(ui);
    provide_context(visible_rows(state));
    let route = state.route;
    view! {
        <Shortcuts />
        <div class="shell">
            <TopBar />
            <ConnectionBanner />
            <div class="body">
                <Sidebar />
                {move || match route.get() {
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
    let state = expect_context::<AppState>();
    let ui = expect_context::<Ui>();
    let session = move || match state.phase.get() {
        Phase::Ready(session) => Some(session),
        _ => None,
    };
    let workspace_name = move || {
        state.workspace.with(|w| {
            if w.settings.name.is_empty() {
                "Inbox".to_owned()
            } else {
                w.settings.name.clone()
            }
        })
    };
    let away = move || {
        session().is_some_and(|s| {
            state
                .workspace
                .with(|w| w.agent(&s.me).is_some_and(|a| a.away))
        })
    };
    view! {
        <header class="topbar">
            <button class="icon-button menu-button" data-testid="menu" aria-label="Views and filters"
                aria-controls="views-menu" aria-expanded=move || ui.menu.get().to_string()
                on:click=move |_| ui.menu.update(|m| *m = !*m)>
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                    <path fill="currentColor" d="M3 6h18v2H3zm0 5h18v2H3zm0 5h18v2H3z"/>
                </svg>
            </button>
            <a class="brand" href="#/" on:click=move |_| state.go(Route::Inbox)>"Baton"</a>
            <span class="workspace-name">{workspace_name}</span>
            <span class="spacer"></span>
            <ConnectionPill />
            <button class="icon-button keyboard-help" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)"
                on:click=move |_| ui.help.update(|h| *h = !*h)>"?"</button>
            <Bell />
            <a class="me" href="#/settings" data-testid="whoami" on:click=move |_| state.go(Route::Settings)
                title="Settings">
                {move || session().map(|s| view! {
                    <Avatar name=s.name.clone() id=s.me.to_string() small=true />
                    <span class="me-name">{s.name.clone()}</span>
                })}
                <span class="status-dot" class:away=away aria-label=move || if away() { "Away" } else { "Available" }></span>
            </a>
            <button class="ghost logout" data-testid="logout" on:click=move |_| leptos::task::spawn_local(state.logout())>
                "Sign out"
            </button>
        </header>
    }
}

#[component]
fn ConnectionPill() -> impl IntoView {
    let state = expect_context::<AppState>();
    let pending = move || state.pending.with(|p| p.len());
    view! {
        <span class="pill" data-testid="connection"
            data-saved=move || state.saved.get().to_string()
            title=move || if state.saved.get() { "Everything is saved on this device" } else { "Saving on this device…" }
            class:online=move || state.connection.get() == Connection::Online
            class:offline=move || matches!(state.connection.get(), Connection::Offline { .. })>
            {move || match state.connection.get() {
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
    let state = expect_context::<AppState>();
    let offline = move || matches!(state.connection.get(), Connection::Offline { .. });
    let text = move || {
        let Connection::Offline { retry_at } = state.connection.get() else {
            return String::new();
        };
        let pending = state.pending.with(|p| p.len());
        let wait = retry_at.saturating_sub(state.clock.get()) / 1000;
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
                <button class="link" on:click=move |_| state.retry_now()>"Retry now"</button>
            </div>
        </Show>
    }
}

/// Keeps `state.clock` moving (ages, fading presence, retry countdown).
pub fn start_clock(state: AppState) {
    let _ = set_interval_with_handle(
        move || state.clock.set(time::now()),
        std::time::Duration::from_secs(1),
    );
}
