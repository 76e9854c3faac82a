-- Sessions end to end: a real child Neovim, the real host binary, real PTYs.
local h = require('harness')
local T = h.new_set()

-- Start a /bin/sh session running `script` (or an interactive shell).
local function start(child, script, extra)
  local opts = vim.tbl_extend('force', { agent = 'shell', args = script and { '-c', script } or {} }, extra or {})
  return child.lua('return require("lulu").start(...)', opts)
end

local function wait_status(child, id, status, timeout)
  return child.wait(
    'local r = require("lulu").get(...) return r.status == select(2, ...) and r',
    timeout or 5000,
    ('status %s'):format(status),
    id,
    status
  )
end

local function buffer_text(child, id)
  return child.lua(
    [[
    local buf = require('lulu').buffer(...)
    return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
  ]],
    id
  )
end

T['a shell session echoes typed input into its buffer'] = function(child)
  child.setup()
  local s = start(child)
  child.lua('require("lulu").open(...)', s.id)
  wait_status(child, s.id, 'running')
  -- Keys typed in the terminal buffer travel on_input -> host -> PTY.
  child.lua([[vim.cmd.startinsert() vim.api.nvim_input('echo typed-$((20+22))<CR>')]])
  child.wait(
    [[return require('lulu.term').buffer_of(...) and
    table.concat(vim.api.nvim_buf_get_lines(require('lulu.term').buffer_of(...), 0, -1, false), '\n'):find('typed%-42')]],
    5000,
    'typed echo',
    s.id
  )
  -- send() types text then Enter the way a person would.
  child.lua('require("lulu").send(...)', s.id, 'echo sent-$((6*7))')
  child.wait(
    [[return table.concat(vim.api.nvim_buf_get_lines(require('lulu').buffer(...), 0, -1, false), '\n'):find('sent%-42')]],
    5000,
    'sent echo',
    s.id
  )
end

