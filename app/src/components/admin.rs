//! Admins: agents (add, role, capacity, deactivate) and channels (add, see
//! the ingest secret once, rotate it). These go through the HTTP API, which
//! writes the workspace document; the change then arrives like any other.

use baton_shared::ids::AgentId;
use baton_shared::model::{Agent, Role};
use leptos::prelude::*;

use crate::api;
use crate::state::{use_session, use_toasts};

/// A secret or password shown once, with a way to copy it.
#[component]
fn ShownOnce(title: String, value: String, on_done: Callback<()>) -> impl IntoView {
    view! {
        <div class="shown-once" role="alert" data-testid="shown-once">
            <strong>{title}</strong>
            <p class="muted">"Copy it now; it is not shown again."</p>
            <code data-testid="secret">{value}</code>
            <button class="ghost" on:click=move |_| on_done.run(())>"Done"</button>
        </div>
    }
}

#[component]
pub fn AgentsAdmin() -> impl IntoView {
    let session = use_session();
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("agent".to_owned());
    let capacity = RwSignal::new(String::new());
    let shown = RwSignal::new(None::<(String, String)>);
    let error = RwSignal::new(None::<String>);
    let agents = move || {
        session.workspace().with(|w| {
            let mut agents: Vec<_> = w.agents.values().cloned().collect();
            agents.sort_by(|a, b| {
                (!a.active, a.name.to_lowercase()).cmp(&(!b.active, b.name.to_lowercase()))
            });
            agents
        })
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let cap = capacity.get_untracked();
        let cap = if cap.trim().is_empty() {
            None
        } else {
            match cap.trim().parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    error.set(Some(
                        "Capacity is a whole number of open conversations, or empty for no limit."
                            .into(),
                    ));
                    return;
                }
            }
        };
        let (n, e, r) = (
            name.get_untracked(),
            email.get_untracked(),
            role.get_untracked(),
        );
        error.set(None);
        leptos::task::spawn_local(async move {
            match api::add_agent(n.trim(), e.trim(), &r, cap).await {
                Ok(created) => {
                    shown.set(Some((
                        format!("Initial password for {}", e.trim()),
                        created.password,
                    )));
                    name.set(String::new());
                    email.set(String::new());
                    capacity.set(String::new());
                }
                Err(problem) => error.set(Some(problem.to_string())),
            }
        });
    };
    view! {
        <section class="card" data-testid="admin-agents">
            <h2>"Agents"</h2>
            <table class="table">
                <thead><tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Capacity"</th><th>"Status"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    <For
                        each=agents
                        key=|a| (a.id.clone(), a.name.clone(), a.role, a.capacity, a.active, a.away)
                        children=move |agent| view! { <AgentRow agent=agent /> }
                    />
                </tbody>
            </table>
            <Show when=move || shown.get().is_some()>
                {move || shown.get().map(|(title, value)| view! {
                    <ShownOnce title=title value=value on_done=Callback::new(move |_| shown.set(None)) />
                })}
            </Show>
            <form class="inline-form" on:submit=add data-testid="add-agent">
                <h3>"Add an agent"</h3>
                <label>"Name" <input required prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) /></label>
                <label>"Email" <input type="email" required prop:value=email on:input=move |ev| email.set(event_target_value(&ev)) /></label>
                <label>"Role"
                    <select on:change=move |ev| role.set(event_target_value(&ev))>
                        <option value="agent">"Agent"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </label>
                <label>"Capacity" <input type="number" min="0" class="narrow" placeholder="No limit" prop:value=capacity on:input=move |ev| capacity.set(event_target_value(&ev)) /></label>
                <button class="primary" type="submit">"Add agent"</button>
                <Show when=move || error.get().is_some()>
                    <p class="form-error" role="alert">{move || error.get().unwrap_or_default()}</p>
                </Show>
            </form>
        </section>
    }
}

