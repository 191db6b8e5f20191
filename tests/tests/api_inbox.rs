//! Ingest → projection → lists, search, paging; notifications; replies.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::collections::HashSet;

use baton_tests::{PASSWORD, Server, Team, client, ingest, login};
use serde_json::{Value, json};

fn message(email: &str, name: &str, subject: &str, body: &str) -> Value {
    json!({ "customer": { "email": email, "name": name }, "subject": subject, "body": body })
}

async fn get(client: &reqwest::Client, url: String) -> anyhow::Result<(u16, Value)> {
    let response = client.get(url).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

#[tokio::test]
async fn ingest_lands_in_views_and_notifies_subscribers() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let landed = ingest(
        &server,
        &team.channel,
        &team.secret,
        message(
            "dana@example.com",
            "Dana Reyes",
            "Refund please",
            "I was charged twice.",
        ),
    )
    .await?;
    assert_eq!(landed.status(), 201);
    let landed: Value = landed.json().await?;
    let conversation = landed["conversation"].as_str().unwrap().to_owned();
    assert!(conversation.starts_with("cnv_"));
    assert!(landed["document"].as_str().is_some());

    let ana = client();
    login(&server, &ana, "ana@acme.test", PASSWORD).await?;
    let (_, unassigned) = get(&ana, server.at("/api/conversations?view=unassigned")).await?;
    let rows = unassigned["conversations"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], conversation.as_str());
    assert_eq!(rows[0]["subject"], "Refund please");
    assert_eq!(rows[0]["preview"], "I was charged twice.");
    assert_eq!(rows[0]["assignee"], Value::Null);
    assert_eq!(
        unassigned["counts"],
        json!({ "unassigned": 1, "mine": 0, "all": 1 })
    );
    let (_, mine) = get(&ana, server.at("/api/conversations?view=mine")).await?;
    assert!(mine["conversations"].as_array().unwrap().is_empty());

    // Every agent is subscribed to a new channel, so each is told once.
    for email in ["ana@acme.test", "ben@acme.test", "admin@acme.test"] {
        let agent = client();
        login(&server, &agent, email, PASSWORD).await?;
        let (_, notes) = get(&agent, server.at("/api/notifications")).await?;
        assert_eq!(notes["unread"], 1, "{email}");
        assert_eq!(
            notes["notifications"][0]["text"],
            "New message from Dana Reyes: “Refund please”"
        );
    }

    // A second message on the same conversation appends to it.
    let mut more = message("dana@example.com", "Dana Reyes", "", "Any news?");
    more["conversation"] = json!(conversation);
    let again = ingest(&server, &team.channel, &team.secret, more).await?;
    assert_eq!(again.status(), 201);
    let (_, all) = get(&ana, server.at("/api/conversations?view=all")).await?;
    assert_eq!(all["conversations"][0]["messages"], 2);
    assert_eq!(all["conversations"][0]["preview"], "Any news?");
    server.stop().await
}

