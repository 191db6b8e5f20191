//! The release bundle's size as a browser downloads it (the brotli files
//! the server sends a browser that accepts them, and gzip for one that
//! does not), and the share of the code that Automerge (with its column
//! store, hexane) takes.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Sizes of `dist/` in bytes, gzip at level 9 (what a server sends).
#[derive(Debug, Default)]
pub struct Bundle {
    pub wasm_raw: u64,
    pub wasm_gzip: u64,
    pub js_gzip: u64,
    pub css_gzip: u64,
    /// wasm + JS + CSS as the precompressed `.br` files `xtask` wrote.
    pub brotli: u64,
    /// Automerge + hexane bytes of the code section, as a fraction.
    pub automerge_share: f64,
}

impl Bundle {
    pub fn total_gzip(&self) -> u64 {
        self.wasm_gzip + self.js_gzip + self.css_gzip
    }
}

fn gzip_len(bytes: &[u8]) -> anyhow::Result<u64> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len() as u64)
}

/// Measures `dist` (trunk's output) and the unoptimized `app_wasm` (cargo's
/// output, which still has the function names wasm-opt strips).
pub fn measure(dist: &Path, app_wasm: &Path) -> anyhow::Result<Bundle> {
    let mut bundle = Bundle::default();
    for entry in std::fs::read_dir(dist)? {
        let path = entry?.path();
        let bytes = std::fs::read(&path)?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("wasm") => {
                bundle.wasm_raw += bytes.len() as u64;
                bundle.wasm_gzip += gzip_len(&bytes)?;
            }
            Some("js") if !path.ends_with("sw.js") => bundle.js_gzip += gzip_len(&bytes)?,
            Some("css") => bundle.css_gzip += gzip_len(&bytes)?,
            Some("br") => {
                let served = path.with_extension("");
                let name = served.to_string_lossy();
                if [".wasm", ".js", ".css"].iter().any(|e| name.ends_with(e))
                    && !name.ends_with("sw.js")
                {
                    bundle.brotli += bytes.len() as u64;
                }
            }
            _ => {}
        }
    }
    let named = std::fs::read(app_wasm)
        .with_context(|| format!("no unoptimized app at {}", app_wasm.display()))?;
    let sizes = function_sizes(&named)?;
    let total: u64 = sizes.iter().map(|(_, n)| n).sum();
    let automerge: u64 = sizes
        .iter()
        .filter(|(name, _)| {
            // The linker keeps Rust's mangled names.
            let name = format!("{:#}", rustc_demangle::demangle(name));
            matches!(crate_of(&name), "automerge" | "hexane")
        })
        .map(|(_, n)| n)
        .sum();
    bundle.automerge_share = automerge as f64 / total.max(1) as f64;
    Ok(bundle)
}

/// The crate a (demangled) function name belongs to: its first path segment,
/// after any `<` of a trait impl (`<automerge::X as core::Y>::f` → automerge).
pub fn crate_of(name: &str) -> &str {
    let name = name.trim_start_matches(['<', '&', '*']);
    let name = name.strip_prefix("mut ").unwrap_or(name);
    name.split("::").next().unwrap_or(name)
}

/// Reads one unsigned LEB128 number at `*at`.
fn leb(bytes: &[u8], at: &mut usize) -> anyhow::Result<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*at).context("truncated wasm")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
        anyhow::ensure!(shift < 64, "bad LEB128 in wasm");
    }
}

fn name_at<'a>(bytes: &'a [u8], at: &mut usize) -> anyhow::Result<&'a str> {
    let len = leb(bytes, at)? as usize;
    let text = bytes.get(*at..*at + len).context("truncated wasm name")?;
    *at += len;
    Ok(std::str::from_utf8(text)?)
}

/// Every defined function's body size with its name (from the `name`
/// section), in a module as the linker wrote it.
pub fn function_sizes(wasm: &[u8]) -> anyhow::Result<Vec<(String, u64)>> {
    anyhow::ensure!(wasm.get(..4) == Some(b"\0asm"), "not a wasm module");
    let mut at = 8;
    let mut imported_functions = 0u64;
    let mut bodies = Vec::new();
    let mut names = std::collections::HashMap::new();
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let size = leb(wasm, &mut at)? as usize;
        let end = at + size;
        let section = wasm.get(at..end).context("truncated wasm section")?;
        let mut p = 0;
        match id {
            2 => {
                for _ in 0..leb(section, &mut p)? {
                    name_at(section, &mut p)?;
                    name_at(section, &mut p)?;
                    let kind = section[p];
                    p += 1;
                    match kind {
                        0 => {
                            imported_functions += 1;
                            leb(section, &mut p)?;
                        }
                        1 => {
                            p += 1;
                            limits(section, &mut p)?;
                        }
                        2 => limits(section, &mut p)?,
                        3 => p += 2,
                        4 => {
                            p += 1;
                            leb(section, &mut p)?;
                        }
                        other => anyhow::bail!("unknown import kind {other}"),
                    }
                }
            }
            10 => {
                for _ in 0..leb(section, &mut p)? {
                    let len = leb(section, &mut p)?;
                    bodies.push(len);
                    p += len as usize;
                }
            }
            0 if name_at(section, &mut p)? == "name" => {
                while p < section.len() {
                    let sub = section[p];
                    p += 1;
                    let len = leb(section, &mut p)? as usize;
                    if sub == 1 {
                        let mut q = p;
                        for _ in 0..leb(section, &mut q)? {
                            let index = leb(section, &mut q)?;
                            names.insert(index, name_at(section, &mut q)?.to_owned());
                        }
                    }
                    p += len;
                }
            }
            _ => {}
        }
        at = end;
    }
    Ok(bodies
        .into_iter()
        .enumerate()
        .map(|(i, len)| {
            let index = imported_functions + i as u64;
            (names.remove(&index).unwrap_or_default(), len)
        })
        .collect())
}

fn limits(section: &[u8], p: &mut usize) -> anyhow::Result<()> {
    let flags = section[*p];
    *p += 1;
    leb(section, p)?;
    if flags & 1 != 0 {
        leb(section, p)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_belong_to_the_crate_that_defines_them() {
        assert_eq!(crate_of("automerge::op_set::OpSet::insert"), "automerge");
        assert_eq!(
            crate_of("<hexane::Column as core::fmt::Debug>::fmt"),
            "hexane"
        );
        assert_eq!(crate_of("<&mut leptos::X as Y>::f"), "leptos");
    }

    #[test]
    fn a_module_names_its_function_bodies() {
        // (module (import "m" "f" (func)) (func $a) (func $b nop)), names a, b.
        let wasm: Vec<u8> = [
            &b"\0asm\x01\0\0\0"[..],
            &[1, 4, 1, 0x60, 0, 0],                    // type () -> ()
            &[2, 7, 1, 1, b'm', 1, b'f', 0, 0],        // import func
            &[3, 3, 2, 0, 0],                          // two functions
            &[10, 8, 2, 2, 0, 0x0b, 3, 0, 0x01, 0x0b], // bodies of 2 and 3 bytes
            &[
                0, 14, 4, b'n', b'a', b'm', b'e', 1, 7, 2, 1, 1, b'a', 2, 1, b'b',
            ],
        ]
        .concat();
        let sizes = function_sizes(&wasm).unwrap();
        assert_eq!(sizes, vec![("a".to_owned(), 2), ("b".to_owned(), 3)]);
    }
}
