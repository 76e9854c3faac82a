//! A shell word as the program receives it, read only from the shapes the
//! grammar vouches for: plain words (backslash escapes undone),
//! single-quoted strings, double-quoted strings with no expansion in them,
//! and concatenations of these. Each character remembers whether it was
//! quoted, so globs and brace expansions are told from literal `*` and `{`.

use super::Dialect;

/// One word, read.
#[derive(Debug, Clone, Default)]
pub(super) struct Word {
    /// The characters, quotes removed and escapes undone.
    chars: Vec<char>,
    /// Per character: quoted or escaped (so never special to the shell).
    quoted: Vec<bool>,
    /// Empty quotes came before the first character (`''~`).
    empty_lead: bool,
}

impl Word {
    /// A word known only as text (all of it taken as quoted).
    pub(super) fn written(text: &str) -> Word {
        let mut word = Word::default();
        word.push_quoted(text);
        word
    }

    pub(super) fn text(&self) -> String {
        self.chars.iter().collect()
    }

    pub(super) fn push_quoted(&mut self, text: &str) {
        if self.chars.is_empty() && text.is_empty() {
            self.empty_lead = true;
        }
        for c in text.chars() {
            self.chars.push(c);
            self.quoted.push(true);
        }
    }

    /// Tilde expansion: an unquoted leading `~` or `~/` is `$HOME`. `None`
    /// for `~user`, `~+`, `~-` (another user's home, `$PWD`, `$OLDPWD`) or
    /// with no `HOME` known.
    pub(super) fn expand_tilde(mut self) -> Option<Word> {
        // (After empty quotes only zsh expands it: left for
        // `dialect_doubt` to doubt.)
        if self.chars.first() != Some(&'~') || self.quoted.first() != Some(&false) || self.empty_lead {
            return Some(self);
        }
        if !matches!(self.chars.get(1), None | Some('/')) {
            return None;
        }
        let home = std::env::var("HOME").ok().filter(|h| h.starts_with('/'))?;
        let home: Vec<char> = home.chars().collect();
        let quoted = vec![true; home.len()];
        self.chars.splice(0..1, home);
        self.quoted.splice(0..1, quoted);
        Some(self)
    }

    pub(super) fn append(&mut self, other: Word) {
        if self.chars.is_empty() {
            self.empty_lead |= other.empty_lead;
        }
        self.chars.extend(other.chars);
        self.quoted.extend(other.quoted);
    }

    fn unquoted(&self) -> impl Iterator<Item = (usize, char)> + '_ {
        self.chars
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.quoted[*i])
            .map(|(i, c)| (i, *c))
    }

    /// Does the shell expand it as a file name pattern?
    pub(super) fn is_glob(&self) -> bool {
        self.unquoted().any(|(_, c)| matches!(c, '*' | '?' | '['))
    }

    /// A glob whose expansion can only be words that start as it does
    /// (a literal first character that is not `-`), so it can never
    /// become an option.
    pub(super) fn glob_is_anchored(&self) -> bool {
        match (self.chars.first(), self.quoted.first()) {
            // A dash, quoted or not, starts what may expand to an option.
            (Some(c), Some(quoted)) => *c != '-' && (*quoted || !matches!(c, '*' | '?' | '[')),
            _ => false,
        }
    }

    /// `{a,b}` or `{1..3}`: bash makes several words of it (sh does not).
    pub(super) fn is_brace_expansion(&self) -> bool {
        let text: Vec<(usize, char)> = self.unquoted().collect();
        let open = text.iter().position(|(_, c)| *c == '{');
        let close = text.iter().rposition(|(_, c)| *c == '}');
        match (open, close) {
            (Some(open), Some(close)) if open < close => {
                let inner = &text[open + 1..close];
                inner.iter().any(|(_, c)| *c == ',') || inner.windows(2).any(|w| w[0].1 == '.' && w[1].1 == '.')
            }
            _ => false,
        }
    }

    /// What `dialect` reads differently from bash, if anything.
    pub(super) fn dialect_doubt(&self, dialect: Dialect) -> Option<&'static str> {
        let zsh = matches!(dialect, Dialect::Zsh | Dialect::BashOrZsh);
        if zsh && self.chars.first() == Some(&'=') && self.quoted.first() == Some(&false) {
            return Some("a word starting with `=` names a program's path in zsh");
        }
        if zsh && self.unquoted().any(|(_, c)| matches!(c, '^' | '#')) {
            return Some("an unquoted `^` or `#` is a pattern in zsh");
        }
        if self.empty_lead && self.chars.first() == Some(&'~') && self.quoted.first() == Some(&false) {
            return Some("a `~` after empty quotes is the home to zsh, a `~` to bash and sh");
        }
        let bash = matches!(dialect, Dialect::Bash | Dialect::BashOrZsh);
        let after_equals = self
            .unquoted()
            .any(|(i, c)| c == '~' && i > 0 && matches!(self.chars[i - 1], '=' | ':'));
        if bash && after_equals {
            return Some("bash expands a `~` after `=` or `:` (`a=~/x`)");
        }
        None
    }
}

/// Characters a plain word may hold unquoted: letters, digits, anything
/// not ASCII, and punctuation with no meaning to any of the shells lulu
/// reads (globs and braces are judged on the whole word).
fn plain(c: char) -> bool {
    c.is_alphanumeric()
        || !c.is_ascii()
        || matches!(
            c,
            '_' | '-'
                | '.'
                | '/'
                | ','
                | ':'
                | '='
                | '+'
                | '@'
                | '%'
                | '~'
                | '!'
                | '#'
                | '^'
                | '*'
                | '?'
                | '['
                | ']'
                | '{'
                | '}'
        )
}

/// A plain (unquoted) word's text: escapes undone. `None` when it holds a
/// character with a meaning to the shell the grammar did not show.
pub(super) fn plain_word(raw: &str) -> Option<Word> {
    let mut word = Word::default();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\n') => {}
                Some(next) => {
                    word.chars.push(next);
                    word.quoted.push(true);
                }
                None => return None,
            }
        } else if plain(c) {
            word.chars.push(c);
            word.quoted.push(false);
        } else {
            return None;
        }
    }
    Some(word)
}

/// The inside of a double-quoted string with no expansion: only `\\`,
/// `\"`, `\$`, `` \` `` and backslash-newline are escapes. `None` when an
/// unescaped `$` or backquote is left (the grammar should have seen it).
pub(super) fn double_quoted(inner: &str) -> Option<String> {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some('\\' | '"' | '$' | '`') => out.push(chars.next().unwrap_or_default()),
                Some('\n') => {
                    chars.next();
                }
                _ => out.push(c),
            },
            '$' | '`' | '"' => return None,
            other => out.push(other),
        }
    }
    Some(out)
}
