//! Admins' workflows: a list (enable, reorder, delete) and an editor — pick
//! the trigger, add conditions, add steps from a dropdown, choose the agent
//! for Assign, save. Saving writes the workspace document, so the change
//! applies at once, offline too, and reaches the server like any other.

use baton_shared::ids::WorkflowId;
use baton_shared::workflow::{
    Trigger, Workflow, describe_condition, describe_step, describe_trigger,
};
use leptos::prelude::*;

use super::workflow_editor::Editor;
use crate::api;
use crate::error::AppError;
use crate::state::{Route, use_navigation, use_session, use_toasts};
use crate::time;

#[component]
pub fn WorkflowsAdmin() -> impl IntoView {
    let (session, toasts) = (use_session(), use_toasts());
    let draft = RwSignal::new(None::<Workflow>);
    let runs = RwSignal::new(None::<Result<Vec<api::WorkflowRun>, AppError>>);
    let workflows = move || {
        session
            .workspace()
            .with(|w| w.workflows_in_order().cloned().collect::<Vec<_>>())
    };
    let done = move |result: Result<(), AppError>| {
        if let Err(problem) = result {
            toasts.problem(problem.to_string(), None);
        }
    };
    let move_by = move |id: WorkflowId, step: isize| {
        let mut ids: Vec<WorkflowId> = workflows().into_iter().map(|w| w.id).collect();
        let Some(at) = ids.iter().position(|i| *i == id) else {
            return;
        };
        let to = at as isize + step;
        if to < 0 || to as usize >= ids.len() {
            return;
        }
        ids.swap(at, to as usize);
        done(session.reorder_workflows(ids));
    };
    let load_runs = move |_| {
        leptos::task::spawn_local(async move {
            runs.set(Some(api::workflow_runs().await.map_err(AppError::from)));
        });
    };
    view! {
        <section class="card" data-testid="admin-workflows">
            <h2>"Workflows"</h2>
            <p class="muted">"A workflow runs its steps on the conversations its trigger and conditions pick. Assign steps only take unassigned conversations, so nobody loses a conversation they hold."</p>
            <ul class="workflow-list">
                <For
                    each=workflows
                    key=|w| format!("{w:?}")
                    children=move |wf| {
                        let summary = session.workspace().with_untracked(|ws| {
                            let mut parts = vec![describe_trigger(&wf.trigger)];
                            parts.extend(wf.conditions.iter().map(|c| format!("if {}", describe_condition(c, ws))));
                            parts.extend(wf.steps.iter().map(|s| describe_step(s, ws)));
                            parts.join(" · ")
                        });
                        let (id, id2, id3, id4, id5) = (wf.id.clone(), wf.id.clone(), wf.id.clone(), wf.id.clone(), wf.id.clone());
                        let enabled = wf.enabled;
                        let editing = wf.clone();
                        view! {
                            <li class="workflow-row" data-testid="workflow-row" data-workflow=wf.id.to_string()>
                                <label class="switch">
                                    <input type="checkbox" role="switch" prop:checked=enabled
                                        aria-label=format!("Enable {}", wf.name)
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            done(session.enable_workflow(id.clone(), on));
                                        } />
                                    <span class="switch-track" aria-hidden="true"></span>
                                </label>
                                <div class="workflow-text">
                                    <strong>{wf.name.clone()}</strong>
                                    <span class="muted">{summary}</span>
                                </div>
                                <button class="icon" aria-label="Move up" on:click=move |_| move_by(id2.clone(), -1)>"↑"</button>
                                <button class="icon" aria-label="Move down" on:click=move |_| move_by(id3.clone(), 1)>"↓"</button>
                                <button class="ghost" data-testid="workflow-edit" on:click=move |_| draft.set(Some(editing.clone()))>"Edit"</button>
                                <button class="ghost danger" on:click=move |_| {
                                    done(session.delete_workflow(id4.clone()));
                                    if draft.with_untracked(|d| d.as_ref().is_some_and(|d| d.id == id5)) {
                                        draft.set(None);
                                    }
                                }>"Delete"</button>
                            </li>
                        }
                    }
                />
            </ul>
            <Show when=move || session.workspace().with(|w| w.workflows.is_empty())>
                <p class="muted">"No workflows yet."</p>
            </Show>
            <div class="row-actions">
                <button class="primary" data-testid="workflow-new"
                    on:click=move |_| draft.set(Some(session.workspace().with_untracked(|w| Workflow::new("New workflow", Trigger::CustomerMessage, w))))>
                    "New workflow"
                </button>
                <button class="ghost" data-testid="workflow-runs" on:click=load_runs>"Recent runs"</button>
            </div>
            {move || draft.get().map(|wf| view! { <Editor draft=draft initial=wf /> })}
            <RunLog runs=runs />
        </section>
    }
}

/// The workflow run log, once asked for.
#[component]
fn RunLog(runs: RwSignal<Option<Result<Vec<api::WorkflowRun>, AppError>>>) -> impl IntoView {
    let nav = use_navigation();
    view! {
        {move || runs.get().map(|result| match result {
            Err(problem) => view! { <p class="form-error">{problem.to_string()}</p> }.into_any(),
            Ok(list) if list.is_empty() => view! { <p class="muted">"No workflow has run yet."</p> }.into_any(),
            Ok(list) => view! {
                <table class="table" data-testid="workflow-run-log">
                    <thead><tr><th>"When"</th><th>"Workflow"</th><th>"Event"</th><th>"What it did"</th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|run| {
                            let doc = run.document;
                            view! {
                                <tr>
                                    <td>{time::clock(run.at)}</td>
                                    <td>{run.workflow.name}</td>
                                    <td>{run.event}</td>
                                    <td>
                                        <button class="link" on:click=move |_| nav.go(Route::Conversation(doc))>{run.detail}</button>
                                        " " <span class="tag">{run.outcome}</span>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        })}
    }
}
