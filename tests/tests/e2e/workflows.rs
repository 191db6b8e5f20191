//! Scenario 7: an admin builds "a new conversation is assigned to Ben" in
//! the workflow editor, a customer writes in, and the conversation lands in
//! Ben's Mine; the run log names the workflow and Ben.

use baton_shared::workspace;
use baton_tests::browser::app::{self, row, sign_in};
use baton_tests::browser::{Browser, WAIT, step};
use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{PASSWORD, Server, Team, ingest, session_token, workspace_document};
use serde_json::json;

crate::in_chromium!(
    scenario_7_an_assign_workflow_built_in_the_editor_assigns_the_next_conversation
);

/// Picks `value` in the `<select>` at `css` as a person would (a change event).
async fn choose(browser: &Browser, css: &str, value: &str) -> anyhow::Result<()> {
    browser.wait_for(css, WAIT).await?;
    let done = browser
        .script(
            "const s = document.querySelector(arguments[0]);
             if (![...s.options].some((o) => o.value === arguments[1])) return '';
             s.value = arguments[1];
             s.dispatchEvent(new Event('change', { bubbles: true }));
             return arguments[1];",
            vec![json!(css), json!(value)],
        )
        .await?;
    anyhow::ensure!(done == json!(value), "{css} has no option {value:?}");
    Ok(())
}

async fn scenario_7_an_assign_workflow_built_in_the_editor_assigns_the_next_conversation()
-> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::with_app(team.path(), &[]).await?;
    let admin = Browser::open(&server.url, "scenario-7-admin").await?;
    let ben = Browser::open(&server.url, "scenario-7-ben").await?;
    let both = [&admin, &ben];

    step(
        "scenario 7: the admin saves an Assign workflow from the editor",
        &both,
        async {
            sign_in(&admin, "admin@acme.test").await?;
            sign_in(&ben, "ben@acme.test").await?;
            app::view(&ben, "mine").await?;
            admin.goto("/#/settings").await?;
            admin.click("[data-testid=workflow-new]").await?;
            admin
                .type_into("[data-testid=workflow-name]", "New mail to Ben")
                .await?;
            choose(&admin, "[data-testid=workflow-trigger]", "created").await?;
            choose(&admin, "[data-testid=add-step]", "assign").await?;
            let ben_id = admin
                .script(
                    "return [...document.querySelectorAll('[data-testid=step-agent] option')]
                    .find((o) => o.textContent === 'Ben').value",
                    vec![],
                )
                .await?;
            choose(&admin, "[data-testid=step-agent]", ben_id.as_str().unwrap()).await?;
            admin.screenshot("editor").await?;
            admin.click("[data-testid=workflow-save]").await?;
            admin
                .wait_gone("[data-testid=workflow-editor]", WAIT)
                .await?;
            let listed = admin.text("[data-testid=admin-workflows]").await?;
            assert!(listed.contains("New mail to Ben"), "{listed}");
            // Saved on the server before the customer writes.
            let token = session_token(&server, "ben@acme.test", PASSWORD).await?;
            let mut watcher = SyncClient::connect(&server.url, &Auth::Session(token)).await?;
            let id = workspace_document(&server).await?;
            watcher.open_all(&[id]).await?;
            watcher
                .wait(WAIT, |c| {
                    c.docs
                        .doc(&id)
                        .and_then(|d| workspace::read(d).ok())
                        .is_some_and(|w| {
                            w.workflows_in_order().any(|f| f.name == "New mail to Ben")
                        })
                })
                .await?;
            Ok(())
        },
    )
    .await?;

    step("scenario 7: a customer writes in and it lands in Ben's Mine", &both, async {
        let response = ingest(
            &server,
            &team.channel,
            &team.secret,
            json!({"customer": {"email": "zoe@example.com", "name": "Zoe"}, "subject": "Hello", "body": "Can you help?"}),
        )
        .await?;
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await?;
        let conversation = body["conversation"].as_str().unwrap().to_owned();
        ben.wait_for(&row(&conversation), WAIT).await?;
        ben.screenshot("mine").await?;
        admin.click("[data-testid=workflow-runs]").await?;
        admin.wait_for("[data-testid=workflow-run-log]", WAIT).await?;
        let log = admin.text("[data-testid=workflow-run-log]").await?;
        assert!(log.contains("New mail to Ben") && log.contains("Ben"), "{log}");
        Ok(())
    })
    .await?;
    admin.close().await?;
    ben.close().await?;
    server.stop().await
}
