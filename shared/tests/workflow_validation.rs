//! Only admins change workflows and business hours; what the writers would
//! refuse is refused from anyone over the wire.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use automerge::AutoCommit;
use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, Value};
use baton_shared::validate::{DocumentKind, Principal, Violation};
use baton_shared::workflow::{Condition, Step, Trigger, Weekday, Workflow};
use baton_shared::workspace::{self, Workspace};
use common::{NOW, Team, change_from, team, validate_as};

const WS: DocumentKind = DocumentKind::Workspace;

fn assign_to_ana(t: &Team) -> Workflow {
    let mut workflow = Workflow::new("Billing to Ana", Trigger::CustomerMessage, &t.workspace);
    workflow.conditions = vec![Condition::ChannelIn {
        channels: vec![t.email.clone()],
    }];
    workflow.steps = vec![Step::Assign {
        agent: t.ana.clone(),
    }];
    workflow
}

/// The team's workspace with two workflows an admin saved; returns the first.
fn with_workflow() -> (Team, Workflow) {
    let mut t = team();
    let workflow = assign_to_ana(&t);
    workspace::put_workflow(&mut t.doc, &workflow, NOW - 1_000).unwrap();
    t.workspace = workspace::read(&t.doc).unwrap();
    let second = assign_to_ana(&t);
    workspace::put_workflow(&mut t.doc, &second, NOW - 900).unwrap();
    t.workspace = workspace::read(&t.doc).unwrap();
    (t, workflow)
}

#[test]
fn only_admins_change_workflows() {
    let (t, existing) = with_workflow();
    let mut server = t.doc.clone();
    let mut renamed = existing.clone();
    renamed.name = "Mine now".to_owned();
    let cases = [
        change_from(&mut server, |d| {
            workspace::put_workflow(d, &assign_to_ana(&t), NOW).unwrap();
        }),
        change_from(&mut server, |d| {
            workspace::put_workflow(d, &renamed, NOW).unwrap();
        }),
        change_from(&mut server, |d| {
            workspace::set_workflow_enabled(d, &existing.id, false, NOW).unwrap();
        }),
        change_from(&mut server, |d| {
            workspace::delete_workflow(d, &existing.id, NOW).unwrap();
        }),
        change_from(&mut server, |d| {
            let mut ids: Vec<_> = t
                .workspace
                .workflows_in_order()
                .map(|w| w.id.clone())
                .collect();
            ids.reverse();
            workspace::reorder_workflows(d, &ids, NOW).unwrap();
        }),
        change_from(&mut server, |d| {
            let mut settings = t.workspace.settings.clone();
            settings.business_hours.utc_offset_minutes = 120;
            settings.business_hours.days.insert(Weekday::Saturday);
            workspace::put_settings(d, &settings, NOW).unwrap();
        }),
    ];
    for who in [
        Principal::Agent(t.ana.clone()),
        Principal::Integration(t.admin.clone()),
    ] {
        for change in &cases {
            let err = validate_as(&mut server, change, &who, &t.workspace, WS).unwrap_err();
            assert!(matches!(err, Violation::AdminOnly { .. }), "{who}: {err}");
            assert_eq!(err.code(), "admin_only");
        }
    }
    let admin = Principal::Admin(t.admin.clone());
    for change in &cases {
        validate_as(&mut server, change, &admin, &t.workspace, WS).unwrap();
    }
}

#[test]
fn an_agent_going_away_does_not_touch_workflows_and_is_accepted() {
    let (t, _) = with_workflow();
    let mut server = t.doc.clone();
    let change = change_from(&mut server, |d| {
        workspace::set_away(d, &t.ana, true, NOW).unwrap();
    });
    let ana = Principal::Agent(t.ana.clone());
    validate_as(&mut server, &change, &ana, &t.workspace, WS).unwrap();
}

/// Writes a workflow by hand, bypassing `put_workflow`'s checks.
fn forge(doc: &mut AutoCommit, id: &str, kind: &str, minutes: i64) {
    let map = match doc.get(ROOT, "workflows").unwrap() {
        Some((Value::Object(_), map)) => map,
        _ => panic!("no workflows map"),
    };
    let w = doc.put_object(&map, id, ObjType::Map).unwrap();
    doc.put(&w, "name", "Forged").unwrap();
    doc.put(&w, "enabled", true).unwrap();
    doc.put(&w, "order", 0).unwrap();
    let trigger = doc.put_object(&w, "trigger", ObjType::Map).unwrap();
    doc.put(&trigger, "kind", kind).unwrap();
    doc.put(&trigger, "minutes", minutes).unwrap();
    doc.put_object(&w, "conditions", ObjType::List).unwrap();
    let steps = doc.put_object(&w, "steps", ObjType::List).unwrap();
    let step = doc.insert_object(&steps, 0, ObjType::Map).unwrap();
    doc.put(&step, "kind", "unassign").unwrap();
}

#[test]
fn a_workflow_no_editor_could_save_is_malformed_even_from_an_admin() {
    let t = team();
    let mut server = t.doc.clone();
    let admin = Principal::Admin(t.admin.clone());
    let workspace: &Workspace = &t.workspace;
    let zero_minutes = change_from(&mut server, |d| forge(d, "wf_zero", "unassigned_for", 0));
    let err = validate_as(&mut server, &zero_minutes, &admin, workspace, WS).unwrap_err();
    assert_eq!(err.code(), "malformed", "{err}");
    assert!(err.to_string().contains("minutes"), "{err}");
    let unknown = change_from(&mut server, |d| forge(d, "wf_odd", "every_full_moon", 1));
    let err = validate_as(&mut server, &unknown, &admin, workspace, WS).unwrap_err();
    assert!(err.to_string().contains("unknown trigger"), "{err}");
    let fine = change_from(&mut server, |d| forge(d, "wf_ok", "unassigned_for", 30));
    validate_as(&mut server, &fine, &admin, workspace, WS).unwrap();
}
