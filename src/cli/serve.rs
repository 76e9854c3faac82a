//! `lulu host` and `lulu daemon`: logging to a file (stdout is the RPC
//! channel), the runtime, and the allocator set up before any thread.

use anyhow::Context;

use crate::paths::Dirs;

pub(super) fn host(dirs: Dirs) -> anyhow::Result<()> {
    init_logging(&dirs, "host.log")?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(crate::host::run(dirs));
    if let Err(err) = &result {
        tracing::error!("host failed: {err:#}");
    }
    // Do not wait for the blocking stdin reader: the editor may still hold
    // our stdin open after asking us to stop.
    runtime.shutdown_background();
    result
}

pub(super) fn daemon(dirs: Dirs, idle_exit: u64) -> anyhow::Result<()> {
    init_logging(&dirs, "daemon.log")?;
    let lock = crate::daemon::lock().inspect_err(|err| tracing::error!("daemon not started: {err:#}"))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(crate::daemon::run(
        dirs,
        std::time::Duration::from_secs(idle_exit),
        lock,
    ));
    if let Err(err) = &result {
        tracing::error!("daemon failed: {err:#}");
    }
    runtime.shutdown_background();
    result
}

fn init_logging(dirs: &Dirs, file: &str) -> anyhow::Result<()> {
    crate::private::dir(&dirs.state, crate::private::Links::Follow)?;
    let path = dirs.state.join(file);
    let file = crate::logfile::RotatingLog::open(path, crate::logfile::LOG_FILE_CAP)?;
    // nvim-rs logs whole messages at debug (typed keys, terminal output)
    // and an error per reply it could not write to a connection that was
    // cut off (thousands): whatever LULU_LOG asks for, it is silent. lulu
    // logs why each connection ended itself.
    let quiet = "nvim_rs=off".parse().expect("a valid directive");
    let filter = tracing_subscriber::EnvFilter::try_from_env("LULU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        .add_directive(quiet);
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .init();
    Ok(())
}

/// Hand memory of large allocations (a 15 MB hook request, a big paste)
/// back to the system when they are freed. glibc raises its mmap threshold
/// after such a free, so the next large blocks come from the heap and stay
/// resident however little is in use: a host that once parked 20 big
/// questions would keep hundreds of MiB. A fixed threshold keeps them
/// mapped, and unmapped when freed.
pub(super) fn return_big_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter, before any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}
