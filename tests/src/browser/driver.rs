//! One `chromedriver` process per browser, on a free port of 127.0.0.1, in
//! its own process group so that nothing it started outlives the test.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long chromedriver may take to answer `/status`.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// A running chromedriver; killed (with its whole process group) on drop.
pub struct ChromeDriver {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub url: String,
}

/// The chromedriver to run: `BATON_CHROMEDRIVER`, else `chromedriver` on PATH.
fn program() -> String {
    std::env::var("BATON_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl ChromeDriver {
    /// Starts chromedriver, logging to `log`, and waits until it is ready.
    /// A port taken between choosing and binding it is retried.
    pub async fn start(log: &Path) -> anyhow::Result<ChromeDriver> {
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(log).await {
                Ok(driver) => return Ok(driver),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("chromedriver did not start")))
    }

    async fn try_start(log: &Path) -> anyhow::Result<ChromeDriver> {
        let port = free_port()?;
        let program = program();
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|err| {
                if err.kind() == std::io::ErrorKind::NotFound {
                    anyhow::anyhow!(
                        "{program} is not installed: browser tests need Debian's chromium and \
                         chromium-driver (`cargo xtask install`, or `apt-get install chromium \
                         chromium-driver`)"
                    )
                } else {
                    anyhow::anyhow!("cannot start {program}: {err}")
                }
            })?;
        let mut driver = ChromeDriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        driver.wait_ready().await?;
        Ok(driver)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("chromedriver exited with {status} before it was ready");
            }
            let answer = http.get(format!("{}/status", self.url)).send().await;
            if let Ok(response) = answer {
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("chromedriver was not ready within {READY_WITHIN:?}");
            }
            // Polling its status endpoint; chromedriver has no ready signal.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The group holds chromedriver and any Chromium it left behind.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}

/// Checks that `dir` exists for chromedriver's log, creating it.
pub fn log_path(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir.join("chromedriver.log"))
}
