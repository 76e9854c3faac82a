-- Sessions that survive: restore across editors, a host killed mid-stream,
-- an agent that crashes, another user at the hook socket.
local h = require('harness')
local T = h.new_set()

local git = h.git

local function repo(child)
  local dir = h.repo(child.cwd .. '/repo')
  child.cmd('cd ' .. dir)
  return dir
end

local function integrity(child)
  local db = child.env.XDG_DATA_HOME .. '/nvim/lulu/lulu.db'
  local out = vim
    .system({
      'python3',
      '-c',
      'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])',
      db,
    }, { text = true })
    :wait()
  return vim.trim(out.stdout)
end

T['three saved sessions come back in a new Neovim, in their worktrees'] = function(child)
  child.setup()
  child.capture_notify()
  local dir = repo(child)
  for i = 1, 3 do
    child.lua(
      'require("lulu").start({ agent = "shell", name = "r" .. ..., args = { "-c", "echo x" .. ... .. " > f" .. ... .. ".txt && git add . && git commit -qm c; sleep 60" } })',
      i
    )
  end
  child.wait(
    'local n = 0 for _, r in ipairs(require("lulu").list()) do n = n + (r.ahead or 0) end return n == 3',
    8000,
    'three commits'
  )
  child.cmd('LuluSave trio')
  child.stop()
  -- A new Neovim with the same data and state directories.
  local second =
    h.child({ env = { XDG_DATA_HOME = child.env.XDG_DATA_HOME, XDG_STATE_HOME = child.env.XDG_STATE_HOME } })
  second.setup()
  second.capture_notify()
  second.cmd('LuluRestore trio')
  second.wait('return _G.notes[#_G.notes] and _G.notes[#_G.notes].msg:find("restored 3")', 5000, 'restored')
  for i = 1, 3 do
    -- A quiet process turns running 500 ms after it starts.
    second.wait('return require("lulu").get(...).status == "running"', 5000, 'r' .. i .. ' running', 'r' .. i)
    -- Counted off the loop once it is live.
    second.wait('return require("lulu").get(...).ahead == 1', 5000, 'r' .. i .. ' ahead', 'r' .. i)
    local r = second.lua('return require("lulu").get(...)', 'r' .. i)
    h.eq({ r.status, r.branch, r.ahead }, { 'running', 'lulu/r' .. i, 1 }, 'r' .. i)
    h.eq(r.worktree, vim.uv.fs_realpath(dir) .. '/.lulu/worktrees/r' .. i, 'r' .. i .. ' worktree')
  end
  second.stop()
end