/// One agent's line: role, capacity, deactivate.
#[component]
fn AgentRow(agent: Agent) -> impl IntoView {
    let (session, toasts) = (use_session(), use_toasts());
    let patch = move |id: AgentId, change: serde_json::Value| {
        leptos::task::spawn_local(async move {
            if let Err(problem) = api::update_agent(&id, &change).await {
                toasts.problem(problem.to_string(), None);
            }
        });
    };
    let id = agent.id.clone();
    let (role_id, cap_id, off_id) = (id.clone(), id.clone(), id.clone());
    let label = agent.name.clone();
    // Nobody deactivates themselves (the server refuses it too).
    let deactivatable = agent.active && session.me().as_ref() != Some(&agent.id);
    view! {
        <tr class:inactive=!agent.active data-testid="admin-agent" data-agent=agent.id.to_string()>
            <td>{agent.name.clone()}</td>
            <td>{agent.email.clone()}</td>
            <td>
                <select aria-label=format!("Role of {label}") disabled=!agent.active
                    on:change=move |ev| patch(role_id.clone(), serde_json::json!({ "role": event_target_value(&ev) }))>
                    <option value="agent" selected=agent.role == Role::Agent>"Agent"</option>
                    <option value="admin" selected=agent.role == Role::Admin>"Admin"</option>
                </select>
            </td>
            <td>
                <input type="number" min="0" class="narrow" aria-label=format!("Capacity of {}", agent.name)
                    disabled=!agent.active placeholder="No limit"
                    prop:value=agent.capacity.map(|c| c.to_string()).unwrap_or_default()
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        let capacity = value.trim().parse::<u32>().ok();
                        patch(cap_id.clone(), serde_json::json!({ "capacity": capacity }));
                    } />
            </td>
            <td>{if !agent.active { "Deactivated" } else if agent.away { "Away" } else { "Available" }}</td>
            <td>
                <Show when=move || deactivatable>
                    <button class="ghost danger" data-testid="deactivate" on:click={
                        let id = off_id.clone();
                        move |_| {
                            let id = id.clone();
                            leptos::task::spawn_local(async move {
                                match api::deactivate_agent(&id).await {
                                    Ok(()) => toasts.info("Agent deactivated; their open conversations stay assigned until you reassign them."),
                                    Err(problem) => toasts.problem(problem.to_string(), None),
                                }
                            });
                        }
                    }>"Deactivate"</button>
                </Show>
            </td>
        </tr>
    }
}

#[component]
pub fn ChannelsAdmin() -> impl IntoView {
    let (session, toasts) = (use_session(), use_toasts());
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new("email".to_owned());
    let shown = RwSignal::new(None::<(String, String)>);
    let error = RwSignal::new(None::<String>);
    let channels = move || {
        session.workspace().with(|w| {
            let mut channels: Vec<_> = w.channels.values().cloned().collect();
            channels.sort_by(|a, b| a.name.cmp(&b.name));
            channels
        })
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, k) = (name.get_untracked(), kind.get_untracked());
        error.set(None);
        leptos::task::spawn_local(async move {
            match api::add_channel(n.trim(), &k).await {
                Ok(secret) => {
                    shown.set(Some((
                        format!("Ingest secret for {}", n.trim()),
                        secret.secret,
                    )));
                    name.set(String::new());
                }
                Err(problem) => error.set(Some(problem.to_string())),
            }
        });
    };
    view! {
        <section class="card" data-testid="admin-channels">
            <h2>"Channels"</h2>
            <p class="muted">"Each channel receives customer messages at POST /api/channels/{id}/messages with its ingest secret."</p>
            <table class="table">
                <thead><tr><th>"Name"</th><th>"Kind"</th><th>"Id"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                <tbody>
                    <For
                        each=channels
                        key=|c| (c.id.clone(), c.name.clone())
                        children=move |channel| {
                            let id = channel.id.clone();
                            let title = format!("New ingest secret for {}", channel.name);
                            view! {
                                <tr>
                                    <td>{channel.name.clone()}</td>
                                    <td>{channel.kind.clone()}</td>
                                    <td><code>{channel.id.to_string()}</code></td>
                                    <td>
                                        <button class="ghost" data-testid="rotate-secret" on:click=move |_| {
                                            let (id, title) = (id.clone(), title.clone());
                                            leptos::task::spawn_local(async move {
                                                match api::rotate_secret(&id).await {
                                                    Ok(secret) => shown.set(Some((title, secret.secret))),
                                                    Err(problem) => toasts.problem(problem.to_string(), None),
                                                }
                                            });
                                        }>"Rotate secret"</button>
                                    </td>
                                </tr>
                            }
                        }
                    />
                </tbody>
            </table>
            <Show when=move || shown.get().is_some()>
                {move || shown.get().map(|(title, value)| view! {
                    <ShownOnce title=title value=value on_done=Callback::new(move |_| shown.set(None)) />
                })}
            </Show>
            <form class="inline-form" on:submit=add data-testid="add-channel">
                <h3>"Add a channel"</h3>
                <label>"Name" <input required prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) /></label>
                <label>"Kind"
                    <select on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="email">"Email"</option>
                        <option value="chat">"Chat"</option>
                        <option value="form">"Form"</option>
                    </select>
                </label>
                <button class="primary" type="submit">"Add channel"</button>
                <Show when=move || error.get().is_some()>
                    <p class="form-error" role="alert">{move || error.get().unwrap_or_default()}</p>
                </Show>
            </form>
        </section>
    }
}
