//! Scripts handed to sed and awk, read by a positive check: a sed script
//! is vouched for only if every command in it is one that prints, deletes,
//! moves through lines or substitutes without the `e` and `w` flags; an
//! awk program only if it has no `system`, pipe, `getline`, `@` directive
//! and no `>` that is not a comparison inside parentheses or a pattern.

/// sed's arguments: the scripts of `-e` (alone, `-eSCRIPT`, or last in a
/// cluster such as `-ne`, taking the rest of the cluster or the next word)
/// and `--expression`, else its first non-option word. Options that take
/// a value (`-l N`) skip it; the flags table refuses `-i`, `-f` and the rest.
pub(super) fn sed_doubt(args: &[String]) -> Option<String> {
    let mut scripts: Vec<&str> = Vec::new();
    let mut first = None;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if let Some(long) = arg.strip_prefix("--") {
            let (name, value) = long.split_once('=').map_or((long, None), |(n, v)| (n, Some(v)));
            if name.is_empty() {
                first = first.or(iter.next().map(String::as_str));
                break;
            } else if "expression".starts_with(name) {
                scripts.push(match value {
                    Some(value) => value,
                    None => iter.next()?,
                });
            } else if "line-length".starts_with(name) && value.is_none() {
                iter.next();
            }
        } else if let Some(cluster) = arg.strip_prefix('-').filter(|c| !c.is_empty()) {
            // Letters until one that takes a value: `e` (the script) or
            // `l` (a length); the value is the rest, or the next word.
            if let Some(at) = cluster.find(['e', 'l']) {
                let rest = &cluster[at + 1..];
                let value = if rest.is_empty() {
                    iter.next().map(String::as_str)?
                } else {
                    rest
                };
                if cluster.as_bytes()[at] == b'e' {
                    scripts.push(value);
                }
            }
        } else if first.is_none() {
            first = Some(arg);
        }
    }
    if scripts.is_empty() {
        scripts.extend(first);
    }
    scripts.iter().find(|script| !sed_script_is_plain(script)).map(|_| {
        "its sed script runs commands or writes files (only p, d, s///, y, q and the like are vouched for)".into()
    })
}

/// A GNU sed script of harmless commands only.
fn sed_script_is_plain(script: &str) -> bool {
    let chars: Vec<char> = script.chars().collect();
    let mut at = 0;
    loop {
        while at < chars.len() && matches!(chars[at], ' ' | '\t' | '\n' | ';' | '}') {
            at += 1;
        }
        if at >= chars.len() {
            return true;
        }
        let Some(next) = address(&chars, at).and_then(|a| address_range(&chars, a)) else {
            return false;
        };
        at = next;
        while at < chars.len() && matches!(chars[at], ' ' | '\t' | '!') {
            at += 1;
        }
        let Some(&command) = chars.get(at) else {
            return false;
        };
        at += 1;
        match command {
            '{' => continue,
            'p' | 'P' | 'd' | 'D' | 'n' | 'N' | 'g' | 'G' | 'h' | 'H' | 'x' | 'z' | '=' | 'l' | 'F' => {}
            'q' | 'Q' => {
                while at < chars.len() && chars[at].is_ascii_digit() {
                    at += 1;
                }
            }
            'b' | 't' | 'T' | ':' => match label(&chars, at) {
                Some(end) => at = end,
                None => return false,
            },
            's' => match delimited_regex(&chars, at).and_then(|end| delimited(&chars, end - 1, 1)) {
                Some(end) => {
                    at = end;
                    while at < chars.len() && matches!(chars[at], 'g' | 'p' | 'i' | 'I' | 'm' | 'M' | '0'..='9') {
                        at += 1;
                    }
                }
                None => return false,
            },
            'y' => match delimited(&chars, at, 2) {
                Some(end) => at = end,
                None => return false,
            },
            _ => return false,
        }
        // After a command: its end, or the next one.
        while at < chars.len() && matches!(chars[at], ' ' | '\t') {
            at += 1;
        }
        if at < chars.len() && !matches!(chars[at], ';' | '\n' | '}') {
            return false;
        }
    }
}

