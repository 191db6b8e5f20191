//! The `baton` command line (DESIGN §9).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Baton: a shared inbox where every conversation is in someone's hands.
#[derive(Debug, Parser)]
#[command(name = "baton", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app, the HTTP API and live sync.
    Serve(Serve),
}

#[derive(Debug, clap::Args)]
pub struct Serve {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The built app to serve (trunk's `dist/`).
    #[arg(long)]
    pub dist: Option<PathBuf>,
}
