//! Per-session resource limits (`limits = { memory = '2G', cpu = 1.5,
//! pids = 512 }`) for the session's whole process tree.
//!
//! Mechanisms, best first: a cgroup v2 subtree lulu may write (its own
//! cgroup's children, with the controllers enabled), the cgroup v1
//! hierarchies (memory, cpu, pids) where lulu's cgroups are writable (a
//! container, root), else `setrlimit` for what it covers (memory as address
//! space, processes per user). The session's program is started through
//! `lulu limits-exec`, which joins the cgroups and sets the rlimits before
//! it `exec`s, so every child it makes is inside.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What a start asks for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// `2G`, `512M`, `100K` or bytes.
    pub memory: Option<String>,
    /// CPUs (1.5 = one and a half cores).
    pub cpu: Option<f64>,
    /// Processes and threads.
    pub pids: Option<u64>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LimitError {
    #[error("limits.memory {0:?} is not a size like '2G', '512M' or a number of bytes")]
    BadMemory(String),
    #[error("limits.cpu {0} must be a number of CPUs above 0 (1.5 = one and a half)")]
    BadCpu(f64),
    #[error("limits.pids must be at least 8")]
    BadPids,
    #[error("cannot set up the session's limits in {path}: {detail}")]
    Cgroup { path: String, detail: String },
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        self.memory.is_none() && self.cpu.is_none() && self.pids.is_none()
    }

    /// Bytes of memory, if limited.
    pub fn memory_bytes(&self) -> Result<Option<u64>, LimitError> {
        self.memory.as_deref().map(parse_size).transpose()
    }

    pub fn check(&self) -> Result<(), LimitError> {
        self.memory_bytes()?;
        if let Some(cpu) = self.cpu
            && !(cpu.is_finite() && cpu > 0.0 && cpu <= 1024.0)
        {
            return Err(LimitError::BadCpu(cpu));
        }
        if self.pids.is_some_and(|p| p < 8) {
            return Err(LimitError::BadPids);
        }
        Ok(())
    }
}

fn parse_size(text: &str) -> Result<u64, LimitError> {
    let bad = || LimitError::BadMemory(text.to_string());
    let t = text.trim();
    let (number, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len()));
    let value: f64 = number.parse().map_err(|_| bad())?;
    let scale: f64 = match unit.trim().to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0f64.powi(4),
        _ => return Err(bad()),
    };
    let bytes = value * scale;
    if !(bytes.is_finite() && bytes >= 1024.0 * 1024.0) {
        return Err(bad());
    }
    Ok(bytes as u64)
}

/// How limits are enforced on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    /// A writable cgroup v2 directory whose children take the controllers.
    CgroupV2 { parent: PathBuf },
    /// Writable cgroup v1 directories, per controller.
    CgroupV1 {
        memory: Option<PathBuf>,
        cpu: Option<PathBuf>,
        pids: Option<PathBuf>,
    },
    /// `setrlimit` only: memory as address space, processes per user; no
    /// CPU limit.
    Rlimit,
}

impl Mechanism {
    /// In words, for `:checkhealth lulu`.
    pub fn describe(&self) -> String {
        match self {
            Mechanism::CgroupV2 { parent } => format!("cgroup v2 under {}", parent.display()),
            Mechanism::CgroupV1 { memory, cpu, pids } => {
                let have: Vec<&str> = [("memory", memory), ("cpu", cpu), ("pids", pids)]
                    .into_iter()
                    .filter(|(_, dir)| dir.is_some())
                    .map(|(name, _)| name)
                    .collect();
                format!("cgroup v1 ({})", have.join(", "))
            }
            Mechanism::Rlimit => {
                "setrlimit only (memory as address space, processes per user; no CPU limit): no writable cgroup".into()
            }
        }
    }

    /// Find the best this machine allows (reads /proc, tries a directory).
    pub fn detect() -> Mechanism {
        let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        if let Some(parent) = v2_parent(&cgroups, &mounts) {
            return Mechanism::CgroupV2 { parent };
        }
        let v1 = |controller: &str| v1_dir(&cgroups, &mounts, controller).filter(|dir| writable(dir));
        let (memory, cpu, pids) = (v1("memory"), v1("cpu"), v1("pids"));
        if memory.is_some() || cpu.is_some() || pids.is_some() {
            return Mechanism::CgroupV1 { memory, cpu, pids };
        }
        Mechanism::Rlimit
    }

