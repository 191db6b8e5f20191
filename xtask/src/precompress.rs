//! Compresses the built app once, at build time: `baton serve` sends
//! `file.br` to browsers that accept brotli and `file.gz` to the rest
//! (`server/src/static_files.rs`), so no request pays for compression and
//! the bytes on the wire are brotli's at its best setting.

use std::fs;
use std::io::Write;
use std::path::Path;

/// What is worth compressing; images and fonts are compressed already.
const TEXT: [&str; 5] = ["wasm", "js", "css", "html", "json"];

/// Writes `<file>.br` and `<file>.gz` next to every text file of `dist`,
/// and removes compressed files whose original is gone. The sizes, for
/// the build log: (original, brotli, gzip) in bytes.
pub fn dist(dist: &Path) -> anyhow::Result<(u64, u64, u64)> {
    let mut sizes = (0, 0, 0);
    for entry in fs::read_dir(dist)? {
        let path = entry?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if ext == "br" || ext == "gz" {
            if !path.with_extension("").exists() {
                fs::remove_file(&path)?;
            }
            continue;
        }
        if !path.is_file() || !TEXT.contains(&ext) {
            continue;
        }
        let bytes = fs::read(&path)?;
        let br = cached_brotli(&path, &bytes)?;
        let gz = gzip_of(&bytes)?;
        fs::write(with_suffix(&path, "br"), &br)?;
        fs::write(with_suffix(&path, "gz"), &gz)?;
        sizes.0 += bytes.len() as u64;
        sizes.1 += br.len() as u64;
        sizes.2 += gz.len() as u64;
    }
    Ok(sizes)
}

fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    name.into()
}

/// Brotli at its best setting takes half a minute for the wasm; a file
/// whose name carries trunk's content hash is compressed once and kept in
/// `target/precompressed/`.
fn cached_brotli(path: &Path, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if !content_hashed(name) {
        return brotli_of(bytes);
    }
    let cache = crate::target_dir().join("precompressed");
    let kept = cache.join(format!("{name}.br"));
    if let Ok(br) = fs::read(&kept) {
        return Ok(br);
    }
    let br = brotli_of(bytes)?;
    fs::create_dir_all(&cache)?;
    fs::write(&kept, &br)?;
    Ok(br)
}

/// Trunk names built files `name-<16 hex digits>[_bg].ext`.
fn content_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn brotli_of(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        // Quality 11, a 4 MiB window: the smallest output; seconds once per build.
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(out)
}

fn gzip_of(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut writer = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    writer.write_all(bytes)?;
    Ok(writer.finish()?)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn every_text_file_gets_both_encodings_and_stale_ones_go() -> anyhow::Result<()> {
        let dir = tempdir()?;
        let js = "console.log('baton');\n".repeat(200);
        fs::write(dir.join("app.js"), &js)?;
        fs::write(dir.join("logo.png"), [0u8; 16])?;
        fs::write(dir.join("old-1234.wasm.br"), b"stale")?;
        let (original, br, gz) = dist(&dir)?;
        assert_eq!(original, js.len() as u64);
        assert!(br < original && gz < original, "{br} {gz} of {original}");
        let mut unbrotli = String::new();
        brotli::Decompressor::new(fs::File::open(dir.join("app.js.br"))?, 4096)
            .read_to_string(&mut unbrotli)?;
        assert_eq!(unbrotli, js);
        let mut ungzip = String::new();
        flate2::read::GzDecoder::new(fs::File::open(dir.join("app.js.gz"))?)
            .read_to_string(&mut ungzip)?;
        assert_eq!(ungzip, js);
        assert!(!dir.join("logo.png.br").exists(), "images are left alone");
        assert!(!dir.join("old-1234.wasm.br").exists(), "a stale file stays");
        assert!(content_hashed("baton-app-32e723f2a3190006_bg.wasm"));
        assert!(content_hashed("main-7a7dd8a8d617c3ea.css"));
        assert!(!content_hashed("index.html") && !content_hashed("sw.js"));
        fs::remove_dir_all(&dir)?;
        Ok(())
    }

    fn tempdir() -> anyhow::Result<std::path::PathBuf> {
        let dir = std::env::temp_dir().join(format!("baton-precompress-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}
