-- A session's branch to its forge: :LuluPush to a real bare remote (and
-- a rejected push, a forced one, hostile remotes), :LuluPR against a
-- stand-in gh (tests/fake-gh, which records its argv as gh would take it).
local h = require('harness')
local T = h.new_set()

--- A repository with a bare remote `origin`, and a shell session `name`
--- with one commit on its branch.
local function with_remote(child, name)
  local repo = h.repo(child.dir .. '/repo')
  local bare = child.dir .. '/remote.git'
  vim.fn.mkdir(bare, 'p')
  h.git(bare, 'init', '--quiet', '--bare', '--initial-branch=main')
  h.git(repo, 'remote', 'add', 'origin', bare)
  h.git(repo, 'push', '--quiet', 'origin', 'main')
  return repo, bare
end

local function session_with_commit(child, repo, name, subject)
  local s = child.lua(
    'local name, cwd = ...; return require("lulu").start({ agent = "shell", name = name, cwd = cwd })',
    name,
    repo
  )
  child.wait('return require("lulu").get(...).status == "running"', 5000, name .. ' running', s.id)
  local worktree = child.lua('return require("lulu").get(...).worktree', s.id)
  vim.fn.writefile({ name }, worktree .. '/' .. name .. '.txt')
  h.git(worktree, 'add', '.')
  h.git(worktree, 'commit', '--quiet', '-m', subject, '-m', 'Why: the tests need it.')
  return s, worktree
end

local function push(child, name, opts)
  return child.lua('local name, opts = ...; return { pcall(require("lulu").push, name, opts) }', name, opts or {})
end

T['push to a bare remote sets the upstream; a rejected push changes nothing; ! forces with a lease'] = function(child)
  child.setup()
  child.capture_notify()
  local repo, bare = with_remote(child, 's')
  session_with_commit(child, repo, 's', 'Add s')
  local ok = push(child, 's')
  h.eq({ ok[1], ok[2].remote, ok[2].branch }, { true, 'origin', 'lulu/s' }, 'pushed')
  h.eq(h.git(bare, 'log', '--format=%s', '-1', 'lulu/s'), 'Add s', 'on the remote')
  h.eq(h.git(repo, 'config', 'branch.lulu/s.remote'), 'origin', 'its upstream')

  -- Someone else pushed to the branch first: rejected, nothing set here.
  local _, worktree = session_with_commit(child, repo, 't', 'Add t')
  local other = child.dir .. '/other'
  h.git(child.dir, 'clone', '--quiet', bare, other)
  h.git(other, 'config', 'user.email', 'o@localhost')
  h.git(other, 'config', 'user.name', 'O')
  h.git(other, 'commit', '--quiet', '--allow-empty', '-m', 'theirs')
  h.git(other, 'push', '--quiet', 'origin', 'HEAD:refs/heads/lulu/t')
  local rejected = push(child, 't')
  h.eq(rejected[1], false, 'rejected')
  h.matches(
    rejected[2],
    'has commits lulu/t lacks: :LuluRebase onto them, or :LuluPush! to overwrite',
    'says what to do'
  )
  local upstream = vim.system({ 'git', '-C', repo, 'config', 'branch.lulu/t.remote' }):wait()
  h.eq(upstream.code, 1, 'no upstream recorded for a failed push')
  h.eq(h.git(bare, 'log', '--format=%s', '-1', 'lulu/t'), 'theirs', 'the remote keeps theirs')
  child.run('LuluPush! t')
  h.eq(h.git(bare, 'log', '--format=%s', '-1', 'lulu/t'), 'Add t', 'forced, with a lease')
  h.eq(h.git(worktree, 'rev-parse', 'HEAD'), h.git(bare, 'rev-parse', 'lulu/t'), 'the same commit')
end

