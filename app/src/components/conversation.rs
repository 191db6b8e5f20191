//! One conversation: header, toolbar (assignee, Reassign, Resolve/Reopen),
//! who else is here, the thread with notes and the activity trail, and the
//! reply box.

use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::{Author, Conversation, MessageKind, Millis, Status};
use baton_shared::protocol::PresenceState;
use leptos::prelude::*;

use super::agent_picker::AgentPicker;
use super::avatar::Avatar;
use super::composer::Composer;
use super::ui::{Picker, Ui};
use crate::state::presence::REFRESH_MS;
use crate::state::{
    Route, use_clock, use_conversations, use_inbox, use_navigation, use_session, use_toasts,
};
use crate::{time, words};

#[component]
pub fn ConversationPane(doc: DocumentId) -> impl IntoView {
    let (conversations, inbox, nav) = (use_conversations(), use_inbox(), use_navigation());
    // Re-read the document whenever its row changes.
    let conversation = Memo::new(move |_| conversations.read(&doc));
    // Seen, and announced to the others, while open.
    Effect::new(move |_| {
        if conversation.with(|c| c.is_some()) {
            conversations.mark_seen(doc);
        }
    });
    conversations.announce(doc, PresenceState::Viewing);
    let refresh = set_interval_with_handle(
        move || conversations.announce(doc, PresenceState::Viewing),
        std::time::Duration::from_millis(REFRESH_MS.unsigned_abs()),
    )
    .ok();
    on_cleanup(move || {
        if let Some(handle) = refresh {
            handle.clear();
        }
        conversations.announce(doc, PresenceState::Left);
    });
    view! {
        <section class="conversation-pane" aria-label="Conversation" data-testid="conversation" data-doc=doc.to_string()>
            {move || match conversation.get() {
                Some(c) => view! { <Loaded doc=doc conversation=c /> }.into_any(),
                None if inbox.loaded() => view! {
                    <div class="empty-pane">
                        <p>"This conversation is not available here. It may be out of your scope, or still on its way."</p>
                        <button class="ghost" on:click=move |_| nav.go(Route::Inbox)>"Back to the inbox"</button>
                    </div>
                }.into_any(),
                None => view! { <div class="empty-pane"><p class="muted">"Loading the conversation…"</p></div> }.into_any(),
            }}
            <Show when=move || conversation.with(|c| c.is_some())>
                <Composer
                    doc=doc
                    assignee=Signal::derive(move || conversation.with(|c| c.as_ref().and_then(|c| c.assignee().cloned())))
                    open=Signal::derive(move || conversation.with(|c| c.as_ref().is_some_and(|c| c.status == Status::Open)))
                />
            </Show>
        </section>
    }
}

#[component]
fn Loaded(doc: DocumentId, conversation: Conversation) -> impl IntoView {
    let (conversations, session, toasts, nav) = (
        use_conversations(),
        use_session(),
        use_toasts(),
        use_navigation(),
    );
    let ui = expect_context::<Ui>();
    let assignee = conversation.assignee().cloned();
    let status = conversation.status;
    let channel = session.workspace().with_untracked(|w| {
        w.channels
            .get(&conversation.channel)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    });
    let assign = {
        move |to: Option<AgentId>| {
            ui.picker.set(Picker::Closed);
            let who = to.as_ref().map(|a| session.agent_name(a));
            leptos::task::spawn_local(async move {
                let (_, problems) = conversations.assign(vec![doc], to).await;
                match problems.first() {
                    Some(problem) => toasts.problem(problem.to_string(), Some(doc)),
                    None => toasts.info(match who {
                        Some(name) => format!("Assigned to {name}"),
                        None => "Unassigned".to_owned(),
                    }),
                }
            });
        }
    };
    let toggle_status = move |_| {
        leptos::task::spawn_local(async move {
            let result = if status == Status::Open {
                conversations.resolve(doc).await
            } else {
                conversations.reopen(doc).await
            };
            if let Err(problem) = result {
                toasts.problem(problem.to_string(), Some(doc));
            }
        });
    };
    let contested = conversation.assignments.len() > 1;
    let current = assignee.clone();
    view! {
        <header class="conversation-head">
            <div class="titles">
                <h2 data-testid="conversation-subject">{conversation.subject.clone()}</h2>
                <p class="muted">
                    {conversation.customer.name.clone()}
                    " · " {conversation.customer.email.clone()}
                    " · " {channel}
                    {(status == Status::Resolved).then_some(" · Resolved")}
                </p>
            </div>
            <button class="icon-button close" data-testid="conversation-back" aria-label="Back to the inbox"
                title="Back to the inbox (Esc)" on:click=move |_| nav.go(Route::Inbox)>
                <span class="wide-only" aria-hidden="true">"×"</span>
                <span class="narrow-only" aria-hidden="true">"‹ Inbox"</span>
            </button>
        </header>
        <div class="toolbar" role="toolbar" aria-label="Conversation actions">
            <span class="field-label">"Assignee"</span>
            <span class="assignee-chip" data-testid="assignee"><AssigneeName assignee=assignee.clone() /></span>
            {contested.then(|| view! { <span class="tag warn">"Settling a concurrent change"</span> })}
            <div class="anchor">
                <button class="primary" data-testid="reassign-button"
                    disabled=status == Status::Resolved
                    aria-expanded=move || (ui.picker.get() == Picker::Conversation).to_string()
                    on:click=move |_| ui.picker.update(|p| *p = if *p == Picker::Conversation { Picker::Closed } else { Picker::Conversation })>
                    {if assignee.is_some() { "Reassign" } else { "Assign" }}
                </button>
                <Show when=move || ui.picker.get() == Picker::Conversation>
                    <AgentPicker
                        current=current.clone()
                        on_pick=Callback::new(assign)
                        on_close=Callback::new(move |_| ui.picker.set(Picker::Closed))
                    />
                </Show>
            </div>
            <span class="spacer"></span>
            <button class="ghost" data-testid="status-toggle" on:click=toggle_status>
                {if status == Status::Open { "Resolve" } else { "Reopen" }}
            </button>
        </div>
        <PresenceLine doc=doc />
        <Thread conversation=conversation.clone() />
    }
}

