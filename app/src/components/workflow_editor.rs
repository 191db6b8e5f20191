//! The workflow editor: name and trigger, conditions, steps from a
//! dropdown (choosing the agent for Assign), save. Text fields write the
//! draft without re-rendering (so focus stays); structural changes
//! (a step added, a trigger picked) re-render the form.

use baton_shared::ids::{AgentId, ChannelId};
use baton_shared::workflow::{Condition, Step, Trigger, Workflow};
use leptos::prelude::*;

use crate::state::{Session, use_session, use_toasts};

fn trigger_slug(trigger: &Trigger) -> &'static str {
    match trigger {
        Trigger::ConversationCreated => "created",
        Trigger::CustomerMessage => "message",
        Trigger::ConversationReopened => "reopened",
        Trigger::UnassignedFor { .. } => "unassigned",
    }
}

fn trigger_of(slug: &str, minutes: u32) -> Trigger {
    match slug {
        "message" => Trigger::CustomerMessage,
        "reopened" => Trigger::ConversationReopened,
        "unassigned" => Trigger::UnassignedFor { minutes },
        _ => Trigger::ConversationCreated,
    }
}

fn new_condition(kind: &str) -> Option<Condition> {
    Some(match kind {
        "channel" => Condition::ChannelIn {
            channels: Vec::new(),
        },
        "text" => Condition::TextContains {
            text: String::new(),
        },
        "domain" => Condition::EmailDomain {
            domains: Vec::new(),
        },
        "within" => Condition::WithinBusinessHours,
        "outside" => Condition::OutsideBusinessHours,
        _ => return None,
    })
}

fn new_step(kind: &str, first_agent: Option<AgentId>) -> Option<Step> {
    Some(match kind {
        "assign" => Step::Assign {
            agent: first_agent?,
        },
        "round_robin" => Step::RoundRobin { agents: Vec::new() },
        "least_busy" => Step::LeastBusy { agents: Vec::new() },
        "unassign" => Step::Unassign,
        "note" => Step::Note {
            body: String::new(),
        },
        _ => return None,
    })
}

/// Puts an "Add …" dropdown back on its prompt after it added something.
fn reset_select(ev: &leptos::ev::Event) {
    if let Some(target) = ev.target() {
        let _ = js_sys::Reflect::set(&target, &"value".into(), &"".into());
    }
}

fn toggle<T: PartialEq + Clone>(list: &mut Vec<T>, item: &T, on: bool) {
    list.retain(|x| x != item);
    if on {
        list.push(item.clone());
    }
}

/// Changes to the draft: `edit` redraws the form (a part added or
/// removed), `edit_quietly` does not (typing keeps its focus).
#[allow(clippy::type_complexity)]
fn editors(
    draft: RwSignal<Option<Workflow>>,
) -> (
    impl Fn(&dyn Fn(&mut Workflow)) + Copy,
    impl Fn(&dyn Fn(&mut Workflow)) + Copy,
) {
    let edit = move |f: &dyn Fn(&mut Workflow)| {
        draft.update(|d| {
            if let Some(d) = d {
                f(d)
            }
        })
    };
    let edit_quietly = move |f: &dyn Fn(&mut Workflow)| {
        draft.update_untracked(|d| {
            if let Some(d) = d {
                f(d)
            }
        })
    };
    (edit, edit_quietly)
}

/// The active agents, by name, for Assign steps.
fn active_agents(session: Session) -> Vec<(AgentId, String)> {
    session.workspace().with(|w| {
        let mut agents: Vec<_> = w
            .agents
            .values()
            .filter(|a| a.active)
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect();
        agents.sort_by(|a, b| a.1.cmp(&b.1));
        agents
    })
}

/// The channels, by name, for channel conditions.
fn channel_names(session: Session) -> Vec<(ChannelId, String)> {
    session.workspace().with(|w| {
        let mut channels: Vec<(ChannelId, String)> = w
            .channels
            .values()
            .map(|c| (c.id.clone(), c.name.clone()))
            .collect();
        channels.sort_by(|a, b| a.1.cmp(&b.1));
        channels
    })
}

