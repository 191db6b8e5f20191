//! Building the app with trunk.

use std::process::Command;

/// `trunk build --release` at the workspace root.
pub fn build_release() -> anyhow::Result<Command> {
    let mut command = Command::new("trunk");
    command
        .args(["build", "--release"])
        .current_dir(crate::root());
    Ok(command)
}
