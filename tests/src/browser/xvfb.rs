//! A virtual X display (Xvfb) for an engine that needs one to draw (WebKitGTK
//! has no headless mode): one per browser, on a free display number, killed
//! on drop.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;

/// How long Xvfb may take to open its socket.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// Display numbers are tried from here on, per test process, so parallel
/// test binaries rarely reach for the same one (Xvfb's lock settles it).
static NEXT: AtomicU32 = AtomicU32::new(0);

pub struct Xvfb {
    child: Child,
    /// `:<number>`, for `DISPLAY`.
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb at `width`×`height` on the first free display number.
    pub async fn start(width: u32, height: u32) -> anyhow::Result<Xvfb> {
        let base = 100 + (std::process::id() % 200) * 20;
        let _ = NEXT.compare_exchange(0, base, Ordering::SeqCst, Ordering::SeqCst);
        let mut last = None;
        for _ in 0..20 {
            let number = NEXT.fetch_add(1, Ordering::SeqCst);
            if Path::new(&format!("/tmp/.X{number}-lock")).exists() {
                continue;
            }
            match Self::try_start(number, width, height).await {
                Ok(xvfb) => return Ok(xvfb),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no free X display number for Xvfb")))
    }

    async fn try_start(number: u32, width: u32, height: u32) -> anyhow::Result<Xvfb> {
        let display = format!(":{number}");
        let child = Command::new("Xvfb")
            .args([
                display.as_str(),
                "-screen",
                "0",
                &format!("{width}x{height}x24"),
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|err| {
                anyhow::anyhow!("cannot start Xvfb ({err}): WebKit tests need Debian's xvfb")
            })?;
        let mut xvfb = Xvfb { child, display };
        let socket = format!("/tmp/.X11-unix/X{number}");
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = xvfb.child.try_wait()? {
                bail!("Xvfb {} exited with {status}", xvfb.display);
            }
            if Path::new(&socket).exists() {
                return Ok(xvfb);
            }
            if Instant::now() > deadline {
                bail!("Xvfb {} did not open its socket", xvfb.display);
            }
            // Xvfb has no ready signal but its socket.
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