/// The form for one workflow. Text fields write the draft without
/// re-rendering (so focus stays); structural changes re-render.
#[component]
pub fn Editor(draft: RwSignal<Option<Workflow>>, initial: Workflow) -> impl IntoView {
    let (session, toasts) = (use_session(), use_toasts());
    let error = RwSignal::new(None::<String>);
    let (edit, edit_quietly) = editors(draft);
    let minutes = match initial.trigger {
        Trigger::UnassignedFor { minutes } => minutes,
        _ => 15,
    };
    let save = move |_| {
        let Some(wf) = draft.get_untracked() else {
            return;
        };
        if let Err(problem) = session.workspace().with_untracked(|w| wf.check(w)) {
            error.set(Some(problem.to_string()));
            return;
        }
        match session.save_workflow(wf) {
            Ok(()) => {
                toasts.info("Workflow saved");
                draft.set(None);
            }
            Err(problem) => error.set(Some(problem.to_string())),
        }
    };
    view! {
        <div class="workflow-editor" data-testid="workflow-editor" role="form" aria-label="Workflow">
            <label class="stacked">"Name"
                <input data-testid="workflow-name" prop:value=initial.name.clone()
                    on:input=move |ev| { let v = event_target_value(&ev); edit_quietly(&|d| d.name = v.clone()); } />
            </label>
            <div class="stacked">
                <label for="workflow-trigger">"Trigger"</label>
                <div class="inline">
                    <select id="workflow-trigger" data-testid="workflow-trigger"
                        on:change=move |ev| { let v = event_target_value(&ev); edit(&|d| d.trigger = trigger_of(&v, minutes)); }>
                        {[("created", "A conversation is created"), ("message", "A customer message arrives"), ("reopened", "A conversation is reopened"), ("unassigned", "A conversation is still unassigned after…")]
                            .into_iter().map(|(slug, label)| view! {
                                <option value=slug selected=trigger_slug(&initial.trigger) == slug>{label}</option>
                            }).collect_view()}
                    </select>
                    <Show when=move || draft.with(|d| matches!(d.as_ref().map(|d| &d.trigger), Some(Trigger::UnassignedFor { .. })))>
                        <input type="number" min="1" class="narrow" aria-label="Minutes" prop:value=minutes.to_string()
                            on:input=move |ev| {
                                let m = event_target_value(&ev).parse().unwrap_or(minutes);
                                edit_quietly(&|d| d.trigger = Trigger::UnassignedFor { minutes: m });
                            } />
                        <span class="muted">"minutes"</span>
                    </Show>
                </div>
            </div>
            <Conditions draft=draft />
            <Steps draft=draft />
            <Show when=move || error.get().is_some()>
                <p class="form-error" role="alert" data-testid="workflow-error">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <div class="row-actions">
                <button class="primary" data-testid="workflow-save" on:click=save>"Save workflow"</button>
                <button class="ghost" on:click=move |_| draft.set(None)>"Cancel"</button>
            </div>
        </div>
    }
}

/// The conditions, each with its own inputs, and "Add a condition…".
#[component]
fn Conditions(draft: RwSignal<Option<Workflow>>) -> impl IntoView {
    let session = use_session();
    let (edit, edit_quietly) = editors(draft);
    let channels = move || channel_names(session);
    let conditions =
        move || draft.with(|d| d.as_ref().map(|d| d.conditions.clone()).unwrap_or_default());
    view! {
            <fieldset>
                <legend>"Conditions (all must hold)"</legend>
                {move || conditions().into_iter().enumerate().map(|(i, condition)| {
                    let remove = move |_| edit(&|d| { d.conditions.remove(i); });
                    let body = match condition {
                        Condition::ChannelIn { channels: chosen } => view! {
                            <span>"Channel is one of"</span>
                            {channels().into_iter().map(|(id, name)| {
                                let on = chosen.contains(&id);
                                view! {
                                    <label class="check"><input type="checkbox" prop:checked=on
                                        on:change=move |ev| {
                                            let want = event_target_checked(&ev);
                                            edit_quietly(&|d| if let Some(Condition::ChannelIn { channels }) = d.conditions.get_mut(i) { toggle(channels, &id, want) });
                                        } />{name}</label>
                                }
                            }).collect_view()}
                        }.into_any(),
                        Condition::TextContains { text } => view! {
                            <label class="inline">"Message contains"
                                <input prop:value=text on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    edit_quietly(&|d| if let Some(Condition::TextContains { text }) = d.conditions.get_mut(i) { text.clone_from(&v) });
                                } />
                            </label>
                        }.into_any(),
                        Condition::EmailDomain { domains } => view! {
                            <label class="inline">"Customer email domain"
                                <input placeholder="acme.com, example.org" prop:value=domains.join(", ") on:input=move |ev| {
                                    let list: Vec<String> = event_target_value(&ev).split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
                                    edit_quietly(&|d| if let Some(Condition::EmailDomain { domains }) = d.conditions.get_mut(i) { domains.clone_from(&list) });
                                } />
                            </label>
                        }.into_any(),
                        Condition::WithinBusinessHours => view! { <span>"Within business hours"</span> }.into_any(),
                        Condition::OutsideBusinessHours => view! { <span>"Outside business hours"</span> }.into_any(),
                    };
                    view! { <div class="part">{body}<button class="icon" aria-label="Remove condition" on:click=remove>"×"</button></div> }
                }).collect_view()}
                <select aria-label="Add a condition" data-testid="add-condition"
                    on:change=move |ev| {
                        if let Some(c) = new_condition(&event_target_value(&ev)) { edit(&|d| d.conditions.push(c.clone())); }
                        reset_select(&ev);
                    }>
                    <option value="" selected>"Add a condition…"</option>
                    <option value="channel">"Channel is one of"</option>
                    <option value="text">"Message contains"</option>
                    <option value="domain">"Customer email domain"</option>
                    <option value="within">"Within business hours"</option>
                    <option value="outside">"Outside business hours"</option>
                </select>
            </fieldset>
    }
}

