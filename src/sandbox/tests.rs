use std::os::unix::net::UnixListener;
use std::process::Command;

use super::*;

fn sandbox() -> Sandbox {
    Sandbox {
        backend: Backend::Bwrap,
        ro: vec![],
        rw: vec![],
        hide: vec![],
        network: true,
    }
}

/// A home, a repository with a linked worktree, lulu's private dirs and a
/// runtime dir with a control socket and a hook socket, all real.
struct World {
    _root: tempfile::TempDir,
    home: PathBuf,
    repo: PathBuf,
    worktree: PathBuf,
    data: PathBuf,
    runtime: PathBuf,
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git").args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn world() -> World {
    let root = tempfile::tempdir().unwrap();
    let base = root.path().canonicalize().unwrap();
    let home = base.join("home");
    let repo = home.join("src/app");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_ed25519"), "secret key").unwrap();
    std::fs::write(home.join("notes.txt"), "mine").unwrap();
    std::fs::create_dir_all(home.join(".claude")).unwrap();
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(
        &repo,
        &[
            "-c",
            "user.email=t@t",
            "-c",
            "user.name=t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "first",
        ],
    );
    let worktree = repo.join(".lulu/worktrees/fox");
    git(
        &repo,
        &["worktree", "add", "-q", "-b", "lulu/fox", worktree.to_str().unwrap()],
    );
    let data = home.join(".local/share/nvim/lulu");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("lulu.db"), "the store").unwrap();
    let runtime = base.join("run");
    std::fs::create_dir_all(runtime.join("lulu")).unwrap();
    World {
        _root: root,
        home,
        repo,
        worktree,
        data,
        runtime,
    }
}

impl World {
    fn context(&self) -> Context {
        Context {
            home: Some(self.home.clone()),
            run_dir: self.worktree.clone(),
            writable: self.worktree.clone(),
            repo: Some(self.repo.clone()),
            branch: Some("lulu/fox".into()),
            agent_state: vec![self.home.join(".claude")],
            session_dir: None,
            private: vec![self.data.clone(), self.runtime.join("lulu")],
            hook_socket: Some(self.runtime.join("lulu/hook.sock")),
            programs: vec![],
            runtime_dir: Some(self.runtime.clone()),
        }
    }
}

