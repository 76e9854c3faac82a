-- Worktrees end to end: a real repository in the case's temp dir, sessions
-- that commit in their own worktrees, diff, merge, conflicts, delete,
-- reconcile.
local h = require('harness')
local T = h.new_set()

local git = h.git

--- A repository at <case>/work/repo with one commit, the child's cwd.
local function repo(child)
  local dir = h.repo(child.cwd .. '/repo')
  child.setup()
  child.capture_notify()
  child.cmd('cd ' .. dir)
  return dir
end

--- A shell session that runs `script` in its worktree and exits.
local function session(child, name, script)
  local s = child.lua(
    'return require("lulu").start({ agent = "shell", name = ..., args = { "-c", select(2, ...) } })',
    name,
    script
  )
  child.wait(
    'local r = require("lulu").get(...) return r.status ~= "running" and r.status ~= "starting" and r',
    10000,
    name .. ' done',
    s.id
  )
  return child.lua('return require("lulu").get(...)', s.id)
end

local function notes(child)
  return child.lua('return _G.notes')
end

T['two sessions commit in their own worktrees; status stays clean; diff shows one'] = function(child)
  local dir = repo(child)
  local one = session(child, 'one', 'echo one > one.txt && git add one.txt && git commit -qm one')
  local two = session(child, 'two', 'echo two > two.txt && git add two.txt && git commit -qm two')
  h.eq(one.status, 'completed', 'one')
  h.eq({ one.branch, one.base }, { 'lulu/one', 'main' }, 'branch and base')
  h.eq(one.worktree, vim.uv.fs_realpath(dir) .. '/.lulu/worktrees/one', 'worktree path')
  h.eq(one.cwd, one.worktree, 'the agent ran in it')
  h.eq(git(dir, 'status', '--porcelain'), '', 'main worktree clean')
  h.eq(git(one.worktree, 'log', '-1', '--format=%s'), 'one', 'committed in the worktree')
  child.wait('return require("lulu").get("one").ahead == 1', 5000, 'ahead 1')
  local lines = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("one") }, 70)')
  h.matches(lines[2], '^   shell · lulu/one · ahead 1 · ', 'list row')

  child.run('LuluDiff one')
  h.eq(child.lua('return vim.bo.filetype'), 'diff', 'diff buffer')
  local text = table.concat(child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'), '\n')
  h.matches(text, '%+one', 'its change')
  h.ok(not text:find('two'), 'not the other session')
  child.lua('vim.api.nvim_input("q")')
  child.wait('return vim.bo.filetype ~= "diff"', 2000, 'q closes')
  h.ok(two.branch == 'lulu/two', 'second branch')
end

T['a worktree with uncommitted changes shows dirty in the list'] = function(child)
  repo(child)
  session(child, 'messy', 'echo x > notes.txt')
  child.wait('return require("lulu").get("messy").dirty == true', 5000, 'dirty')
  local row = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("messy") }, 80)')[2]
  h.matches(row, 'lulu/messy · dirty · ', 'the row says so')
  session(child, 'tidy', 'true')
  child.wait('return require("lulu").get("tidy").ahead == 0', 5000, 'counted')
  h.eq(child.lua('return require("lulu").get("tidy").dirty'), vim.NIL, 'a clean one does not')
end

T[":LuluActivity shows a commit made in a session's worktree as it happens, and its history keeps it"] = function(child)
  repo(child)
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "act", args = { "-c", "sleep 60" } })')
  child.wait('return require("lulu").get(...).status == "running"', 5000, 'running', s.id)
  local worktree = child.lua('return require("lulu").get("act").worktree')
  child.cmd('LuluActivity')
  vim.wait(1500) -- the feed's first look learns where the branches are
  vim.fn.writefile({ 'x' }, worktree .. '/x.txt')
  git(worktree, 'add', '.')
  git(worktree, 'commit', '--quiet', '-m', 'the agent commits')
  child.wait(
    'return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n"):find("act%s+commit%s+%x+  the agent commits %(1 file%)")',
    3000,
    'the commit in the feed'
  )
  local events = child.lua(
    'return vim.tbl_map(function(e) return e.kind .. " " .. e.detail end, require("lulu").detail("act").events)'
  )
  h.ok(
    vim.iter(events):any(function(e)
      return e:find('^git commit %x+ the agent commits %(1 file%)') ~= nil
    end),
    'in its history: ' .. vim.inspect(events)
  )
  local feed = child.lua('return require("lulu").activity()')
  h.eq({ feed[1].kind, feed[1].session, feed[1].branch }, { 'commit', 'act', 'lulu/act' }, 'the API says the same')
