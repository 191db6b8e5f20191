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
    let stat = Stat::of(pid)?;
    Some(ticks(stat.utime + stat.stime))
}

/// CPU time of process `root` and of its children, running or ended: the
/// children's own times while they run, and what `root` collected from
/// those it has reaped (`cutime`, `cstime`). For a PostgreSQL cluster, the
/// postmaster and every backend and helper it forked.
pub fn tree_cpu(root: u32) -> Option<Duration> {
    let own = Stat::of(root)?;
    let mut total = own.utime + own.stime + own.cutime + own.cstime;
    for entry in std::fs::read_dir("/proc").ok()?.filter_map(Result::ok) {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        // A child may end between the listing and this read: then it is in cutime.
        if let Some(child) = Stat::of(pid).filter(|s| s.ppid == root) {
            total += child.utime + child.stime;
        }
    }
    Some(ticks(total))
}

/// The fields of `/proc/<pid>/stat` these readings use, in clock ticks.
struct Stat {
    ppid: u32,
    utime: u64,
    stime: u64,
    cutime: u64,
    cstime: u64,
}

impl Stat {
    fn of(pid: u32) -> Option<Stat> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name may hold spaces; fields are counted after its ')'.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |at: usize| fields.get(at)?.parse::<u64>().ok();
        Some(Stat {
            ppid: u32::try_from(field(1)?).ok()?,
            utime: field(11)?,
            stime: field(12)?,
            cutime: field(13)?,
            cstime: field(14)?,
        })
    }
}

/// Linux reports CPU times in USER_HZ, 100 on every supported architecture.
fn ticks(count: u64) -> Duration {
    Duration::from_millis(count * 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_tree_counts_its_busy_child() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"])
            .spawn()
            .expect("sh runs");
        let me = std::process::id();
        let mut most = Duration::ZERO;
        while child.try_wait().expect("the child is there").is_none() {
            most = most.max(tree_cpu(me).unwrap_or_default());
            std::thread::sleep(Duration::from_millis(20));
        }
        let after = tree_cpu(me).unwrap_or_default();
        let own = pid_cpu(me).unwrap_or_default();
        assert!(after >= most, "reaping moves the child's time into cutime");
        assert!(
            after >= own + Duration::from_millis(50),
            "the child's loop counts: tree {after:?}, own {own:?}"
        );
    }
}
