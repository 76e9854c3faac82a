//! The screen model's own cost (figures, not pass/fail), run by
//! scripts/bench (`cargo bench --bench model`): the 32 MiB SGR flood of
//! benches/flood.lua fed into one session's model at 160 x 48 with 10,000
//! rows of history, in 4 KiB pieces (what a PTY read returns: every byte is
//! parsed and every row painted) and in batches of 1, 4 and 8 MiB (what the
//! host hands the model while a flood outruns it: the rows that could not
//! be kept are skipped); then what a catch-up of that history costs to
//! paint. Median of 5 rounds.

use std::time::Instant;

use lulu::screen::Screen;

const MIB: usize = 1024 * 1024;

/// The flood as the PTY hands it on (its `\n` made `\r\n`).
fn flood(size: usize) -> Vec<u8> {
    let colours = [31, 32, 33, 34, 35, 36];
    let mut out = Vec::with_capacity(size + 256);
    let mut n = 0usize;
    while out.len() < size {
        n += 1;
        let line = format!(
            "\x1b[{}m{:06}\x1b[0m the quick brown fox jumps over the lazy dog \x1b[1;{}m{}\x1b[0m\r\n",
            colours[n % 6],
            n,
            colours[(n + 3) % 6],
            "=".repeat(n % 40)
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mib: usize = std::env::var("LULU_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let input = flood(mib * MIB);
    for (name, piece) in [
        ("4 KiB reads", 4096),
        ("1 MiB batches", MIB),
        ("4 MiB batches", 4 * MIB),
        ("8 MiB batches", 8 * MIB),
    ] {
        let mut feed = Vec::new();
        let mut catch_up = Vec::new();
        let mut skipped = 0;
        for _ in 0..5 {
            let mut screen = Screen::new(160, 48, 10_000);
            let mark = screen.mark();
            let t0 = Instant::now();
            for read in input.chunks(piece) {
                screen.feed_shown(read);
            }
            feed.push(t0.elapsed().as_secs_f64());
            skipped = screen.skipped();
            let t0 = Instant::now();
            let painted = screen.catch_up(mark);
            catch_up.push(t0.elapsed().as_secs_f64());
            std::hint::black_box(painted);
        }
        let secs = median(feed);
        println!(
            "model, {name}: {} MiB in {:.3} s ({:.0} MiB/s; {:.0}% left unparsed); catch-up of 10,000 rows painted in {:.1} ms",
            input.len() / MIB,
            secs,
            input.len() as f64 / MIB as f64 / secs,
            skipped as f64 * 100.0 / input.len() as f64,
            median(catch_up) * 1000.0
        );
    }
}
