//! Reviewing a file-changing tool call before it runs: what the file would
//! become (the agent's edits applied to the file as it is now), and, when
//! the user changed that in Neovim, the tool input that produces exactly
//! the user's version. Pure: the caller reads the files.
//!
//! Which of an agent's tools has which [`Shape`], and whether it takes a
//! changed input with its allow, are its adapter's to say
//! ([`crate::adapter::Adapter::file_tool`]); this module knows the shapes.

use serde_json::{Value, json};

/// The input shapes of the file tools whose change lulu can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{file_path, content}`: the whole new content.
    Write,
    /// `{file_path, old_string, new_string, replace_all}`.
    Edit,
    /// `{file_path, edits: [{old_string, new_string, replace_all}]}`.
    MultiEdit,
    /// `{file_path, old_string, new_string, expected_replacements}`: every
    /// occurrence when it expects more than one.
    Replace,
}

/// A change lulu can show.
#[derive(Debug, Clone, PartialEq)]
pub enum FileChange {
    /// The whole new content.
    Write { path: String, content: String },
    /// Replacements applied in order to the current content.
    Edit { path: String, edits: Vec<Replace> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Replace {
    pub old: String,
    pub new: String,
    /// Every occurrence, else exactly one.
    pub all: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReviewError {
    #[error("the text to replace is not in {path} as it is now (the file changed since the agent read it)")]
    NotFound { path: String },
    #[error("the text to replace occurs {count} times in {path}; the agent's edit is ambiguous")]
    Ambiguous { path: String, count: usize },
    #[error("{path} is empty, so no edit of it can say exactly what you wrote; deny it and tell the agent")]
    Inexpressible { path: String },
}

impl FileChange {
    /// The change a tool call of `shape` makes, if its input has the shape.
    pub fn of(shape: Shape, input: &Value) -> Option<FileChange> {
        let text = |key: &str| input.get(key).and_then(Value::as_str).map(str::to_string);
        let path = text("file_path")?;
        match shape {
            Shape::Write => Some(FileChange::Write {
                path,
                content: text("content")?,
            }),
            Shape::Edit => Some(FileChange::Edit {
                path,
                edits: vec![replace(input)?],
            }),
            Shape::MultiEdit => {
                let edits = input
                    .get("edits")?
                    .as_array()?
                    .iter()
                    .map(replace)
                    .collect::<Option<_>>()?;
                Some(FileChange::Edit { path, edits })
            }
            Shape::Replace => {
                let expected = input.get("expected_replacements").and_then(Value::as_u64).unwrap_or(1);
                Some(FileChange::Edit {
                    path,
                    edits: vec![Replace {
                        old: text("old_string")?,
                        new: text("new_string")?,
                        all: expected > 1,
                    }],
                })
            }
        }
    }

    pub fn path(&self) -> &str {
        match self {
            FileChange::Write { path, .. } | FileChange::Edit { path, .. } => path,
        }
    }

    /// The file after the change, from `current` (`None`: no such file).
    pub fn apply(&self, current: Option<&str>) -> Result<String, ReviewError> {
        match self {
            FileChange::Write { content, .. } => Ok(content.clone()),
            FileChange::Edit { path, edits } => {
                let mut text = current.unwrap_or_default().to_string();
                for edit in edits {
                    let count = if edit.old.is_empty() {
                        0
                    } else {
                        text.matches(&edit.old).count()
                    };
                    match (count, edit.all) {
                        (0, _) => return Err(ReviewError::NotFound { path: path.clone() }),
                        (1, _) | (_, true) => text = text.replace(&edit.old, &edit.new),
                        (count, false) => {
                            return Err(ReviewError::Ambiguous {
                                path: path.clone(),
                                count,
                            });
                        }
                    }
                }
                Ok(text)
            }
        }
    }
}

fn replace(value: &Value) -> Option<Replace> {
    Some(Replace {
        old: value.get("old_string")?.as_str()?.to_string(),
        new: value.get("new_string")?.as_str()?.to_string(),
        all: value.get("replace_all").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// The input to allow the call with, so that it leaves exactly `accepted`
/// in the file: `None` when that is what the call does already (allow it as
/// it is). An edit becomes one replacement of the whole current file, which
/// the tool applies exactly (the whole file occurs in itself once).
pub fn accepted_input(
    shape: Shape,
    input: &Value,
    current: Option<&str>,
    accepted: &str,
) -> Result<Option<Value>, ReviewError> {
    let Some(change) = FileChange::of(shape, input) else {
        return Ok(None);
    };
    if change.apply(current)? == accepted {
        return Ok(None);
    }
    let mut updated = input.clone();
    let path = change.path().to_string();
    match (&change, shape) {
        (FileChange::Write { .. }, _) => {
            updated["content"] = json!(accepted);
        }
        (FileChange::Edit { .. }, _) if current.is_none_or(str::is_empty) => {
            return Err(ReviewError::Inexpressible { path });
        }
        (FileChange::Edit { .. }, Shape::MultiEdit) => {
            updated["edits"] = json!([{ "old_string": current, "new_string": accepted, "replace_all": false }]);
        }
        (FileChange::Edit { .. }, _) => {
            updated["old_string"] = json!(current);
            updated["new_string"] = json!(accepted);
            if shape == Shape::Replace {
                updated["expected_replacements"] = json!(1);
            } else {
                updated["replace_all"] = json!(false);
            }
        }
    }
    Ok(Some(updated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_to_the_current_file_as_the_tools_would() {
        let edit = json!({"file_path": "/r/a.py", "old_string": "x = 1", "new_string": "x = 2"});
        let change = FileChange::of(Shape::Edit, &edit).unwrap();
        assert_eq!(change.apply(Some("x = 1\ny = 1\n")).unwrap(), "x = 2\ny = 1\n");
        assert_eq!(
            change.apply(Some("x = 1\nx = 1\n")),
            Err(ReviewError::Ambiguous {
                path: "/r/a.py".into(),
                count: 2
            })
        );
        assert!(matches!(change.apply(Some("")), Err(ReviewError::NotFound { .. })));
        let multi = json!({"file_path": "/r/a.py", "edits": [
            {"old_string": "a", "new_string": "b", "replace_all": true},
            {"old_string": "b\nc", "new_string": "C"},
        ]});
        let change = FileChange::of(Shape::MultiEdit, &multi).unwrap();
        assert_eq!(change.apply(Some("a\na\nc\n")).unwrap(), "b\nC\n");
        let write = json!({"file_path": "/r/new.txt", "content": "hi\n"});
        assert_eq!(
            FileChange::of(Shape::Write, &write).unwrap().apply(None).unwrap(),
            "hi\n"
        );
        // An input of another shape is no change lulu can show.
        assert_eq!(FileChange::of(Shape::Edit, &write), None);
        assert_eq!(FileChange::of(Shape::Write, &json!({"command": "ls"})), None);
    }

    #[test]
    fn an_accepted_version_becomes_an_input_that_makes_exactly_it() {
        let current = "one\ntwo\n";
        let edit = json!({"file_path": "/r/f", "old_string": "two", "new_string": "2", "replace_all": false});
        assert_eq!(accepted_input(Shape::Edit, &edit, Some(current), "one\n2\n"), Ok(None));
        let mine = "one\n2\nthree (mine)\n";
        let updated = accepted_input(Shape::Edit, &edit, Some(current), mine)
            .unwrap()
            .unwrap();
        let again = FileChange::of(Shape::Edit, &updated).unwrap();
        assert_eq!(again.apply(Some(current)).unwrap(), mine);

        let write = json!({"file_path": "/r/f", "content": "theirs\n"});
        let updated = accepted_input(Shape::Write, &write, None, "mine\n").unwrap().unwrap();
        assert_eq!(updated, json!({"file_path": "/r/f", "content": "mine\n"}));

        let multi = json!({"file_path": "/r/f", "edits": [{"old_string": "one", "new_string": "1"}]});
        let updated = accepted_input(Shape::MultiEdit, &multi, Some(current), mine)
            .unwrap()
            .unwrap();
        assert_eq!(
            FileChange::of(Shape::MultiEdit, &updated)
                .unwrap()
                .apply(Some(current))
                .unwrap(),
            mine
        );

        let replace = json!({"file_path": "/r/f", "old_string": "one", "new_string": "1", "expected_replacements": 1});
        let updated = accepted_input(Shape::Replace, &replace, Some(current), mine)
            .unwrap()
            .unwrap();
        assert_eq!(
            FileChange::of(Shape::Replace, &updated)
                .unwrap()
                .apply(Some(current))
                .unwrap(),
            mine
        );

        assert!(matches!(
            accepted_input(
                Shape::Edit,
                &json!({"file_path": "/r/e", "old_string": "", "new_string": "x"}),
                Some(""),
                "y"
            ),
            Err(ReviewError::NotFound { .. })
        ));
    }
}
