//! Process CPU time and memory from `/proc`, so a saturated load generator is
//! visible in the results and server memory can be read from outside.

use std::time::Duration;

/// CPU time this process has used so far (all threads); zero where `/proc` is missing.
pub fn process_cpu() -> Duration {
    pid_cpu(std::process::id()).unwrap_or_default()
}

/// CPU used between two readings as a fraction of one core over `wall`.
pub fn share_of_core(before: Duration, after: Duration, wall: Duration) -> f64 {
    if wall.is_zero() {
        return 0.0;
    }
    after.saturating_sub(before).as_secs_f64() / wall.as_secs_f64()
}

/// Resident memory of process `pid` in bytes (`VmRSS` in `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// CPU time (user + system) of process `pid` from `/proc/<pid>/stat`.
pub fn pid_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields are counted after its ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Linux reports these in USER_HZ, 100 on every supported architecture.
    Some(Duration::from_millis((utime + stime) * 10))
}
