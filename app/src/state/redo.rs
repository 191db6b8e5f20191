//! An agent's action as the outbox keeps it: enough to run it again on a
//! fresh copy of the document (after the server refused one of the agent's
//! changes), through the same `shared::operations` it first ran through.

use automerge::AutoCommit;
use baton_shared::ids::{AgentId, ChannelId};
use baton_shared::model::{By, Millis};
use baton_shared::operations::{self, OpError, ReplyMode};
use baton_shared::workspace::{self as ws, Workspace};
use serde::{Deserialize, Serialize};

use super::outbox::Intent;

/// One action of the agent on one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    Reply {
        body: String,
        leave_unassigned: bool,
    },
    Note {
        body: String,
    },
    /// Assign, Reassign or Unassign (`to: None`); `batch` ties a bulk
    /// action's conversations together (one notification per agent).
    Assign {
        to: Option<AgentId>,
        batch: Option<baton_shared::ids::BatchId>,
    },
    Resolve,
    Reopen,
    Subscribe {
        channel: ChannelId,
        subscribed: bool,
    },
    Away {
        away: bool,
    },
    /// An admin's change to the workspace (settings, a workflow). Not redone:
    /// the editor holds the draft, and a refused one needs the admin's eye.
    Workspace,
}

impl Op {
    /// Runs the action on `doc` as `me`; says what it meant for the assignee.
    pub fn run(
        &self,
        doc: &mut AutoCommit,
        workspace: &Workspace,
        me: &AgentId,
        now: Millis,
    ) -> Result<Intent, OpError> {
        let by = By::Agent(me.clone());
        match self {
            Op::Reply {
                body,
                leave_unassigned,
            } => {
                let mode = if *leave_unassigned {
                    ReplyMode::LeaveUnassigned
                } else {
                    ReplyMode::Claim
                };
                let outcome = operations::reply(doc, workspace, me, body, mode, now)?;
                Ok(if outcome.claimed {
                    Intent::Claim(me.clone())
                } else {
                    Intent::Other
                })
            }
            Op::Note { body } => {
                operations::note(doc, workspace, me, body, now)?;
                Ok(Intent::Other)
            }
            Op::Assign { to, batch } => {
                operations::assign(doc, workspace, &by, to.as_ref(), batch.as_ref(), now)?;
                Ok(Intent::Assign(to.clone()))
            }
            Op::Resolve => {
                operations::resolve(doc, &by, now)?;
                Ok(Intent::Other)
            }
            Op::Reopen => {
                operations::reopen(doc, &by, now)?;
                Ok(Intent::Other)
            }
            Op::Subscribe {
                channel,
                subscribed,
            } => {
                ws::set_subscription(doc, me, channel, *subscribed, now)?;
                Ok(Intent::Other)
            }
            Op::Away { away } => {
                ws::set_away(doc, me, *away, now)?;
                Ok(Intent::Other)
            }
            Op::Workspace => Err(OpError::Automerge(
                "a workspace change is not redone; make it again".to_owned(),
            )),
        }
    }

    /// "your reply to “Refund”": the action on the conversation `subject`.
    pub fn on(&self, subject: &str, workspace: &Workspace) -> String {
        match self {
            Op::Reply { .. } => format!("your reply to “{subject}”"),
            Op::Note { .. } => format!("your note on “{subject}”"),
            Op::Assign { to: Some(to), .. } => {
                let name = workspace
                    .agent(to)
                    .map_or_else(|| "a former agent".to_owned(), |a| a.name.clone());
                format!("your reassign of “{subject}” to {name}")
            }
            Op::Assign { to: None, .. } => format!("your unassign of “{subject}”"),
            Op::Resolve => format!("resolving “{subject}”"),
            Op::Reopen => format!("reopening “{subject}”"),
            Op::Subscribe { .. } | Op::Away { .. } | Op::Workspace => self.words(workspace),
        }
    }

