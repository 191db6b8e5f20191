//! F10: sign-in limits that someone else's failures turn into a lockout.
//! Failures from one address never lock the account at another.

use std::net::IpAddr;

use serde_json::json;

use crate::scene::Scene;

/// A client whose requests come from `address` (all of 127/8 is loopback).
fn from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().ok())
        .build()
        .unwrap()
}

async fn sign_in(scene: &Scene, client: &reqwest::Client, password: &str) -> anyhow::Result<u16> {
    Ok(client
        .post(scene.server.at("/api/login"))
        .json(&json!({"email": "admin@acme.test", "password": password}))
        .send()
        .await?
        .status()
        .as_u16())
}

#[tokio::test]
async fn failures_from_one_address_never_lock_the_owner_out_at_another() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let attacker = from("127.0.0.2");
    let statuses = {
        let mut all = Vec::new();
        for _ in 0..12 {
            all.push(sign_in(&scene, &attacker, "guess").await?);
        }
        all
    };
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(
        &statuses[10..],
        &[429, 429],
        "the attacker's address is held back"
    );
    // Even the right password waits there.
    assert_eq!(
        sign_in(&scene, &attacker, baton_tests::PASSWORD).await?,
        429
    );
    // The owner, elsewhere, signs in.
    let owner = from("127.0.0.3");
    assert_eq!(sign_in(&scene, &owner, baton_tests::PASSWORD).await?, 200);
    Ok(())
}