/// The assignee's avatar and name, or "Unassigned".
#[component]
fn AssigneeName(assignee: Option<AgentId>) -> impl IntoView {
    let session = use_session();
    match assignee {
        Some(agent) => {
            let name = session.agent_name(&agent);
            view! {
                <Avatar name=name.clone() id=agent.to_string() small=true />
                <span data-testid="assignee-name">{name}</span>
            }
            .into_any()
        }
        None => view! { <span class="unassigned" data-testid="assignee-name">"Unassigned"</span> }
            .into_any(),
    }
}

/// "Ben is typing…", "Ana is viewing".
#[component]
fn PresenceLine(doc: DocumentId) -> impl IntoView {
    let (conversations, session, clock) = (use_conversations(), use_session(), use_clock());
    let others = move || conversations.others_here(&doc, clock.now());
    view! {
        <div class="presence-line" data-testid="presence" aria-live="polite">
            {move || others().into_iter().map(|(agent, s)| {
                let name = session.agent_name(&agent);
                let text = if s == PresenceState::Typing {
                    format!("{name} is typing…")
                } else {
                    format!("{name} is viewing")
                };
                view! {
                    <span class="presence-chip" class:typing=s == PresenceState::Typing data-agent=agent.to_string()>
                        <Avatar name=name id=agent.to_string() small=true />
                        {text}
                    </span>
                }
            }).collect_view()}
        </div>
    }
}

enum Entry {
    Message(baton_shared::model::Message),
    Activity(baton_shared::model::Activity),
}

impl Entry {
    fn at(&self) -> Millis {
        match self {
            Entry::Message(m) => m.at,
            Entry::Activity(a) => a.at,
        }
    }
}

#[component]
fn Thread(conversation: Conversation) -> impl IntoView {
    let session = use_session();
    let customer = conversation.customer.name.clone();
    let mut entries: Vec<Entry> = conversation
        .messages
        .into_iter()
        .map(Entry::Message)
        .chain(conversation.activity.into_iter().map(Entry::Activity))
        .collect();
    entries.sort_by_key(Entry::at);
    let workspace = session.workspace().get_untracked();
    let items = entries
        .into_iter()
        .map(|entry| match entry {
            Entry::Message(m) => {
                let (who, id, mine) = match &m.author {
                    Author::Customer => (customer.clone(), "customer".to_owned(), false),
                    Author::Agent(agent) => (session.agent_name(agent), agent.to_string(), true),
                    Author::System => ("Baton".to_owned(), "system".to_owned(), true),
                };
                let note = m.kind == MessageKind::Note;
                view! {
                    <li class="message" class:from-agent=mine class:note=note data-testid=if note { "note" } else { "message" }>
                        <Avatar name=who.clone() id=id small=true />
                        <div class="bubble">
                            <div class="message-head">
                                <strong>{who}</strong>
                                {note.then(|| view! { <span class="tag">"Internal note"</span> })}
                                {m.leave_unassigned.then(|| view! { <span class="tag">"Left unassigned"</span> })}
                                <span class="muted">{time::clock(m.at)}</span>
                            </div>
                            <p class="body">{m.body}</p>
                        </div>
                    </li>
                }
                .into_any()
            }
            Entry::Activity(a) => view! {
                <li class="activity" data-testid="activity">
                    <span>{words::activity(&workspace, &a.by, &a.event)}</span>
                    <span class="muted">{time::clock(a.at)}</span>
                </li>
            }
            .into_any(),
        })
        .collect_view();
    view! { <ol class="thread" aria-label="Messages and activity">{items}</ol> }
}
