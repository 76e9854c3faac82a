//! A program's output on its way from the PTY's reader thread to the
//! session task: a queue bounded by bytes. While the session keeps up it
//! holds a read or two; when a flood outruns the screen model it fills up
//! to [`AHEAD`], and the session takes it whole, so the model sees enough
//! of the flood at once to skip the rows nobody could keep
//! (`screen::skip`). When it is full the reader stops reading, the PTY
//! fills, and the program blocks: that back-pressure is what bounds the
//! host's memory.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};

/// Bytes read ahead of the session at most.
pub const AHEAD: usize = 4 * 1024 * 1024;

/// The reader thread's end.
pub struct OutputSender {
    chunks: mpsc::UnboundedSender<Vec<u8>>,
    room: Room,
}

/// The session task's end. Dropping it wakes a reader waiting for room.
pub struct Output {
    chunks: mpsc::UnboundedReceiver<Vec<u8>>,
    room: Room,
}

/// Free bytes, as permits; a chunk takes as many as it is long, or the
/// whole queue when longer (so it never waits for more than there is).
#[derive(Clone)]
struct Room {
    free: Arc<Semaphore>,
    size: u32,
}

impl Room {
    fn of(&self, chunk: &[u8]) -> u32 {
        u32::try_from(chunk.len()).unwrap_or(u32::MAX).min(self.size)
    }
}

/// A queue that holds at most `bytes` (a chunk longer than that still
/// passes, alone).
pub fn queue(bytes: usize) -> (OutputSender, Output) {
    let (tx, rx) = mpsc::unbounded_channel();
    let size = u32::try_from(bytes.max(1)).unwrap_or(u32::MAX);
    let room = Room {
        free: Arc::new(Semaphore::new(size as usize)),
        size,
    };
    let sender = OutputSender {
        chunks: tx,
        room: room.clone(),
    };
    (sender, Output { chunks: rx, room })
}

impl OutputSender {
    /// Hand `chunk` on, waiting (on this thread) for room; gives it back
    /// when the session has gone.
    pub fn send_blocking(&self, chunk: Vec<u8>) -> Result<(), Vec<u8>> {
        let wanted = self.room.of(&chunk);
        match futures::executor::block_on(self.room.free.acquire_many(wanted)) {
            Ok(permit) => permit.forget(),
            Err(_) => return Err(chunk),
        }
        self.chunks.send(chunk).map_err(|gone| gone.0)
    }
}

impl Output {
    /// The next chunk; `None` once the reader has ended and all is taken.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        let chunk = self.chunks.recv().await?;
        self.made_room(&chunk);
        Some(chunk)
    }

    /// The next chunk if one is queued: `Ok(None)` when none is yet, `Err`
    /// once the reader has ended and all is taken.
    pub fn try_recv(&mut self) -> Result<Option<Vec<u8>>, Ended> {
        match self.chunks.try_recv() {
            Ok(chunk) => {
                self.made_room(&chunk);
                Ok(Some(chunk))
            }
            Err(mpsc::error::TryRecvError::Empty) => Ok(None),
            Err(mpsc::error::TryRecvError::Disconnected) => Err(Ended),
        }
    }

    fn made_room(&self, chunk: &[u8]) {
        self.room.free.add_permits(self.room.of(chunk) as usize);
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.room.free.close();
    }
}

/// The reader has ended and everything it read has been taken.
#[derive(Debug)]
pub struct Ended;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn holds_what_fits_and_the_reader_waits_for_room() {
        let (tx, mut rx) = queue(10);
        let reader = std::thread::spawn(move || {
            for chunk in [vec![1; 6], vec![2; 6], vec![3; 30]] {
                tx.send_blocking(chunk).unwrap();
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // The second chunk waits until the first is taken.
        assert_eq!(rx.try_recv().unwrap(), Some(vec![1; 6]));
        assert_eq!(rx.recv().await, Some(vec![2; 6]));
        // One longer than the queue passes alone.
        assert_eq!(rx.recv().await, Some(vec![3; 30]));
        reader.join().unwrap();
        assert!(rx.try_recv().is_err());
        assert_eq!(rx.recv().await, None);
    }

    #[test]
    fn a_reader_waiting_for_room_gets_its_chunk_back_when_the_session_goes() {
        let (tx, rx) = queue(4);
        tx.send_blocking(vec![0; 4]).unwrap();
        let reader = std::thread::spawn(move || tx.send_blocking(vec![9; 4]));
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(rx);
        assert_eq!(reader.join().unwrap(), Err(vec![9; 4]));
    }
}
