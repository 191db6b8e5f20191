//! Who is signed in, and the workspace they work in: the session service.
//! Signing in and out, the agent's own settings (away, notification
//! sign-ups) and an admin's workflow changes go through it too.

use baton_shared::ids::{AgentId, ChannelId, WorkflowId};
use baton_shared::workflow::Workflow;
use baton_shared::workspace::{self as ws, Workspace};
use leptos::prelude::*;

use super::client::Client;
use super::redo::Op;
use crate::api::{self, ApiError};
use crate::error::AppError;

/// Where the app is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Booting,
    SignedOut { problem: Option<String> },
    Ready(SignedIn),
}

/// The signed-in agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub me: AgentId,
    pub name: String,
    pub email: String,
}

/// The session service (`use_session()`).
#[derive(Clone, Copy)]
pub struct Session(pub(super) Client);

impl Session {
    /// Reactive: booting, signed out (and why), or signed in.
    pub fn phase(&self) -> Phase {
        self.0.phase.get()
    }

    /// Reactive: the signed-in agent.
    pub fn signed_in(&self) -> Option<SignedIn> {
        match self.0.phase.get() {
            Phase::Ready(session) => Some(session),
            _ => None,
        }
    }

    /// The signed-in agent's id, if any (not reactive).
    pub fn me(&self) -> Option<AgentId> {
        self.0.me()
    }

    /// The workspace document as last read (agents, channels, workflows).
    pub fn workspace(&self) -> ReadSignal<Workspace> {
        self.0.workspace.read_only()
    }

    /// Reactive: whether the signed-in agent is an admin (per the workspace).
    pub fn is_admin(&self) -> bool {
        let Some(session) = self.signed_in() else {
            return false;
        };
        self.0.workspace.with(|w| w.is_admin(&session.me))
    }

    /// Reactive: whether the signed-in agent is away.
    pub fn is_away(&self) -> bool {
        let Some(session) = self.signed_in() else {
            return false;
        };
        self.0
            .workspace
            .with(|w| w.agent(&session.me).is_some_and(|a| a.away))
    }

    /// A display name for an agent id (not reactive).
    pub fn agent_name(&self, id: &AgentId) -> String {
        self.0.agent_name(id)
    }

    pub async fn login(self, email: String, password: String) -> Result<(), AppError> {
        api::login(email.trim(), &password)
            .await
            .map_err(|e| match e {
                ApiError::SignedOut => AppError::WrongPassword,
                other => AppError::Api(other),
            })?;
        self.0.boot().await;
        Ok(())
    }

    pub async fn logout(self) {
        self.0.logout().await;
    }

    /// Signs the agent up for (or off) notifications on a channel.
    pub fn set_subscription(&self, channel: ChannelId, subscribed: bool) -> Result<(), AppError> {
        self.0.change_own_workspace(Op::Subscribe {
            channel,
            subscribed,
        })
    }

    /// Away (skipped by round-robin workflows) or available.
    pub fn set_away(&self, away: bool) -> Result<(), AppError> {
        self.0.change_own_workspace(Op::Away { away })
    }

    /// Saves a workflow (new or edited).
    pub fn save_workflow(&self, workflow: Workflow) -> Result<(), AppError> {
        self.0
            .change_workspace(move |doc, now| ws::put_workflow(doc, &workflow, now))
    }

    pub fn enable_workflow(&self, id: WorkflowId, enabled: bool) -> Result<(), AppError> {
        self.0
            .change_workspace(move |doc, now| ws::set_workflow_enabled(doc, &id, enabled, now))
    }

    pub fn delete_workflow(&self, id: WorkflowId) -> Result<(), AppError> {
        self.0
            .change_workspace(move |doc, now| ws::delete_workflow(doc, &id, now))
    }

    /// Puts the workflows in this order.
    pub fn reorder_workflows(&self, ids: Vec<WorkflowId>) -> Result<(), AppError> {
        self.0
            .change_workspace(move |doc, now| ws::reorder_workflows(doc, &ids, now))
    }
}

impl Client {
    /// The signed-in agent's id, if any.
    pub(super) fn me(&self) -> Option<AgentId> {
        match self.phase.get_untracked() {
            Phase::Ready(session) => Some(session.me),
            _ => None,
        }
    }

    /// A display name for an agent id.
    pub(super) fn agent_name(&self, id: &AgentId) -> String {
        self.workspace.with_untracked(|w| {
            w.agent(id)
                .map_or_else(|| "Former agent".to_owned(), |a| a.name.clone())
        })
    }
}
