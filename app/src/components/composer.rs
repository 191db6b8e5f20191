//! The reply box: Reply (claims an unassigned conversation), Reply and leave
//! unassigned, or an internal note. Warns first when someone else is typing
//! or the conversation belongs to someone else.

use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::operations::ReplyMode;
use baton_shared::protocol::PresenceState;
use leptos::html;
use leptos::prelude::*;

use super::ui::Ui;
use crate::state::{use_clock, use_conversations, use_session, use_toasts};
use crate::time;

/// Typing is announced at most this often.
const TYPING_EVERY_MS: i64 = 2_500;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Reply,
    Note,
}

#[component]
pub fn Composer(
    doc: DocumentId,
    assignee: Signal<Option<AgentId>>,
    open: Signal<bool>,
) -> impl IntoView {
    let conversations = use_conversations();
    let ui = expect_context::<Ui>();
    let body = RwSignal::new(String::new());
    let mode = RwSignal::new(Mode::Reply);
    // The warning the agent has seen and chosen to send past.
    let warned = RwSignal::new(None::<String>);
    let last_typing = StoredValue::new(0i64);
    let busy = RwSignal::new(false);
    let area = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        if ui.focus_reply.get() > 0
            && let Some(el) = area.get_untracked()
        {
            let _ = el.focus();
        }
    });
    let warning = reply_warning(doc, assignee);
    let send = sender(doc, body, busy, warned, warning);
    let on_input = move |ev| {
        body.set(event_target_value(&ev));
        let now = time::now();
        if now.saturating_sub(last_typing.get_value()) > TYPING_EVERY_MS {
            last_typing.set_value(now);
            conversations.announce(doc, PresenceState::Typing);
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
            ev.prevent_default();
            match mode.get_untracked() {
                Mode::Reply => send(Some(ReplyMode::Claim)),
                Mode::Note => send(None),
            }
        }
        if ev.key() == "Escape"
            && let Some(el) = area.get_untracked()
        {
            let _ = el.blur();
        }
    };
    let unassigned = move || assignee.with(|a| a.is_none());
    view! {
        <div class="composer" class:note-mode=move || mode.get() == Mode::Note>
            <Show when=move || open.get() fallback=|| view! {
                <p class="muted composer-closed">"This conversation is resolved. Reopen it to reply."</p>
            }>
                <div class="composer-tabs" role="tablist" aria-label="Reply or note">
                    <button role="tab" class="tab" data-testid="mode-reply"
                        aria-selected=move || (mode.get() == Mode::Reply).to_string()
                        on:click=move |_| mode.set(Mode::Reply)>"Reply"</button>
                    <button role="tab" class="tab" data-testid="mode-note"
                        aria-selected=move || (mode.get() == Mode::Note).to_string()
                        on:click=move |_| mode.set(Mode::Note)>"Internal note"</button>
                </div>
                <Show when=move || warned.get().is_some()>
                    <p class="composer-warning" role="alert" data-testid="reply-warning">
                        {move || warned.get().unwrap_or_default()}
                        " Send anyway?"
                    </p>
                </Show>
                <label class="visually-hidden" for=format!("reply-{doc}")>"Message"</label>
                <textarea id=format!("reply-{doc}") node_ref=area data-testid="reply-box"
                    rows="4"
                    placeholder=move || if mode.get() == Mode::Note { "Write a note only agents see" } else { "Write a reply to the customer" }
                    prop:value=body on:input=on_input on:keydown=on_key></textarea>
                <SendButtons mode=mode busy=busy body=body warned=warned
                    unassigned=Signal::derive(unassigned) send=Callback::new(send) />
            </Show>
        </div>
    }
}

