//! Session names: checked when given, picked from a short word list when not.
//! Names become branch names (`lulu/<name>`), so they stay ref-safe.

use anyhow::bail;

const WORDS: &[&str] = &[
    "amber", "aspen", "basil", "birch", "brook", "cedar", "cinder", "clover", "comet", "coral", "crane", "delta",
    "ember", "fern", "finch", "flint", "frost", "gale", "garnet", "hazel", "heron", "indigo", "iris", "jade",
    "juniper", "kestrel", "lark", "linden", "lotus", "maple", "marsh", "meadow", "mint", "moss", "nova", "oak",
    "olive", "onyx", "opal", "orchid", "otter", "pebble", "pine", "plum", "quartz", "raven", "reed", "ridge", "robin",
    "rowan", "sage", "slate", "sparrow", "spruce", "stone", "swift", "thistle", "tide", "topaz", "umber", "vale",
    "violet", "willow", "wren", "yarrow", "zephyr",
];

const MAX_LEN: usize = 64;

pub fn validate(name: &str) -> anyhow::Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > MAX_LEN {
        bail!("session name must be 1-{MAX_LEN} characters");
    }
    if !name.chars().all(allowed)
        || name.starts_with(['-', '.'])
        || name.ends_with('.')
        || name.contains("..")
        || name.ends_with(".lock")
    {
        bail!(
            "invalid session name '{}': use letters, digits, '-', '_' and '.', starting with a letter or digit",
            name.escape_debug()
        );
    }
    Ok(())
}

/// A free name: a word from the list, starting at a time-derived offset so
/// consecutive sessions differ, then `word-2`, `word-3`... once all are used.
pub fn pick(taken: impl Fn(&str) -> bool) -> String {
    let offset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as usize);
    let mut suffix = 1;
    loop {
        for i in 0..WORDS.len() {
            let word = WORDS[(offset + i) % WORDS.len()];
            let candidate = if suffix == 1 {
                word.to_string()
            } else {
                format!("{word}-{suffix}")
            };
            if !taken(&candidate) {
                return candidate;
            }
        }
        suffix += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_ref_safe_names() {
        for ok in ["a", "fix-login", "v1.2", "A_b"] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-x",
            ".x",
            "a..b",
            "x.lock",
            "a b",
            "a/b",
            "ä",
            "a\0",
            "x.",
            &"x".repeat(65),
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn picks_unused_names_then_suffixes() {
        let name = pick(|_| false);
        assert!(WORDS.contains(&name.as_str()));
        let name = pick(|c| WORDS.contains(&c));
        assert!(name.ends_with("-2"), "{name}");
        assert!(validate(&name).is_ok());
    }
}