end

T['a live session that commits quietly shows ahead N'] = function(child)
  repo(child)
  local s = child.lua(
    'return require("lulu").start({ agent = "shell", name = "quiet", args = { "-c", ... } })',
    'sleep 0.5; echo q > q.txt && git add . && git commit -qm q; sleep 30'
  )
  child.wait('return require("lulu").get(...).ahead == 1', 8000, 'ahead 1 while running', s.id)
  h.eq(child.lua('return require("lulu").get(...).status', s.id), 'running', 'still running')
end

T['squash and merge land; a conflict aborts, names the file, keeps the base'] = function(child)
  local dir = repo(child)
  session(
    child,
    'one',
    'echo one > one.txt && git add . && git commit -qm "Add one" -m "Because we need it." && echo 1 >> one.txt && git commit -qam "Tune one"'
  )
  session(child, 'two', 'echo two > two.txt && git add . && git commit -qm two')
  session(child, 'three', 'printf "a\\nthree\\nc\\n" > shared.txt && git commit -qam three')
  child.run('LuluMerge one squash')
  child.run('LuluMerge two merge')
  h.eq(vim.fn.readfile(dir .. '/one.txt'), { 'one', '1' }, 'one landed')
  h.eq(vim.fn.readfile(dir .. '/two.txt'), { 'two' }, 'two landed')
  h.eq(
    git(dir, 'log', '-1', '--skip=1', '--format=%B'),
    'Add one (+1 more, squashed from lulu/one)\n\n* Add one\n\n  Because we need it.\n\n* Tune one',
    "the squash carries the session's commit messages"
  )
  child.wait('return require("lulu").get("one").merged == true', 5000, 'squash-merged: merged')
  h.eq(child.lua('return require("lulu").get("one").ahead'), 0, 'and no longer ahead')
  local row = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("one") }, 80)')[2]
  h.matches(row, 'lulu/one · merged · ', 'the row says merged')

  -- main moves on in the same file: three now conflicts (its line 2).
  vim.fn.writefile({ 'a', 'main', 'c' }, dir .. '/shared.txt')
  git(dir, 'commit', '--quiet', '-am', 'main edit')
  local before = git(dir, 'rev-parse', 'HEAD')
  child.run('LuluMerge three')
  local last = notes(child)[#notes(child)]
  h.matches(last.msg, 'merge of lulu/three conflicts in shared%.txt; aborted, main is unchanged', 'notified')
  h.matches(last.msg, '%(:LuluRebase three; see :copen%)$', 'with what to do in Vim, added by the editor')
  h.eq(last.level, vim.log.levels.ERROR, 'as an error')
  h.eq(git(dir, 'rev-parse', 'HEAD'), before, 'base unchanged')
  h.eq(git(dir, 'status', '--porcelain'), '', 'main clean')
  local qf = child.lua(
    'return vim.tbl_map(function(i) return { vim.fn.bufname(i.bufnr), i.lnum, i.text } end, vim.fn.getqflist())'
  )
  h.eq(#qf, 1, 'one quickfix entry')
  local three = child.lua('return require("lulu").get("three")')
  h.eq(qf[1][1], three.worktree .. '/shared.txt', "the file in the session's worktree")
  h.eq(qf[1][2], 2, 'at the conflicting hunk')
  h.matches(qf[1][3], 'conflicts with main', 'says with what')

  -- :LuluRebase: stops at the conflict in its worktree, continues once
  -- resolved, and the branch then contains main's commit.
  child.run('LuluRebase three')
  h.matches(
    notes(child)[#notes(child)].msg,
    'rebase of lulu/three onto main stopped at conflicts in shared%.txt',
    'stopped'
  )
  local marker = child.lua('local i = vim.fn.getqflist()[1]; return { vim.fn.bufname(i.bufnr), i.lnum }')
  h.eq(marker, { three.worktree .. '/shared.txt', 2 }, 'at the markers in its worktree')
  h.matches(table.concat(vim.fn.readfile(three.worktree .. '/shared.txt'), '\n'), '<<<<<<<', 'markers there')
  child.run('LuluRebase three continue')
  h.matches(notes(child)[#notes(child)].msg, 'conflict markers are still in shared%.txt:2', 'not before it is resolved')
  vim.fn.writefile({ 'a', 'main and three', 'c' }, three.worktree .. '/shared.txt')
  child.run('LuluRebase three continue')
  h.matches(notes(child)[#notes(child)].msg, '^lulu: rebased three onto main at ', 'rebased')
  git(dir, 'merge-base', '--is-ancestor', 'main', 'lulu/three')
  child.run('LuluMerge three')
  h.eq(vim.fn.readfile(dir .. '/shared.txt'), { 'a', 'main and three', 'c' }, 'and now it lands')
  git(dir, 'reset', '--quiet', '--hard', before)

  -- A dirty main worktree is refused.
  vim.fn.writefile({ 'dirty' }, dir .. '/shared.txt')
  child.run('LuluMerge three')
  h.matches(notes(child)[#notes(child)].msg, 'has uncommitted changes; commit or stash them first', 'dirty main')
end

T[':LuluDelete refuses unmerged or dirty work; ! removes it'] = function(child)
  local dir = repo(child)
  local done = session(child, 'done', 'echo x > x.txt && git add . && git commit -qm x')
  local dirty = session(child, 'dirty', 'echo scratch > notes.txt')
  child.run('LuluDelete done')
  h.matches(
    notes(child)[#notes(child)].msg,
    'lulu/done has 1 commit%(s%) not on main; merge it first, or use ! to drop them',
    'unmerged'
  )
  child.run('LuluDelete dirty')
  h.matches(notes(child)[#notes(child)].msg, 'has uncommitted changes; commit them, or use ! to discard them', 'dirty')
  h.ok(vim.uv.fs_stat(dirty.worktree), 'kept')
  child.run('LuluDelete! dirty')
  h.ok(not vim.uv.fs_stat(dirty.worktree), 'worktree removed')
  h.eq(git(dir, 'branch', '--list', 'lulu/dirty'), '', 'branch removed')
  h.eq(#child.lua('return require("lulu").list()'), 1, 'row removed')
  -- Merged work deletes without !.
  child.run('LuluMerge done')
  child.run('LuluDelete done')
  h.ok(not vim.uv.fs_stat(done.worktree), 'merged worktree removed')
  h.eq(child.lua('return require("lulu").list()'), {}, 'no rows')
end

T['a worktree deleted behind the host is reconciled at the next start'] = function(child)
  local dir = repo(child)
  local s = session(child, 'gone', 'true')
  h.matches(git(dir, 'worktree', 'list', '--porcelain'), 'worktrees/gone', 'registered')
  vim.fn.delete(s.worktree, 'rf')
  child.lua('require("lulu.host").stop()')
  child.wait('return not require("lulu.host").running()', 3000, 'host stopped')
  child.lua('require("lulu").list()')
  h.ok(not git(dir, 'worktree', 'list', '--porcelain'):find('worktrees/gone'), 'pruned')
  h.eq(git(dir, 'branch', '--list', 'lulu/gone'), 'lulu/gone', 'branch kept')
  h.eq(child.lua('return require("lulu").get("gone").status'), 'completed', 'session kept')
end

T['worktree=off runs in place; a subdirectory carries over'] = function(child)
  local dir = repo(child)
  vim.fn.mkdir(dir .. '/sub', 'p')
  vim.fn.writefile({ 'x' }, dir .. '/sub/file.txt')
  git(dir, 'add', '.')
  git(dir, 'commit', '--quiet', '-m', 'sub')
  child.cmd('cd sub')
  local s = session(child, 'inplace', 'pwd > /dev/null')
  h.eq(s.cwd, vim.uv.fs_realpath(dir) .. '/.lulu/worktrees/inplace/sub', 'same subdirectory, in the worktree')
  local off = child.lua(
    'return require("lulu").start({ agent = "shell", name = "off", worktree = false, args = { "-c", "true" } })'
  )
  h.eq({ off.worktree, off.branch }, {}, 'no worktree')
  h.eq(off.cwd, child.lua('return vim.fn.getcwd()'), 'ran in place')
  -- :LuluStart understands worktree= and base=.
  h.eq(
    child.lua('return require("lulu.commands").parse_start(...)', 'shell worktree=off base=main'),
    { agent = 'shell', worktree = false, base = 'main' },
    'parsed'
  )
end

T['worktree.copy brings .env; worktree.setup runs first and its failure fails the session'] = function(child)
  local dir = repo(child)
  vim.fn.writefile({ '.env' }, dir .. '/.gitignore')
  git(dir, 'add', '.gitignore')
  git(dir, 'commit', '--quiet', '-m', 'ignore')
  vim.fn.writefile({ 'SECRET=1' }, dir .. '/.env')
  child.setup({ worktree = { copy = { '.env' }, setup = { 'sh', '-c', 'echo setting-up; touch ready' } } })
  local ok = session(child, 'ok', 'test -f ready && cat .env')
  h.eq(ok.status, 'completed', 'agent ran after setup: ' .. tostring(ok.failure_reason))
  h.eq(vim.fn.readfile(ok.worktree .. '/.env'), { 'SECRET=1' }, '.env copied')
  -- Replayed from the log into a new buffer: setup output, then the agent's.
  child.wait(
    [[return table.concat(vim.api.nvim_buf_get_lines(require("lulu").buffer("ok"), 0, -1, false), "\n"):find("setting%-up.*SECRET=1")]],
    3000,
    'setup output, then the agent, in the session buffer'
  )
  h.eq(ok.argv[1], '/bin/sh', 'the record shows the agent, not the wrapper')

  child.setup({ worktree = { setup = { 'sh', '-c', 'echo broken >&2; exit 7' } } })
  local bad = session(child, 'bad', 'echo agent-ran')
  h.eq(bad.status, 'failed', 'failed')
  h.eq(bad.failure_reason, 'worktree.setup `sh -c echo broken >&2; exit 7` failed with exit code 7', 'reason')
  h.eq(bad.exit_code, 7, 'exit code')
  h.ok(
    not table
      .concat(child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer("bad"), 0, -1, false)'), '\n')
      :find('agent%-ran'),
    'agent never ran'
  )
end

T[':LuluPrune removes merged worktrees of ended sessions; the footer counts them'] = function(child)
  local dir = repo(child)
  local merged = session(child, 'merged', 'echo m > m.txt && git add . && git commit -qm m')
  local idle = session(child, 'idle', 'true')
  local open = session(child, 'open', 'echo o > o.txt && git add . && git commit -qm o')
  child.run('LuluMerge merged squash')
  -- The footer shows the worktrees and their size (computed in the background).
  child.cmd('LuluList')
  child.wait(
    [[
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      local footer = vim.api.nvim_win_get_config(win).footer
      if footer then
        local text = type(footer) == 'table' and table.concat(vim.tbl_map(function(c) return c[1] end, footer)) or footer
        return text:find('3 worktrees · %d+ KiB')
      end
    end
  ]],
    5000,
    'footer with 3 worktrees'
  )
  child.lua('vim.api.nvim_input("q")')
  h.eq(
    vim.tbl_map(function(d)
      return d.name
    end, child.lua('return require("lulu").prune({ dry_run = true })')),
    { 'merged', 'idle' },
    'what would go (oldest first)'
  )
  child.lua('vim.ui.select = function(items, _, cb) cb(items[1]) end')
  child.run('LuluPrune')
  h.ok(not vim.uv.fs_stat(merged.worktree) and not vim.uv.fs_stat(idle.worktree), 'merged and idle removed')
  h.ok(vim.uv.fs_stat(open.worktree), 'unmerged kept')
  h.eq(git(dir, 'branch', '--list', 'lulu/merged'), '', 'branch removed')
  local r = child.lua('return require("lulu").get("merged")')
  h.eq({ r.status, r.worktree }, { 'completed' }, 'session kept, worktree forgotten')
end

T["worktree.cleanup = 'delete_if_merged' retires merged worktrees as sessions end"] = function(child)
  local dir = repo(child)
  child.setup({ worktree = { cleanup = 'delete_if_merged' } })
  local idle = session(child, 'idle', 'true')
  local busy = session(child, 'busy', 'echo b > b.txt && git add . && git commit -qm b')
  child.wait('return require("lulu").get("idle").worktree == nil', 3000, 'idle retired at exit')
  h.ok(not vim.uv.fs_stat(vim.uv.fs_realpath(dir) .. '/.lulu/worktrees/idle'), 'idle worktree gone')
  h.eq(idle.status, 'completed', 'idle completed')
  h.ok(vim.uv.fs_stat(busy.worktree), 'unmerged kept')
  child.run('LuluMerge busy')
  child.wait('return require("lulu").get("busy").worktree == nil', 3000, 'busy retired after its merge')
end

T[':LuluSave and :LuluRestore bring sessions back in their own worktrees'] = function(child)
  local dir = repo(child)
  child.lua(
    'require("lulu").start({ agent = "shell", name = "keep", args = { "-c", "echo k > k.txt && git add . && git commit -qm k; sleep 60" } })'
  )
  child.lua('require("lulu").start({ agent = "shell", name = "other", worktree = false, args = { "-c", "sleep 60" } })')
  child.wait('return require("lulu").get("keep").ahead == 1', 8000, 'keep committed')
  child.cmd('LuluGrid')
  child.cmd('LuluSave work')
  h.matches(child.lua('return _G.notes[#_G.notes].msg'), 'saved 2 session%(s%) as "work"', 'saved')
  h.eq(child.lua('return vim.fn.getcompletion("LuluRestore ", "cmdline")'), { 'work' }, 'completion')
  -- The editor goes away; the sessions end.
  child.lua('require("lulu.host").stop()')
  child.wait('return not require("lulu.host").running()', 3000, 'host gone')
  child.cmd('tabonly')
  child.cmd('LuluRestore work')
  child.wait('return _G.notes[#_G.notes].msg:find("restored 2 session")', 5000, 'restored')
  local keep = child.lua('return require("lulu").get("keep")')
  h.eq(keep.status, 'running', 'running again')
  h.eq(keep.branch, 'lulu/keep', 'same branch')
  h.eq(keep.ahead, 1, 'its commit is still there')
  h.eq(keep.args, { '-c', 'echo k > k.txt && git add . && git commit -qm k; sleep 60' }, 'same args')
  h.eq(child.lua('return require("lulu").get("other").worktree'), vim.NIL, 'the in-place one stays in place')
  h.eq(#child.lua('return require("lulu").list()'), 2, 'replaced, not duplicated')
  h.ok(child.lua('return vim.t.lulu_grid'), 'the grid is back')
  child.cmd('LuluRestore nope')
  h.matches(child.lua('return _G.notes[#_G.notes].msg'), "no saved sessions named 'nope'", 'unknown set')
end

T['persist.autosave saves the live sessions; a restore resumes the conversation'] = function(child)
  child.setup({
    persist = { autosave = 1 },
    agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } },
  })
  child.lua('require("lulu").start({ agent = "claude", name = "talk", worktree = false })')
  local conversation = child.wait('return require("lulu").get("talk").conversation', 5000, 'its conversation id')
  -- A conversation with a turn in it (an empty one has nothing to resume).
  child.lua('require("lulu").send("talk", "hello")')
  child.wait('return require("lulu").get("talk").cost_usd ~= nil', 5000, 'its turn')
  child.wait('return vim.tbl_contains(require("lulu").saved(), "autosave")', 5000, 'autosaved')
  vim.wait(1200) -- an autosave after the id was known
  child.lua('require("lulu.host").stop()')
  child.wait('return not require("lulu.host").running()', 3000, 'host gone')
  child.lua('require("lulu").restore("autosave")')
  child.wait(
    'local ok, r = pcall(require("lulu").get, "talk") return ok and r.status == "running" and r',
    5000,
    'restored'
  )
  local restored = child.lua('return require("lulu").get("talk")')
  h.eq(restored.conversation, conversation, 'the same conversation')
  h.ok(restored.args == nil or #restored.args == 0, 'no --continue: its own id is resumed')
  h.ok(table.concat(restored.argv, ' '):find('--resume ' .. conversation, 1, true), 'resumed by claude itself')
end

T['an untrusted .lulu.json is not run until :LuluTrust'] = function(child)
  local dir = repo(child)
  vim.fn.writefile({ vim.json.encode({ setup = { 'sh', '-c', 'echo from-repo > marker' } }) }, dir .. '/.lulu.json')
  git(dir, 'add', '.lulu.json')
  git(dir, 'commit', '--quiet', '-m', 'lulu config')
  local first = session(child, 'first', 'true')
  h.ok(not vim.uv.fs_stat(first.worktree .. '/marker'), 'not run while untrusted')
  h.matches(
    child.lua('return _G.notes')[1].msg,
    '%.lulu%.json is new or changed and not trusted, so this session starts without it: review it, then trust it %(:LuluTrust%)',
    'told why'
  )
  child.run('LuluTrust')
  h.ok(
    child.lua(
      [[return vim.iter(_G.notes):any(function(n) return n.msg:find('^lulu: trusted .*%.lulu%.json %(sha256 %x+%)') ~= nil end)]]
    ),
    'trusted: ' .. vim.inspect(child.lua('return _G.notes'))
  )
  local second = session(child, 'second', 'true')
  h.eq(vim.fn.readfile(second.worktree .. '/marker'), { 'from-repo' }, 'run once trusted')
  -- Any change needs trusting again.
  vim.fn.writefile({ vim.json.encode({ setup = { 'sh', '-c', 'echo changed > marker' } }) }, dir .. '/.lulu.json')
  local third = session(child, 'third', 'true')
  h.ok(not vim.uv.fs_stat(third.worktree .. '/marker'), 'changed file not run')
  -- Outside a repository, trusting is an error that says so.
  child.cmd('cd ' .. child.dir)
  child.run('LuluTrust')
  local notes = child.lua('return _G.notes')
  h.matches(notes[#notes].msg, 'is not inside a git repository', 'no repository')
end

return T
