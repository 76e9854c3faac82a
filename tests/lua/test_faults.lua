-- The daemon attacked and faulted on purpose, as a hostile local client or
-- a clumsy one would: connections that never speak, a client that never
-- reads, huge messages, a bad row in the store, a stubborn session left by
-- a killed daemon, a shell stuck in its rc files, a clean stop's WAL.
local h = require('harness')
local T = h.new_set()

local BIN = os.getenv('LULU_BIN')

local function reap_daemon(child)
  child.defer(function()
    vim.system({ BIN, 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
end

local function daemon_pid(child)
  local out = vim.system({ BIN, 'daemon', '--status' }, { env = child.env, text = true }):wait().stdout
  return tonumber(out:match('pid (%d+)'))
end

--- Start the case's daemon from a shell, with `prefix` (e.g. a ulimit)
--- applied to it, and attach the child editor to it.
local function daemon(child, prefix, extra)
  local started = vim
    .system({ '/bin/sh', '-c', (prefix or '') .. ' exec "$0" daemon', BIN }, { env = child.env, text = true })
    :wait(20000)
  h.eq(started.code, 0, 'lulu daemon: ' .. (started.stderr or ''))
  child.setup(vim.tbl_deep_extend('force', { host = { mode = 'daemon' } }, extra or {}))
  child.capture_notify()
  child.lua('require("lulu").list()')
  return daemon_pid(child)
end

local cpu, rss = h.cpu, h.rss

local function log_of(child)
  local f = io.open(child.env.XDG_STATE_HOME .. '/nvim/lulu/daemon.log')
  local text = f and f:read('*a') or ''
  if f then
    f:close()
  end
  return text
end

--- A raw connection to `path`; `on_data` gets what the peer sends.
local function raw(path, on_data)
  local pipe = vim.uv.new_pipe(false)
  local state = { connected = false, eof = false, pipe = pipe }
  pipe:connect(path, function(err)
    state.connected = not err
    state.err = err
    if not err and on_data then
      pipe:read_start(function(_, data)
        if data then
          on_data(data)
        else
          state.eof = true
        end
      end)
    end
  end)
  return state
end

T['hook connections that never speak: no spin, no log flood, the daemon keeps serving'] = function(child)
  reap_daemon(child)
  local pid = daemon(child, 'ulimit -n 200;')
  local hook_socket = ('%s/lulu/host-%d.sock'):format(child.env.XDG_RUNTIME_DIR, pid)
  h.ok(vim.uv.fs_stat(hook_socket), 'the hook socket')
  local idle = {}
  for i = 1, 400 do
    idle[i] = raw(hook_socket)
  end
  vim.wait(1000)
  local before, log_before = cpu(pid), #log_of(child)
  vim.wait(2000)
  local used = cpu(pid) - before
  h.ok(used < 0.3, ('the daemon stays idle with its descriptors used up (%.2f s of CPU in 2 s)'):format(used))
  local grown = #log_of(child) - log_before
  h.ok(grown < 10000, ('the log does not flood (%d bytes in 2 s)'):format(grown))
  h.matches(log_of(child), 'accept failed; backing off', 'the failure is logged once')
  for _, c in ipairs(idle) do
    c.pipe:close()
  end
  -- With its descriptors back, it serves editors and starts sessions.
  vim.wait(1500)
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "after", worktree = false })')
  child.wait('return require("lulu").get("after").status == "running"', 8000, 'a session starts afterwards')
  h.ok(s.id, 'started')
  -- A hook that connects and says nothing is let go after 10 s.
  local quiet = raw(hook_socket, function() end)
  h.wait_for(function()
    return quiet.eof
  end, 13000, 'the silent hook connection is closed by the daemon')
end

T['a client that never reads its replies is cut off; memory stays bounded; others are served'] = function(child)
  reap_daemon(child)
  local pid = daemon(child)
  local socket = child.env.XDG_RUNTIME_DIR .. '/lulu/lulu.sock'
  local flood = raw(socket)
  h.wait_for(function()
    return flood.connected
  end, 2000, 'connected')
  flood.pipe:read_stop()
  local request = vim.mpack.encode({ 0, 1, 'lulu.session_list', {} })
  local peak = rss(pid)
  for round = 1, 40 do
    flood.pipe:write(request:rep(5000))
    vim.wait(50)
    peak = math.max(peak, rss(pid) or 0)
    if round % 10 == 0 then
      local t0 = vim.uv.hrtime()
      child.lua('require("lulu").list()')
      h.ok((vim.uv.hrtime() - t0) / 1e6 < 1000, 'another editor is still served quickly')
    end
  end
  vim.wait(500)
  h.ok(peak < 64, ('daemon RSS stays under 64 MiB (peak %.1f MiB)'):format(peak))
  local log = log_of(child)
  h.matches(log, 'closing a connection: ', 'cut off, logged')
  local _, times = log:gsub('closing a connection', '')
  h.eq(times, 1, 'once')
  flood.pipe:close()
  vim.wait(500)
  h.ok(rss(pid) < 48, ('memory comes back down (%.1f MiB)'):format(rss(pid)))
end

T['a 100 MB request and a message of millions of values are refused at once, with the limit'] = function(child)
  reap_daemon(child)
  local pid = daemon(child)
  local socket = child.env.XDG_RUNTIME_DIR .. '/lulu/lulu.sock'
  local replies = {}
  local buffer = ''
  local unpack = vim.mpack.Unpacker()
  local conn = raw(socket, function(data)
    buffer = buffer .. data
    local pos = 1
    while pos <= #buffer do
      local value, next_pos = unpack(buffer, pos)
      if next_pos == pos or value == nil then
        break
      end
      replies[#replies + 1] = { value = value, at = vim.uv.hrtime() }
      pos = next_pos
    end
    buffer = buffer:sub(pos)
  end)
  h.wait_for(function()
    return conn.connected
  end, 2000, 'connected')
  local size = 100 * 1024 * 1024
  -- [0, 9, "lulu.session_send", ["x", <str32 of 100 MB>]], by hand.
  local head = '\148\000\009\177lulu.session_send\146\161x\219'
    .. string.char(
      bit.band(bit.rshift(size, 24), 255),
      bit.band(bit.rshift(size, 16), 255),
      bit.band(bit.rshift(size, 8), 255),
      bit.band(size, 255)
    )
  local t0 = vim.uv.hrtime()
  conn.pipe:write(head)
  local chunk = ('x'):rep(1024 * 1024)
  for _ = 1, 100 do
    conn.pipe:write(chunk)
  end
  h.wait_for(function()
    return #replies >= 1
  end, 5000, 'a reply to the huge request')
  local ms = (replies[1].at - t0) / 1e6
  h.eq(replies[1].value[2], 9, 'to that request')
  h.matches(vim.inspect(replies[1].value[3]), 'message too large %(the limit is 16 MiB%)', 'naming the limit')
  h.ok(ms < 1000, ('refused within 1 s (%d ms)'):format(ms))
  -- Millions of nils: refused by count, not decoded.
  local nils = '\148\000\010\177lulu.session_list\221\000\128\000\000' .. ('\192'):rep(8 * 1024 * 1024)
  conn.pipe:write(nils)
  -- The connection goes on working after both.
  conn.pipe:write(vim.mpack.encode({ 0, 11, 'lulu.session_list', {} }))
  local done = vim.wait(10000, function()
    return #replies >= 3
  end, 20)
  h.ok(
    done,
    ('replies to the values flood and the next request (got %d: %s; log: %s)'):format(
      #replies,
      vim.inspect(replies),
      log_of(child):sub(-1500)
    )
  )
  h.eq(replies[2].value[2], 10, 'the nils request answered')
  h.matches(vim.inspect(replies[2].value[3]), 'too many values', 'by its value count')
  h.eq({ replies[3].value[2], replies[3].value[3] }, { 11, vim.NIL }, 'the next request is served')
  h.ok(rss(pid) < 64, ('RSS stays under 64 MiB (%.1f MiB)'):format(rss(pid)))
  conn.pipe:close()
end

T['parked questions keep an excerpt, not 8 MB each; past 16 a session asks in its own dialog'] = function(child)
  local file = child.dir .. '/session.env'
  child.setup({ agents = { recorder = { cmd = { '/bin/sh', '-c', 'env > "$0"; exec sleep 600', file } } } })
  child.lua('require("lulu").start({ agent = "recorder", name = "rec", worktree = false })')
  h.wait_for(function()
    return vim.fn.filereadable(file) == 1 and table.concat(vim.fn.readfile(file), '\n'):find('LULU_TOKEN=') ~= nil
  end, 5000, 'the session wrote its environment')
  local env = {}
  for _, line in ipairs(vim.fn.readfile(file)) do
    local key, value = line:match('^(LULU_[%u_]+)=(.*)$')
    if key then
      env[key] = value
    end
  end
  local host = child.lua('return require("lulu.host").pid()')
  local payload = vim.json.encode({
    session_id = 's',
    transcript_path = '/tmp/t.jsonl',
    cwd = child.cwd,
    hook_event_name = 'PermissionRequest',
    permission_mode = 'default',
    tool_name = 'Write',
    tool_input = { file_path = 'big.txt', content = ('x'):rep(8 * 1024 * 1024) },
  })
  local hooks, answered = {}, 0
  for i = 1, 20 do
    hooks[i] = vim.system({ BIN, 'hook', 'claude' }, { env = env, stdin = payload }, function()
      answered = answered + 1
    end)
    vim.wait(150)
  end
  child.wait('return #require("lulu").approvals() == 16', 60000, '16 questions parked')
  h.wait_for(function()
    return answered == 4
  end, 60000, 'the other 4 answered at once (the agent asks in its own dialog)')
  vim.wait(500)
  local mib = rss(host)
  h.ok(mib < 64, ('the host holds excerpts, not 128 MB (RSS %.1f MiB)'):format(mib))
  local question = child.lua('return require("lulu").approvals()[1]')
  h.matches(question.summary, '^big%.txt', 'the question still names the file')
  for _, hook in ipairs(hooks) do
    pcall(hook.kill, hook, 'sigterm')
  end
end

--- Change the store with Python's sqlite3 (the file as another tool sees it).
local function sql(child, statement)
  local db = child.env.XDG_DATA_HOME .. '/nvim/lulu/lulu.db'
  local result = vim
    .system({
      'python3',
      '-c',
      'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()',
      db,
      statement,
    })
    :wait()
  h.eq(result.code, 0, 'sqlite3: ' .. (result.stderr or ''))
end

T['one bad row never stops lulu: it is skipped, named once, and kept as it is'] = function(child)
  child.setup({})
  local a = child.lua('return require("lulu").start({ agent = "shell", name = "good", worktree = false })')
  local b = child.lua('return require("lulu").start({ agent = "shell", name = "bogus", worktree = false })')
  local c = child.lua('return require("lulu").start({ agent = "shell", name = "nojson", worktree = false })')
  child.wait('return require("lulu").get("nojson").status == "running"', 5000, 'started')
  child.lua('require("lulu").add_rule({ action = "allow", tool = "Read" })')
  child.stop()
  sql(child, ("UPDATE sessions SET status = 'bogus' WHERE id = '%s'"):format(b.id))
  sql(child, ("UPDATE sessions SET argv = 'not json' WHERE id = '%s'"):format(c.id))
  sql(child, "UPDATE rules SET spec = '{oops'")

  local again = h.child({ env = child.env })
  child.defer(again.stop)
  again.setup({})
  again.capture_notify()
  local names = vim.tbl_map(function(s)
    return s.name
  end, again.lua('return require("lulu").list()'))
  h.eq(names, { 'good' }, 'lulu starts with the readable rows')
  again.wait('return #_G.notes > 0', 3000, 'a notice')
  local note = again.lua('return _G.notes[1].msg')
  h.matches(note, '3 unreadable row%(s%)', 'counted')
  h.matches(note, "sessions row '" .. b.id .. '\': unknown status "bogus"', 'names the table, row and problem')
  h.matches(note, "sessions row '" .. c.id .. "': argv", 'the other one too')
  h.matches(note, 'rules row 1', 'and the rule')
  local listed = vim.system({ BIN, 'list' }, { env = child.env, text = true }):wait()
  h.eq(listed.code, 0, 'lulu list works')
  h.matches(listed.stderr, 'skipped an unreadable row', 'and says what it skipped')
  h.ok(listed.stdout:find('good', 1, true), 'listing the good row')
  -- The rows are left as they were.
  local check = vim
    .system({
      'python3',
      '-c',
      'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT status FROM sessions WHERE id = ?", (sys.argv[2],)).fetchone()[0])',
      child.env.XDG_DATA_HOME .. '/nvim/lulu/lulu.db',
      b.id,
    }, { text = true })
    :wait()
  h.eq(vim.trim(check.stdout), 'bogus', 'kept untouched')
  h.ok(a.id, 'the good one')
end

T['a session that ignores SIGHUP and SIGTERM does not outlive a SIGKILLed daemon'] = function(child)
  reap_daemon(child)
  daemon(child, nil, {
    agents = { stubborn = { cmd = { '/bin/sh', '-c', "trap '' HUP TERM; while :; do sleep 1; done" } } },
  })
  child.lua('require("lulu").start({ agent = "stubborn", name = "mule", worktree = false })')
  child.wait('return require("lulu").get("mule").status == "running"', 5000, 'running')
  local pid = child.lua('return require("lulu").get("mule").pid')
  vim.uv.kill(daemon_pid(child), 'sigkill')
  vim.wait(1000)
  h.ok(h.alive(pid), 'the stubborn session survives the daemon (as before this fix)')
  -- The next daemon ends what the last one left.
  child.wait('return #require("lulu").list() == 1', 10000, 'a new daemon answers')
  h.wait_for(function()
    return not h.alive(pid)
  end, 6000, 'the orphan is ended by the next daemon')
  local record = child.lua('return require("lulu").get("mule")')
  h.eq({ record.status, record.failure_reason }, { 'failed', 'daemon exited' }, 'recorded')
  h.matches(log_of(child), 'it ignored SIGHUP and SIGTERM; SIGKILL', 'killed after the grace, logged')
end

T['the pool hangs up a shell stuck in its rc files, backs off, then gives up and says why'] = function(child)
  local marks = child.dir .. '/hangups'
  local slow = child.dir .. '/slow-shell'
  vim.fn.writefile({
    '#!/bin/sh',
    '# A shell whose rc files never finish: prints nothing, cleans up on SIGHUP.',
    'trap \'echo $$ >> "' .. marks .. '"; exit 0\' HUP',
    'while :; do sleep 0.1; done',
  }, slow)
  vim.fn.setfperm(slow, 'rwx------')
  local stuck = h.child({ env = vim.tbl_extend('force', child.env, { SHELL = slow }) })
  child.defer(stuck.stop)
  stuck.setup({ pool = { size = 2, ready_timeout = 0.5 } })
  stuck.lua('require("lulu").list()')
  local status = stuck.wait(
    'local p = require("lulu").pool_status(); return p.given_up ~= nil and p.given_up ~= vim.NIL and p',
    30000,
    'the pool gives up'
  )
  h.matches(status.given_up, 'warm shells in a row showed no prompt within 0%.5 s', 'with the reason')
  h.eq(status.idle, 0, 'no idle shells are kept')
  vim.wait(500)
  local hung_up = vim.fn.filereadable(marks) == 1 and #vim.fn.readfile(marks) or 0
  h.ok(hung_up >= 4, ('each stuck shell got SIGHUP and ran its trap (%d)'):format(hung_up))
  local before = hung_up
  vim.wait(2000)
  h.eq(#vim.fn.readfile(marks), before, 'no more tries after giving up')
  h.eq(stuck.lua('return require("lulu").pool_status().spawning'), 0, 'nothing spawning')
end

T['a clean stop leaves the WAL empty'] = function(child)
  reap_daemon(child)
  daemon(child)
  for i = 1, 3 do
    child.lua('require("lulu").start({ agent = "shell", name = ... , worktree = false })', 'w' .. i)
  end
  child.wait('return require("lulu").get("w3").status == "running"', 5000, 'running')
  local stopped = vim.system({ BIN, 'daemon', '--stop' }, { env = child.env, text = true }):wait(20000)
  h.eq(stopped.code, 0, 'stopped')
  local wal = vim.uv.fs_stat(child.env.XDG_DATA_HOME .. '/nvim/lulu/lulu.db-wal')
  h.ok(wal == nil or wal.size == 0, ('the WAL is empty (%s bytes)'):format(wal and wal.size or 'none'))
end

return T