    /// "your reply", "your reassign to Ben": what the agent did, in words.
    pub fn words(&self, workspace: &Workspace) -> String {
        let name = |agent: &AgentId| {
            workspace
                .agent(agent)
                .map_or_else(|| "a former agent".to_owned(), |a| a.name.clone())
        };
        match self {
            Op::Reply { .. } => "your reply".to_owned(),
            Op::Note { .. } => "your note".to_owned(),
            Op::Assign { to: Some(to), .. } => format!("your reassign to {}", name(to)),
            Op::Assign { to: None, .. } => "your unassign".to_owned(),
            Op::Resolve => "resolving it".to_owned(),
            Op::Reopen => "reopening it".to_owned(),
            Op::Subscribe { channel, .. } => {
                let channel = workspace
                    .channels
                    .get(channel)
                    .map_or_else(|| "a channel".to_owned(), |c| c.name.clone());
                format!("your notification setting for {channel}")
            }
            Op::Away { .. } => "your availability".to_owned(),
            Op::Workspace => "your workspace change".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures;
    use baton_shared::conversation;
    use baton_shared::rules::RuleBroken;

    #[test]
    fn every_action_runs_through_the_shared_operations() {
        let (workspace, agents) = fixtures::workspace(&["Ana", "Ben"]);
        let (ana, ben) = (&agents[0], &agents[1]);
        let mut doc = fixtures::document("Refund", "Where is my refund?");
        let reply = Op::Reply {
            body: "On it".into(),
            leave_unassigned: false,
        };
        assert_eq!(
            reply.run(&mut doc, &workspace, ana, 2_000),
            Ok(Intent::Claim(ana.clone()))
        );
        let to_ben = Op::Assign {
            to: Some(ben.clone()),
            batch: None,
        };
        assert_eq!(
            to_ben.run(&mut doc, &workspace, ana, 2_001),
            Ok(Intent::Assign(Some(ben.clone())))
        );
        Op::Note { body: "VIP".into() }
            .run(&mut doc, &workspace, ana, 2_002)
            .unwrap();
        Op::Resolve.run(&mut doc, &workspace, ana, 2_003).unwrap();
        let read = conversation::read(&doc).unwrap();
        assert_eq!(read.assignee(), Some(ben));
        assert_eq!(read.messages.len(), 3);
        // A reply to a resolved conversation no longer validates.
        assert_eq!(
            reply.run(&mut doc, &workspace, ana, 2_004),
            Err(OpError::Rule(RuleBroken::Resolved))
        );
        assert!(Op::Workspace.run(&mut doc, &workspace, ana, 2_005).is_err());
    }

    #[test]
    fn actions_are_kept_as_json_and_named_in_words() {
        let (workspace, agents) = fixtures::workspace(&["Ana", "Ben"]);
        let ops = [
            Op::Reply {
                body: "Hi".into(),
                leave_unassigned: true,
            },
            Op::Assign {
                to: Some(agents[1].clone()),
                batch: Some(baton_shared::operations::new_batch_id()),
            },
            Op::Reopen,
        ];
        for op in &ops {
            let json = serde_json::to_string(op).unwrap();
            assert_eq!(&serde_json::from_str::<Op>(&json).unwrap(), op);
        }
        assert_eq!(ops[0].words(&workspace), "your reply");
        assert_eq!(ops[1].words(&workspace), "your reassign to Ben");
    }

    #[test]
    fn a_bulk_action_kept_by_an_older_app_still_reads_with_its_batch() {
        // Before batch ids were typed, the outbox kept them as plain strings.
        let batch = baton_shared::operations::new_batch_id();
        let kept = format!(r#"{{"op":"assign","to":null,"batch":"{batch}"}}"#);
        assert_eq!(
            serde_json::from_str::<Op>(&kept).unwrap(),
            Op::Assign {
                to: None,
                batch: Some(batch),
            }
        );
    }
}
