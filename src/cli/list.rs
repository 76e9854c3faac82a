//! `lulu list`: the sessions as a table (or JSON), live state from the host
//! when one runs, else from the store.

use chrono::{DateTime, Utc};

use crate::model::SessionRecord;
use crate::paths::Dirs;
use crate::store::Store;

pub(super) fn list(dirs: &Dirs, json: bool, repo: Option<&std::path::Path>) -> anyhow::Result<()> {
    let live = crate::client::run(async { Ok(crate::client::list_live(dirs).await) })?;
    let sessions = match live {
        Some(sessions) => sessions,
        None => {
            let store = Store::open(&dirs.db())?;
            let mut sessions = store.sessions()?;
            // By the shipped table: the editor's `cost.prices` is not known here.
            let prices = crate::cost::Prices::default();
            for s in &mut sessions {
                s.price(&prices);
            }
            for row in store.take_skipped() {
                eprintln!("lulu: skipped an unreadable row ({row})");
            }
            sessions
        }
    };
    let sessions = match repo {
        Some(repo) => {
            let repo = repo.canonicalize().unwrap_or_else(|_| repo.to_path_buf());
            let repo = repo.to_string_lossy();
            sessions.into_iter().filter(|s| repo_of(s) == repo).collect()
        }
        None => grouped(sessions),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&sessions)?);
        return Ok(());
    }
    if sessions.is_empty() {
        println!("no sessions in {}", dirs.db().display());
        return Ok(());
    }
    table(&sessions);
    Ok(())
}

/// The repository a session works on (its directory, outside one).
fn repo_of(s: &SessionRecord) -> &str {
    s.repo.as_deref().unwrap_or(&s.cwd)
}

/// Newest first, grouped by repository (groups by their newest session),
/// as the editor's list shows them.
fn grouped(sessions: Vec<SessionRecord>) -> Vec<SessionRecord> {
    let mut order: Vec<String> = Vec::new();
    for s in &sessions {
        if !order.iter().any(|r| r == repo_of(s)) {
            order.push(repo_of(s).to_string());
        }
    }
    let mut out = Vec::with_capacity(sessions.len());
    for repo in &order {
        out.extend(sessions.iter().filter(|s| repo_of(s) == repo).cloned());
    }
    out
}

/// The table, a header line per repository when there is more than one.
fn table(sessions: &[SessionRecord]) {
    let now = Utc::now();
    let many = sessions.iter().any(|s| repo_of(s) != repo_of(&sessions[0]));
    let name_width = sessions.iter().map(|s| s.name.len()).max().unwrap_or(4).max(4);
    println!(
        "{:<8}  {:<name_width$}  {:<9}  {:>4}  {:<7}  {:>7}  DETAIL",
        "ID", "NAME", "STATUS", "IDLE", "AGENT", "COST"
    );
    let mut last: Option<&str> = None;
    for s in sessions {
        if many && last != Some(repo_of(s)) {
            println!("== {}", repo_of(s));
            last = Some(repo_of(s));
        }
        println!(
            "{:<8}  {:<name_width$}  {:<9}  {:>4}  {:<7}  {:>7}  {}",
            s.id,
            s.name,
            s.status.as_str(),
            age(&s.last_activity_at, now),
            s.agent,
            s.cost_usd.map_or("-".to_string(), |usd| format!("${usd:.3}")),
            detail(s)
        );
    }
}

fn detail(s: &SessionRecord) -> &str {
    s.failure_reason.as_deref().unwrap_or(&s.cwd)
}

/// `5s`, `2m`, `3h`, `4d`: the same ages the list float shows.
pub fn age(at: &str, now: DateTime<Utc>) -> String {
    let Ok(then) = DateTime::parse_from_rfc3339(at) else {
        return "?".into();
    };
    let secs = (now - then.with_timezone(&Utc)).num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_use_the_largest_whole_unit() {
        let now = DateTime::parse_from_rfc3339("2026-01-02T00:00:00.000Z")
            .unwrap()
            .with_timezone(&Utc);
        let cases = [
            ("2026-01-01T23:59:55.000Z", "5s"),
            ("2026-01-01T23:58:00.000Z", "2m"),
            ("2026-01-01T21:00:00.000Z", "3h"),
            ("2025-12-29T00:00:00.000Z", "4d"),
            ("2026-01-03T00:00:00.000Z", "0s"),
            ("garbage", "?"),
        ];
        for (at, want) in cases {
            assert_eq!(age(at, now), want, "{at}");
        }
    }
}
