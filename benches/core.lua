-- Nothing waits (figures, not pass/fail), run by scripts/bench
-- (`nvim -l benches/core.lua`), in daemon mode:
--  1. while a session starts in a generated repository of 40,000 files (its
--     `git worktree add` is slow), an editor types into another live
--     session: the start's duration, and the keystroke round trip (key sent
--     to its echo in the terminal buffer) median, p99 and max meanwhile;
--  2. while another process holds lulu.db under BEGIN EXCLUSIVE for 10 s:
--     the same round trip, and how long `require('lulu').list()` takes;
--  3. the editor's own `:LuluStart` in that
--     repository: how long the command holds the editor, when its session
--     opens, and the editor's answers meanwhile.
-- LULU_BENCH_FILES (default 40000) sizes the repository.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
package.path = root .. '/tests/lua/?.lua;' .. package.path
local harness = require('harness')
local BIN = assert(os.getenv('LULU_BIN'), 'LULU_BIN must point at a built lulu')
local FILES = tonumber(os.getenv('LULU_BENCH_FILES') or '40000')

local function say(line)
  io.stdout:write(line, '\n')
  io.stdout:flush()
end

local function stats(samples)
  table.sort(samples)
  local function at(q)
    return samples[math.max(1, math.ceil(#samples * q))] or 0
  end
  return ('n=%d median %.1f ms, p99 %.1f ms, max %.1f ms'):format(#samples, at(0.5), at(0.99), samples[#samples] or 0)
end

--- A repository of `n` small files in `dir`, committed.
local function big_repo(dir, n)
  vim.fn.mkdir(dir, 'p')
  local script = ([[
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, 'd%%03d' %% (i // 400))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'f%%05d.txt' %% i), 'w') as f:
        f.write('file %%d\n' %% i)
]]):format()
  assert(vim.system({ 'python3', '-c', script, dir, tostring(n) }):wait().code == 0)
  for _, args in ipairs({
    { 'init', '--quiet', '--initial-branch=main' },
    { 'config', 'user.email', 'bench@localhost' },
    { 'config', 'user.name', 'bench' },
    { 'add', '-A' },
    { 'commit', '--quiet', '-m', 'many files' },
  }) do
    assert(vim.system(vim.list_extend({ 'git', '-C', dir }, args)):wait().code == 0)
  end
end

-- The child measures: type a marker, wait for its echo in the buffer.
local PROBE = [[
local id, buf, marker = ...
local rpc = require('lulu.rpc')
local t0 = vim.uv.hrtime()
rpc.notify(rpc.methods.write, id, 'echo ' .. marker .. '\r')
local ok = vim.wait(5000, function()
  local lines = vim.api.nvim_buf_get_lines(buf, -30, -1, false)
  for _, line in ipairs(lines) do
    if line == marker then
      return true
    end
  end
  return false
end, 1)
return ok and (vim.uv.hrtime() - t0) / 1e6 or 5000
]]

local child = harness.child()
child.defer(function()
  vim.system({ BIN, 'daemon', '--stop' }, { env = child.env }):wait(20000)
end)
child.setup({ bin = BIN, host = { mode = 'daemon' } })
local s = child.lua('return require("lulu").start({ agent = "shell", name = "typing" })')
child.lua('require("lulu").open(...)', s.id)
child.cmd('stopinsert')
child.wait_screen(s.id, '[%$#]', 5000, 'prompt')
-- Looked up once: the probe itself asks the host nothing.
local buf = child.lua('return require("lulu").buffer(...)', s.id)

local repo = child.dir .. '/big'
local t = vim.uv.hrtime()
big_repo(repo, FILES)
say(('core: a repository of %d files made in %.1f s'):format(FILES, (vim.uv.hrtime() - t) / 1e9))

local n = 0
local function probe()
  n = n + 1
  return child.lua(PROBE, s.id, buf, ('k%dk'):format(n))
end
-- The first lines may be typed before the shell's line editor is up.
for _ = 1, 5 do
  probe()
end
local idle = {}
for _ = 1, 50 do
  idle[#idle + 1] = probe()
end
say(
  ('core: keystroke round trip, idle (the floor: the shell echoes, Neovim refreshes its terminal): %s'):format(
    stats(idle)
  )
)

-- 1. Typing while another session starts in the big repository.
local started, t_start, t_end = false, vim.uv.hrtime(), nil
vim.system({ BIN, 'start', 'shell', '--name', 'big', '--cwd', repo }, { env = child.env, text = true }, function(out)
  t_end = vim.uv.hrtime()
  started = out.code == 0
end)
local during = {}
while not t_end do
  during[#during + 1] = probe()
end
local start_ms = (t_end - t_start) / 1e6
local sorted = vim.deepcopy(during)
table.sort(sorted)
say(
  ('core: start in the %d-file repository took %.0f ms (%s); keystroke round trip meanwhile: %s; max/start %.3f'):format(
    FILES,
    start_ms,
    started and 'ok' or 'failed',
    stats(during),
    (sorted[#sorted] or 0) / start_ms
  )
)

-- 2. Typing and listing while another process holds the database.
local db = child.env.XDG_DATA_HOME .. '/nvim/lulu/lulu.db'
local locker = vim.system({
  'python3',
  '-c',
  'import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN EXCLUSIVE"); print("locked", flush=True); time.sleep(10); c.execute("COMMIT")',
  db,
}, { text = true })
vim.wait(1000)
local locked, lists = {}, {}
local t_lock = vim.uv.hrtime()
while (vim.uv.hrtime() - t_lock) / 1e9 < 8 do
  locked[#locked + 1] = probe()
  local t0 = vim.uv.hrtime()
  child.lua('require("lulu").list()')
  lists[#lists + 1] = (vim.uv.hrtime() - t0) / 1e6
end
locker:wait()
say(('core: with lulu.db held under BEGIN EXCLUSIVE: keystroke round trip %s'):format(stats(locked)))
say(('core: with lulu.db held under BEGIN EXCLUSIVE: list() %s'):format(stats(lists)))
-- 3. The editor's own :LuluStart in the big repository: how long the
-- command holds the editor, when the session opens, and how fast the
-- editor answers meanwhile.
child.cmd('cd ' .. repo)
local t_cmd = vim.uv.hrtime()
child.cmd('LuluStart shell name=mine worktree=on')
local held = (vim.uv.hrtime() - t_cmd) / 1e6
local answers = {}
while true do
  local t0 = vim.uv.hrtime()
  local open = child.lua([[
    local s = vim.b.lulu_session and require('lulu.sessions').find(vim.b.lulu_session)
    return s ~= nil and s.name == 'mine'
  ]])
  answers[#answers + 1] = (vim.uv.hrtime() - t0) / 1e6
  if open or (vim.uv.hrtime() - t_cmd) / 1e9 > 60 then
    break
  end
  vim.wait(10)
end
say(
  ('core: :LuluStart in the %d-file repository held the editor %.1f ms; its session opened after %.0f ms; the editor answered meanwhile: %s'):format(
    FILES,
    held,
    (vim.uv.hrtime() - t_cmd) / 1e6,
    stats(answers)
  )
)
child.cmd('stopinsert')

child.stop()
