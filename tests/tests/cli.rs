//! Every `baton` command, with human and `--json` output, and its errors.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use baton_tests::{
    PASSWORD, Server, Team, baton, baton_json, baton_on_own_database, client, login,
};

#[tokio::test]
async fn agent_add_prints_a_password_and_refuses_duplicates_and_bad_input() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let human = baton(
        data.path(),
        &["agent", "add", "--email", "Ana@Acme.test", "--name", "Ana"],
    )
    .await?;
    assert!(human.success, "{}", human.stderr);
    assert!(
        human.stdout.contains("Added Ana <ana@acme.test>"),
        "{}",
        human.stdout
    );
    let password = human
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("a generated password is printed");
    assert!(password.len() >= 16);

    let json = baton_json(
        data.path(),
        &[
            "agent",
            "add",
            "--email",
            "ben@acme.test",
            "--name",
            "Ben",
            "--admin",
        ],
    )
    .await?;
    assert_eq!(json["role"], "admin");
    assert!(json["id"].as_str().unwrap().starts_with("agt_"));
    assert!(json["password"].as_str().unwrap().len() >= 16);

    let duplicate = baton(
        data.path(),
        &["agent", "add", "--email", "ana@acme.test", "--name", "X"],
    )
    .await?;
    assert!(!duplicate.success);
    assert!(
        duplicate.stderr.contains("already exists"),
        "{}",
        duplicate.stderr
    );

    let bad = baton(
        data.path(),
        &[
            "agent",
            "add",
            "--email",
            "not-an-email",
            "--name",
            "X",
            "--json",
        ],
    )
    .await?;
    assert!(!bad.success);
    let err: serde_json::Value = serde_json::from_str(bad.stderr.trim())?;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not an email address")
    );

    let short = baton(
        data.path(),
        &[
            "agent",
            "add",
            "--email",
            "c@acme.test",
            "--name",
            "C",
            "--password",
            "short",
        ],
    )
    .await?;
    assert!(!short.success);
    assert!(short.stderr.contains("at least 8 characters"));

    // The generated password signs in.
    let server = Server::start(data.path(), &[]).await?;
    login(&server, &client(), "ana@acme.test", password).await?;
    server.stop().await
}

#[tokio::test]
async fn channel_add_and_token_create_print_their_secrets_once() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let human = baton(
        team.path(),
        &["channel", "add", "--name", "Chat", "--kind", "chat"],
    )
    .await?;
    assert!(human.success);
    assert!(
        human.stdout.contains("Ingest secret (shown once): bsec_"),
        "{}",
        human.stdout
    );

    let token = baton_json(
        team.path(),
        &["token", "create", "--email", "ana@acme.test"],
    )
    .await?;
    let token = token["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("btok_"));

    let unknown = baton(
        team.path(),
        &["token", "create", "--email", "nobody@acme.test"],
    )
    .await?;
    assert!(!unknown.success);
    assert!(
        unknown
            .stderr
            .contains("no agent has the email nobody@acme.test")
    );

    let empty = baton(team.path(), &["channel", "add", "--name", "  "]).await?;
    assert!(!empty.success);
    assert!(empty.stderr.contains("channel name"));

    // The token works as the agent on the API.
    let server = Server::start(team.path(), &[]).await?;
    let me: serde_json::Value = reqwest::Client::new()
        .get(server.at("/api/me"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(me["agent"]["email"], "ana@acme.test");
    server.stop().await
}

#[tokio::test]
async fn database_urls_name_their_engine_and_failures_say_what_to_change() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let add = |url: &'static str| {
        let dir = data.path().to_owned();
        async move {
            let args = [
                "--database-url",
                url,
                "agent",
                "add",
                "--email",
                "a@b.test",
                "--name",
                "A",
            ];
            baton_on_own_database(&dir, &args).await
        }
    };
    let mysql = add("mysql://localhost/baton").await?;
    assert!(!mysql.success);
    assert!(
        mysql
            .stderr
            .contains("\"mysql\" databases are not supported")
            && mysql.stderr.contains("postgres://"),
        "{}",
        mysql.stderr
    );
    // Nothing listens there: the error names the database, never a password.
    let down = add("postgres://baton:s3cret@127.0.0.1:9/baton").await?;
    assert!(!down.success);
    assert!(
        down.stderr
            .contains("cannot open the database postgres://baton:***@127.0.0.1:9/baton"),
        "{}",
        down.stderr
    );
    assert!(!down.stderr.contains("s3cret"), "{}", down.stderr);

    let file = data.path().join("other.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let ok = baton_on_own_database(
        data.path(),
        &["--database-url", &url, "channel", "add", "--name", "Email"],
    )
    .await?;
    assert!(ok.success, "{}", ok.stderr);
    assert!(file.exists());
    Ok(())
}

#[tokio::test]
async fn help_and_unknown_commands() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let help = baton(data.path(), &["--help"]).await?;
    assert!(help.success);
    for command in ["serve", "agent", "channel", "token"] {
        assert!(help.stdout.contains(command), "{}", help.stdout);
    }
    let unknown = baton(data.path(), &["frobnicate"]).await?;
    assert!(!unknown.success);
    assert!(unknown.stderr.contains("unrecognized subcommand"));
    let missing = baton(
        data.path(),
        &["agent", "deactivate", "--email", "ghost@acme.test"],
    )
    .await?;
    assert!(!missing.success);
    assert!(missing.stderr.contains("no agent has the email"));
    Ok(())
}

#[tokio::test]
async fn serve_refuses_a_dist_without_the_app() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let empty = tempfile::tempdir()?;
    let out = baton(
        data.path(),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--dist",
            &empty.path().to_string_lossy(),
        ],
    )
    .await?;
    assert!(!out.success);
    assert!(out.stderr.contains("no index.html"), "{}", out.stderr);
    Ok(())
}

#[tokio::test]
async fn the_team_password_signs_in() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let me = login(&server, &client(), "admin@acme.test", PASSWORD).await?;
    assert_eq!(me["agent"]["role"], "admin");
    server.stop().await
}
