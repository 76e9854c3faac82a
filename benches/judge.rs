//! The rule judge's cost per tool call (figures, not pass/fail): each
//! command of a mixed corpus (harmless ones the rules allow, hostile ones
//! they must not) judged through `approval::evaluate` as the host does for
//! every hook, under rules like a user's. Prints the median and p99 per
//! call, and the slowest command. Uses only the public `evaluate` API, so
//! the same file measures an older build (`git worktree` + `cargo bench`).

use std::path::Path;
use std::time::{Duration, Instant};

use lulu::approval::{Action, Rule, RuleSpec, ToolCall, evaluate};

const ROUNDS: usize = 400;

fn rule(id: i64, action: Action, tool: Option<&str>, command: Option<&str>, path: Option<&str>) -> Rule {
    let mut spec = RuleSpec::new(action);
    spec.tool = tool.map(str::to_string);
    spec.command = command.map(str::to_string);
    spec.path = path.map(str::to_string);
    Rule::new(id, spec).expect("a valid rule")
}

fn main() {
    let rules = vec![
        rule(1, Action::Deny, None, Some("^rm( |$)"), None),
        rule(
            2,
            Action::Allow,
            None,
            Some("^(ls|cat|echo|grep|sed -n|awk|find|tar -t[a-z]*|npm test)( |$)"),
            None,
        ),
        rule(
            3,
            Action::Allow,
            None,
            Some("^git (log|diff|show|grep|status)( |$)"),
            None,
        ),
        rule(4, Action::Allow, Some("Write"), None, Some("**")),
    ];
    let commands = [
        "ls",
        "ls -la src",
        "git status && git diff --stat",
        "cargo test 2>&1 | grep FAIL",
        "grep -rn 'TODO' src | head -n 20",
        "cat <<'EOF' > notes.txt\nhello\nEOF",
        "find . -name '*.rs' -newer Cargo.toml",
        "sed -n 1,40p src/main.rs",
        "awk '{print $1}' data.txt | sort | uniq -c",
        "npm test -- --watch=false",
        "echo ${x:-`touch /tmp/pwn`}",
        "ls > out.txt $(touch /tmp/pwn)",
        "for PATH in .; do ls; done",
        "find . -fprint0 ~/.bashrc",
        "git log --output=/home/u/.bashrc",
        "tar -tf a.tar --checkpoint-action=exec=sh",
        "rm -rf build && ls",
        "a=1; b=$((a+1)); echo $b > /tmp/x",
    ];
    let dir = std::env::temp_dir();
    let mut all: Vec<Duration> = Vec::new();
    let mut slowest = (Duration::ZERO, "");
    for command in commands {
        let input = serde_json::json!({ "command": command });
        let call = ToolCall {
            agent: "claude",
            tool: "Bash",
            input: &input,
            cwd: &dir,
            root: Path::new(&dir),
        };
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let start = Instant::now();
            std::hint::black_box(evaluate(&rules, &call));
            times.push(start.elapsed());
        }
        times.sort();
        let median = times[times.len() / 2];
        if median > slowest.0 {
            slowest = (median, command);
        }
        all.extend(times);
    }
    let write = serde_json::json!({ "file_path": "src/nothere/../new.rs", "content": "x" });
    let call = ToolCall {
        agent: "claude",
        tool: "Write",
        input: &write,
        cwd: &dir,
        root: Path::new(&dir),
    };
    let mut paths: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(evaluate(&rules, &call));
            start.elapsed()
        })
        .collect();
    paths.sort();
    all.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "judge: {} shell commands x {ROUNDS}: median {:.1} us, p99 {:.1} us per call (slowest command: median {:.1} us, {:?}); a Write path: median {:.1} us, p99 {:.1} us",
        commands.len(),
        us(all[all.len() / 2]),
        us(all[all.len() * 99 / 100]),
        us(slowest.0),
        slowest.1.chars().take(40).collect::<String>(),
        us(paths[paths.len() / 2]),
        us(paths[paths.len() * 99 / 100]),
    );
}
