//! A client's part in a running load: apply what arrives, make the changes
//! the scheduler asks for.

use std::time::Instant;

use automerge::AutoCommit;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::By;
use baton_shared::operations::assign;
use tokio::sync::mpsc;

use crate::client::{BulkApplied, Client, SharedBook, is_socket_error, lock};

/// What the scheduler asks of one client.
pub(super) enum Command {
    Change {
        document: DocumentId,
        to: AgentId,
        holders: u32,
    },
    Bulk {
        documents: Vec<DocumentId>,
        to: AgentId,
        holders: u32,
    },
}

/// A client's loop during a load: apply what arrives, make the changes it
/// is told to. A socket the server closes or that breaks (an overloaded
/// step) ends the client's part, not the load: it keeps taking commands so
/// the run ends on schedule, and the run counts it as closed.
pub(super) async fn drive(
    mut client: Client,
    mut commands: mpsc::UnboundedReceiver<Command>,
    book: SharedBook,
    workspace: std::sync::Arc<baton_shared::workspace::Workspace>,
) -> anyhow::Result<Client> {
    loop {
        let open = !client.closed;
        let step = tokio::select! {
            frame = client.next_frame(), if open => {
                match client.on_frame(frame, Some(&book)).await {
                    Ok(true) => Ok(()),
                    Ok(false) => {
                        client.closed = true;
                        Ok(())
                    }
                    Err(err) => Err(err),
                }
            }
            command = commands.recv() => match command {
                None => return Ok(client),
                Some(command) => obey(&mut client, command, &book, &workspace).await,
            }
        };
        match step {
            Ok(()) => {}
            Err(err) if is_socket_error(&err) => client.closed = true,
            Err(err) => return Err(err),
        }
    }
}

/// Makes the change (or bulk of changes) `command` asks for and sends it.
async fn obey(
    client: &mut Client,
    command: Command,
    book: &SharedBook,
    workspace: &baton_shared::workspace::Workspace,
) -> anyhow::Result<()> {
    match command {
        Command::Change {
            document,
            to,
            holders,
        } => {
            let made = Instant::now();
            if !client.closed
                && let Some(mut doc) = client.checkout(&document)
            {
                if let Some(hash) = reassign_doc(&mut doc, &client.agent, workspace, &to) {
                    lock(book).expect(hash, made, holders, client.node);
                }
                client.commit(document, doc);
            }
            lock(book).handled += 1;
        }
        Command::Bulk {
            documents,
            to,
            holders,
        } => {
            // The copies are taken first: an agent of its own would
            // change its documents in place.
            let mut docs: Vec<_> = documents
                .iter()
                .filter_map(|id| Some((*id, client.checkout(id)?)))
                .collect();
            let made = Instant::now();
            let mut changed = Vec::new();
            for (_, doc) in &mut docs {
                if let Some(hash) = reassign_doc(doc, &client.agent, workspace, &to) {
                    changed.push(hash);
                }
            }
            let apply = made.elapsed();
            {
                let mut book = lock(book);
                for hash in &changed {
                    book.expect(*hash, made, holders, client.node);
                }
                book.bulk = BulkApplied {
                    apply,
                    changed: changed.len(),
                };
            }
            for (id, doc) in docs {
                client.commit(id, doc);
            }
        }
    }
    if client.closed {
        return Ok(());
    }
    client.flush().await
}

/// `agent` reassigns `doc` to `to` (or, if it is theirs already, to
/// themself); the change's hash, if anything changed.
pub(super) fn reassign_doc(
    doc: &mut AutoCommit,
    agent: &AgentId,
    workspace: &baton_shared::workspace::Workspace,
    to: &AgentId,
) -> Option<automerge::ChangeHash> {
    let by = By::Agent(agent.clone());
    let now = baton_shared::clock::now();
    for target in [to, agent] {
        if let Ok(outcome) = assign(doc, workspace, &by, Some(target), None, now)
            && outcome.changed
        {
            return Some(doc.get_last_local_change()?.hash());
        }
    }
    None
}