T['two flooding sessions never mix their output'] = function(child)
  child.setup()
  local a = start(child, 'for i in $(seq 10000); do echo AAAAAAAA; done')
  local b = start(child, 'for i in $(seq 10000); do echo BBBBBBBB; done')
  child.lua('require("lulu").buffer(...)', a.id)
  child.lua('require("lulu").buffer(...)', b.id)
  wait_status(child, a.id, 'completed', 20000)
  wait_status(child, b.id, 'completed', 20000)
  for _, case in ipairs({ { a, 'AAAAAAAA' }, { b, 'BBBBBBBB' } }) do
    local s, marker = case[1], case[2]
    -- The terminal redraws its buffer lines on a 10 ms timer, so the last
    -- line may lag the final bytes for a moment.
    child.wait(
      [[
      local lines = vim.api.nvim_buf_get_lines(require('lulu').buffer(...), 0, -1, false)
      for i = #lines, 1, -1 do
        -- (Below the output, lulu's own line says how the session ended.)
        if lines[i] ~= '' and not vim.startswith(lines[i], '[lulu: ') then return lines[i] == select(2, ...) end
      end
    ]],
      1000,
      'a settled last line',
      s.id,
      marker
    )
    -- A terminal that attached during the flood gets its history with the
    -- catch-up once the flood calms: wait for it, under load too.
    child.wait(
      [[
      local n = 0
      for _, line in ipairs(vim.api.nvim_buf_get_lines(require('lulu').buffer(...), 0, -1, false)) do
        if line == select(2, ...) then n = n + 1 end
      end
      return n >= 9000
    ]],
      10000,
      'the history in place',
      s.id,
      marker
    )
    local lines = child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer(...), 0, -1, false)', s.id)
    local count = 0
    for _, line in ipairs(lines) do
      if line ~= '' and not vim.startswith(line, '[lulu: ') then
        h.eq(line, marker, 'a line in ' .. marker .. "'s buffer")
        count = count + 1
      end
    end
    h.ok(count >= 9000, ('%s buffer holds %d marker lines'):format(marker, count))
    -- The log has every byte: exactly 10000 markers, nothing else (after
    -- the warm shell's prompt and the screen clear, when the pool was used).
    local log = io.open(child.env.XDG_STATE_HOME .. '/nvim/lulu/logs/' .. s.id .. '.log'):read('*a')
    local body = log:match('\27%[2J(.*)$') or log
    local _, n = body:gsub(marker .. '\r\n', '')
    h.eq(n, 10000, marker .. ' lines in the log')
    h.eq(#body, 10000 * (#marker + 2), marker .. ' log size')
  end
end

T['the tail of a fast-exiting program reaches the buffer'] = function(child)
  child.setup()
  -- At the exit event the last bytes have been written to the terminal.
  child.lua([[
    vim.api.nvim_create_autocmd('User', { pattern = 'LuluSessionExit', callback = function(args)
      _G.exit_record = args.data
    end })
  ]])
  local s = start(child, 'seq 1 20000')
  child.lua('require("lulu").buffer(...)', s.id)
  -- When the status turns terminal, every byte has been sent; the terminal
  -- redraws its lines on Neovim's own 10 ms timer.
  wait_status(child, s.id, 'completed', 20000)
  child.wait(
    [[
    local lines = vim.api.nvim_buf_get_lines(require('lulu').buffer(...), 0, -1, false)
    for i = #lines, 1, -1 do
      if lines[i] ~= '' and not vim.startswith(lines[i], '[lulu: ') then return lines[i] == '20000' end
    end
  ]],
    1000,
    'last line 20000',
    s.id
  )
  h.eq(child.lua('return _G.exit_record.status'), 'completed', 'exit event record')
end

T['exit codes and signals become statuses with reasons'] = function(child)
  child.setup()
  local cases = {
    { 'exit 0', 'completed', nil, 0 },
    { 'echo bye; exit 3', 'failed', 'exited with code 3', 3 },
    { 'kill -9 $$', 'failed', 'killed by signal 9', 137 },
  }
  for _, case in ipairs(cases) do
    local s = start(child, case[1])
    local r = wait_status(child, s.id, case[2])
    h.eq(r.failure_reason, case[3], case[1] .. ': reason')
    h.eq(r.exit_code, case[4], case[1] .. ': exit code')
  end
end

T['the 13th live session is refused'] = function(child)
  child.setup()
  for _ = 1, 12 do
    start(child, 'sleep 60')
  end
  local ok, err =
    child.lua('return { pcall(require("lulu").start, { agent = "shell", args = { "-c", "sleep 60" } }) }')[1], nil
  local result = child.lua('return { pcall(require("lulu").start, { agent = "shell" }) }')
  ok, err = result[1], result[2]
  h.eq(ok, false, '13th start')
  h.matches(err, '^max sessions reached %(12%)', '13th start error')
  -- The refusal created no row.
  h.eq(#child.lua('return require("lulu").list()'), 12, 'rows')
end

T['stop ends the process and leaves no zombie'] = function(child)
  child.setup()
  local polite = start(child, 'sleep 60')
  -- Ignores SIGHUP and SIGTERM: needs the SIGKILL after 3 s.
  local stubborn = start(child, "trap '' HUP TERM; while :; do sleep 1; done")
  wait_status(child, polite.id, 'running')
  wait_status(child, stubborn.id, 'running')
  vim.wait(300)
  for _, s in ipairs({ polite, stubborn }) do
    h.ok(h.alive(s.pid), 'alive before stop')
    child.lua('require("lulu").stop(...)', s.id)
  end
  local r = wait_status(child, polite.id, 'completed', 2000)
  h.eq(r.failure_reason, nil, 'a stopped session is completed')
  h.ok(not h.alive(polite.pid), 'polite pid gone')
  wait_status(child, stubborn.id, 'completed', 6000)
  h.ok(not h.alive(stubborn.pid), 'stubborn pid gone')
end

T['unknown sessions, agents, names and cwds are clear errors'] = function(child)
  child.setup({ agents = { ghost = { cmd = { 'lulu-no-such-binary' } } } })
  local cases = {
    { 'return require("lulu").get("nope")', "^no session named 'nope'" },
    { 'return require("lulu").stop("nope")', "^no session named 'nope'" },
    {
      'return require("lulu").start({ agent = "ghost" })',
      '^ghost not found on PATH %(install it, or set agents%.ghost%.cmd',
    },
    { 'return require("lulu").start({ agent = "nope" })', "^unknown agent 'nope'" },
    { 'return require("lulu").start({ agent = "shell", name = "a b" })', "^invalid session name 'a b'" },
    {
      'return require("lulu").start({ agent = "shell", cwd = "/nonexistent/x" })',
      '^cwd /nonexistent/x/? is not a directory',
    },
    {
      'return require("lulu").start({ agent = "shell", worktree = true })',
      'is not inside a git repository; run without worktree=on',
    },
    { 'return require("lulu").start({ agent = "shell", worktree = false, base = "main" })', '^base= needs a worktree' },
  }
  for _, case in ipairs(cases) do
    local result = child.lua('return { pcall(loadstring(...)) }', case[1])
    h.eq(result[1], false, case[1])
    h.matches(result[2], case[2], case[1])
  end
  -- None of the failed starts left a row behind.
  h.eq(child.lua('return require("lulu").list()'), {}, 'rows after failed starts')
  local s = start(child, 'sleep 30', { name = 'dup' })
  local result = child.lua('return { pcall(require("lulu").start, { agent = "shell", name = "dup" }) }')
  h.matches(result[2], "^a session named 'dup' already exists", 'duplicate name')
  h.eq(child.lua('return require("lulu").get("dup").id'), s.id, 'lookup by name finds the same session')
end

T['malformed RPC arguments get an error and change nothing'] = function(child)
  child.setup()
  child.lua('require("lulu").list()')
  local huge = ('x'):rep(10 * 1024 * 1024)
  local cases = {
    { 'lulu.session_get', { 42 }, 'session must be a name or id string, got a number' },
    { 'lulu.session_get', {}, 'takes %(session%), got 0' },
    { 'lulu.session_start', { { agnet = 'shell' } }, 'unknown field `agnet`' },
    { 'lulu.session_resize', { 'x', -5, 10 }, 'cols must be an integer' },
    { 'lulu.session_get', { huge }, 'session must be 1%-256 bytes' },
    { 'lulu.session_get', { 'a\0b' }, 'no NUL' },
    { 'lulu.session_write', { 'nope', 'x' }, "no session named 'nope'" },
    { 'lulu.no_such_method', {}, "unknown method 'lulu.no_such_method'" },
  }
  for _, case in ipairs(cases) do
    local result = child.lua(
      [[
      local rpc = require('lulu.rpc')
      local method, args = ...
      return { pcall(vim.rpcrequest, require('lulu.host').ensure(), method, unpack(args)) }
    ]],
      case[1],
      case[2]
    )
    h.eq(result[1], false, case[1])
    h.matches(result[2], case[3], case[1])
  end
  h.eq(child.lua('return require("lulu").list()'), {}, 'no rows')
  h.ok(child.lua('return require("lulu.host").running()'), 'host still up')
end

T['a host killed with SIGKILL leaves a store the next host reconciles'] = function(child)
  child.setup()
  child.capture_notify()
  local s = start(child, 'sleep 60')
  local done = start(child, 'exit 0')
  wait_status(child, done.id, 'completed')
  -- The rows are written (the store's writes go first: a query waits its
  -- turn behind them). Before that, a kill loses the queued writes; under
  -- load they lagged the events by enough to fail this once in CI.
  child.lua('local rpc = require("lulu.rpc") return rpc.request(rpc.methods.comments, ...)', s.id)
  local host = child.lua('return require("lulu.host").pid()')
  vim.uv.kill(host, 'sigkill')
  child.wait('return not require("lulu.host").running()', 5000, 'host exit noticed')
  -- The editor says so once and marks the live session failed at once.
  local notes = child.lua('return _G.notes')
  h.matches(notes[#notes].msg, 'host exited', 'notification')
  h.eq(child.lua('return require("lulu.sessions").find(...).failure_reason', s.id), 'host exited', 'ui state')
  -- The orphaned agent lost its PTY master and its hangup ended it.
  h.wait_for(function()
    return not h.alive(s.pid)
  end, 5000, 'orphan gone')
  -- The next command starts a new host, which reconciles the store.
  local r = child.lua('return require("lulu").get(...)', s.id)
  h.eq(r.status, 'failed', 'status after restart')
  h.eq(r.failure_reason, 'host exited', 'reason after restart')
  h.eq(child.lua('return require("lulu").get(...).status', done.id), 'completed', 'ended session untouched')
  h.ok(child.lua('return require("lulu.host").pid()') ~= host, 'a new host')
end

T['a damaged store is moved aside, kept, and replaced by a fresh one'] = function(child)
  child.setup()
  child.capture_notify()
  local dir = child.env.XDG_DATA_HOME .. '/nvim/lulu'
  vim.fn.mkdir(dir, 'p')
  local file = io.open(dir .. '/lulu.db', 'wb')
  file:write(('not a database '):rep(1000))
  file:close()
  h.eq(child.lua('return require("lulu").list()'), {}, 'works, with a fresh store')
  local notes = child.wait('return #_G.notes > 0 and _G.notes', 3000, 'told')
  h.matches(
    notes[1].msg,
    '^lulu: lulu%.db was damaged; moved it to .*lulu%.db%.damaged%-%d+T%d+ and started a fresh one$',
    'one line'
  )
  local backups = vim.fn.glob(dir .. '/lulu.db.damaged-*', false, true)
  h.eq(#backups, 1, 'backup kept')
  h.eq(io.open(backups[1]):read('*a'), ('not a database '):rep(1000), 'byte for byte')
  -- The new store works for real.
  child.lua('require("lulu").start({ agent = "shell", name = "after", args = { "-c", "true" } })')
  h.eq(#child.lua('return require("lulu").list()'), 1, 'a session recorded')
end

T['quitting Neovim ends and reaps every session'] = function(child)
  child.setup()
  local a = start(child, 'sleep 60')
  local b = start(child, "trap '' HUP TERM; while :; do sleep 1; done")
  local host = child.lua('return require("lulu.host").pid()')
  vim.wait(300)
  child.stop()
  h.wait_for(function()
    return not h.alive(host) and not h.alive(a.pid) and not h.alive(b.pid)
  end, 8000, 'host and sessions gone')
  -- They were recorded as stopped, not left "running".
  local out = vim
    .system({ os.getenv('LULU_BIN'), 'list', '--json', '--data-dir', child.env.XDG_DATA_HOME .. '/nvim/lulu' })
    :wait()
  h.eq(out.code, 0, 'lulu list exit code')
  for _, record in ipairs(vim.json.decode(out.stdout)) do
    h.eq(record.status, 'completed', record.name .. ' status')
  end
end

T['lulu list prints the stored sessions from a shell'] = function(child)
  child.setup()
  local s = start(child, 'exit 3', { name = 'listed' })
  wait_status(child, s.id, 'failed')
  local out = vim.system({ os.getenv('LULU_BIN'), 'list' }, { env = child.env }):wait()
  h.eq(out.code, 0, 'exit code')
  h.matches(out.stdout, 'NAME%s+STATUS%s+IDLE', 'header')
  h.matches(out.stdout, s.id .. '%s+listed%s+failed%s+%d+s%s+shell%s+%-%s+exited with code 3', 'row')
end

T['delete removes a session, stopping it first'] = function(child)
  child.setup()
  local live = start(child, 'sleep 60', { name = 'live' })
  local buf = child.lua('return require("lulu").buffer(...)', live.id)
  child.lua('require("lulu").delete(...)', 'live')
  h.ok(not h.alive(live.pid), 'process gone')
  h.eq(child.lua('return require("lulu").list()'), {}, 'rows')
  child.wait('return not vim.api.nvim_buf_is_valid(...)', 2000, 'buffer wiped', buf)
  h.ok(not vim.uv.fs_stat(child.env.XDG_STATE_HOME .. '/nvim/lulu/logs/' .. live.id .. '.log'), 'log removed')
end

T[':bdelete of a session buffer detaches it; opening again replays'] = function(child)
  child.setup()
  local s = start(child, 'echo before; read x; echo after-$x; sleep 30')
  child.lua('require("lulu").open(...)', s.id)
  child.wait(
    [[return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n'):find('before')]],
    3000,
    'first output'
  )
  child.cmd('stopinsert')
  child.cmd('bdelete!')
  child.lua('require("lulu").send(...)', s.id, 'hidden')
  vim.wait(300)
  child.lua('require("lulu").open(...)', s.id)
  child.wait(
    [[return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n'):find('after%-hidden')]],
    3000,
    'replayed output'
  )
  h.eq(child.lua('return vim.api.nvim_buf_get_name(0)'), 'lulu://' .. s.name, 'same name again')
end

T['an ended session replays its output into a new buffer'] = function(child)
  child.setup()
  local s = start(child, 'echo first-line; echo second-line')
  wait_status(child, s.id, 'completed')
  child.wait(
    [[return table.concat(vim.api.nvim_buf_get_lines(require('lulu').buffer(...), 0, -1, false), '\n'):find('second%-line')]],
    3000,
    'replayed output',
    s.id
  )
  h.matches(buffer_text(child, s.id), 'first%-line', 'first line replayed')
end

T['window size drives the PTY size; a buffer in two windows takes the larger, as Neovim sizes its terminal'] = function(
  child
)
  child.setup()
  local s = start(child)
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  local function reports(cols)
    child.lua('require("lulu").send(...)', s.id, 'clear; stty size')
    child.wait(
      [[return table.concat(vim.api.nvim_buf_get_lines(require('lulu').buffer(...), 0, -1, false), '\n'):find('%d+ ' .. select(2, ...))]],
      5000,
      'stty size reports ' .. cols .. ' columns',
      s.id,
      cols
    )
  end
  -- One window: its full width (100 columns, no number column).
  reports(100)
  -- Two windows on the buffer, 40 and 59 wide: the larger wins (Neovim
  -- sizes the buffer's own terminal so; the narrower shows it clipped).
  child.cmd('vsplit')
  child.cmd('vertical resize 40')
  reports(59)
  -- The terminal left in one 30-column window.
  child.cmd('enew')
  child.cmd('vertical resize 69')
  child.cmd('wincmd l')
  reports(30)
end

return T
