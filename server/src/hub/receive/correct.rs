//! After a peer's changes commit: the server settles what concurrency made
//! wrong (competing assignees, an assignee deactivated meanwhile) as its
//! own change, and tells whoever's decision lost.

use baton_shared::conversation;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::Conversation;
use baton_shared::notify::{self, NoticeKind};
use baton_shared::operations::{Correction, correct};
use baton_shared::workspace::Workspace;

use super::super::change::redo;
use super::super::{Hub, HubError};
use crate::resident::Locked;
use crate::store::{NotificationRow, Write};

impl Hub {
    /// Settles the held copy just committed and tells the losers (unless
    /// `told` already says the conversation moved away from them). Returns
    /// every notification, and false when the settlement's commit found
    /// the document changed elsewhere: the copy is dropped, and the caller
    /// settles again once it is unlocked ([`Hub::settle`]).
    pub(super) async fn correct_received(
        &self,
        held: &mut Locked,
        workspace: &Workspace,
        mut told: Vec<NotificationRow>,
    ) -> Result<(Vec<NotificationRow>, bool), HubError> {
        let now = baton_shared::clock::now();
        let before = conversation::read(&held.doc)?;
        let corrections = correct(&mut held.doc, workspace, now)?;
        if corrections.is_empty() {
            return Ok((told, true));
        }
        let after = conversation::read(&held.doc)?;
        let lost = lost_rows(&corrections, &moved_away(&told), workspace, &after, held.id);
        let extra = lost.iter().cloned().map(Write::Notification).collect();
        let fixed = self
            .commit_conversation(held, Some(&before), workspace, extra)
            .await;
        match fixed {
            Ok(fixed) => {
                told.extend(fixed.notifications);
                told.extend(lost);
                Ok((told, true))
            }
            Err(err) => {
                // The peer's changes are durable; only the correction is
                // lost. It is made again on what the store holds now.
                held.discard();
                tracing::info!(document = %held.id, error = %err, "correction to be made again");
                Ok((told, false))
            }
        }
    }

    /// Settles the conversation as a change of its own, decided again while
    /// other nodes move it; `told` is what its last change already said.
    pub(super) async fn settle(
        &self,
        id: DocumentId,
        told: &[NotificationRow],
    ) -> Result<Vec<NotificationRow>, HubError> {
        let moved = moved_away(told);
        let now = baton_shared::clock::now();
        let (lost, fixed) = redo!(
            self,
            self.change_conversation_with(id, |doc, workspace| {
                let corrections = correct(doc, workspace, now)?;
                let after = conversation::read(doc)?;
                let lost = lost_rows(&corrections, &moved, workspace, &after, id);
                let writes = lost.iter().cloned().map(Write::Notification).collect();
                Ok((lost, writes))
            })
            .await
        )?;
        let mut all = fixed.notifications;
        all.extend(lost);
        Ok(all)
    }
}

/// The agents a change already told that the conversation left them.
fn moved_away(told: &[NotificationRow]) -> Vec<AgentId> {
    told.iter()
        .filter(|n| n.kind == NoticeKind::MovedAway)
        .map(|n| n.agent.clone())
        .collect()
}

/// "… holds “Subject”" for each agent whose claim a settlement overruled.
fn lost_rows(
    corrections: &[Correction],
    moved: &[AgentId],
    workspace: &Workspace,
    after: &Conversation,
    id: DocumentId,
) -> Vec<NotificationRow> {
    let notices: Vec<_> = corrections
        .iter()
        .filter_map(|c| match c {
            Correction::Settled(conflict) => Some(conflict),
            Correction::Unassigned { .. } => None,
        })
        .flat_map(|conflict| notify::lost(conflict, moved, workspace))
        .collect();
    crate::notify::rows(notices, after, id)
}
