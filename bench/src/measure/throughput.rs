//! Throughput (measurement 2): the offered rate steps up on one fleet until p99 passes
//! 100 ms or deliveries go missing; the figure is the highest rate that
//! kept both.

use super::{Options, push, say, setup, systems};
use crate::fragment::{Figure, Fragment, Goal};
use crate::load::{self, Spec};

const GROUP: &str = "2. Throughput";
const P99_LIMIT_MS: f64 = 100.0;

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
            let mut best = 0.0f64;
            let mut cost = None;
            for &rate in &scale.throughput_rates {
                let spec = Spec {
                    rate,
                    duration: scale.throughput_step,
                    drain: scale.drain.min(std::time::Duration::from_secs(3)),
                };
                let (back, outcome) = load::run(fleet, &setup.fixture, &setup.target, spec).await?;
                fleet = back;
                let kept = outcome.latency.p99_ms < P99_LIMIT_MS && outcome.complete();
                let verdict = if kept {
                    String::new()
                } else {
                    format!(" (over the limit{})", outcome.lost_sockets())
                };
                say(format!(
                    "throughput {} run {run}: {:.0} deliveries/s offered, {:.0} applied/s, p99 {:.1} ms, {}/{} delivered, client cpu {:.0}%, server cpu {:.0}%{}",
                    system.name(),
                    outcome.offered_per_s,
                    outcome.delivered_per_s,
                    outcome.latency.p99_ms,
                    outcome.delivered,
                    outcome.expected,
                    outcome.client_cpu * 100.0,
                    outcome.server_cpu * 100.0,
                    verdict
                ));
                fragment.notes.push(format!(
                    "throughput {} run {run}: {:.0} deliveries/s offered: p99 {:.1} ms, {}/{} delivered, load generator CPU {:.0}%, server CPU {:.0}%{}{}",
                    system.name(),
                    outcome.offered_per_s,
                    outcome.latency.p99_ms,
                    outcome.delivered,
                    outcome.expected,
                    outcome.client_cpu * 100.0,
                    outcome.server_cpu * 100.0,
                    verdict,
                    outcome.saturation()
                ));
                if !kept {
                    break;
                }
                if outcome.offered_per_s > best {
                    best = outcome.offered_per_s;
                    cost = Some(outcome.server_cpu_per_delivery_us());
                }
            }
            // An overloaded step may have cost sockets; the next run starts whole.
            fleet = load::reconnect_if_closed(fleet, &setup.target, &setup.fixture).await?;
            let figure = fragment.figure("throughput.deliveries", || {
                Figure::new(GROUP, &label, "deliveries/s", false).with_goal(Goal::above(50_000.0))
            });
            push(figure, system, best);
            if let Some(cost) = cost {
                let figure = fragment.figure("throughput.server_cpu", || {
                    Figure::new(
                        GROUP,
                        "server CPU per delivery at the highest rate kept",
                        "µs",
                        true,
                    )
                });
                push(figure, system, cost);
            }
        }
        for client in fleet.clients {
            client.disconnect().await;
        }
        setup.target.stop().await?;
    }
    Ok(fragment)
}
