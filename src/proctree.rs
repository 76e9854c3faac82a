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
