//! What each `baton` command does, with human or `--json` output.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use baton_shared::model::Role;
use serde_json::json;

use crate::cli::{
    AgentCommand, ChannelCommand, Cli, Command, Global, MigrateStore, Serve, TokenCommand,
};
use crate::hub::Hub;
use crate::{AppState, demo, store, team};

/// Runs the command; returns the process exit code.
pub async fn execute(cli: Cli) -> i32 {
    let json = cli.global.json;
    match run(cli).await {
        Ok(()) => 0,
        Err(err) => {
            if json {
                eprintln!("{}", json!({ "error": { "message": format!("{err:#}") } }));
            } else {
                eprintln!("error: {err:#}");
            }
            1
        }
    }
}

async fn open(global: &Global) -> anyhow::Result<Arc<Hub>> {
    let store = store::open(global.database_url.as_deref(), &global.data).await?;
    Ok(Hub::open(store).await?)
}

fn print(json: bool, value: serde_json::Value, human: String) {
    if json {
        println!("{value}");
    } else {
        println!("{human}");
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let json = cli.global.json;
    if let Command::MigrateStore(copy) = &cli.command {
        return migrate_store(copy, json).await;
    }
    let hub = open(&cli.global).await?;
    match cli.command {
        Command::Serve(serve) => return self::serve(hub, serve, json).await,
        Command::Agent(AgentCommand::Add {
            email,
            name,
            admin,
            password,
        }) => {
            let role = if admin { Role::Admin } else { Role::Agent };
            let password = match password.as_deref() {
                Some("-") => Some(read_password()?),
                other => other.map(str::to_owned),
            };
            let agent =
                team::add_agent(&hub, &email, &name, role, password.as_deref(), None).await?;
            let human = format!(
                "Added {} <{}> ({}), id {}\nPassword: {}",
                agent.name,
                agent.email,
                agent.role.as_str(),
                agent.id,
                agent.password
            );
            print(json, serde_json::to_value(&agent)?, human);
        }
        Command::Agent(AgentCommand::Deactivate { email }) => {
            let done = team::deactivate_agent(&hub, &email).await?;
            let human = format!(
                "Deactivated {}: sessions and tokens revoked, {} open conversation(s) unassigned",
                done.email, done.unassigned
            );
            print(json, serde_json::to_value(&done)?, human);
        }
        Command::Channel(ChannelCommand::Add { name, kind }) => {
            let channel = team::add_channel(&hub, &name, &kind).await?;
            let human = format!(
                "Added channel {} ({})\nIngest secret (shown once): {}",
                channel.name, channel.id, channel.secret
            );
            print(json, serde_json::to_value(&channel)?, human);
        }
        Command::Token(TokenCommand::Create {
            email,
            expires_in_days,
        }) => {
            let created = team::create_token(&hub, &email, expires_in_days).await?;
            let human = format!(
                "API token for {} (shown once): {}\nIts id (to revoke it): {}",
                created.email, created.token, created.id
            );
            print(json, serde_json::to_value(&created)?, human);
        }
        Command::Token(TokenCommand::List { email }) => {
            let tokens = team::list_tokens(&hub, &email).await?;
            let human = tokens
                .iter()
                .map(|t| {
                    let state = if t.revoked { "revoked" } else { "active" };
                    format!("{} {state} created {}", t.id, t.created_at)
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(json, json!({ "tokens": tokens }), human);
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            team::revoke_token(&hub, &id).await?;
            print(
                json,
                json!({ "revoked": id }),
                format!("Revoked token {id}"),
            );
        }
        Command::MigrateStore(_) => {}
    }
    Ok(())
}

/// A password from the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn serve(hub: Arc<Hub>, serve: Serve, json: bool) -> anyhow::Result<()> {
    if let Some(dist) = &serve.dist
        && !dist.join("index.html").is_file()
    {
        anyhow::bail!(
            "--dist {}: no index.html there; build the app first (cargo xtask run does)",
            dist.display()
        );
    }
    let listener = tokio::net::TcpListener::bind(serve.listen)
        .await
        .with_context(|| format!("cannot listen on {}", serve.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    let mut state = AppState::new(
        hub.clone(),
        serve.dist.clone(),
        Duration::from_secs(serve.session_ttl),
    );
    state.origins = Arc::new(serve.origin.clone());
    state.limits.heartbeat = Duration::from_secs(serve.heartbeat_seconds.max(1));
    state.limits.catch_up_page = serve.catch_up_page.max(1);
    state.limits.max_documents = serve.max_documents.max(1);
    state.trusted_proxies = Arc::new(
        crate::auth::TrustedProxies::parse(&serve.trusted_proxy).map_err(anyhow::Error::msg)?,
    );
    let shutdown = state.shutdown.clone();
    let demo_logins = if serve.demo {
        Some(demo::seed(&hub, serve.demo_conversations as usize).await?)
    } else {
        None
    };
    if json {
        println!("{}", json!({ "url": url, "demo": demo_logins }));
    } else {
        println!("Baton is listening on {url}");
        if let Some(logins) = &demo_logins {
            println!("{}", logins.describe(&url));
        }
    }
    hub.watch_store(shutdown.clone());
    hub.relay_presence(shutdown.clone());
    hub.watch_unassigned(
        Duration::from_secs(serve.sweep_every.max(1)),
        shutdown.clone(),
    );
    hub.watch_online(shutdown.clone());
    if serve.demo && serve.demo_rate > 0 {
        demo::simulate(hub.clone(), serve.demo_rate, shutdown.clone());
    }
    let on_signal = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing requests in flight");
        on_signal.cancel();
    });
    crate::run(listener, state).await?;
    Ok(())
}

/// Copies one database into another (`baton migrate-store`).
async fn migrate_store(copy: &MigrateStore, json: bool) -> anyhow::Result<()> {
    let from = store::SqlStore::open(store::Engine::from_url(&copy.from)?).await?;
    let to = store::SqlStore::open(store::Engine::from_url(&copy.to)?).await?;
    let copied = store::copy_store(&from, &to).await?;
    let rows: u64 = copied.tables.iter().map(|(_, n)| n).sum();
    let tables: serde_json::Map<String, serde_json::Value> = copied
        .tables
        .iter()
        .map(|(table, n)| ((*table).to_owned(), json!(n)))
        .collect();
    print(
        json,
        json!({ "from": from.engine().describe(), "to": to.engine().describe(),
                "rows": rows, "tables": tables, "seq": copied.seq }),
        format!(
            "Copied {rows} rows from {} to {}; commit sequence continues after {}.",
            from.engine().describe(),
            to.engine().describe(),
            copied.seq
        ),
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
