//! The write half of a connection: an ordered queue drained by one thread.
//!
//! Everything sent to an editor goes through here in order: nvim-rs's
//! requests and replies (it writes each whole message in one call) and our
//! own notifications. Writes never wait on the editor, so a session can put
//! its next chunk of output on the wire while the editor is still busy with
//! the previous one; flow control is the session's job (see `session.rs`).

use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use rmpv::Value;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};

/// Terminal output one editor may have queued and not yet processed, summed
/// over all its sessions, in KiB. The editor works through its queue in
/// order, so this bounds how long a keystroke waits behind terminal output
/// (and the editor's memory), however many sessions are flooding.
const TERMINAL_WINDOW_KIB: u32 = 128;

/// Bytes queued for a connection and not yet written. An editor reads what
/// it is sent; a client that asks and never reads its replies reaches this,
/// and its connection is closed rather than the host's memory filled.
pub const MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;
/// Messages queued and not yet written (replies and events; terminal output
/// has its own window): the same limit counted in messages, for a client
/// that asks for many small replies and reads none.
pub const MAX_QUEUED_MESSAGES: usize = 65536;

#[derive(Clone)]
pub struct Outgoing {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    window: Arc<Semaphore>,
    queue: Arc<Queue>,
}

/// What is queued, and whether the queue ever overflowed.
#[derive(Default)]
struct Queue {
    bytes: AtomicUsize,
    messages: AtomicUsize,
    overflowed: AtomicBool,
    overflow: Notify,
}

impl Outgoing {
    /// Start the thread that writes queued messages to `sink`. It ends when
    /// every `Outgoing` is dropped or the sink fails (the editor left).
    pub fn spawn(mut sink: impl Write + Send + 'static) -> std::io::Result<Outgoing> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        let queue = Arc::new(Queue::default());
        let written = queue.clone();
        std::thread::Builder::new().name("rpc-write".into()).spawn(move || {
            let mut batch = Vec::new();
            while let Some(first) = rx.blocking_recv() {
                batch.clear();
                batch.extend_from_slice(&first);
                let mut count = 1;
                // One syscall for whatever else is already queued.
                while batch.len() < 1 << 20 {
                    match rx.try_recv() {
                        Ok(more) => {
                            batch.extend_from_slice(&more);
                            count += 1;
                        }
                        Err(_) => break,
                    }
                }
                if let Err(err) = sink.write_all(&batch).and_then(|()| sink.flush()) {
                    tracing::info!(%err, "connection write failed");
                    break;
                }
                written.bytes.fetch_sub(batch.len(), Ordering::Relaxed);
                written.messages.fetch_sub(count, Ordering::Relaxed);
            }
        })?;
        Ok(Outgoing {
            tx,
            window: Arc::new(Semaphore::new(TERMINAL_WINDOW_KIB as usize)),
            queue,
        })
    }

    /// Queue encoded bytes. Past [`MAX_QUEUED_BYTES`] nothing more is
    /// queued and [`Outgoing::overflowed`] fires: the connection is closed.
    pub fn send_raw(&self, bytes: Vec<u8>) -> bool {
        if self.queue.overflowed.load(Ordering::Relaxed) {
            return false;
        }
        let queued = self.queue.bytes.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len();
        let messages = self.queue.messages.fetch_add(1, Ordering::Relaxed) + 1;
        if queued > MAX_QUEUED_BYTES || messages > MAX_QUEUED_MESSAGES {
            self.queue.bytes.fetch_sub(bytes.len(), Ordering::Relaxed);
            self.queue.messages.fetch_sub(1, Ordering::Relaxed);
            self.overflow("its replies are not being read");
            return false;
        }
        self.tx.send(bytes).is_ok()
    }

    /// Give up on this connection: nothing more is queued, and whoever
    /// waits in [`Outgoing::overflowed`] closes it. Logged once.
    pub fn overflow(&self, why: &str) {
        if !self.queue.overflowed.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                queued = self.queue.bytes.load(Ordering::Relaxed),
                "closing a connection: {why}"
            );
            self.queue.overflow.notify_waiters();
            self.queue.overflow.notify_one();
        }
    }

    /// Resolves once the connection has been given up on.
    pub async fn overflowed(&self) {
        while !self.queue.overflowed.load(Ordering::Relaxed) {
            self.queue.overflow.notified().await;
        }
    }

    /// Take room for `bytes` of terminal output in this connection's window,
    /// waiting (fairly, first come first served) until there is some. Hold
    /// the permit until the editor has acknowledged the bytes.
    pub async fn reserve(&self, bytes: usize) -> Option<OwnedSemaphorePermit> {
        let kib = u32::try_from(bytes.div_ceil(1024))
            .unwrap_or(u32::MAX)
            .clamp(1, TERMINAL_WINDOW_KIB);
        self.window.clone().acquire_many_owned(kib).await.ok()
    }

    /// Queue a msgpack-RPC notification. False once the connection is gone.
    pub fn notify(&self, method: &str, params: Vec<Value>) -> bool {
        let message = Value::Array(vec![Value::from(2), Value::from(method), Value::Array(params)]);
        let mut bytes = Vec::new();
        if rmpv::encode::write_value(&mut bytes, &message).is_err() {
            return false;
        }
        self.send_raw(bytes)
    }
}

impl futures::io::AsyncWrite for Outgoing {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        if self.send_raw(buf.to_vec()) {
            Poll::Ready(Ok(buf.len()))
        } else {
            Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()))
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::AsyncWriteExt;

    #[derive(Clone, Default)]
    struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn writes_and_notifications_keep_their_order() {
        let sink = Shared::default();
        let mut out = Outgoing::spawn(sink.clone()).unwrap();
        out.write_all(b"first").await.unwrap();
        assert!(out.notify("nvim_chan_send", vec![Value::from(3), Value::Binary(vec![1, 2])]));
        out.write_all(b"last").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let bytes = sink.0.lock().unwrap().clone();
        assert!(bytes.starts_with(b"first"));
        assert!(bytes.ends_with(b"last"));
        let mut middle = &bytes[5..bytes.len() - 4];
        let decoded = rmpv::decode::read_value(&mut middle).unwrap();
        assert_eq!(
            decoded,
            Value::Array(vec![
                Value::from(2),
                Value::from("nvim_chan_send"),
                Value::Array(vec![Value::from(3), Value::Binary(vec![1, 2])])
            ])
        );
    }
}
