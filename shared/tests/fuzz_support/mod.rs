//! What the `validate` fuzz target and the corpus replay test share: the
//! conversation a change is offered to, the workspace, and the check itself.
#![allow(dead_code)]
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use automerge::{AutoCommit, Change};
use baton_shared::model::{Agent, Role};
use baton_shared::validate::{
    Context, DocumentKind, OnlineHistory, Principal, Totals, Violation, change_shape, count_ops,
    validate_change,
};
use baton_shared::workspace::Workspace;

/// The saved conversation every validate input is a change to.
pub const CONVERSATION: &[u8] = include_bytes!("../../../fuzz/fixtures/conversation.automerge");

/// The server clock the corpus was made with.
pub const NOW: i64 = 1_700_000_000_000;

pub fn workspace() -> Workspace {
    let mut workspace = Workspace::default();
    for (name, role) in [("ana", Role::Agent), ("boss", Role::Admin)] {
        let id: baton_shared::ids::AgentId = format!("agt_{name}").parse().expect("agent id");
        workspace.agents.insert(
            id.clone(),
            Agent {
                id,
                name: name.to_owned(),
                email: format!("{name}@acme.test"),
                role,
                active: true,
                away: false,
                capacity: None,
            },
        );
    }
    workspace
}

/// Offers `data` as a change from Ana and from the server, as the server
/// does (its shape first); returns the verdicts (`None` when the bytes are
/// not a change at all).
pub fn validate_bytes(data: &[u8]) -> Option<[Result<(), Violation>; 2]> {
    change_shape(data).ok()?;
    let change = Change::from_bytes(data.to_vec()).ok()?;
    let mut doc = AutoCommit::load(CONVERSATION).ok()?;
    let workspace = workspace();
    let ana = Principal::Agent("agt_ana".parse().expect("agent id"));
    let online = OnlineHistory::default();
    let stored = Totals {
        ops: count_ops(&mut doc),
        bytes: CONVERSATION.len(),
    };
    let verdict = |principal: &Principal, doc: &mut AutoCommit| {
        let ctx = Context {
            principal,
            workspace: &workspace,
            now: NOW,
            online: &online,
            stored,
        };
        validate_change(doc, &change, DocumentKind::Conversation, &ctx).map(|_| ())
    };
    Some([
        verdict(&ana, &mut doc),
        verdict(&Principal::Server, &mut doc),
    ])
}
