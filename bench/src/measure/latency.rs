//! Assign-to-visible latency (measurement 1): every agent holds every conversation (a
//! shared inbox); agents take turns reassigning at a fixed rate; one sample
//! per delivery of a change to another holder.

use std::time::Duration;

use super::{Options, Scale, push, say, setup, systems};
use crate::fragment::{Figure, Fragment, Goal};
use crate::load::{self, Outcome, Spec};
use crate::target::System;

const GROUP: &str = "1. Assign-to-visible latency";

pub async fn latency(options: &Options) -> anyhow::Result<Fragment> {
    let scale = &options.scale;
    let mut fragment = Fragment::new("latency");
    let most = scale.latency_agents.iter().copied().max().unwrap_or(2);
    for (system, runs) in systems(options) {
        let setup = setup(system, options, most, scale.latency_conversations).await?;
        let mut fleet = load::Fleet::new(setup.fixture.conversations.clone());
        for &agents in &scale.latency_agents {
            // Grow the fleet to `agents`: clients connected so far stay.
            let more = agents.saturating_sub(fleet.clients.len());
            load::grow(&mut fleet, &setup.target, &setup.fixture, more).await?;
            say(format!(
                "{agents} agents connected, each holding {} conversations",
                fleet.conversations.len()
            ));
            let spec = Spec {
                rate: scale.latency_rate,
                duration: scale.latency_duration,
                drain: scale.drain,
            };
            let offered = spec.rate * (agents - 1) as f64;
            let load = format!(
                "{agents} agents, {} changes/s = {offered:.0} deliveries/s (fan-out {})",
                spec.rate,
                agents - 1
            );
            for run in 0..runs {
                let (back, outcome) = load::run(fleet, &setup.fixture, &setup.target, spec).await?;
                fleet = load::reconnect_if_closed(back, &setup.target, &setup.fixture).await?;
                say(format!(
                    "latency {} {load} run {run}: p50 {:.1} ms p99 {:.1} ms p999 {:.1} ms, {}/{} delivered, client cpu {:.0}%, server cpu {:.0}%",
                    system.name(),
                    outcome.latency.p50_ms,
                    outcome.latency.p99_ms,
                    outcome.latency.p999_ms,
                    outcome.delivered,
                    outcome.expected,
                    outcome.client_cpu * 100.0,
                    outcome.server_cpu * 100.0
                ));
                record(&mut fragment, system, agents, &load, scale, run, &outcome);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        for client in fleet.clients {
            client.disconnect().await;
        }
        setup.target.stop().await?;
    }
    Ok(fragment)
}

/// Adds one run's figures and note to `fragment`.
fn record(
    fragment: &mut Fragment,
    system: System,
    agents: usize,
    load: &str,
    scale: &Scale,
    run: usize,
    outcome: &Outcome,
) {
    let goal = |q: &str| {
        if agents >= 500 && q == "p99" {
            Goal::below(25.0)
        } else {
            None
        }
    };
    // A run that delivered nothing has no latency to report (the
    // share delivered says what happened).
    let measured = if outcome.delivered > 0 {
        vec![
            ("p50", outcome.latency.p50_ms),
            ("p99", outcome.latency.p99_ms),
            ("p999", outcome.latency.p999_ms),
        ]
    } else {
        Vec::new()
    };
    for (q, value) in measured {
        let figure = fragment.figure(&format!("latency.{agents}.{q}"), || {
            Figure::new(GROUP, &format!("{q}, {load}"), "ms", true).with_goal(goal(q))
        });
        push(figure, system, value);
    }
    let figure = fragment.figure(&format!("latency.{agents}.delivered"), || {
        Figure::new(
            GROUP,
            &format!(
                "share of deliveries applied within {} s of the last change, {load}",
                scale.drain.as_secs()
            ),
            "%",
            false,
        )
    });
    push(
        figure,
        system,
        100.0 * outcome.delivered as f64 / outcome.expected.max(1) as f64,
    );
    let figure = fragment.figure(&format!("latency.{agents}.server_cpu"), || {
        Figure::new(
            GROUP,
            &format!("server CPU per delivery, {load}"),
            "µs",
            true,
        )
        .with_goal(if agents == 50 {
            Goal::below(20.0)
        } else {
            None
        })
    });
    if outcome.delivered > 0 {
        push(figure, system, outcome.server_cpu_per_delivery_us());
    }
    fragment.notes.push(format!(
            "latency {} at {agents} agents, run {run}: {} changes, {}/{} deliveries, load generator CPU {:.0}% of a core, server CPU {:.0}%, worst schedule lag {:.1} ms{}{}",
            system.name(),
            outcome.changes,
            outcome.delivered,
            outcome.expected,
            outcome.client_cpu * 100.0,
            outcome.server_cpu * 100.0,
            outcome.worst_schedule_lag.as_secs_f64() * 1000.0,
            outcome.lost_sockets(),
            outcome.saturation()
        ));
}
