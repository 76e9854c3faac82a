//! `lulu daemon --stdio`: what an editor on another machine runs over ssh
//! (`ssh -T host lulu daemon --stdio`). It joins this user's daemon,
//! starting it if none runs, and copies bytes both ways between its stdio
//! and the daemon's socket, so the editor speaks the same msgpack-RPC as
//! a local one. Sessions live in the daemon: a dropped connection ends
//! only the relay.
//!
//! Blocking copies with one fixed buffer per direction keep back-pressure
//! end to end: a slow link stops the relay reading, the daemon's writes to
//! the socket then wait (and its per-client queue bounds what it keeps),
//! and nothing grows here.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

use anyhow::Context;

use crate::paths::Dirs;

const CHUNK: usize = 64 * 1024;

pub fn run(dirs: &Dirs, idle_exit: u64) -> anyhow::Result<()> {
    let socket = crate::daemon::socket_path();
    let stream = match UnixStream::connect(&socket) {
        Ok(stream) => stream,
        Err(_) => {
            crate::daemon::start(dirs, idle_exit)?;
            UnixStream::connect(&socket).with_context(|| format!("cannot connect to {}", socket.display()))?
        }
    };
    let to_daemon = stream.try_clone().context("cannot share the daemon's socket")?;
    let inbound = std::thread::spawn(move || {
        let copied = copy(&mut std::io::stdin().lock(), &mut &to_daemon);
        // The editor went away: let the daemon see this client leave.
        let _ = to_daemon.shutdown(Shutdown::Write);
        copied
    });
    let outbound = copy(&mut &stream, &mut std::io::stdout().lock());
    // The daemon closed (stopped, or replaced): the editor sees its end.
    let _ = stream.shutdown(Shutdown::Both);
    drop(inbound);
    outbound.context("the connection to the editor broke")
}

/// Copy until end of input, flushing each chunk (RPC replies must not sit
/// in a buffer).
fn copy(from: &mut impl Read, to: &mut impl Write) -> std::io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        to.write_all(&buf[..n])?;
        to.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_everything_in_order_and_stops_at_the_end() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut out = Vec::new();
        copy(&mut data.as_slice(), &mut out).unwrap();
        assert_eq!(out, data);
    }
}