#[tokio::test]
async fn bad_ingest_requests_get_clear_4xx() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let ok = message("dana@example.com", "Dana", "Hi", "Hello");
    let status = |r: reqwest::Response| r.status().as_u16();

    assert_eq!(
        status(ingest(&server, "chn_nope", &team.secret, ok.clone()).await?),
        404
    );
    assert_eq!(
        status(ingest(&server, "not a channel", &team.secret, ok.clone()).await?),
        404
    );
    assert_eq!(
        status(ingest(&server, &team.channel, "bsec_wrong", ok.clone()).await?),
        403
    );
    let no_secret = reqwest::Client::new()
        .post(server.at(&format!("/api/channels/{}/messages", team.channel)))
        .json(&ok)
        .send()
        .await?;
    assert_eq!(no_secret.status(), 401);

    let url = server.at(&format!("/api/channels/{}/messages", team.channel));
    let raw = |body: String| {
        reqwest::Client::new()
            .post(url.clone())
            .bearer_auth(&team.secret)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(raw("{\"customer\":".to_owned()).await?.status(), 400);
    let huge =
        json!({ "customer": { "email": "a@b.c", "name": "A" }, "body": "x".repeat(300_000) });
    let too_big = raw(huge.to_string()).await?;
    assert_eq!(too_big.status(), 413);
    let body: Value = too_big.json().await?;
    assert_eq!(body["error"]["code"], "too_large");

    let empty = message("dana@example.com", "Dana", "Hi", "   ");
    let r = ingest(&server, &team.channel, &team.secret, empty).await?;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await?;
    assert_eq!(body["error"]["message"], "body must not be empty");

    let bad_email = message("dana", "Dana", "Hi", "Hello");
    assert_eq!(
        status(ingest(&server, &team.channel, &team.secret, bad_email).await?),
        400
    );
    let mut unknown = ok.clone();
    unknown["conversation"] = json!("cnv_doesnotexist");
    assert_eq!(
        status(ingest(&server, &team.channel, &team.secret, unknown).await?),
        404
    );
    let mut extra = ok.clone();
    extra["priority"] = json!("high");
    assert_eq!(
        status(ingest(&server, &team.channel, &team.secret, extra).await?),
        400
    );
    server.stop().await
}

#[tokio::test]
async fn lists_filter_search_and_page_without_gaps() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    for i in 0..23 {
        let subject = if i % 5 == 0 {
            format!("Refund #{i}")
        } else {
            format!("Question {i}")
        };
        let r = ingest(
            &server,
            &team.channel,
            &team.secret,
            message(
                &format!("c{i}@shop.example"),
                &format!("Customer {i}"),
                &subject,
                "Hello",
            ),
        )
        .await?;
        assert_eq!(r.status(), 201);
    }
    let ana = client();
    login(&server, &ana, "ana@acme.test", PASSWORD).await?;

    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = server.at("/api/conversations?view=all&limit=5");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = get(&ana, url).await?;
        assert_eq!(status, 200);
        pages += 1;
        for row in page["conversations"].as_array().unwrap() {
            assert!(
                seen.insert(row["id"].as_str().unwrap().to_owned()),
                "a row appeared twice"
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (23, 5));

    let (_, found) = get(&ana, server.at("/api/conversations?q=refund")).await?;
    assert_eq!(found["conversations"].as_array().unwrap().len(), 5);
    let (_, by_email) = get(&ana, server.at("/api/conversations?q=c7%40shop")).await?;
    assert_eq!(by_email["conversations"].as_array().unwrap().len(), 1);
    let (_, literal) = get(&ana, server.at("/api/conversations?q=%25")).await?;
    assert!(
        literal["conversations"].as_array().unwrap().is_empty(),
        "% is searched literally"
    );
    let (_, channel) = get(
        &ana,
        server.at(&format!("/api/conversations?channel={}", team.channel)),
    )
    .await?;
    assert_eq!(channel["counts"]["all"], 23);
    let (_, resolved) = get(&ana, server.at("/api/conversations?status=resolved")).await?;
    assert!(resolved["conversations"].as_array().unwrap().is_empty());

    for (query, code) in [
        ("view=everything", 400),
        ("status=snoozed", 400),
        ("limit=0", 400),
        ("limit=abc", 400),
        ("cursor=garbage!", 400),
        ("channel=chn_unknown", 404),
        ("sort=asc", 400),
    ] {
        let (status, body) = get(&ana, server.at(&format!("/api/conversations?{query}"))).await?;
        assert_eq!(status, code, "{query}: {body}");
        assert!(body["error"]["message"].as_str().is_some());
    }
    let anonymous = reqwest::Client::new()
        .get(server.at("/api/conversations"))
        .send()
        .await?;
    assert_eq!(anonymous.status(), 401);
    server.stop().await
}

