//! lulu's own logs (`host.log`, `daemon.log`): appended, private, and
//! rotated to `<name>.1` once past [`LOG_FILE_CAP`], so a flood of warnings
//! can never fill the disk. It must not log itself: it is the logger's
//! writer.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

/// Size at which a log file is rotated (one old file is kept).
pub const LOG_FILE_CAP: u64 = 8 * 1024 * 1024;

pub struct RotatingLog {
    path: PathBuf,
    file: Option<File>,
    written: u64,
    cap: u64,
}

impl RotatingLog {
    pub fn open(path: PathBuf, cap: u64) -> std::io::Result<RotatingLog> {
        let file = crate::private::append(&path)?;
        let written = file.metadata().map_or(0, |m| m.len());
        Ok(RotatingLog {
            path,
            file: Some(file),
            written,
            cap,
        })
    }

    fn rotate(&mut self) {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        self.file = None;
        let _ = std::fs::rename(&self.path, &old);
        self.file = crate::private::append(&self.path).ok();
        self.written = 0;
    }
}

impl Write for RotatingLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written >= self.cap {
            self.rotate();
        }
        // A log that cannot be written is dropped silently: the host runs on.
        if let Some(file) = self.file.as_mut()
            && file.write_all(buf).is_err()
        {
            self.file = None;
        }
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), Write::flush)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_past_its_cap_and_keeps_one_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.log");
        let mut log = RotatingLog::open(path.clone(), 1000).unwrap();
        for n in 0..300 {
            writeln!(log, "line {n:04}").unwrap();
        }
        log.flush().unwrap();
        let current = std::fs::metadata(&path).unwrap().len();
        let old = std::fs::metadata(dir.path().join("daemon.log.1")).unwrap().len();
        assert!(current <= 1010 && old <= 1010, "{current} {old}");
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("line 0299\n"));
    }
}
