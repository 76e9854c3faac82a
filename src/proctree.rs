//! Who is asking: a process and its ancestors, read from `/proc`, so the
//! host can tell an editor from something running inside one of its own
//! sessions (which must never answer its own approvals).

/// One process's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcIds {
    pub pid: u32,
    pub pgid: u32,
    pub sid: u32,
}

/// How far up the parent chain to look.
const MAX_DEPTH: usize = 128;

/// `pid` and each of its ancestors up to (not including) pid 1. A process
/// that cannot be read ends the chain. Blocking reads of procfs (cheap; no
/// disk): fine on a connection's task, not in the supervisor's loop.
pub fn ancestry(pid: u32) -> Vec<ProcIds> {
    let mut chain = Vec::new();
    let mut next = pid;
    while next > 1 && chain.len() < MAX_DEPTH {
        let Some((ids, parent)) = read_stat(next) else {
            break;
        };
        chain.push(ids);
        next = parent;
    }
    chain
}

/// Does any process in `chain` belong to the session led by `leader` (its
/// pid, its process group, or its kernel session)? Sessions run as their
/// own session leaders in their PTYs, so a child that reparents to init
/// still carries the session id, unless it called `setsid` itself.
pub fn within(chain: &[ProcIds], leader: u32) -> bool {
    chain
        .iter()
        .any(|ids| ids.pid == leader || ids.pgid == leader || ids.sid == leader)
}

/// End the process groups of sessions a dead host left running: each
/// `(pid, start time)` is a session leader as recorded. A pid that now
/// belongs to a process started at another time is someone else's and is
/// left alone; a leader that is gone may still have its group, which is
/// signalled (its id cannot be reused while the group lives). SIGHUP and
/// SIGTERM first, SIGKILL to whatever is left after `grace`. Blocking.
pub fn end_groups(leaders: &[(u32, Option<u64>)], grace: std::time::Duration) -> usize {
    let groups: Vec<libc::pid_t> = leaders
        .iter()
        .filter(|(pid, started)| match (start_time(*pid), started) {
            // Still the child of a running lulu host (another editor's, on
            // the same store): not left behind.
            (Some(_), _) if run_by_lulu(*pid) => false,
            (Some(now), Some(then)) => now == *then,
            // Alive with no recorded start: cannot tell; leave it.
            (Some(_), None) => false,
            (None, _) => true,
        })
        .filter_map(|(pid, _)| libc::pid_t::try_from(*pid).ok())
        .filter(|pid| *pid > 1)
        .collect();
    // SAFETY: kill(2) on process groups; signal 0 only probes.
    let alive = |group: libc::pid_t| unsafe { libc::kill(-group, 0) } == 0;
    let live: Vec<libc::pid_t> = groups.into_iter().filter(|g| alive(*g)).collect();
    for group in &live {
        tracing::warn!(pgid = group, "ending a session process left by a previous host");
        // SAFETY: as above.
        unsafe {
            libc::kill(-group, libc::SIGHUP);
            libc::kill(-group, libc::SIGTERM);
        }
    }
    let deadline = std::time::Instant::now() + grace;
    while live.iter().any(|g| alive(*g)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for group in live.iter().filter(|g| alive(**g)) {
        tracing::warn!(pgid = group, "it ignored SIGHUP and SIGTERM; SIGKILL");
        // SAFETY: as above.
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
    live.len()
}

/// Is `pid`'s parent a running lulu process?
fn run_by_lulu(pid: u32) -> bool {
    let parent = read_stat(pid).map(|(_, ppid)| ppid).unwrap_or(0);
    parent > 1 && std::fs::read_to_string(format!("/proc/{parent}/comm")).is_ok_and(|comm| comm.trim() == "lulu")
}

/// When `pid` started, in clock ticks since boot (field 22 of its stat).
pub fn start_time(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = text.rsplit_once(')')?;
    // `rest` starts at field 3 (state); field 22 is the 20th after it.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// `(ids, ppid)` from `/proc/<pid>/stat`: `pid (comm) state ppid pgrp
/// session ...`, where `comm` may itself hold spaces and parentheses.
fn read_stat(pid: u32) -> Option<(ProcIds, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

fn parse_stat(text: &str) -> Option<(ProcIds, u32)> {
    let (head, rest) = text.rsplit_once(')')?;
    let pid = head.split_whitespace().next()?.parse().ok()?;
    let mut fields = rest.split_whitespace();
    let _state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgid = fields.next()?.parse().ok()?;
    let sid = fields.next()?.parse().ok()?;
    Some((ProcIds { pid, pgid, sid }, ppid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let (ids, ppid) = parse_stat("4242 (we (ird) name)) S 17 4242 4000 34816 0 0").unwrap();
        assert_eq!(
            ids,
            ProcIds {
                pid: 4242,
                pgid: 4242,
                sid: 4000
            }
        );
        assert_eq!(ppid, 17);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn our_own_chain_reaches_our_parent() {
        let chain = ancestry(std::process::id());
        assert_eq!(chain[0].pid, std::process::id());
        // SAFETY: getppid cannot fail.
        let parent = unsafe { libc::getppid() } as u32;
        if parent > 1 {
            assert_eq!(chain[1].pid, parent);
        }
        assert!(within(&chain, std::process::id()));
        assert!(!within(&chain, u32::MAX));
    }
}
