//! The server's repairs of a conversation that concurrent changes left
//! wrong: competing assignments settled, an assignee deactivated meanwhile
//! unassigned. Each repair is one change with an activity entry.

use automerge::AutoCommit;

use super::{OpError, check_room, unassign_by_server};
use crate::assignment::{Conflict, conflict};
use crate::clock::next_at;
use crate::conversation;
use crate::doc_io::commit_options;
use crate::ids::AgentId;
use crate::model::{Activity, ActivityEvent, Assignment, AssignmentKind, By, Millis};
use crate::rules;
use crate::workspace::Workspace;

/// What the server corrected after concurrency made a conversation wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Correction {
    /// Concurrent assignments were settled; the losers are to be told.
    Settled(Conflict),
    /// The assignee had been deactivated meanwhile; the conversation is unassigned.
    Unassigned {
        /// The agent who was unassigned.
        previous: AgentId,
    },
}

/// The server's repair of a conversation that concurrent changes left wrong:
/// settles competing assignments (DESIGN §3.4), and unassigns an agent who is
/// no longer active. Each correction is one change with an activity entry.
pub fn correct(
    doc: &mut AutoCommit,
    workspace: &Workspace,
    now: Millis,
) -> Result<Vec<Correction>, OpError> {
    let mut done = Vec::new();
    // A full conversation takes no more entries; every replica still
    // agrees on its assignee by the rule, settled or not.
    if check_room(&conversation::read(doc)?, None, true).is_err() {
        return Ok(done);
    }
    if let Some(conflict) = settle(doc, now)? {
        done.push(Correction::Settled(conflict));
    }
    let current = conversation::read(doc)?;
    if check_room(&current, None, true).is_err() {
        return Ok(done);
    }
    if let Some(gone) = rules::inactive_assignee(&current, workspace) {
        let at = next_at(now, current.latest_at());
        unassign_by_server(doc, gone.clone(), at)?;
        doc.commit_with(commit_options("unassign inactive agent", at));
        done.push(Correction::Unassigned {
            previous: gone.clone(),
        });
    }
    Ok(done)
}

/// The server ends a conflict by writing the winner again as `settled`, with an
/// activity entry, in one change. Returns the conflict it settled, or `None`
/// when there was nothing to settle.
pub fn settle(doc: &mut AutoCommit, now: Millis) -> Result<Option<Conflict>, OpError> {
    let current = conversation::read(doc)?;
    let Some(found) = conflict(&current.assignments) else {
        return Ok(None);
    };
    let at = next_at(now, current.latest_at());
    conversation::write_assignment(
        doc,
        &Assignment {
            agent: found.winner.agent.clone(),
            kind: AssignmentKind::Settled,
            by: By::Server,
            at,
        },
    )?;
    conversation::push_activity(
        doc,
        &Activity {
            at,
            by: By::Server,
            event: ActivityEvent::Settled {
                winner: found.winner.agent.clone(),
                losers: found.losers.clone(),
            },
        },
    )?;
    doc.commit_with(commit_options("settle", at));
    Ok(Some(found))
}
