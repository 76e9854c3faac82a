-- Memory at rest against tmux (figures, not pass/fail), run by scripts/bench
-- (`nvim -l benches/memory.lua`): 12 sessions that each printed 12,000
-- SGR-coloured lines on an 80x24 screen, 10,000 kept, then idle. Anchor: a
-- tmux server with `history-limit 10000` and the same 12 programs in its
-- windows. Both sides' RSS is read once every line is in their history.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
package.path = root .. '/tests/lua/?.lua;' .. root .. '/benches/?.lua;' .. package.path
local harness = require('harness')
local common = require('common')
local say = common.say
local BIN = os.getenv('LULU_BIN')
local SESSIONS, LINES, KEPT = 12, 12000, 10000

-- The program each session runs: the lines, a mark, then idle.
local input = vim.fn.tempname()
do
  local colours = { 31, 32, 33, 34, 35, 36 }
  local parts = {}
  for n = 1, LINES do
    parts[n] = ('\27[%dm%06d\27[0m the quick brown fox jumps \27[1;%dmover\27[0m the lazy dog %s\n'):format(
      colours[n % #colours + 1],
      n,
      colours[(n + 3) % #colours + 1],
      ('='):rep(n % 30)
    )
  end
  local file = assert(io.open(input, 'wb'))
  file:write(table.concat(parts))
  file:close()
end
local program = ("cat '%s'; echo done-writing; exec sleep 600"):format(input)

local function tmux_rss()
  local run = common.tmux_server({ 'set -g history-limit ' .. KEPT, 'set -g status off' })
  if not run then
    return nil
  end
  run('new-session', '-d', '-x', '80', '-y', '24', 'sh', '-c', program)
  for _ = 2, SESSIONS do
    run('new-window', '-d', 'sh', '-c', program)
  end
  local full = vim.wait(60000, function()
    local panes = run('list-panes', '-a', '-F', '#{pane_id}').stdout or ''
    local n = 0
    for pane in panes:gmatch('%S+') do
      local shown = run('capture-pane', '-p', '-t', pane).stdout or ''
      n = n + (shown:find('done-writing', 1, true) and 1 or 0)
    end
    return n == SESSIONS
  end, 100)
  vim.wait(1000)
  local pid = tonumber((run('display', '-p', '#{pid}').stdout or ''):match('%d+'))
  local rss = full and pid and harness.rss(pid) or nil
  run('kill-server')
  return rss
end

local function lulu_rss()
  local child, pid = common.daemon_child(harness, BIN)
  local idle = harness.rss(pid)
  child.lua(
    [[
    local program, n = ...
    for i = 1, n do
      require('lulu').start({ agent = 'shell', name = 'mem' .. i, cols = 80, rows = 24, args = { '-c', program } })
    end
  ]],
    program,
    SESSIONS
  )
  child.wait(
    [[local n = ...
      for i = 1, n do
        local s = require("lulu.rpc").request(require("lulu.rpc").methods.screen, "mem" .. i)
        if not table.concat(s.lines, "\n"):find("done%-writing") then return false end
      end
      return true]],
    60000,
    'the sessions to print their lines',
    SESSIONS
  )
  vim.wait(3000)
  local rss = harness.rss(pid)
  child.stop()
  return rss, idle
end

local t = tmux_rss()
local l, idle = lulu_rss()
say(
  ('memory, %d sessions x %d coloured lines (%d kept, 80x24): tmux server %s MiB, lulu daemon %.1f MiB (%.1f idle with none), ratio %s'):format(
    SESSIONS,
    LINES,
    KEPT,
    t and ('%.1f'):format(t) or '-',
    l,
    idle,
    t and ('%.2f'):format(l / t) or '-'
  )
)
os.remove(input)
