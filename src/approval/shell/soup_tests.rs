//! Property tests of the positive grammar. Syntax soup: whatever the
//! judge vouches for parses into listed shapes only, with no expansion
//! character left unquoted. Plain scripts: what the judge says each
//! simple command's words are is what bash, dash and zsh really pass.

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use tree_sitter::{Node, Parser};

use super::*;

/// The node kinds of the documented shapes (written out again here, apart
/// from the walk, so the two must agree).
const SHAPES: &[&str] = &[
    "program",
    "list",
    "pipeline",
    "command",
    "command_name",
    "word",
    "number",
    "raw_string",
    "string",
    "string_content",
    "concatenation",
    "redirected_statement",
    "file_redirect",
    "file_descriptor",
    "heredoc_redirect",
    "heredoc_start",
    "heredoc_body",
    "heredoc_end",
    "herestring_redirect",
    "comment",
];
const TOKENS: &[&str] = &[
    ";", "&&", "||", "|", ">", ">>", "<", "&>", "&>>", ">&", "<&", ">&-", "<&-", "\"", "<<", "<<-", "<<<",
];

fn ctx() -> Context<'static> {
    Context {
        cwd: Path::new("/nonexistent-root"),
        root: Path::new("/nonexistent-root"),
    }
}

fn all_listed(node: Node<'_>) -> Result<(), String> {
    let kind = node.kind();
    let listed = if node.is_named() {
        SHAPES.contains(&kind)
    } else {
        TOKENS.contains(&kind)
    };
    if !listed || node.is_error() || node.is_missing() {
        return Err(kind.to_string());
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        all_listed(child)?;
    }
    Ok(())
}

/// No `$` or backquote outside single quotes and not escaped.
fn no_live_expansion(source: &str) -> bool {
    let (mut single, mut double, mut escaped) = (false, false, false);
    let (mut comment, mut word_start) = (false, true);
    for c in source.chars() {
        if comment {
            comment = c != '\n';
            word_start = true;
            continue;
        }
        if escaped {
            escaped = false;
            word_start = false;
            continue;
        }
        let starts = word_start;
        word_start = !single && !double && (c.is_whitespace() || matches!(c, ';' | '|' | '&' | '(' | ')'));
        match c {
            '#' if !single && !double && starts => comment = true,
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '$' | '`' if !single => return false,
            _ => {}
        }
    }
    true
}

fn soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("ls".to_string()),
        Just("x".to_string()),
        Just(" ".to_string()),
        Just("-".to_string()),
        "[a-z]{1,3}",
        prop::sample::select(vec![
            "$", "(", ")", "{", "}", "'", "\"", ";", "|", "&", "<", ">", "`", "\\", "*", "?", "[", "]", "~", "!", "#",
            "=", ",", "..", "\n", "$(", "${", "$((", "<(", ">(", "<<", "<<<", "EOF", "2>", "&>", ">&", "@", ":-",
            "for", "in", "do", "done", "if", "then", "fi", "case", "esac", "function", "((", "))", "[[", "]]", "$'",
        ])
        .prop_map(str::to_string),
    ];
    prop::collection::vec(piece, 1..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn nothing_outside_the_list_is_vouched_for(source in soup()) {
        for dialect in [Dialect::Bash, Dialect::Posix, Dialect::Zsh, Dialect::BashOrZsh] {
            let got = analyze(&source, &ctx(), dialect);
            if got.doubt.is_none() {
                let mut parser = Parser::new();
                parser.set_language(language()).unwrap();
                let tree = parser.parse(source.as_bytes(), None).unwrap();
                prop_assert_eq!(all_listed(tree.root_node()), Ok(()), "{:?} was vouched for", source);
                prop_assert!(no_live_expansion(&source), "{:?} was vouched for", source);
            }
        }
    }
}

/// A word made of pieces a script may hold: plain text, escapes, single
/// and double quotes (with their escapes).
fn word() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z0-9._/=:+@%,-]{1,4}",
        "'[a-z \\\\$\"`;|&<>(){}*?#~]{0,4}'",
        "\"[a-z ;|&<>(){}*?#~']{0,3}\"",
        Just("\"\\$x\\\"\\\\\"".to_string()),
        prop::sample::select(vec!["\\ ", "\\$", "\\'", "\\\"", "\\;", "\\*", "\\#", "\\\\", "\\{"])
            .prop_map(str::to_string),
    ];
    prop::collection::vec(piece, 1..4).prop_map(|p| p.concat())
}

fn simple() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["p1", "'p1'", "\"p2\"", "p\\2"]),
        prop::collection::vec(word(), 0..4),
    )
        .prop_map(|(program, words)| {
            std::iter::once(program.to_string())
                .chain(words)
                .collect::<Vec<_>>()
                .join(" ")
        })
}

fn script() -> impl Strategy<Value = String> {
    let joiner = prop::sample::select(vec![" ; ", " && ", "\n", ";"]);
    (simple(), prop::collection::vec((joiner, simple()), 0..3)).prop_map(|(first, rest)| {
        let mut out = first;
        for (join, next) in rest {
            out.push_str(join);
            out.push_str(&next);
        }
        out
    })
}

/// What `shell` passes each simple command of `script`, by running it with
/// its programs defined as functions that print their words.
fn real_words(shell: &str, script: &str) -> Option<Vec<Vec<String>>> {
    let define = r#"p1() { printf '%s\0' p1 "$@"; printf '\001'; }; p2() { printf '%s\0' p2 "$@"; printf '\001'; }"#;
    let out = Command::new(shell)
        .arg("-c")
        .arg(format!("{define}\n{script}"))
        .current_dir("/")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Some(
        text.split('\u{1}')
            .filter(|c| !c.is_empty())
            .map(|c| {
                c.strip_suffix('\0')
                    .unwrap_or(c)
                    .split('\0')
                    .map(str::to_string)
                    .collect()
            })
            .collect(),
    )
}

fn have(shell: &str) -> bool {
    Command::new(shell)
        .arg("-c")
        .arg("true")
        .status()
        .is_ok_and(|s| s.success())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn each_shell_passes_the_words_the_judge_read(source in script()) {
        for (shell, dialect) in [("bash", Dialect::Bash), ("dash", Dialect::Posix), ("zsh", Dialect::Zsh)] {
            if !have(shell) {
                continue;
            }
            let got = analyze(&source, &ctx(), dialect);
            if got.doubt.is_some() {
                continue;
            }
            let judged: Vec<Vec<String>> = got.commands.iter().map(|c| c.words.clone()).collect();
            prop_assert_eq!(Some(judged), real_words(shell, &source), "{} reads {:?} otherwise", shell, source);
        }
    }
}