    /// Make the session's cgroups with `limits` written in; what
    /// `limits-exec` joins, and what is read and removed later.
    pub fn prepare(&self, session: &str, limits: &Limits) -> Result<Applied, LimitError> {
        limits.check()?;
        let name = format!("lulu-{session}");
        let memory = limits.memory_bytes()?;
        match self {
            Mechanism::CgroupV2 { parent } => cgroup_v2(&parent.join(&name), limits, memory),
            Mechanism::CgroupV1 {
                memory: m,
                cpu: c,
                pids: p,
            } => {
                let roots = [m, c, p].map(|root| root.as_ref().map(|root| root.join(&name)));
                cgroup_v1(roots, limits, memory)
            }
            Mechanism::Rlimit => Ok(Applied {
                version: 0,
                dirs: Vec::new(),
                rlimit_as: memory,
                rlimit_nproc: limits.pids,
            }),
        }
    }
}

/// One cgroup v2 directory with every limit.
fn cgroup_v2(dir: &Path, limits: &Limits, memory: Option<u64>) -> Result<Applied, LimitError> {
    let dir = make(dir)?;
    if let Some(bytes) = memory {
        write(&dir, "memory.max", &bytes.to_string())?;
        let _ = write(&dir, "memory.swap.max", "0");
    }
    if let Some(cpu) = limits.cpu {
        write(&dir, "cpu.max", &format!("{} 100000", (cpu * 100_000.0) as u64))?;
    }
    if let Some(pids) = limits.pids {
        write(&dir, "pids.max", &pids.to_string())?;
    }
    Ok(Applied {
        version: 2,
        dirs: vec![dir],
        rlimit_as: None,
        rlimit_nproc: None,
    })
}

/// A directory per cgroup v1 controller (`[memory, cpu, pids]`, those
/// mounted); memory and processes fall back to rlimits where theirs is not.
fn cgroup_v1(dirs: [Option<PathBuf>; 3], limits: &Limits, memory: Option<u64>) -> Result<Applied, LimitError> {
    let [m, c, p] = dirs;
    let mut applied = Applied {
        version: 1,
        dirs: Vec::new(),
        rlimit_as: None,
        rlimit_nproc: None,
    };
    match (memory, m) {
        (Some(bytes), Some(dir)) => {
            let dir = make(&dir)?;
            write(&dir, "memory.limit_in_bytes", &bytes.to_string())?;
            let _ = write(&dir, "memory.memsw.limit_in_bytes", &bytes.to_string());
            applied.dirs.push(dir);
        }
        (Some(bytes), None) => applied.rlimit_as = Some(bytes),
        _ => {}
    }
    if let (Some(cpu), Some(dir)) = (limits.cpu, c) {
        let dir = make(&dir)?;
        write(&dir, "cpu.cfs_period_us", "100000")?;
        write(&dir, "cpu.cfs_quota_us", &((cpu * 100_000.0) as u64).to_string())?;
        applied.dirs.push(dir);
    }
    match (limits.pids, p) {
        (Some(pids), Some(dir)) => {
            let dir = make(&dir)?;
            write(&dir, "pids.max", &pids.to_string())?;
            applied.dirs.push(dir);
        }
        (Some(pids), None) => applied.rlimit_nproc = Some(pids),
        _ => {}
    }
    Ok(applied)
}

/// A session's limits as set up: its cgroups and rlimits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// 1 or 2 (0: no cgroup).
    version: u8,
    pub dirs: Vec<PathBuf>,
    pub rlimit_as: Option<u64>,
    pub rlimit_nproc: Option<u64>,
}

impl Applied {
    /// The `lulu limits-exec` arguments that apply these, before `--`.
    pub fn exec_args(&self) -> Vec<String> {
        let mut args = vec!["limits-exec".to_string()];
        for dir in &self.dirs {
            args.push("--cgroup".into());
            args.push(dir.to_string_lossy().into_owned());
        }
        if let Some(bytes) = self.rlimit_as {
            args.push("--address-space".into());
            args.push(bytes.to_string());
        }
        if let Some(n) = self.rlimit_nproc {
            args.push("--processes".into());
            args.push(n.to_string());
        }
        args
    }

    /// Did the kernel kill something of it for memory?
    pub fn oom_killed(&self) -> bool {
        self.dirs.iter().any(|dir| {
            let file = if self.version == 2 {
                "memory.events"
            } else {
                "memory.oom_control"
            };
            std::fs::read_to_string(dir.join(file))
                .ok()
                .and_then(|text| {
                    text.lines()
                        .find_map(|l| l.strip_prefix("oom_kill ").and_then(|n| n.trim().parse::<u64>().ok()))
                })
                .is_some_and(|n| n > 0)
        })
    }