#[tokio::test]
async fn notifications_are_marked_read_per_agent() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    for i in 0..3 {
        ingest(
            &server,
            &team.channel,
            &team.secret,
            message(&format!("c{i}@x.example"), "C", "Hi", "Hello"),
        )
        .await?;
    }
    let ana = client();
    login(&server, &ana, "ana@acme.test", PASSWORD).await?;
    let ben = client();
    login(&server, &ben, "ben@acme.test", PASSWORD).await?;
    let (_, list) = get(&ana, server.at("/api/notifications")).await?;
    assert_eq!(list["unread"], 3);
    let first = list["notifications"][0]["id"].as_str().unwrap().to_owned();

    let read: Value = ana
        .post(server.at("/api/notifications/read"))
        .json(&json!({ "ids": [first] }))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(read["unread"], 2);
    // Ben cannot mark Ana's notification, and his own stay unread.
    let (_, bens) = get(&ben, server.at("/api/notifications")).await?;
    let bens_first = bens["notifications"][0]["id"].as_str().unwrap().to_owned();
    let r: Value = ben
        .post(server.at("/api/notifications/read"))
        .json(&json!({ "ids": [list["notifications"][1]["id"]] }))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(r["unread"], 3);
    let (_, again) = get(&ana, server.at("/api/notifications")).await?;
    assert_eq!(again["unread"], 2);
    assert_ne!(bens_first, first);

    let bad = ana
        .post(server.at("/api/notifications/read"))
        .json(&json!({ "ids": "all" }))
        .send()
        .await?;
    assert_eq!(bad.status(), 400);
    server.stop().await
}

#[tokio::test]
async fn replies_are_delivered_in_commit_order() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let server = Server::start(data.path(), &["--demo", "--demo-rate", "0"]).await?;
    let channel = &server.started["demo"]["channels"][0];
    let (id, secret) = (
        channel["id"].as_str().unwrap(),
        channel["secret"].as_str().unwrap(),
    );
    let http = reqwest::Client::new();
    let url = server.at(&format!("/api/channels/{id}/replies?limit=200"));
    let first: Value = http
        .get(&url)
        .bearer_auth(secret)
        .send()
        .await?
        .json()
        .await?;
    let replies = first["replies"].as_array().unwrap();
    assert!(!replies.is_empty(), "the demo has agents' replies");
    let seqs: Vec<u64> = replies.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "commit order");
    assert!(
        replies
            .iter()
            .all(|r| r["channel"] == id && r["author"].as_str().unwrap().starts_with("agt_"))
    );
    let next = first["next"].as_u64().unwrap();
    let rest: Value = http
        .get(format!("{url}&after={next}"))
        .bearer_auth(secret)
        .send()
        .await?
        .json()
        .await?;
    assert!(rest["replies"].as_array().unwrap().is_empty());
    assert_eq!(rest["next"], next);

    let bad = http
        .get(format!("{url}&after=yesterday"))
        .bearer_auth(secret)
        .send()
        .await?;
    assert_eq!(bad.status(), 400);
    let wrong = http.get(&url).bearer_auth("bsec_nope").send().await?;
    assert_eq!(wrong.status(), 403);

    // The demo's logins work and its inbox is full.
    let alex = client();
    let admin = &server.started["demo"]["agents"][0];
    login(
        &server,
        &alex,
        admin["email"].as_str().unwrap(),
        admin["password"].as_str().unwrap(),
    )
    .await?;
    let (_, all) = get(&alex, server.at("/api/conversations?view=all")).await?;
    assert!(all["counts"]["all"].as_u64().unwrap() > 100);
    assert!(all["counts"]["unassigned"].as_u64().unwrap() > 20);
    let (_, resolved) = get(&alex, server.at("/api/conversations?status=resolved")).await?;
    assert!(!resolved["conversations"].as_array().unwrap().is_empty());
    server.stop().await
}
