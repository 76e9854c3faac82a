//! Is the write-ahead log damaged? SQLite reads a WAL only up to its first
//! frame that fails its checksum and drops the rest without a word, so a
//! WAL damaged after a crash (its header, or a frame in the middle) makes
//! recent changes, or all of them, silently vanish. Looked at before the
//! database is opened, so the user is told and a copy is kept.
//!
//! The format (sqlite.org/fileformat2.html#walformat): a 32-byte header
//! (magic, version, page size, checkpoint sequence, two salts, a checksum of
//! the first 24 bytes), then frames of a 24-byte header (page number, commit
//! size, the two salts, a cumulative checksum) and one page. Frames with
//! other salts are left from before the last checkpoint, and a bad frame at
//! the very end is a torn write of a transaction that never committed: both
//! are normal. A bad header, or a bad frame followed by more frames of the
//! current salts, is damage.

use std::path::Path;

const HEADER: usize = 32;
const FRAME_HEADER: usize = 24;

fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing
/// from `(s0, s1)`; words big-endian when `big`, else little-endian.
fn checksum(data: &[u8], big: bool, (mut s0, mut s1): (u32, u32)) -> (u32, u32) {
    for pair in data.chunks_exact(8) {
        let word = |at: usize| {
            let b = [pair[at], pair[at + 1], pair[at + 2], pair[at + 3]];
            if big {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        s0 = s0.wrapping_add(word(0)).wrapping_add(s1);
        s1 = s1.wrapping_add(word(4)).wrapping_add(s0);
    }
    (s0, s1)
}

/// What is wrong with the WAL beside `db`, if anything would be lost.
pub fn damage(db: &Path) -> Option<String> {
    let mut path = db.as_os_str().to_owned();
    path.push("-wal");
    let bytes = std::fs::read(&path).ok()?;
    if bytes.is_empty() {
        return None;
    }
    if bytes.len() < HEADER {
        return Some(format!("it is cut short ({} bytes)", bytes.len()));
    }
    let magic = be32(&bytes, 0);
    if magic != 0x377f_0682 && magic != 0x377f_0683 {
        return Some("its header is not a WAL header".into());
    }
    let big = magic & 1 == 1;
    let page = be32(&bytes, 8) as usize;
    let sum = checksum(&bytes[..24], big, (0, 0));
    if sum != (be32(&bytes, 24), be32(&bytes, 28)) || !(512..=65536).contains(&page) {
        return Some("its header is damaged".into());
    }
    let salts = (be32(&bytes, 16), be32(&bytes, 20));
    let frame = FRAME_HEADER + page;
    let frames: Vec<&[u8]> = bytes[HEADER..].chunks_exact(frame).collect();
    let current = |f: &[u8]| (be32(f, 8), be32(f, 12)) == salts;
    let mut running = sum;
    for (index, f) in frames.iter().enumerate() {
        if !current(f) {
            // Left from before a checkpoint: SQLite stops here, as it should.
            return None;
        }
        running = checksum(&f[..8], big, running);
        running = checksum(&f[FRAME_HEADER..], big, running);
        if running != (be32(f, 16), be32(f, 20)) {
            let later = frames[index + 1..].iter().filter(|f| current(f)).count();
            return (later > 0).then(|| format!("frame {} of {} is damaged", index + 1, frames.len()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database whose changes are all still in its WAL, copied as a
    /// crash would leave it.
    fn crashed(dir: &Path) -> std::path::PathBuf {
        let live = dir.join("live.db");
        let conn = rusqlite::Connection::open(&live).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute("CREATE TABLE t (x TEXT)", []).unwrap();
        for n in 0..20 {
            conn.execute("INSERT INTO t VALUES (?1)", [format!("row {n} {}", "x".repeat(500))])
                .unwrap();
        }
        let db = dir.join("crashed.db");
        std::fs::copy(&live, &db).unwrap();
        std::fs::copy(dir.join("live.db-wal"), dir.join("crashed.db-wal")).unwrap();
        drop(conn);
        db
    }

    #[test]
    fn a_sound_wal_is_fine_and_a_damaged_one_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let db = crashed(dir.path());
        assert_eq!(damage(&db), None, "a sound WAL");
        let wal = dir.path().join("crashed.db-wal");
        let sound = std::fs::read(&wal).unwrap();

        // One byte of the second frame's page.
        let mut bad = sound.clone();
        let page = be32(&bad, 8) as usize;
        bad[HEADER + (FRAME_HEADER + page) + FRAME_HEADER + 100] ^= 0xff;
        std::fs::write(&wal, &bad).unwrap();
        assert_eq!(
            damage(&db).as_deref(),
            Some(&*format!(
                "frame 2 of {} is damaged",
                (bad.len() - HEADER) / (FRAME_HEADER + page)
            ))
        );

        // The header.
        let mut bad = sound.clone();
        bad[17] ^= 0x01;
        std::fs::write(&wal, &bad).unwrap();
        assert_eq!(damage(&db).as_deref(), Some("its header is damaged"));

        // A torn last frame is a transaction that never committed: fine.
        let mut torn = sound.clone();
        let at = torn.len() - 10;
        torn[at] ^= 0xff;
        std::fs::write(&wal, &torn).unwrap();
        assert_eq!(damage(&db), None);
    }
}
