//! Exactly once on the server: a retried event, and two server nodes sweeping
//! the same store at the same moment, run a workflow once.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::sync::Arc;

use baton_server::hub::Hub;
use baton_server::store::{SqlStore, Store};
use baton_server::team;
use baton_shared::conversation::{NewConversation, read};
use baton_shared::ids::{ConversationId, DocumentId};
use baton_shared::model::{ActivityEvent, By, Customer, MessageKind, Role};
use baton_shared::operations::customer_message;
use baton_shared::workflow::{Step, Trigger, TriggerEvent, Workflow};
use baton_shared::workspace;

const MINUTE: i64 = 60_000;

async fn node(dir: &std::path::Path) -> Arc<Hub> {
    let store: Arc<dyn Store> = Arc::new(SqlStore::open_dir(dir).await.unwrap());
    Hub::open(store).await.unwrap()
}

/// A team of two, a "still unassigned after 5 minutes" workflow, and a
/// conversation that has waited 10 minutes.
async fn setup(hub: &Hub, now: i64) -> (DocumentId, Workflow) {
    let ana = team::add_agent(hub, "ana@acme.test", "Ana", Role::Agent, None, None)
        .await
        .unwrap();
    let ben = team::add_agent(hub, "ben@acme.test", "Ben", Role::Agent, None, None)
        .await
        .unwrap();
    let channel = team::add_channel(hub, "Email", "email").await.unwrap();
    let workflow = hub
        .change_workspace(Vec::new(), |doc, current| {
            let mut workflow =
                Workflow::new("Sweep", Trigger::UnassignedFor { minutes: 5 }, current);
            workflow.steps = vec![
                Step::RoundRobin {
                    agents: vec![ana.id.clone(), ben.id.clone()],
                },
                Step::Note {
                    body: "Waited too long".to_owned(),
                },
            ];
            workspace::put_workflow(doc, &workflow, now)?;
            Ok(workflow)
        })
        .await
        .unwrap();
    let new = NewConversation {
        id: ConversationId::random(),
        channel: channel.id,
        subject: "Hello?".to_owned(),
        customer: Customer {
            id: "cus_dana".to_owned(),
            name: "Dana".to_owned(),
            email: "dana@example.com".to_owned(),
        },
        at: now - 10 * MINUTE,
    };
    let (document, _, _) = hub
        .import_conversation(&new, |doc, ws| {
            customer_message(doc, ws, "Is anyone there?", now - 10 * MINUTE)
        })
        .await
        .unwrap();
    (document, workflow)
}

#[tokio::test]
async fn two_nodes_sweeping_at_once_and_a_retry_run_the_workflow_once() {
    let dir = tempfile::tempdir().unwrap();
    let now = baton_shared::clock::now();
    let first = node(dir.path()).await;
    let (document, workflow) = setup(&first, now).await;
    let second = node(dir.path()).await;

    let (a, b) = tokio::join!(first.sweep_unassigned(now), second.sweep_unassigned(now));
    let made = a.unwrap().len() + b.unwrap().len();
    assert_eq!(made, 1, "one node ran it, the other found it done");

    // The same event again, on either node: nothing more.
    let held = first.copy_of(document).await.unwrap();
    let conversation = read(&held).unwrap();
    drop(held);
    let stale = TriggerEvent {
        kind: baton_shared::workflow::EventKind::Unassigned {
            since: now - 10 * MINUTE,
        },
        key: format!("unassigned:{}:{}", conversation.id, now - 10 * MINUTE),
        text: None,
        at: now - 10 * MINUTE,
    };
    for hub in [&first, &second] {
        let again = hub
            .run_workflows(document, std::slice::from_ref(&stale), now + MINUTE)
            .await
            .unwrap();
        assert!(again.is_empty());
        assert!(hub.sweep_unassigned(now + MINUTE).await.unwrap().is_empty());
    }

    let held = second.copy_of(document).await.unwrap();
    let conversation = read(&held).unwrap();
    let by_workflow: Vec<_> = conversation
        .activity
        .iter()
        .filter(|a| a.by == By::Workflow(workflow.id.clone()))
        .collect();
    assert_eq!(by_workflow.len(), 1, "{:?}", conversation.activity);
    assert!(matches!(
        by_workflow[0].event,
        ActivityEvent::Assigned { .. }
    ));
    let notes = conversation
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::Note)
        .count();
    assert_eq!(notes, 1);
    let runs = first.reads().workflow_runs(10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, "ran");
    assert_eq!(runs[0].workflow_name, "Sweep");
    // The projection knows the conversation is no longer waiting.
    let row = first
        .reads()
        .conversation(&conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.unassigned_since, None);
    assert!(row.assignee.is_some());
}

#[tokio::test]
async fn the_round_robin_turn_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let now = baton_shared::clock::now();
    let hub = node(dir.path()).await;
    let (first_doc, workflow) = setup(&hub, now).await;
    hub.sweep_unassigned(now).await.unwrap();
    let cursor = hub.reads().workflow_cursors().await.unwrap();
    assert_eq!(cursor.len(), 1);
    assert_eq!(cursor[0].0, workflow.id);
    let first_pick = {
        let held = hub.copy_of(first_doc).await.unwrap();
        read(&held).unwrap().assignee().cloned().unwrap()
    };
    assert_eq!(cursor[0].1, first_pick);
    drop(hub);

    // After a restart the next waiting conversation goes to the other agent.
    let hub = node(dir.path()).await;
    let channel = hub
        .workspace()
        .await
        .unwrap()
        .channels
        .keys()
        .next()
        .cloned()
        .unwrap();
    let new = NewConversation {
        id: ConversationId::random(),
        channel,
        subject: "Second".to_owned(),
        customer: Customer {
            id: "cus_eli".to_owned(),
            name: "Eli".to_owned(),
            email: "eli@example.com".to_owned(),
        },
        at: now - 9 * MINUTE,
    };
    let (second_doc, _, _) = hub
        .import_conversation(&new, |doc, ws| {
            customer_message(doc, ws, "Hi", now - 9 * MINUTE)
        })
        .await
        .unwrap();
    hub.sweep_unassigned(now).await.unwrap();
    let held = hub.copy_of(second_doc).await.unwrap();
    let second_pick = read(&held).unwrap().assignee().cloned().unwrap();
    assert_ne!(second_pick, first_pick);
}

#[tokio::test]
async fn a_projection_that_disagrees_with_the_document_is_corrected_then_swept() {
    let dir = tempfile::tempdir().unwrap();
    let now = baton_shared::clock::now();
    let hub = node(dir.path()).await;
    let (document, _) = setup(&hub, now).await;
    let id = {
        let held = hub.copy_of(document).await.unwrap();
        read(&held).unwrap().id
    };
    // As a row written before workflows might say: waiting since another time.
    hub.commit(vec![baton_server::store::Write::UnassignedSince {
        conversation: id.clone(),
        since: Some(now - 20 * MINUTE),
    }])
    .await
    .unwrap();
    assert!(hub.sweep_unassigned(now).await.unwrap().is_empty());
    let row = hub.reads().conversation(&id).await.unwrap().unwrap();
    assert_eq!(row.unassigned_since, Some(now - 10 * MINUTE));
    assert_eq!(hub.sweep_unassigned(now).await.unwrap().len(), 1);
}
