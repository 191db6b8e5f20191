//! Bulk (measurement 3): one agent reassigns every conversation the fleet holds at once;
//! the native apply time on the author's side, and the time until every
//! other agent has applied every change.

use std::time::Duration;

use super::{Options, push, say, setup, systems};
use crate::fragment::{Figure, Fragment, Goal};
use crate::load;

const GROUP: &str = "3. Bulk reassign";

pub async fn bulk(options: &Options) -> anyhow::Result<Fragment> {
    let scale = &options.scale;
    let agents = scale.bulk_agents;
    let conversations = scale.bulk_conversations;
    let mut fragment = Fragment::new("bulk");
    for (system, runs) in systems(options) {
        let setup = setup(system, options, agents, conversations).await?;
        let mut fleet = load::connect(
            &setup.target,
            &setup.fixture,
            agents,
            &setup.fixture.conversations,
        )
        .await?;
        for run in 0..runs {
            let (back, outcome) = load::bulk(
                fleet,
                &setup.fixture,
                &setup.target,
                Duration::from_secs(60),
            )
            .await?;
            fleet = back;
            let (applied, converged) = (outcome.applied, outcome.converged);
            let line = format!(
                "bulk {} run {run}: {} changed, applied in {:.1} ms, converged in {}, load generator CPU {:.0}% of a core, server CPU {:.0}%{}",
                system.name(),
                applied.changed,
                applied.apply.as_secs_f64() * 1000.0,
                converged.map_or("never (60 s)".to_owned(), |c| format!(
                    "{:.0} ms",
                    c.as_secs_f64() * 1000.0
                )),
                outcome.client_cpu * 100.0,
                outcome.server_cpu * 100.0,
                load::saturation(outcome.client_cpu)
            );
            say(line.clone());
            fragment.notes.push(line);
            let figure = fragment.figure("bulk.apply", || {
                Figure::new(
                    GROUP,
                    &format!("native apply of a reassign of {conversations} conversations (author's side)"),
                    "ms",
                    true,
                )
                .with_goal(Goal::below(100.0))
            });
            push(figure, system, applied.apply.as_secs_f64() * 1000.0);
            let figure = fragment.figure("bulk.converged", || {
                Figure::new(
                    GROUP,
                    &format!(
                        "until {} other agents applied all {conversations} changes",
                        agents - 1
                    ),
                    "ms",
                    true,
                )
                .with_goal(Goal::below(2000.0))
            });
            push(
                figure,
                system,
                converged.map_or(60_000.0, |c| c.as_secs_f64() * 1000.0),
            );
        }
        for client in fleet.clients {
            client.disconnect().await;
        }
        setup.target.stop().await?;
    }
    Ok(fragment)
}