/// Run `script` with sh in the sandbox; its exit code and output.
fn run_in(sandbox: &Sandbox, ctx: &Context, script: &str) -> (i32, String) {
    let argv = sandbox
        .wrap(ctx, vec!["sh".into(), "-c".into(), script.into()])
        .expect("bubblewrap is installed (scripts/ensure-tools installs it)");
    let out = Command::new(&argv[0]).args(&argv[1..]).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_deeper_rule_wins_and_of_one_path_the_strongest() {
    let w = world();
    let mut s = sandbox();
    std::fs::create_dir_all(w.home.join(".cache/tool")).unwrap();
    s.hide = vec![w.home.join(".cache").display().to_string()];
    s.rw = vec![
        w.home.join(".cache/tool").display().to_string(),
        w.home.join("notes.txt").display().to_string(),
    ];
    s.ro = vec![w.home.join("notes.txt").display().to_string()];
    let mounts = s.mounts(&w.context());
    let at = |p: PathBuf| mounts.iter().position(|(m, _)| *m == p).unwrap();
    assert!(at(w.home.join(".cache")) < at(w.home.join(".cache/tool")));
    assert_eq!(mounts[at(w.home.join(".cache/tool"))].1, Access::Write);
    assert_eq!(mounts[at(w.home.join("notes.txt"))].1, Access::Write);
    assert_eq!(mounts[at(w.data.clone())].1, Access::Hide);
    let git_dir = w.repo.join(".git");
    assert_eq!(mounts[at(git_dir.clone())].1, Access::Read);
    assert_eq!(mounts[at(git_dir.join("objects"))].1, Access::Write);
    assert_eq!(mounts[at(git_dir.join("refs/heads/lulu"))].1, Access::Write);
    assert_eq!(mounts[at(git_dir.join("worktrees/fox"))].1, Access::Write);
    assert_eq!(mounts[at(git_dir.join("worktrees/fox/commondir"))].1, Access::Read);
    assert_eq!(mounts[at(git_dir.join("worktrees/fox/gitdir"))].1, Access::Read);
    assert_eq!(mounts[at(w.worktree.join(".git"))].1, Access::Read);
    assert!(at(git_dir.clone()) < at(git_dir.join("worktrees/fox")));
    assert!(at(git_dir.join("worktrees/fox")) < at(git_dir.join("worktrees/fox/commondir")));
}

#[test]
fn a_rewritten_git_file_in_the_worktree_opens_nothing() {
    let w = world();
    // The agent, in an earlier run, pointed its worktree's `.git` at the
    // home: the next sandbox must not take it at its word.
    std::fs::write(w.worktree.join(".git"), format!("gitdir: {}\n", w.home.display())).unwrap();
    let mounts = sandbox().mounts(&w.context());
    assert!(
        !mounts.iter().any(|(m, a)| *a == Access::Write && w.home.starts_with(m)),
        "neither the home nor anything above it is writable: {mounts:?}"
    );
    assert!(
        mounts
            .iter()
            .any(|(m, a)| *m == w.repo.join(".git/worktrees/fox") && *a == Access::Write),
        "the admin dir is found from the main repository's records"
    );
}

#[test]
fn paths_must_be_absolute_and_outside_lulus_own_files() {
    let w = world();
    let mut s = sandbox();
    s.rw = vec!["relative/dir".into()];
    assert!(matches!(
        s.check(&w.context().private),
        Err(SandboxError::Relative { key: "rw", .. })
    ));
    s.rw = vec![w.data.join("lulu.db").display().to_string()];
    let err = s.check(&w.context().private).unwrap_err();
    assert!(matches!(err, SandboxError::LulusOwn { key: "rw", .. }), "{err}");
    // A link into lulu's files is judged by where it leads.
    std::os::unix::fs::symlink(&w.data, w.home.join("innocent")).unwrap();
    s.rw = vec![];
    s.ro = vec![w.home.join("innocent").display().to_string()];
    assert!(matches!(
        s.check(&w.context().private),
        Err(SandboxError::LulusOwn { key: "ro", .. })
    ));
}

#[test]
fn inside_the_session_writes_its_worktree_and_commits_but_nothing_else() {
    let w = world();
    let ctx = w.context();
    let script = format!(
        "echo hi > made.txt && git add made.txt && \
         git -c user.email=a@a -c user.name=a commit -q -m agent && echo committed; \
         touch {home}/.claude/state && echo agent-state-ok; \
         echo x > {home}/notes.txt 2>/dev/null || echo home-read-only; \
         echo x >> ../../../.git/config 2>/dev/null || echo git-config-read-only; \
         echo x > ../../../.git/hooks/post-checkout 2>/dev/null || echo git-hooks-read-only; \
         echo x > ../../../.git/worktrees/fox/commondir 2>/dev/null || echo commondir-read-only; \
         echo x > ../../../.git/worktrees/fox/gitdir 2>/dev/null || echo gitdir-read-only; \
         echo gitdir: /tmp > .git 2>/dev/null || echo dot-git-read-only; \
         echo x > ../../../.git/refs/heads/main 2>/dev/null || echo main-ref-read-only; \
         echo x > ../../../.git/HEAD 2>/dev/null || echo main-head-read-only; \
         echo /tmp > ../../../.git/objects/info/alternates 2>/dev/null || echo alternates-read-only; \
         echo x > ../../../README 2>/dev/null || echo checkout-read-only; \
         echo x > /tmp/private && echo tmp-ok",
        home = w.home.display()
    );
    let (code, out) = run_in(&sandbox(), &ctx, &script);
    assert_eq!(code, 0, "{out}");
    // The one complaint: git 2.4x deletes a pseudo-ref after each commit
    // with a transaction that locks `.git/packed-refs`, which a read-only
    // `.git` refuses; the commit stands (a writable `.git` would let the
    // agent make `.git/commondir`, which the user's own git would follow).
    let complaints: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("error") && !l.contains("packed-refs.lock"))
        .collect();
    assert!(complaints.is_empty(), "git works without other complaint: {out}");
    for expected in [
        "committed",
        "agent-state-ok",
        "home-read-only",
        "git-config-read-only",
        "git-hooks-read-only",
        "commondir-read-only",
        "gitdir-read-only",
        "dot-git-read-only",
        "main-ref-read-only",
        "main-head-read-only",
        "alternates-read-only",
        "checkout-read-only",
        "tmp-ok",
    ] {
        assert!(out.contains(expected), "{expected} missing from: {out}");
    }
    let log = Command::new("git")
        .args(["log", "--oneline", "lulu/fox"])
        .current_dir(&w.repo)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&log.stdout).contains("agent"));
    assert_eq!(std::fs::read_to_string(w.home.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn hidden_paths_lulus_store_and_control_socket_are_out_of_reach_but_the_hook_socket_answers() {
    let w = world();
    let control = UnixListener::bind(w.runtime.join("lulu/lulu.sock")).unwrap();
    let hook = UnixListener::bind(w.runtime.join("lulu/hook.sock")).unwrap();
    let neovim = UnixListener::bind(w.runtime.join("nvim.123.0")).unwrap();
    let mut s = sandbox();
    s.hide = vec![w.home.join(".ssh").display().to_string()];
    // Python's socket module stands in for any client of a Unix socket.
    let probe = |path: PathBuf| {
        format!(
            "python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect(\"{}\"); print(\"connected\")' \
             2>/dev/null || echo refused",
            path.display()
        )
    };
    let script = format!(
        "cat ~/.ssh/id_ed25519 2>/dev/null || echo no-key; cat {db} 2>/dev/null || echo no-store; \
         echo control: $({control}); echo neovim: $({neovim}); echo hook: $({hook}); \
         echo processes: $(ls /proc | grep -c '^[0-9]')",
        db = w.data.join("lulu.db").display(),
        control = probe(w.runtime.join("lulu/lulu.sock")),
        neovim = probe(w.runtime.join("nvim.123.0")),
        hook = probe(w.runtime.join("lulu/hook.sock")),
    );
    let (code, out) = run_in(&s, &w.context(), &script);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("no-key") && !out.contains("secret key"), "{out}");
    assert!(out.contains("no-store") && !out.contains("the store"), "{out}");
    assert!(out.contains("control: refused"), "{out}");
    assert!(out.contains("neovim: refused"), "{out}");
    assert!(out.contains("hook: connected"), "{out}");
    let processes: usize = out
        .split("processes: ")
        .nth(1)
        .and_then(|n| n.trim().parse().ok())
        .unwrap();
    assert!(processes < 10, "only the sandbox's own processes: {out}");
    drop((control, hook, neovim));
}

#[test]
fn without_network_only_loopback_of_its_own() {
    let w = world();
    let outside = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = outside.local_addr().unwrap().port();
    let script = format!(
        "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 2); print(\"reached\")' \
         2>/dev/null || echo unreachable"
    );
    let (_, open) = run_in(&sandbox(), &w.context(), &script);
    assert!(open.contains("reached"), "{open}");
    let mut closed = sandbox();
    closed.network = false;
    let (_, shut) = run_in(&closed, &w.context(), &script);
    assert!(shut.contains("unreachable"), "{shut}");
}

#[test]
fn the_probe_says_the_sandbox_works_here() {
    let said = probe().expect("bubblewrap works here (scripts/ensure-tools installs it)");
    assert!(said.contains("bubblewrap") && said.contains("works"), "{said}");
}

#[test]
fn a_program_keeps_what_it_needs_to_run() {
    let w = world();
    let package = w.home.join("tools/node_modules/@vendor/cli/bin");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::create_dir_all(w.home.join("tools/node_modules/.bin")).unwrap();
    std::fs::write(package.join("cli.js"), "").unwrap();
    let link = w.home.join("tools/node_modules/.bin/cli");
    std::os::unix::fs::symlink("../@vendor/cli/bin/cli.js", &link).unwrap();
    assert_eq!(program_root(&link), Some(w.home.join("tools/node_modules")));
    std::fs::write(w.home.join("tools/run.sh"), "").unwrap();
    assert_eq!(program_root(&w.home.join("tools/run.sh")), Some(w.home.join("tools")));
    assert_eq!(program_root(&w.home.join("missing")), None);
}