/// A label after `:`, `b`, `t` or `T`: the index after it, or `None` when
/// a blank is inside it (GNU sed ends a label at a blank and reads what
/// follows as the next command: `:x e id` runs id).
fn label(chars: &[char], mut at: usize) -> Option<usize> {
    while at < chars.len() && matches!(chars[at], ' ' | '\t') {
        at += 1;
    }
    while at < chars.len() && !matches!(chars[at], ';' | '\n' | '}') {
        if matches!(chars[at], ' ' | '\t') {
            return None;
        }
        at += 1;
    }
    Some(at)
}

/// One address (a line number, `$`, `first~step`, `/regex/` with its
/// flags), or none; the index after it.
fn address(chars: &[char], mut at: usize) -> Option<usize> {
    match chars.get(at) {
        Some(c) if c.is_ascii_digit() => {
            while at < chars.len() && (chars[at].is_ascii_digit() || chars[at] == '~') {
                at += 1;
            }
            Some(at)
        }
        Some('$') => Some(at + 1),
        Some('/') => {
            let mut end = delimited_regex(chars, at)?;
            while end < chars.len() && matches!(chars[end], 'I' | 'M') {
                end += 1;
            }
            Some(end)
        }
        _ => Some(at),
    }
}

fn address_range(chars: &[char], at: usize) -> Option<usize> {
    if chars.get(at) != Some(&',') {
        return Some(at);
    }
    let mut at = at + 1;
    if matches!(chars.get(at), Some('+' | '~')) {
        at += 1;
    }
    let end = address(chars, at)?;
    (end > at).then_some(end)
}

/// A regex between the delimiter at `at` and the next one, where a
/// bracket expression (`[/]`, `[]x]`, `[^]/]`) hides the delimiter as GNU
/// sed reads it; the index after the closing delimiter.
fn delimited_regex(chars: &[char], at: usize) -> Option<usize> {
    let delimiter = *chars.get(at)?;
    if matches!(delimiter, '\\' | '\n') {
        return None;
    }
    let mut at = at + 1;
    while at < chars.len() {
        match chars[at] {
            '\\' => at += 1,
            '[' => {
                at += 1;
                if chars.get(at) == Some(&'^') {
                    at += 1;
                }
                if chars.get(at) == Some(&']') {
                    at += 1;
                }
                while at < chars.len() && chars[at] != ']' {
                    // `[:alpha:]` and friends inside the brackets.
                    if chars[at] == '[' && matches!(chars.get(at + 1), Some(':' | '.' | '=')) {
                        let close = chars.get(at + 1).copied()?;
                        at += 2;
                        while at + 1 < chars.len() && !(chars[at] == close && chars[at + 1] == ']') {
                            at += 1;
                        }
                        at += 1;
                    }
                    at += 1;
                }
                if at >= chars.len() {
                    return None;
                }
            }
            c if c == delimiter => return Some(at + 1),
            _ => {}
        }
        at += 1;
    }
    None
}

