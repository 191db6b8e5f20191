//! Changes to the workspace document: the agent's own settings (away,
//! notification sign-ups) and an admin's workflows. Each is drawn at once (a
//! setting's switch must not lag) and kept on this device right after.

use automerge::AutoCommit;
use baton_shared::ids::AgentId;
use baton_shared::model::Millis;
use baton_shared::operations::OpError;
use baton_shared::workspace::Workspace;
use leptos::prelude::*;

use super::client::Client;
use super::outbox::Intent;
use super::redo::Op;
use crate::error::AppError;
use crate::time;

impl Client {
    pub(super) fn change_own_workspace(&self, op: Op) -> Result<(), AppError> {
        let run = |d: &mut AutoCommit, w: &Workspace, me: &AgentId, now| op.run(d, w, me, now);
        self.change_workspace_with(&op, run)
    }

    /// Runs an admin's change to the workspace document (a workflow).
    pub(super) fn change_workspace(
        &self,
        change: impl FnOnce(&mut AutoCommit, Millis) -> Result<(), OpError>,
    ) -> Result<(), AppError> {
        self.change_workspace_with(&Op::Workspace, |d, _, _, now| {
            change(d, now)?;
            Ok(Intent::Other)
        })
    }

    fn change_workspace_with(
        &self,
        op: &Op,
        run: impl FnOnce(&mut AutoCommit, &Workspace, &AgentId, Millis) -> Result<Intent, OpError>,
    ) -> Result<(), AppError> {
        let doc = self.workspace_doc().ok_or(AppError::SignedOut)?;
        let workspace = self.workspace.get_untracked();
        if self.apply(&workspace, doc, op, time::now(), run)?.is_some() {
            self.flush();
            self.refresh(&[doc]);
            self.draw_pending();
            leptos::task::spawn_local(self.keep(vec![(doc, None)]));
        }
        Ok(())
    }
}