T['bad remotes: none, a transport lulu refuses, a remote program or hook never runs'] = function(child)
  child.setup()
  child.capture_notify()
  local repo, bare = with_remote(child, 's')
  session_with_commit(child, repo, 's', 'Add s')
  local worktree = child.lua('return require("lulu").get("s").worktree')
  h.git(worktree, 'checkout', '--quiet', '--detach')
  h.matches(push(child, 's')[2], 'detached HEAD; check out lulu/s in it first', 'a detached HEAD')
  h.git(worktree, 'checkout', '--quiet', 'lulu/s')
  local none = push(child, 's', { remote = 'upstream' })
  h.matches(none[2], 'no remote "upstream" in this repository; add it with git remote add upstream URL', 'no remote')
  h.matches(push(child, 's', { remote = '-x' })[2], 'is not a remote name lulu pushes to', 'an option as a name')
  local proof = child.dir .. '/ran'
  h.git(repo, 'remote', 'add', 'evil', 'ext::sh -c touch% ' .. proof)
  h.matches(push(child, 's', { remote = 'evil' })[2], 'a URL lulu does not push to %(a remote helper', 'ext:: refused')
  -- The repository's own receive-pack program, and the remote's hooks.
  h.git(repo, 'config', 'remote.origin.receivepack', 'sh -c "touch ' .. proof .. '"; git-receive-pack')
  vim.fn.writefile({ '#!/bin/sh', 'touch ' .. proof }, bare .. '/hooks/pre-receive')
  vim.fn.setfperm(bare .. '/hooks/pre-receive', 'rwxr-xr-x')
  h.git(repo, 'config', 'core.sshCommand', 'touch ' .. proof)
  -- The repository's own URL rewriting, to a repository whose hooks run.
  local evil = child.dir .. '/evil.git'
  vim.fn.mkdir(evil, 'p')
  h.git(evil, 'init', '--quiet', '--bare')
  vim.fn.writefile({ '#!/bin/sh', 'touch ' .. proof }, evil .. '/hooks/pre-receive')
  vim.fn.setfperm(evil .. '/hooks/pre-receive', 'rwxr-xr-x')
  h.git(repo, 'config', 'url.' .. evil .. '.pushInsteadOf', bare)
  local ok = push(child, 's')
  h.eq(ok[1], true, 'pushed all the same')
  h.eq(vim.uv.fs_stat(proof), nil, 'no program of the repository or the remote ran')
  h.eq(h.git(bare, 'log', '--format=%s', '-1', 'lulu/s'), 'Add s', 'to the URL the repository names')
  h.eq(vim.system({ 'git', '-C', evil, 'rev-parse', '--verify', '-q', 'lulu/s' }):wait().code, 1, 'not rewritten')
  -- A local remote with a working tree (a push could check files out there).
  local plain = h.repo(child.dir .. '/plain')
  h.git(repo, 'remote', 'add', 'plain', plain)
  h.matches(push(child, 's', { remote = 'plain' })[2], 'is not a bare repository', 'refused')
end

T[':LuluPR pushes and opens the request through gh; its URL is kept; a second says it exists; no gh: a hint'] = function(
  child
)
  local bin = child.dir .. '/bin'
  vim.fn.mkdir(bin, 'p')
  vim.uv.fs_symlink(h.root .. '/tests/fake-gh', bin .. '/gh')
  local log = child.dir .. '/gh.jsonl'
  child.stop()
  child = h.child({
    env = { PATH = bin .. ':' .. vim.env.PATH, FAKE_GH_LOG = log, FAKE_GH_STATE = child.dir .. '/gh-state' },
  })
  child.defer(child.stop)
  child.setup()
  child.capture_notify()
  local repo, bare = with_remote(child, 's')
  h.git(repo, 'remote', 'set-url', 'origin', 'https://github.com/acme/rocket.git')
  h.git(repo, 'remote', 'set-url', '--push', 'origin', bare)
  local s = session_with_commit(child, repo, 's', 'Teach the rocket to land')
  local draft = child.lua('return require("lulu").pr_draft("s")')
  h.eq(draft.title, 'Teach the rocket to land', 'title: the first commit subject')
  h.matches(draft.body, 'Why: the tests need it%.', 'body: the commit messages')

  child.run('LuluPR s')
  child.wait(
    'return vim.bo.buftype == "acwrite" and vim.api.nvim_buf_get_name(0):match("lulu%-pr://s$")',
    5000,
    'the draft'
  )
  child.lua('vim.api.nvim_buf_set_lines(0, 0, 1, false, { "Land the rocket" })')
  child.cmd('write')
  child.wait('return require("lulu").get("s").pr_url', 10000, 'the URL kept')
  h.eq(child.lua('return require("lulu").get("s").pr_url'), 'https://github.com/acme/rocket/pull/1', 'its URL')
  h.eq(h.git(bare, 'log', '--format=%s', '-1', 'lulu/s'), 'Teach the rocket to land', 'pushed first')
  local call = vim.json.decode(vim.fn.readfile(log)[1])
  h.eq(
    { unpack(call.argv, 1, 10) },
    { 'pr', 'create', '--repo', 'acme/rocket', '--head', 'lulu/s', '--base', 'main', '--title', 'Land the rocket' },
    'gh got every choice on its command line'
  )
  h.ok(not vim.startswith(call.cwd, repo), 'gh ran outside the repository')
  local row = child.lua('return require("lulu.ui.list.layout").layout({ require("lulu").get("s") }, 100)')[2]
  h.matches(row, 'PR #1', 'the row shows it')
  local detail = child.lua('return require("lulu.ui.detail").lines(require("lulu").detail("s"))')
  h.matches(table.concat(detail, '\n'), 'pull request: https://github.com/acme/rocket/pull/1', 'and K')

  local again = child.lua('return require("lulu").pr("s", { title = "again", body = "" })')
  h.eq({ again.url, again.existed }, { 'https://github.com/acme/rocket/pull/1', true }, 'it exists: its URL')

  -- No gh for a GitHub remote: pushed, and told what to install.
  child.lua('vim.env.PATH = "/usr/bin:/bin"')
  h.git(repo, 'remote', 'set-url', 'origin', 'https://gitlab.example.com/acme/rocket.git')
  h.git(repo, 'remote', 'set-url', '--push', 'origin', bare)
  local hinted = child.lua('return require("lulu").pr("s", { title = "t", body = "" })')
  h.matches(hinted.hint, 'install glab', 'what to install')
end

return T
