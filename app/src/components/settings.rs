//! Settings: the agent's own status and notification sign-ups; admins also
//! manage agents and channels.

use baton_shared::ids::ChannelId;
use leptos::prelude::*;

use super::admin::{AgentsAdmin, ChannelsAdmin};
use super::workflows::WorkflowsAdmin;
use crate::desktop::{self, Permission};
use crate::state::{use_session, use_toasts};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let (session, toasts) = (use_session(), use_toasts());
    let me = move || session.signed_in().map(|s| s.me);
    let away = move || session.is_away();
    let set_away = move |away: bool| {
        if let Err(problem) = session.set_away(away) {
            toasts.problem(problem.to_string(), None);
        }
    };
    let channels = move || {
        session.workspace().with(|w| {
            let mut channels: Vec<_> = w.channels.values().cloned().collect();
            channels.sort_by(|a, b| a.name.cmp(&b.name));
            channels
        })
    };
    let subscribed = move |channel: &ChannelId| {
        me().is_some_and(|m| session.workspace().with(|w| w.is_subscribed(&m, channel)))
    };
    let permission = RwSignal::new(desktop::permission());
    view! {
        <main class="settings" data-testid="settings">
            <h1>"Settings"</h1>
            <section class="card">
                <h2>"Your status"</h2>
                <p class="muted">"While you are away, workflows skip you when they share out new conversations."</p>
                <div class="segmented" role="radiogroup" aria-label="Your status">
                    <button role="radio" data-testid="status-available" aria-checked=move || (!away()).to_string()
                        class:active=move || !away() on:click=move |_| set_away(false)>"Available"</button>
                    <button role="radio" data-testid="status-away" aria-checked=move || away().to_string()
                        class:active=away on:click=move |_| set_away(true)>"Away"</button>
                </div>
            </section>
            <section class="card">
                <h2>"Notifications"</h2>
                <p class="muted">
                    "Sign up for the channels you want to hear about. While a conversation there is unassigned, \
                     everyone signed up is told of new customer messages; once it is assigned, only its assignee is. \
                     You are always told about conversations assigned to you."
                </p>
                <ul class="toggles">
                    <For
                        each=channels
                        key=|c| (c.id.clone(), c.name.clone())
                        children=move |channel| {
                            let id = channel.id.clone();
                            let on = {
                                let id = id.clone();
                                move || subscribed(&id)
                            };
                            let toggle_id = format!("sub-{}", channel.id);
                            view! {
                                <li>
                                    <label class="switch">
                                        <input type="checkbox" role="switch" id=toggle_id
                                            data-testid="subscription" data-channel=channel.id.to_string()
                                            prop:checked=on
                                            on:change=move |ev| {
                                                let want = event_target_checked(&ev);
                                                if let Err(problem) = session.set_subscription(id.clone(), want) {
                                                    toasts.problem(problem.to_string(), None);
                                                }
                                            } />
                                        <span class="switch-track" aria-hidden="true"></span>
                                        <span>{channel.name.clone()}</span>
                                        <span class="muted">{channel.kind.clone()}</span>
                                    </label>
                                </li>
                            }
                        }
                    />
                </ul>
                <h3>"On this device"</h3>
                <p>
                    {move || match permission.get() {
                        Permission::Granted => "Desktop notifications are on while this tab is in the background.",
                        Permission::Denied => "Desktop notifications are blocked in this browser's site settings.",
                        Permission::Ask => "Desktop notifications are off.",
                        Permission::Unsupported => "This browser does not offer desktop notifications.",
                    }}
                    " "
                    <Show when=move || permission.get() == Permission::Ask>
                        <button class="link" on:click=move |_| leptos::task::spawn_local(async move {
                            permission.set(desktop::ask_permission().await);
                        })>"Turn them on"</button>
                    </Show>
                </p>
            </section>
            <Show when=move || session.is_admin()>
                <AgentsAdmin />
                <ChannelsAdmin />
                <WorkflowsAdmin />
            </Show>
        </main>
    }
}