    /// Memory in use now, in bytes, when a cgroup counts it.
    pub fn memory_now(&self) -> Option<u64> {
        let file = if self.version == 2 {
            "memory.current"
        } else {
            "memory.usage_in_bytes"
        };
        self.dirs
            .iter()
            .find_map(|dir| std::fs::read_to_string(dir.join(file)).ok()?.trim().parse().ok())
    }

    /// Remove the cgroups (their processes are gone).
    pub fn remove(&self) {
        for dir in &self.dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// `lulu limits-exec`: join the cgroups, set the rlimits, become `argv`.
pub fn exec(
    cgroups: &[PathBuf],
    address_space: Option<u64>,
    processes: Option<u64>,
    argv: &[String],
) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let me = std::process::id().to_string();
    for dir in cgroups {
        if let Err(err) = std::fs::write(dir.join("cgroup.procs"), &me) {
            return std::io::Error::other(format!("cannot join {}: {err}", dir.display()));
        }
    }
    let set = |resource, value: u64| {
        let limit = libc::rlimit {
            rlim_cur: value,
            rlim_max: value,
        };
        // SAFETY: a plain syscall on this process, with a valid struct.
        unsafe { libc::setrlimit(resource, &limit) }
    };
    if let Some(bytes) = address_space
        && set(libc::RLIMIT_AS, bytes) != 0
    {
        return std::io::Error::last_os_error();
    }
    if let Some(n) = processes
        && set(libc::RLIMIT_NPROC, n) != 0
    {
        return std::io::Error::last_os_error();
    }
    let Some((program, args)) = argv.split_first() else {
        return std::io::Error::other("no program to run");
    };
    std::process::Command::new(program).args(args).exec()
}

/// `2G` for the reason a session failed with.
pub fn human(bytes: u64) -> String {
    const G: u64 = 1024 * 1024 * 1024;
    const M: u64 = 1024 * 1024;
    if bytes >= G && bytes.is_multiple_of(G) {
        format!("{}G", bytes / G)
    } else if bytes >= G {
        format!("{:.1}G", bytes as f64 / G as f64)
    } else {
        format!("{}M", bytes.div_ceil(M))
    }
}

fn make(dir: &Path) -> Result<PathBuf, LimitError> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(dir.to_path_buf()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(dir.to_path_buf()),
        Err(err) => Err(LimitError::Cgroup {
            path: dir.display().to_string(),
            detail: err.to_string(),
        }),
    }
}

fn write(dir: &Path, file: &str, value: &str) -> Result<(), LimitError> {
    std::fs::write(dir.join(file), value).map_err(|err| LimitError::Cgroup {
        path: dir.join(file).display().to_string(),
        detail: err.to_string(),
    })
}

/// Can lulu make a cgroup here? (Tried, then removed.)
fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!("lulu-probe-{}", std::process::id()));
    let made = std::fs::create_dir(&probe).is_ok();
    if made {
        let _ = std::fs::remove_dir(&probe);
    }
    made
}

/// Where a v1 `controller` is mounted, joined with this process's cgroup in it.
fn v1_dir(cgroups: &str, mounts: &str, controller: &str) -> Option<PathBuf> {
    let own = cgroups.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, list, path) = (parts.next()?, parts.next()?, parts.next()?);
        list.split(',').any(|c| c == controller).then(|| path.to_string())
    })?;
    let mount = mounts.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mut fields = right.split_whitespace();
        let (kind, _, options) = (fields.next()?, fields.next()?, fields.next()?);
        (kind == "cgroup" && options.split(',').any(|o| o == controller))
            .then(|| left.split_whitespace().nth(4).map(str::to_string))
            .flatten()
    })?;
    Some(PathBuf::from(mount).join(own.trim_start_matches('/')))
}

/// A cgroup v2 directory lulu can make children in, with the memory, cpu
/// and pids controllers available to them.
fn v2_parent(cgroups: &str, mounts: &str) -> Option<PathBuf> {
    let own = cgroups.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mount = mounts.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2")
            .then(|| left.split_whitespace().nth(4).map(str::to_string))
            .flatten()
    })?;
    let dir = PathBuf::from(mount).join(own.trim_start_matches('/'));
    let enabled = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
    let wanted = ["memory", "pids"];
    (wanted.iter().all(|c| enabled.split_whitespace().any(|e| e == *c)) && writable(&dir)).then_some(dir)
}

#[cfg(test)]
mod tests;