/// `parts` fields between one delimiter (the char at `at`), skipping
/// backslash escapes; the index after the last delimiter.
fn delimited(chars: &[char], at: usize, parts: usize) -> Option<usize> {
    let delimiter = *chars.get(at)?;
    if matches!(delimiter, '\\' | '\n') {
        return None;
    }
    let mut at = at + 1;
    let mut seen = 0;
    while at < chars.len() {
        match chars[at] {
            '\\' => at += 1,
            c if c == delimiter => {
                seen += 1;
                if seen == parts {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
        at += 1;
    }
    None
}

/// awk's arguments: every word is read as if it were program text (a
/// program may come as the first operand, or after `-e`/`--source` in
/// gawk, several times; a file operand with these characters in its name
/// only makes the command ask).
pub(super) fn awk_doubt(args: &[String]) -> Option<String> {
    awk_options_doubt(args).or_else(|| args.iter().find_map(|arg| awk_program_doubt(arg)))
}

/// Before its program awk is told only `-F sep` and `-v name=value` (each
/// with its value attached or next), up to `--`: any other option (gawk's
/// `-f`/`-E` read a program file, and take clusters: `-bf`) is a doubt.
fn awk_options_doubt(args: &[String]) -> Option<String> {
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--" => return None,
            "-F" | "-v" => {
                words.next();
            }
            w if w.len() > 2 && (w.starts_with("-F") || w.starts_with("-v")) => {}
            w if w.starts_with('-') && w != "-" => {
                return Some(format!("its awk option `{w}` is not one lulu knows (only -F and -v)"));
            }
            // The program: what follows is files and assignments.
            _ => return None,
        }
    }
    None
}

fn awk_program_doubt(program: &str) -> Option<String> {
    let said = |why: &str| Some(format!("its awk program {why}"));
    if program.contains("system") || program.contains("getline") {
        return said("runs commands");
    }
    if program.contains('|') {
        return said("uses a pipe");
    }
    if program.contains('@') {
        return said("loads code");
    }
    // A regex literal (`/}/`, `/[(]/`) would upset the count of braces and
    // parentheses below: with a `/` anywhere, no `>` at all.
    if program.contains('/') && program.contains('>') {
        return said("may write a file (a `>` beside a regex or division)");
    }
    let (mut braces, mut parens, mut quoted) = (0usize, 0usize, false);
    let mut chars = program.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                chars.next();
            }
            '"' => quoted = !quoted,
            _ if quoted => {}
            // A comment runs to the end of its line: a `}` or `"` in it
            // would upset this reading of what follows.
            '#' => return said("has a comment (`#`)"),
            '{' => braces += 1,
            '}' => braces = braces.saturating_sub(1),
            '(' => parens += 1,
            ')' => parens = parens.saturating_sub(1),
            // Inside an action even a parenthesised `>` may be a
            // redirection (`for(print>f;;)`): only patterns compare freely.
            '>' if braces > 0 => return said("may write a file (`print >`)"),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sed_scripts() {
        for plain in [
            "p",
            "1,5p",
            "/foo/p",
            "$p",
            "s/a/b/g",
            "s|a/b|c|2",
            "s/a\\/b/c/",
            "1~2d",
            "/x/,+3d",
            "y/abc/xyz/",
            "/a/{p;d}",
            "2q",
            ":a;N;ba",
            "/re/I!d",
        ] {
            assert!(sed_script_is_plain(plain), "{plain:?}");
        }
        for bad in [
            "1e cmd",
            "e",
            "w /tmp/f",
            "1w f",
            "s/a/b/w /tmp/f",
            "s/a/b/e",
            "s/a/b/gw f",
            "W f",
            "r /etc/passwd",
            "R f",
            "a text",
            "i\\",
            "c x",
            "v",
            "s/a/b",
            "p;e",
            "s/a/b/;e id",
            "/x/ w f",
            "y/a/b/ w",
        ] {
            assert!(!sed_script_is_plain(bad), "{bad:?}");
        }
    }

    #[test]
    fn awk_programs() {
        let args = |p: &str| vec![p.to_string()];
        assert_eq!(awk_doubt(&args("{print $1}")), None);
        assert_eq!(awk_doubt(&args("$3 > 100 {print}")), None);
        assert!(
            awk_doubt(&args("{ if ($1 > 2) print \"a>b\" }")).is_some(),
            "a > in an action asks"
        );
        assert_eq!(awk_doubt(&args("{ print \"a>b\" }")), None);
        for bad in [
            "BEGIN{system(\"id\")}",
            "{print > \"/tmp/f\"}",
            "{print >> \"f\"}",
            "{printf \"x\" > f}",
            "{print | \"sh\"}",
            "{\"id\" | getline x}",
            "@load \"x\"",
            "{getline < \"/etc/passwd\"}",
            "{ # }\nprint > f }",
        ] {
            assert!(awk_doubt(&args(bad)).is_some(), "{bad:?}");
        }
        assert!(awk_doubt(&["-F".into(), ":".into(), "{print > \"f\"}".into()]).is_some());
        let words = |line: &str| line.split(' ').map(str::to_string).collect::<Vec<_>>();
        for fine in [
            "-F: {print}",
            "-F : {print} f",
            "-v x=1 {print}",
            "-vx=1 -F, {print} -",
            "-- {print} -v",
        ] {
            assert_eq!(awk_doubt(&words(fine)), None, "{fine}");
        }
        for bad in [
            "-bf p.awk",
            "-bfp.awk",
            "-bE p.awk",
            "-f p.awk",
            "--file=p.awk",
            "-e BEGIN{}",
        ] {
            assert!(awk_doubt(&words(bad)).is_some(), "{bad}");
        }
    }
}
