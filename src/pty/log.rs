//! The per-session output log: every byte the program wrote, appended from
//! the reader thread (blocking IO stays off the async runtime), capped by
//! rotating to `<name>.1` when it passes its size.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct OutputLog {
    path: LogHandle,
    file: Option<File>,
    written: u64,
    cap: u64,
}

/// Where a running log lives; it can move while the reader thread writes
/// (a pre-warmed shell's log becomes its session's when claimed), or go on
/// in a new file (a session's shell recycled into the pool).
#[derive(Clone)]
pub struct LogHandle {
    path: Arc<Mutex<PathBuf>>,
    /// Set by `switch_to`: the writer opens the new file.
    switched: Arc<AtomicBool>,
    /// The program has written something (a warm shell, its prompt): known
    /// without reading the file system.
    wrote: Arc<AtomicBool>,
}

impl LogHandle {
    fn get(&self) -> PathBuf {
        self.path.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the program has written anything yet.
    pub fn has_output(&self) -> bool {
        self.wrote.load(Ordering::Acquire)
    }

    /// Where the log is written now.
    pub fn path(&self) -> PathBuf {
        self.get()
    }

    /// Leave the current file as it is and write to `to` from now on.
    pub fn switch_to(&self, to: &Path) {
        *self.path.lock().unwrap_or_else(|p| p.into_inner()) = to.to_path_buf();
        self.switched.store(true, Ordering::Release);
    }

    /// Rename the file to `to` and keep appending there.
    pub fn move_to(&self, to: &Path) -> std::io::Result<()> {
        let mut path = self.path.lock().unwrap_or_else(|p| p.into_inner());
        if path.exists() {
            std::fs::rename(&*path, to)?;
        }
        *path = to.to_path_buf();
        Ok(())
    }
}

impl OutputLog {
    /// Never fails: a log that cannot be opened is reported once and the
    /// session runs without one, since losing the log must not stop an agent.
    pub fn open(path: PathBuf, cap: u64) -> OutputLog {
        let file = open_append(&path);
        let written = file.as_ref().and_then(|f| f.metadata().ok()).map_or(0, |m| m.len());
        OutputLog {
            path: LogHandle {
                path: Arc::new(Mutex::new(path)),
                switched: Arc::new(AtomicBool::new(false)),
                wrote: Arc::new(AtomicBool::new(written > 0)),
            },
            file,
            written,
            cap: cap.max(4096),
        }
    }

    pub fn handle(&self) -> LogHandle {
        self.path.clone()
    }

    pub fn append(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.path.wrote.store(true, Ordering::Release);
        }
        if self.path.switched.swap(false, Ordering::Acquire) {
            self.file = open_append(&self.path.get());
            self.written = self
                .file
                .as_ref()
                .and_then(|f| f.metadata().ok())
                .map_or(0, |m| m.len());
        }
        if self.written >= self.cap {
            self.rotate();
        }
        let Some(file) = self.file.as_mut() else {
            return;
        };
        if let Err(err) = file.write_all(bytes) {
            tracing::warn!(path = %self.path.get().display(), %err, "session log write failed; logging stops");
            self.file = None;
            return;
        }
        self.written += bytes.len() as u64;
    }

    fn rotate(&mut self) {
        let path = self.path.get();
        let mut old = path.clone().into_os_string();
        old.push(".1");
        self.file = None;
        if let Err(err) = std::fs::rename(&path, &old) {
            tracing::warn!(path = %path.display(), %err, "session log rotation failed");
        }
        self.file = open_append(&path);
        self.written = 0;
    }
}

fn open_append(path: &Path) -> Option<File> {
    match crate::private::append(path) {
        Ok(file) => Some(file),
        Err(err) => {
            tracing::warn!(path = %path.display(), %err, "cannot open session log");
            None
        }
    }
}

/// The last `max` bytes a session logged, across the rotation boundary; used
/// to replay a session that this host did not run itself.
pub fn read_tail(path: &Path, max: usize) -> Vec<u8> {
    let mut tail = tail_of(path, max);
    if tail.len() < max {
        let mut rotated = path.to_path_buf().into_os_string();
        rotated.push(".1");
        let mut older = tail_of(Path::new(&rotated), max - tail.len());
        older.append(&mut tail);
        tail = older;
    }
    tail
}

fn tail_of(path: &Path, max: usize) -> Vec<u8> {
    let Ok(mut file) = File::open(path) else {
        return Vec::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let start = len.saturating_sub(max as u64);
    let mut out = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_ok() {
        let _ = file.read_to_end(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_past_the_cap_and_tail_spans_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.log");
        let mut log = OutputLog::open(path.clone(), 4096);
        log.append(&[b'a'; 4096]);
        log.append(b"bbbb");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 4);
        let tail = read_tail(&path, 10);
        assert_eq!(tail, b"aaaaaabbbb");
    }

    #[test]
    fn a_moved_log_keeps_appending_at_its_new_path() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = OutputLog::open(dir.path().join("pool.log"), 1 << 20);
        log.append(b"prompt$ ");
        log.handle().move_to(&dir.path().join("session.log")).unwrap();
        log.append(b"ls\r\n");
        assert_eq!(
            std::fs::read(dir.path().join("session.log")).unwrap(),
            b"prompt$ ls\r\n"
        );
        assert!(!dir.path().join("pool.log").exists());
    }

    #[test]
    fn missing_log_reads_as_empty() {
        assert!(read_tail(Path::new("/nonexistent/lulu.log"), 10).is_empty());
    }
}
