//! Reconnect (measurement 4): a client holding many documents goes away, another agent
//! changes some of them, the first one comes back; time and bytes until it
//! holds every change. Baton answers a catch-up by sequence; the peer is
//! asked about every held document, as automerge-repo clients do.

use std::time::{Duration, Instant};

use anyhow::Context;
use automerge::ChangeHash;
use baton_shared::docset::DocSet;
use baton_shared::ids::DocumentId;

use super::{Options, push, say};
use crate::client::Client;
use crate::fragment::{Figure, Fragment, Goal};
use crate::load;
use crate::seed;
use crate::target::{System, Target};

const GROUP: &str = "4. Reconnect";

pub async fn reconnect(options: &Options) -> anyhow::Result<Fragment> {
    let mut fragment = Fragment::new("reconnect");
    for &held in &options.scale.reconnect_held {
        load(options, held, &mut fragment).await?;
    }
    Ok(fragment)
}

/// One load: a client holding `held` documents reconnects.
async fn load(options: &Options, held: usize, fragment: &mut Fragment) -> anyhow::Result<()> {
    let scale = &options.scale;
    let changed = scale.reconnect_changed;
    for (system, runs) in super::systems(options) {
        if system == System::Peer && held > scale.peer_reconnect_held {
            fragment.notes.push(format!(
                "the peer is not asked to hold {held} documents: above {} it takes minutes to \
                 take them and then cuts the reconnecting client (docs/benchmarks.md)",
                scale.peer_reconnect_held
            ));
            continue;
        }
        std::fs::create_dir_all(&options.work)?;
        let data = tempfile::tempdir_in(&options.work)?;
        let (target, fixture, mut holder) = match system {
            System::Baton => {
                let fixture = seed::baton(data.path(), 2, held).await?;
                let target = Target::baton(&options.programs, data.path()).await?;
                let mut holder = Client::connect(
                    &target.sync_url(fixture.token(0)),
                    fixture.agent(0),
                    DocSet::new("bench-holder"),
                )
                .await?;
                // As the app does: learn everything since 0, which opens every document.
                holder.docs.catch_up();
                let ids = fixture.conversations.clone();
                holder
                    .wait(
                        Duration::from_secs(300),
                        move |c| {
                            c.docs.last_seq() > 0 && ids.iter().all(|id| c.docs.doc(id).is_some())
                        },
                        None,
                    )
                    .await
                    .context("the holder's first catch-up")?;
                (target, fixture, holder)
            }
            System::Peer => {
                let (fixture, docs) = seed::peer(2, held)?;
                let target = Target::peer(&options.programs, data.path()).await?;
                let holder = load::upload(&target, &fixture, docs).await?;
                (target, fixture, holder)
            }
        };
        let subset: Vec<DocumentId> = fixture
            .conversations
            .iter()
            .step_by((held / changed).max(1))
            .take(changed)
            .copied()
            .collect();
        let mut changer = Client::connect(
            &target.sync_url(fixture.token(1)),
            fixture.agent(1),
            DocSet::new("bench-changer"),
        )
        .await?;
        changer.open_all(&subset, Duration::from_secs(60)).await?;
        for run in 0..runs {
            let docs = holder.disconnect().await;
            let (hashes, change_bytes) = change_all(&mut changer, &fixture, &subset, run).await?;
            let begun = Instant::now();
            let mut back =
                Client::connect(&target.sync_url(fixture.token(0)), fixture.agent(0), docs).await?;
            match system {
                System::Baton => back.docs.catch_up(),
                System::Peer => back.docs.sync_all(),
            }
            let wanted = hashes.clone();
            back.wait(
                Duration::from_secs(120),
                move |c| {
                    wanted.iter().all(|(id, hash)| {
                        c.docs
                            .doc_mut(id)
                            .is_some_and(|d| d.get_change_by_hash(hash).is_some())
                    })
                },
                None,
            )
            .await
            .context("reconnecting")?;
            let took = begun.elapsed();
            let bytes = back.bytes_in + back.bytes_out;
            say(format!(
                "reconnect {} run {run}: {held} held, {changed} changed ({change_bytes} bytes of changes): in sync in {:.0} ms, {bytes} bytes",
                system.name(),
                took.as_secs_f64() * 1000.0
            ));
            let figure = fragment.figure(&format!("reconnect.{held}.time"), || {
                Figure::new(
                    GROUP,
                    &format!("until in sync, holding {held} documents of which {changed} changed"),
                    "ms",
                    true,
                )
                .with_goal(Goal::below(300.0))
            });
            push(figure, system, took.as_secs_f64() * 1000.0);
            let figure = fragment.figure(&format!("reconnect.{held}.bytes"), || {
                Figure::new(
                    GROUP,
                    &format!("bytes both ways until in sync, holding {held}"),
                    "KiB",
                    true,
                )
            });
            push(figure, system, bytes as f64 / 1024.0);
            let figure = fragment.figure(&format!("reconnect.{held}.bytes_ratio"), || {
                Figure::new(
                    GROUP,
                    &format!("bytes until in sync ÷ bytes of the changed changes, holding {held}"),
                    "×",
                    true,
                )
                .with_goal(Goal::below(10.0))
            });
            push(figure, system, bytes as f64 / change_bytes.max(1) as f64);
            // Let the rest of the peer's answers pass before the next round.
            back.idle(Duration::from_millis(500)).await?;
            holder = back;
        }
        holder.disconnect().await;
        changer.disconnect().await;
        target.stop().await?;
    }
    Ok(())
}

/// Reassigns every document of `subset` and waits until the server has each
/// change; returns the changes and their size.
async fn change_all(
    changer: &mut Client,
    fixture: &seed::Fixture,
    subset: &[DocumentId],
    run: usize,
) -> anyhow::Result<(Vec<(DocumentId, ChangeHash)>, usize)> {
    let to = fixture.agent(run % 2);
    let mut hashes = Vec::new();
    let mut bytes = 0;
    for id in subset {
        if let Some(change) = load::reassign(changer, &fixture.workspace, *id, &to) {
            bytes += change.1;
            hashes.push((*id, change.0));
        }
        changer.docs.sync(*id);
    }
    let wanted = hashes.clone();
    changer
        .wait(
            Duration::from_secs(60),
            move |c| wanted.iter().all(|(id, hash)| c.docs.server_has(id, hash)),
            None,
        )
        .await
        .context("the server taking the changes")?;
    Ok((hashes, bytes))
}
