//! `baton`: the server binary.

use anyhow::Context;
use baton_server::cli::{Cli, Command};
use clap::Parser;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(serve) => {
            let listener = tokio::net::TcpListener::bind(serve.listen)
                .await
                .with_context(|| format!("cannot listen on {}", serve.listen))?;
            println!("Baton is listening on http://{}", listener.local_addr()?);
            let shutdown = CancellationToken::new();
            let on_signal = shutdown.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                on_signal.cancel();
            });
            let state = baton_server::AppState { dist: serve.dist };
            baton_server::run(listener, state, shutdown).await?;
        }
    }
    Ok(())
}
