-- Sandboxed sessions (sandbox = 'bwrap'): real bubblewrap, a real daemon
-- with its control socket, a real repository. Inside: the worktree and the
-- agent's own state are writable, the rest of the home is read-only,
-- hidden paths and lulu's own files are gone, the control socket cannot be
-- reached (no self-approval), and the hook socket still asks Neovim.
local h = require('harness')
local T = h.new_set()

local bin = os.getenv('LULU_BIN')

local function daemon(child, extra)
  child.defer(function()
    vim.system({ bin, 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
  child.setup(vim.tbl_deep_extend('force', {
    host = { mode = 'daemon' },
    agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } },
  }, extra or {}))
  child.capture_notify()
  child.fake_select()
end

local function running(child, opts)
  local s = child.lua('return require("lulu").start(...)', opts)
  child.lua('require("lulu").buffer(...)', s.id)
  child.wait('return require("lulu").get(...).status == "running"', 8000, s.name .. ' running', s.id)
  return child.lua('return require("lulu").get(...)', s.id)
end

--- Type `line` into session `id` and wait for `marker` on its screen.
local function shell(child, id, line, marker)
  child.lua('require("lulu").send(...)', id, line)
  child.wait_screen(id, marker, 8000, marker)
end

T['a sandboxed shell writes its worktree only; hidden paths, the store and the control socket are out of reach'] = function(
  child
)
  if vim.fn.executable('bwrap') == 0 then
    error('bubblewrap is not installed (scripts/ensure-tools installs it)')
  end
  local repo = h.repo(child.cwd .. '/repo')
  local home = child.env.HOME
  vim.fn.mkdir(home .. '/.ssh', 'p')
  vim.fn.writefile({ 'PRIVATE KEY' }, home .. '/.ssh/id_ed25519')
  vim.fn.writefile({ 'my notes' }, home .. '/notes.txt')
  daemon(child)
  child.cmd('cd ' .. repo)
  local victim = running(child, { agent = 'shell', name = 'victim', worktree = false })
  local s = running(child, { agent = 'shell', name = 'boxed', sandbox = 'bwrap' })
  h.eq(s.sandbox.backend, 'bwrap', 'the record names its sandbox')
  h.eq(s.sandbox.hide[1], home .. '/.ssh', 'the default hides ~/.ssh, expanded')
  local socket = vim.trim(vim.system({ bin, 'daemon', '--status' }, { env = child.env, text = true }):wait().stdout)
  socket = socket:match(' on (%S+)$')
  h.ok(socket and vim.uv.fs_stat(socket), 'the daemon listens on ' .. tostring(socket))

  shell(child, s.id, 'echo inside > made.txt && echo made-$((40+2))', 'made%-42')
  shell(child, s.id, 'echo x > ~/notes.txt 2>/dev/null || echo home-read-$((1+1))nly', 'home%-read%-2nly')
  shell(child, s.id, 'cat ~/.ssh/id_ed25519 2>/dev/null || echo no-key-$((2+3))', 'no%-key%-5')
  local db = child.env.XDG_DATA_HOME .. '/nvim/lulu/lulu.db'
  shell(child, s.id, ('ls %s 2>/dev/null || echo no-store-$((3+4))'):format(db), 'no%-store%-7')
  -- The self-approval path: reach the editor's daemon and type into
  -- another session (or answer its dialog).
  shell(
    child,
    s.id,
    ([[python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect("%s")' 2>/dev/null && echo reached || echo refused-$((5+6))]]):format(
      socket
    ),
    'refused%-11'
  )
  shell(child, s.id, ('%s send victim "echo from-the-box" ; echo sent-rc-$?'):format(bin), 'sent%-rc%-[1-9]')
  shell(child, s.id, 'echo procs-$(ls /proc | grep -c "^[0-9]")-seen', 'procs%-%d+%-seen')
  local procs = tonumber(child.screen(s.id):match('procs%-(%d+)%-seen'))
  h.ok(procs < 10, 'only its own processes are visible, saw ' .. procs)

  vim.wait(300)
  h.ok(not child.screen(victim.id):find('from%-the%-box'), 'nothing reached the other session')
  h.eq(vim.fn.readfile(s.worktree .. '/made.txt'), { 'inside' }, 'the worktree took the write')
  h.eq(vim.fn.readfile(home .. '/notes.txt'), { 'my notes' }, 'the home did not')
  local lines = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("boxed") }, 100)')
  h.matches(lines[2], 'sandboxed', 'the list says so')
  local detail = child.lua('return require("lulu.ui.detail").lines(require("lulu").detail("boxed"))')
  h.matches(table.concat(detail, '\n'), 'sandbox: bwrap · network on · hidden ~/%.ssh', 'K says what it hides')
  child.cmd('LuluTemplate save boxed-t boxed')
  h.eq(
    child.lua('return require("lulu").templates()["boxed-t"].sandbox.backend'),
    'bwrap',
    'a template saved from it confines too'
  )
end

T['a sandboxed claude asks through its hook socket, writes its own state, and is confined again on resume'] = function(
  child
)
  local repo = h.repo(child.cwd .. '/repo')
  daemon(child, { agents = { claude = { cmd = { h.root .. '/tests/fake-claude' }, sandbox = 'bwrap' } } })
  child.cmd('cd ' .. repo)
  local s = running(child, { agent = 'claude', name = 'c' })
  h.eq(s.sandbox and s.sandbox.backend, 'bwrap', 'the agent config sandboxes it')
  child.lua('require("lulu").send("c", "run: echo asked > asked.txt")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'the question came through the hook socket')
  child.lua('_G.answer = "Allow once"')
  child.cmd('LuluApprove')
  child.wait_screen(s.id, '⎿ %(exit 0%)', 8000, 'the command ran')
  h.eq(vim.fn.readfile(s.worktree .. '/asked.txt'), { 'asked' }, 'in its worktree')
  -- Its transcript lives in ~/.claude: the cost comes from it.
  child.wait('return require("lulu").get("c").cost_usd ~= nil', 5000, 'the transcript was written')
  child.lua('require("lulu").send("c", "/exit")')
  child.wait('return require("lulu").get("c").status == "completed"', 5000, 'c ended')

  -- Resumed under a config that no longer sandboxes claude: still confined.
  child.setup({ host = { mode = 'daemon' }, agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } } })
  child.cmd('LuluResume c')
  local again = child.wait('local r = require("lulu").get("c"); return r.status == "running" and r', 8000, 'resumed')
  h.eq(again.sandbox and again.sandbox.backend, 'bwrap', 'resumed inside its sandbox')
  child.lua('require("lulu").send("c", "run: echo x > ~/escaped.txt")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'asked again')
  child.cmd('LuluApprove')
  child.wait_screen(again.id, 'Read%-only file system', 8000, 'the home stays read-only')
  h.eq(vim.uv.fs_stat(child.env.HOME .. '/escaped.txt'), nil, 'nothing escaped')
end

T['bad sandbox options get one-line errors naming the fix'] = function(child)
  daemon(child)
  local ok, err = pcall(child.lua, 'require("lulu").start({ agent = "shell", sandbox = { rw = { "relative/x" } } })')
  h.ok(not ok, 'a relative path is refused')
  h.matches(tostring(err), 'sandbox%.rw path "relative/x" must be absolute', 'names the path')
  ok, err = pcall(
    child.lua,
    'require("lulu").start({ agent = "shell", sandbox = { rw = { vim.fn.stdpath("data") .. "/lulu" } } })'
  )
  h.ok(not ok, "lulu's own files are refused")
  h.matches(tostring(err), "inside lulu's own files", 'says why')
  h.eq(child.lua('return require("lulu.config").validate({ sandbox = { backend = "docker" } })'), {
    "sandbox.backend must be nil or 'bwrap'",
  }, 'an unknown backend')
  h.eq(
    child.lua('return require("lulu.config").validate({ agents = { claude = { sandbox = "yes" } } })'),
    { "agents.claude.sandbox must be 'bwrap' or false" },
    'an agent sandbox typo'
  )
  local parsed = child.lua('return require("lulu.commands").parse_start("shell sandbox=bwrap")')
  h.eq(parsed.sandbox, 'bwrap', ':LuluStart sandbox=bwrap')
  h.eq(child.lua('return require("lulu.commands").complete_start("sandbox=", "LuluStart shell sandbox=")'), {
    'sandbox=bwrap',
    'sandbox=off',
  }, 'completion')
end

return T
