//! Throughput (measurement 2): the offered rate steps up on one fleet until p99 passes
//! 100 ms or deliveries go missing; the figure is the highest rate that
//! kept both.

use std::time::Duration;

use super::{Options, push, say, setup, systems};
use crate::fragment::{Figure, Fragment, Goal};
use crate::load::{self, Fleet, Outcome, Spec};
use crate::seed::Fixture;
use crate::target::{Servers, Target};

const GROUP: &str = "2. Throughput";
/// The p99 a step must stay under for its rate to count.
pub const P99_LIMIT_MS: f64 = 100.0;

pub async fn throughput(options: &Options) -> anyhow::Result<Fragment> {
    let scale = &options.scale;
    let agents = scale.throughput_agents;
    let mut fragment = Fragment::new("throughput");
    let label = format!(
        "highest deliveries/s with p99 < {P99_LIMIT_MS} ms and none missing; {agents} agents holding {} conversations (fan-out {}), {} s steps",
        scale.throughput_conversations,
        agents - 1,
        scale.throughput_step.as_secs_f64()
    );
    for (system, runs) in systems(options) {
        let setup = setup(system, options, agents, scale.throughput_conversations).await?;
        let mut fleet = load::connect(
            &setup.target,
            &setup.fixture,
            agents,
            &setup.fixture.conversations,
        )
        .await?;
        for run in 0..runs {
            wait_until_idle(&setup.target).await;
            let steps = Steps {
                rates: &scale.throughput_rates,
                step: scale.throughput_step,
                drain: scale.drain,
            };
            let what = format!("throughput {} run {run}", system.name());
            let (back, stepped) =
                step_up(fleet, &setup.fixture, &setup.target, steps, &what).await?;
            fleet = back;
            for outcome in &stepped.steps {
                fragment
                    .notes
                    .push(format!("{what}: {}", step_note(outcome)));
            }
            // The ladder ends on an overloaded step, whose backlog waits in
            // the sockets (and may have cost some): the next run starts on
            // fresh ones, once the server is done with it.
            fleet = load::reconnect(fleet, &setup.target, &setup.fixture).await?;
            let figure = fragment.figure("throughput.deliveries", || {
                Figure::new(GROUP, &label, "deliveries/s", false).with_goal(Goal::above(50_000.0))
            });
            push(figure, system, stepped.best());
            if let Some(kept) = &stepped.kept {
                let figure = fragment.figure("throughput.server_cpu", || {
                    Figure::new(
                        GROUP,
                        "server CPU per delivery at the highest rate kept",
                        "µs",
                        true,
                    )
                });
                push(figure, system, kept.server_cpu_per_delivery_us());
            }
        }
        for client in fleet.clients {
            client.disconnect().await;
        }
        setup.target.stop().await?;
    }
    Ok(fragment)
}

/// The rates a stepped load tries, in order, and how long each runs.
#[derive(Debug, Clone, Copy)]
pub struct Steps<'a> {
    /// Changes per second.
    pub rates: &'a [f64],
    pub step: Duration,
    /// How long to wait for a step's last deliveries (at most 3 s).
    pub drain: Duration,
}

/// What stepping the rate up found.
pub struct Stepped {
    /// The highest step that kept p99 under the limit with none missing.
    pub kept: Option<Outcome>,
    /// Every step run, in order; the last may be over the limit.
    pub steps: Vec<Outcome>,
}

impl Stepped {
    /// The highest offered deliveries/s kept; zero if even the first step missed.
    pub fn best(&self) -> f64 {
        self.kept.map_or(0.0, |kept| kept.offered_per_s)
    }
}

/// Runs `steps` on `fleet` until a step's p99 passes [`P99_LIMIT_MS`] or a
/// delivery goes missing; `what` names the load in progress lines.
/// Waits (at most a minute) until the server has used under 5 % of a core
/// for half a second: a run that ended over the limit can leave it working
/// through a backlog long after its clients stopped sending.
async fn wait_until_idle(target: &Target) {
    let window = Duration::from_millis(500);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let Some(mut used) = target.cpu() else {
        return;
    };
    while std::time::Instant::now() < deadline {
        tokio::time::sleep(window).await;
        let Some(now) = target.cpu() else {
            return;
        };
        if now.saturating_sub(used) < window / 20 {
            return;
        }
        used = now;
    }
}

pub async fn step_up(
    mut fleet: Fleet,
    fixture: &Fixture,
    servers: &impl Servers,
    steps: Steps<'_>,
    what: &str,
) -> anyhow::Result<(Fleet, Stepped)> {
    let mut stepped = Stepped {
        kept: None,
        steps: Vec::new(),
    };
    for &rate in steps.rates {
        let spec = Spec {
            rate,
            duration: steps.step,
            drain: steps.drain.min(Duration::from_secs(3)),
        };
        let (back, outcome) = load::run(fleet, fixture, servers, spec).await?;
        fleet = back;
        let kept = outcome.latency.p99_ms < P99_LIMIT_MS && outcome.complete();
        let verdict = if kept {
            String::new()
        } else {
            format!(" (over the limit{})", outcome.lost_sockets())
        };
        say(format!(
            "{what}: {:.0} deliveries/s offered, {:.0} applied/s, p99 {:.1} ms, {}/{} delivered, client cpu {:.0}%, server cpu {:.0}%{}",
            outcome.offered_per_s,
            outcome.delivered_per_s,
            outcome.latency.p99_ms,
            outcome.delivered,
            outcome.expected,
            outcome.client_cpu * 100.0,
            outcome.server_cpu * 100.0,
            verdict
        ));
        stepped.steps.push(outcome);
        if !kept {
            break;
        }
        if stepped
            .kept
            .is_none_or(|k| outcome.offered_per_s > k.offered_per_s)
        {
            stepped.kept = Some(outcome);
        }
    }
    Ok((fleet, stepped))
}

/// One step for the run notes.
pub fn step_note(outcome: &Outcome) -> String {
    format!(
        "{:.0} deliveries/s offered: p99 {:.1} ms, {}/{} delivered, load generator CPU {:.0}%, server CPU {:.0}%{}",
        outcome.offered_per_s,
        outcome.latency.p99_ms,
        outcome.delivered,
        outcome.expected,
        outcome.client_cpu * 100.0,
        outcome.server_cpu * 100.0,
        outcome.saturation()
    )
}