/// Why a reply should wait for a second click: someone else is typing, or
/// the conversation is someone else's.
fn reply_warning(
    doc: DocumentId,
    assignee: Signal<Option<AgentId>>,
) -> impl Fn() -> Option<String> + Copy {
    let (conversations, session, clock) = (use_conversations(), use_session(), use_clock());
    move || {
        let me = session.me()?;
        let typing: Vec<String> = conversations
            .others_here(&doc, clock.now())
            .into_iter()
            .filter(|(_, s)| *s == PresenceState::Typing)
            .map(|(a, _)| session.agent_name(&a))
            .collect();
        if let Some(name) = typing.first() {
            return Some(format!("{name} is typing a reply right now."));
        }
        match assignee.get() {
            Some(agent) if agent != me => Some(format!(
                "This conversation belongs to {}.",
                session.agent_name(&agent)
            )),
            _ => None,
        }
    }
}

/// Reply / Send anyway, Reply and leave unassigned, or Add note.
#[component]
fn SendButtons(
    mode: RwSignal<Mode>,
    busy: RwSignal<bool>,
    body: RwSignal<String>,
    warned: RwSignal<Option<String>>,
    unassigned: Signal<bool>,
    send: Callback<Option<ReplyMode>>,
) -> impl IntoView {
    let send = move |m| send.run(m);
    view! {
        <div class="composer-actions">
            <Show when=move || mode.get() == Mode::Reply fallback=move || view! {
                <button class="primary" data-testid="note-send" on:click=move |_| send(None)
                    disabled=move || busy.get() || body.with(|b| b.trim().is_empty())>"Add note"</button>
            }>
                <button class="primary" data-testid="reply-send" on:click=move |_| send(Some(ReplyMode::Claim))
                    disabled=move || busy.get() || body.with(|b| b.trim().is_empty())
                    title=move || if unassigned.get() { "Sends and makes the conversation yours" } else { "Sends the reply" }>
                    {move || if warned.get().is_some() { "Send anyway" } else { "Reply" }}
                </button>
                <Show when=move || unassigned.get()>
                    <button class="ghost" data-testid="reply-leave-unassigned"
                        disabled=move || busy.get() || body.with(|b| b.trim().is_empty())
                        on:click=move |_| send(Some(ReplyMode::LeaveUnassigned))>
                        "Reply and leave unassigned"
                    </button>
                </Show>
            </Show>
            <span class="spacer"></span>
            <span class="muted hint">"Ctrl+Enter to send"</span>
        </div>
    }
}

/// Sends the box's text as a reply (`Some` mode) or a note (`None`); a
/// reply stops once for a warning the agent has not seen yet.
fn sender(
    doc: DocumentId,
    body: RwSignal<String>,
    busy: RwSignal<bool>,
    warned: RwSignal<Option<String>>,
    warning: impl Fn() -> Option<String> + Copy + 'static,
) -> impl Fn(Option<ReplyMode>) + Copy + 'static {
    let (conversations, toasts) = (use_conversations(), use_toasts());
    move |reply_mode: Option<ReplyMode>| {
        let text = body.get_untracked();
        if text.trim().is_empty() || busy.get_untracked() {
            return;
        }
        // Replies (not notes) stop once for a warning the agent has not seen.
        if reply_mode.is_some()
            && let Some(w) = warning()
            && warned.get_untracked().as_deref() != Some(w.as_str())
        {
            warned.set(Some(w));
            return;
        }
        // Kept on this device before the box clears; sending twice meanwhile
        // would send it twice.
        busy.set(true);
        let text = text.trim().to_owned();
        leptos::task::spawn_local(async move {
            let result = match reply_mode {
                Some(m) => {
                    let leave = m == ReplyMode::LeaveUnassigned;
                    conversations.reply(doc, text, leave).await.map(|claimed| {
                        if claimed {
                            toasts.info("Replied; the conversation is now yours.");
                        }
                    })
                }
                None => conversations.note(doc, text).await,
            };
            busy.set(false);
            match result {
                Ok(()) => {
                    body.set(String::new());
                    warned.set(None);
                    conversations.announce(doc, PresenceState::Viewing);
                }
                Err(problem) => toasts.problem(problem.to_string(), Some(doc)),
            }
        });
    }
}
