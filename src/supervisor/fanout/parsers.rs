//! Parsing a flood's batch off the runtime's threads: host-wide, one batch
//! at a time per spare core, each with its thread handed over while it runs.

/// Run `work`, the model's parse of a flood's batch (up to megabytes), so
/// that it does not hold up the runtime's other tasks: this worker thread
/// is handed to the blocking pool while it runs, so the supervisor and the
/// other sessions keep their threads.
pub(super) fn cpu_bound<R>(work: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let multi_thread = Handle::try_current().is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}

/// Batches parsed at once, host-wide: one core fewer than the machine has
/// (at least one), so that a dozen floods leave the editor a core.
pub(super) static PARSERS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))
});

/// A parser's turn: held while a big batch is parsed.
pub struct ParseTurn {
    _permit: Option<tokio::sync::SemaphorePermit<'static>>,
}

impl ParseTurn {
    /// Wait for a parser's turn.
    pub(super) async fn take() -> ParseTurn {
        ParseTurn {
            _permit: PARSERS.acquire().await.ok(),
        }
    }
}
