//! The Reassign dropdown: a searchable list of active agents with their open
//! conversations and availability; pick one, then Assign (or Unassign).

use baton_shared::ids::AgentId;
use baton_shared::model::Agent;
use leptos::html;
use leptos::prelude::*;

use super::avatar::Avatar;
use crate::state::{use_inbox, use_session};

#[component]
pub fn AgentPicker(
    /// The current assignee, marked in the list.
    current: Option<AgentId>,
    /// Called with the agent to assign, or `None` to unassign.
    on_pick: Callback<Option<AgentId>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let (session, inbox) = (use_session(), use_inbox());
    let query = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<AgentId>);
    let search = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = search.get() {
            let _ = input.focus();
        }
    });
    let me = session.me();
    let agents = Memo::new(move |_| {
        let open = inbox.open_by_agent();
        let query = query.get().trim().to_lowercase();
        session.workspace().with(|w| {
            let mut agents: Vec<_> = w
                .agents
                .values()
                .filter(|a| a.active)
                .filter(|a| {
                    query.is_empty()
                        || a.name.to_lowercase().contains(&query)
                        || a.email.to_lowercase().contains(&query)
                })
                .map(|a| {
                    let count = open.get(&a.id).copied().unwrap_or(0);
                    (a.clone(), count)
                })
                .collect();
            agents.sort_by_key(|(a, _)| a.name.to_lowercase());
            agents
        })
    });
    let confirm = move || {
        if let Some(agent) = chosen.get_untracked() {
            on_pick.run(Some(agent));
        }
    };
    let on_key = picker_keys(agents, chosen, confirm, on_close);
    view! {
        <div class="picker" role="dialog" aria-label="Assign to" data-testid="reassign-dropdown" on:keydown=on_key>
            <input type="search" node_ref=search class="picker-search" placeholder="Find an agent"
                aria-label="Find an agent" data-testid="reassign-search"
                prop:value=query on:input=move |ev| query.set(event_target_value(&ev)) />
            <ul class="picker-list" role="listbox" aria-label="Agents">
                <For
                    each=move || agents.get()
                    key=|(a, count)| (a.id.clone(), a.name.clone(), a.away, *count)
                    children=move |(agent, count)| {
                        let is_current = current.as_ref() == Some(&agent.id);
                        let is_me = me.as_ref() == Some(&agent.id);
                        view! {
                            <AgentOption agent=agent count=count chosen=chosen
                                is_current=is_current is_me=is_me confirm=Callback::new(move |_| confirm()) />
                        }
                    }
                />
            </ul>
            <Show when=move || agents.with(|a| a.is_empty())>
                <p class="muted picker-empty">"No agent matches."</p>
            </Show>
            <div class="picker-actions">
                <button type="button" class="ghost" data-testid="unassign"
                    on:click=move |_| on_pick.run(None)>"Unassign"</button>
                <span class="spacer"></span>
                <button type="button" class="ghost" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="primary" data-testid="assign-confirm"
                    disabled=move || chosen.with(|c| c.is_none())
                    on:click=move |_| confirm()>"Assign"</button>
            </div>
        </div>
    }
}

/// One agent in the list: their load against their capacity, and whether
/// they are away.
#[component]
fn AgentOption(
    agent: Agent,
    count: usize,
    chosen: RwSignal<Option<AgentId>>,
    is_current: bool,
    is_me: bool,
    confirm: Callback<()>,
) -> impl IntoView {
    let id = agent.id.clone();
    let is_chosen = {
        let id = id.clone();
        Signal::derive(move || chosen.with(|c| c.as_ref() == Some(&id)))
    };
    let full = agent.capacity.is_some_and(|cap| count >= cap as usize);
    let load = match agent.capacity {
        Some(cap) => format!("{count}/{cap} open"),
        None => format!("{count} open"),
    };
    let pick_id = id.clone();
    view! {
        <li role="none">
            <button type="button" role="option" class="picker-option" class:chosen=is_chosen
                aria-selected=move || is_chosen.get().to_string()
                data-testid="reassign-option" data-agent=id.to_string()
                on:click=move |_| chosen.set(Some(pick_id.clone()))
                on:dblclick=move |_| confirm.run(())>
                <Avatar name=agent.name.clone() id=agent.id.to_string() small=true />
                <span class="picker-name">
                    {agent.name.clone()}
                    {is_me.then_some(" (you)")}
                </span>
                {is_current.then(|| view! { <span class="tag">"Current"</span> })}
                <span class="picker-load" class:full=full>{load}</span>
                <span class="presence" class:away=agent.away>
                    {if agent.away { "Away" } else { "Available" }}
                </span>
            </button>
        </li>
    }
}

/// Escape closes; arrows move the choice; Enter picks the first match,
/// then assigns.
fn picker_keys(
    agents: Memo<Vec<(Agent, usize)>>,
    chosen: RwSignal<Option<AgentId>>,
    confirm: impl Fn() + Copy + 'static,
    on_close: Callback<()>,
) -> impl Fn(leptos::ev::KeyboardEvent) + 'static {
    move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.stop_propagation();
            on_close.run(());
        }
        "Enter" => {
            ev.prevent_default();
            if chosen.get_untracked().is_none()
                && let Some((agent, _)) = agents.with_untracked(|a| a.first().cloned())
            {
                chosen.set(Some(agent.id));
                return;
            }
            confirm();
        }
        "ArrowDown" | "ArrowUp" => {
            ev.prevent_default();
            let list = agents.get_untracked();
            if list.is_empty() {
                return;
            }
            let at = chosen
                .get_untracked()
                .and_then(|c| list.iter().position(|(a, _)| a.id == c));
            let next = match (ev.key().as_str(), at) {
                ("ArrowDown", None) => 0,
                ("ArrowDown", Some(i)) => (i + 1).min(list.len() - 1),
                (_, None) => list.len() - 1,
                (_, Some(i)) => i.saturating_sub(1),
            };
            chosen.set(Some(list[next].0.id.clone()));
        }
        _ => {}
    }
}