/// The steps, in order, each with its own inputs, and "Add a step…".
#[component]
fn Steps(draft: RwSignal<Option<Workflow>>) -> impl IntoView {
    let session = use_session();
    let (edit, edit_quietly) = editors(draft);
    let agents = move || active_agents(session);
    let steps = move || draft.with(|d| d.as_ref().map(|d| d.steps.clone()).unwrap_or_default());
    view! {
            <fieldset>
                <legend>"Steps, in order"</legend>
                {move || steps().into_iter().enumerate().map(|(i, step)| {
                    let remove = move |_| edit(&|d| { d.steps.remove(i); });
                    let round_robin = matches!(step, Step::RoundRobin { .. });
                    let body = match step {
                        Step::Assign { agent } => view! {
                            <label class="inline">"Assign to"
                                <select data-testid="step-agent" on:change=move |ev| {
                                    if let Ok(a) = event_target_value(&ev).parse::<AgentId>() {
                                        edit_quietly(&|d| if let Some(Step::Assign { agent }) = d.steps.get_mut(i) { *agent = a.clone() });
                                    }
                                }>
                                    {agents().into_iter().map(|(id, name)| view! {
                                        <option value=id.to_string() selected=id == agent>{name}</option>
                                    }).collect_view()}
                                </select>
                            </label>
                        }.into_any(),
                        Step::RoundRobin { agents: chosen } | Step::LeastBusy { agents: chosen } => {
                            let label = if round_robin { "Assign round-robin among" } else { "Assign to the least busy of" };
                            view! {
                                <span>{label}</span>
                                {agents().into_iter().map(|(id, name)| {
                                    let on = chosen.contains(&id);
                                    view! {
                                        <label class="check"><input type="checkbox" prop:checked=on on:change=move |ev| {
                                            let want = event_target_checked(&ev);
                                            edit_quietly(&|d| if let Some(Step::RoundRobin { agents } | Step::LeastBusy { agents }) = d.steps.get_mut(i) {
                                                toggle(agents, &id, want)
                                            });
                                        } />{name}</label>
                                    }
                                }).collect_view()}
                                <span class="muted">"(none ticked: the channel's signed-up agents)"</span>
                            }.into_any()
                        }
                        Step::Unassign => view! { <span>"Unassign"</span> }.into_any(),
                        Step::Note { body } => view! {
                            <label class="inline">"Add internal note"
                                <input prop:value=body on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    edit_quietly(&|d| if let Some(Step::Note { body }) = d.steps.get_mut(i) { body.clone_from(&v) });
                                } />
                            </label>
                        }.into_any(),
                    };
                    view! { <div class="part" data-testid="workflow-step">{body}<button class="icon" aria-label="Remove step" on:click=remove>"×"</button></div> }
                }).collect_view()}
                <select aria-label="Add a step" data-testid="add-step"
                    on:change=move |ev| {
                        let first = agents().into_iter().next().map(|(id, _)| id);
                        if let Some(s) = new_step(&event_target_value(&ev), first) { edit(&|d| d.steps.push(s.clone())); }
                        reset_select(&ev);
                    }>
                    <option value="" selected>"Add a step…"</option>
                    <option value="assign">"Assign"</option>
                    <option value="round_robin">"Assign round-robin"</option>
                    <option value="least_busy">"Assign to least busy"</option>
                    <option value="unassign">"Unassign"</option>
                    <option value="note">"Add internal note"</option>
                </select>
            </fieldset>
    }
}
