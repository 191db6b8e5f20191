//! Building the app with trunk. Release builds run wasm-opt, and trunk takes
//! the one first on PATH: xtask puts Binaryen from `xtask/wasm-opt` there,
//! because Debian's binaryen 108 turns wasm-bindgen's externref table into a
//! funcref table and the app fails at load.

use std::process::Command;

use crate::tools;

/// `trunk build --release` at the workspace root, with the pinned wasm-opt.
pub fn build_release() -> anyhow::Result<Command> {
    let mut path = vec![tools::wasm_opt_dir()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut command = Command::new("trunk");
    command
        .args(["build", "--release"])
        .env("PATH", std::env::join_paths(path)?)
        .current_dir(crate::root());
    Ok(command)
}
