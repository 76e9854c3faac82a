//! lulu's Unix sockets, for the daemon's control socket and the hook
//! bridge alike: bound private (0600, in a 0700 directory made by the
//! caller), peers of another user refused, and connections accepted
//! without letting a flood of them spin the host or starve it of
//! descriptors: a cap on connections served at once, and a back-off
//! (logged once, then counted) when accept itself fails, as it does with
//! `EMFILE` when descriptors run out.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{UnixListener, UnixStream};

/// Listen on `path` (a stale socket file there is replaced), readable and
/// writable by this user only.
pub fn listen_private(path: &Path) -> anyhow::Result<UnixListener> {
    use anyhow::Context;
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    Ok(listener)
}

/// Is the peer of `stream` running as `uid`? Logs the refusal when not.
pub fn from_this_user(stream: &UnixStream, uid: u32, what: &str) -> bool {
    match stream.peer_cred() {
        Ok(cred) if cred.uid() == uid => true,
        Ok(cred) => {
            tracing::warn!(peer_uid = cred.uid(), "{what} connection from another user refused");
            false
        }
        Err(err) => {
            tracing::warn!(%err, "{what} connection without credentials refused");
            false
        }
    }
}

/// Longest pause between two failed accepts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// Held for as long as an accepted connection is served.
pub struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

pub struct Acceptor {
    what: &'static str,
    cap: usize,
    open: Arc<AtomicUsize>,
    backoff: Duration,
    failures: u64,
    refused: u64,
}

impl Acceptor {
    pub fn new(what: &'static str, cap: usize) -> Acceptor {
        Acceptor {
            what,
            cap,
            open: Arc::new(AtomicUsize::new(0)),
            backoff: FIRST_BACKOFF,
            failures: 0,
            refused: 0,
        }
    }

    /// How many connections are being served now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// The next connection to serve, with its slot; `None` when this try
    /// gave none (an error, backed off; or over the cap, closed at once).
    pub async fn next(&mut self, listener: &UnixListener) -> Option<(UnixStream, Slot)> {
        match listener.accept().await {
            Ok((stream, _)) => {
                if self.failures > 0 {
                    tracing::warn!(what = self.what, failures = self.failures, "accepting again");
                    self.failures = 0;
                    self.backoff = FIRST_BACKOFF;
                }
                if self.open.load(Ordering::Relaxed) >= self.cap {
                    self.refused += 1;
                    if self.refused.is_power_of_two() {
                        tracing::warn!(
                            what = self.what,
                            cap = self.cap,
                            refused = self.refused,
                            "connection refused: too many open"
                        );
                    }
                    return None;
                }
                self.open.fetch_add(1, Ordering::Relaxed);
                Some((stream, Slot(self.open.clone())))
            }
            Err(err) => {
                self.failures += 1;
                if self.failures == 1 {
                    tracing::warn!(what = self.what, %err, "accept failed; backing off");
                }
                tokio::time::sleep(self.backoff).await;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                None
            }
        }
    }
}