T['a host killed mid-stream leaves a sound store; sessions fail, worktrees stay'] = function(child)
  child.setup()
  child.capture_notify()
  local dir = repo(child)
  local ids = {}
  for i = 1, 4 do
    ids[i] = child.lua(
      'return require("lulu").start({ agent = "shell", name = "k" .. ..., args = { "-c", "while :; do echo streaming-line; done" } }).id',
      i
    )
    child.lua('require("lulu").buffer(...)', ids[i])
  end
  vim.wait(1000)
  local host = child.lua('return require("lulu.host").pid()')
  vim.uv.kill(host, 'sigkill')
  child.wait('return not require("lulu.host").running()', 5000, 'noticed')
  h.eq(#child.lua('return _G.notes'), 1, 'told once')
  -- The next command restarts the host, which reconciles.
  for _, id in ipairs(ids) do
    local r = child.lua('return require("lulu").get(...)', id)
    h.eq({ r.status, r.failure_reason }, { 'failed', 'host exited' }, r.name)
    h.ok(vim.uv.fs_stat(r.worktree), r.name .. ' worktree intact')
  end
  h.eq(integrity(child), 'ok', 'PRAGMA integrity_check')
  h.eq(git(dir, 'status', '--porcelain'), '', 'main worktree clean')
end

T['an agent that segfaults fails alone while its neighbour keeps streaming'] = function(child)
  child.setup()
  local steady = child.lua(
    'return require("lulu").start({ agent = "shell", name = "steady", args = { "-c", "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.05; done" } })'
  )
  child.lua('require("lulu").buffer("steady")')
  local crash = child.lua(
    'return require("lulu").start({ agent = "shell", name = "crash", args = { "-c", "sleep 0.3; kill -SEGV $$" } })'
  )
  local r =
    child.wait('local r = require("lulu").get(...) return r.status == "failed" and r', 5000, 'crash failed', crash.id)
  h.eq(r.failure_reason, 'killed by signal 11', 'reason')
  local function ticks()
    local text =
      table.concat(child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer("steady"), 0, -1, false)'), '\n')
    local last = 0
    for n in text:gmatch('tick%-(%d+)') do
      last = math.max(last, tonumber(n))
    end
    return last
  end
  local before = ticks()
  h.wait_for(function()
    return ticks() > before + 5
  end, 5000, 'the neighbour keeps streaming')
  h.eq(child.lua('return require("lulu").get(...).status', steady.id), 'running', 'neighbour running')
end

T['twelve busy sessions write the store without a single error'] = function(child)
  child.setup()
  child.lua([[
    for i = 1, 12 do
      local s = require('lulu').start({ agent = 'shell', name = 'busy' .. i,
        args = { '-c', 'for i in $(seq 40); do echo line-$i; sleep 0.05; done' } })
      require('lulu').buffer(s.id)
    end
  ]])
  child.wait(
    [[
    for _, r in ipairs(require('lulu').list()) do
      if r.status ~= 'completed' then return false end
    end
    return true
  ]],
    20000,
    'all twelve completed'
  )
  local log = io.open(child.env.XDG_STATE_HOME .. '/nvim/lulu/host.log'):read('*a')
  h.ok(not log:find('ERROR'), 'no errors in the host log')
  h.ok(not log:find('database is locked') and not log:find('SQLITE_BUSY'), 'no SQLITE_BUSY')
  h.eq(integrity(child), 'ok', 'PRAGMA integrity_check')
  h.eq(#child.lua('return require("lulu").list()'), 12, 'twelve rows')
end

T['sessions do not inherit lulu variables from the environment lulu runs in'] = function(child)
  child.stop()
  child = h.child({ env = { LULU_TOKEN = 'outer-secret', LULU_LOG = 'debug' } })
  child.setup()
  local s = child.lua(
    'return require("lulu").start({ agent = "shell", args = { "-c", "echo token=[$LULU_TOKEN] log=[$LULU_LOG]" } })'
  )
  child.lua('require("lulu").open(...)', s.id)
  local ok, err = pcall(child.wait_screen, s.id, 'token=', 5000, 'printed')
  if not ok then
    error(vim.inspect(child.lua('return require("lulu").detail(...)', s.id)) .. '\n' .. tostring(err))
  end
  local text =
    table.concat(child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer(...), 0, -1, false)', s.id), '\n')
  h.ok(not text:find('outer%-secret'), 'the outer token is not passed on: ' .. text)
  h.matches(text, 'log=%[%]', 'nor lulu internals')
  child.stop()
end

T["another user's connection to the hook socket is refused"] = function(child)
  if vim.uv.getuid() ~= 0 or vim.fn.executable('setpriv') == 0 then
    io.stdout:write('  (skipped: needs root and setpriv to act as a second user)\n')
    return
  end
  -- A runtime dir a second user can reach (Neovim's own temp dir is 0700).
  local runtime = vim.fn.tempname():gsub('^.*/', '/tmp/lulu-uid-test-')
  vim.fn.mkdir(runtime, 'p', tonumber('755', 8))
  child.stop()
  child = h.child({ env = { XDG_RUNTIME_DIR = runtime } })
  child.setup()
  local s = child.lua('return require("lulu").start({ agent = "shell", args = { "-c", "sleep 30" } })')
  local pid = child.lua('return require("lulu.host").pid()')
  local dir = runtime .. '/lulu'
  local socket = ('%s/host-%d.sock'):format(dir, pid)
  -- Open the door on purpose, so only the peer-credential check stands.
  vim.uv.fs_chmod(dir, tonumber('777', 8))
  vim.uv.fs_chmod(socket, tonumber('777', 8))
  local input =
    vim.json.encode({ hook_event_name = 'PermissionRequest', tool_name = 'Bash', tool_input = { command = 'x' } })
  local out = vim
    .system({
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      os.getenv('LULU_BIN'),
      'hook',
      'claude',
    }, {
      stdin = input,
      env = { LULU_SOCKET = socket, LULU_SESSION = s.id, LULU_TOKEN = 'x', HOME = '/tmp' },
    })
    :wait()
  h.eq({ out.code, out.stdout }, { 0, '' }, 'no opinion for a stranger')
  h.wait_for(function()
    local log = io.open(child.env.XDG_STATE_HOME .. '/nvim/lulu/host.log'):read('*a')
    return log:find('hook connection from another user refused') ~= nil
  end, 3000, 'refused by uid and logged')
  h.eq(child.lua('return require("lulu").approvals()'), {}, 'nothing raised')
  child.stop()
  vim.fn.delete(runtime, 'rf')
end

return T
