//! One WebDriver server per browser (chromedriver, geckodriver or
//! WebKitWebDriver), on a free port of 127.0.0.1, in its own process group
//! so that nothing it started outlives the test. Its output goes to a log
//! file, which is also where Firefox and WebKit write the page's console.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::engine::Engine;

/// How long a driver may take to answer `/status`.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// A running WebDriver server; killed (with its whole process group) on drop.
pub struct Driver {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    /// Where its output (and, for Firefox and WebKit, the console) goes.
    pub log: PathBuf,
}

pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

impl Driver {
    /// Starts `engine`'s driver, logging into `dir`, with `env` (such as
    /// the X `DISPLAY` for engines that draw on one), and waits until it is
    /// ready. A port taken between choosing and binding it is retried.
    pub async fn start(
        engine: Engine,
        dir: &Path,
        env: &[(&str, String)],
    ) -> anyhow::Result<Driver> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let log = dir.join(format!("{}.log", engine.driver_name()));
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(engine, &log, env).await {
                Ok(driver) => return Ok(driver),
                Err(err) => last = Some(err),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("{} did not start", engine.driver_name())))
    }

    async fn try_start(
        engine: Engine,
        log: &Path,
        env: &[(&str, String)],
    ) -> anyhow::Result<Driver> {
        let port = free_port()?;
        let program = engine.driver_program();
        let output = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut command = Command::new(&program);
        command
            .args(engine.driver_args(port, log)?)
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .process_group(0)
            .envs(env.iter().map(|(k, v)| (k, v)));
        let child = command.spawn().map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "{program} is not installed: {} (`cargo xtask install` installs it)",
                    engine.install_hint()
                )
            } else {
                anyhow::anyhow!("cannot start {program}: {err}")
            }
        })?;
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
        };
        driver.wait_ready(&program).await?;
        Ok(driver)
    }

    async fn wait_ready(&mut self, program: &str) -> anyhow::Result<()> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{program} exited with {status} before it was ready; see {}",
                    self.log.display()
                );
            }
            let answer = http.get(format!("{}/status", self.url)).send().await;
            if let Ok(response) = answer {
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("{program} was not ready within {READY_WITHIN:?}");
            }
            // Polling its status endpoint; a driver has no ready signal.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group holds the driver and any browser it left behind.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.wait();
    }
}
