//! The bell: unread count, the list, and the switch for desktop notifications.

use leptos::prelude::*;

use super::ui::Ui;
use crate::desktop::{self, Permission};
use crate::state::{Route, use_clock, use_navigation, use_notifications};
use crate::time;

#[component]
pub fn Bell() -> impl IntoView {
    let (notifications, nav, clock) = (use_notifications(), use_navigation(), use_clock());
    let ui = expect_context::<Ui>();
    let unread = move || notifications.unread();
    let permission = RwSignal::new(desktop::permission());
    let mark_all = move |_| notifications.mark_all_read();
    view! {
        <div class="anchor">
            <button class="icon-button bell" data-testid="bell"
                aria-label=move || format!("Notifications, {} unread", unread())
                aria-expanded=move || ui.bell.get().to_string()
                on:click=move |_| ui.bell.update(|b| *b = !*b)>
                <svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                    <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"/>
                </svg>
                <Show when=move || unread() != 0>
                    <span class="badge" data-testid="bell-count">{unread}</span>
                </Show>
            </button>
            <Show when=move || ui.bell.get()>
                <div class="popover notifications" role="dialog" aria-label="Notifications" data-testid="notifications">
                    <div class="popover-head">
                        <strong>"Notifications"</strong>
                        <span class="spacer"></span>
                        <button class="link" on:click=mark_all disabled=move || unread() == 0>"Mark all read"</button>
                    </div>
                    <Show when=move || permission.get() == Permission::Ask>
                        <p class="popover-note">
                            "Get told when this tab is in the background. "
                            <button class="link" data-testid="enable-desktop" on:click=move |_| {
                                leptos::task::spawn_local(async move {
                                    permission.set(desktop::ask_permission().await);
                                });
                            }>"Turn on desktop notifications"</button>
                        </p>
                    </Show>
                    <ul class="notice-list">
                        <For
                            each=move || notifications.with(<[_]>::to_vec)
                            key=|n| (n.id.clone(), n.read)
                            children=move |notice| {
                                let id = notice.id.clone();
                                let doc = notice.doc;
                                let at = notice.at;
                                view! {
                                    <li>
                                        <button class="notice" class:unread=!notice.read data-testid="notification" data-doc=doc.to_string()
                                            on:click=move |_| {
                                                notifications.mark_read(vec![id.clone()]);
                                                ui.bell.set(false);
                                                nav.go(Route::Conversation(doc));
                                            }>
                                            <span class="notice-text">{notice.text.clone()}</span>
                                            <span class="muted">{move || time::age(clock.now(), at)}</span>
                                        </button>
                                    </li>
                                }
                            }
                        />
                    </ul>
                    <Show when=move || notifications.with(<[_]>::is_empty)>
                        <p class="muted empty">"Nothing yet. You'll be told here about conversations that need you."</p>
                    </Show>
                </div>
            </Show>
        </div>
    }
}
