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

/// Builds the release app into `dist/` and precompresses it, as two phases.
pub fn build(phases: &mut crate::phase::Phases) -> anyhow::Result<()> {
    phases.run(
        "build the app (trunk, release, wasm-opt)",
        &mut build_release()?,
    )?;
    phases.time("precompress the app (brotli, gzip)", || {
        let (original, br, gz) = crate::precompress::dist(&crate::root().join("dist"))?;
        println!("dist: {original} bytes, {br} as brotli, {gz} as gzip");
        Ok(())
    })
}
