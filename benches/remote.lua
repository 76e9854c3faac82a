-- Remote hosts over a real ssh on loopback (scripts/bench runs this):
--  1. terminal throughput of LULU_BENCH_MIB (default 32) MiB of coloured
--     text, a session of the local daemon vs one of a "remote" daemon
--     through ssh and `lulu daemon --stdio`;
--  2. connecting to the host (ssh, relay, hello answered) and start-to-
--     prompt for a remote shell, medians of 10.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
package.path = root .. '/tests/lua/?.lua;' .. root .. '/benches/?.lua;' .. package.path
local harness = require('harness')
local remote = require('remote')
local common = require('common')
local say = common.say

local MIB = 1024 * 1024
local size = tonumber(os.getenv('LULU_BENCH_MIB') or '32') * MIB
local rounds = tonumber(os.getenv('LULU_BENCH_ROUNDS') or '3')
local bin = os.getenv('LULU_BIN')

-- Inside the child: a session (on `host`, or here) cats `input`; seconds
-- until it ended with its last line in the buffer.
local CAT = [[
  local input, last, host = ...
  local lulu = require('lulu')
  local t0 = vim.uv.hrtime()
  local s = lulu.start({ host = host, agent = 'shell', worktree = false, cwd = '/',
    args = { '-c', 'exec cat ' .. vim.fn.shellescape(input) } })
  lulu.open(s.id)
  vim.cmd.stopinsert()
  local sessions = require('lulu.sessions')
  local buf = lulu.buffer(s.id)
  local function has_last()
    local n = vim.api.nvim_buf_line_count(buf)
    for _, l in ipairs(vim.api.nvim_buf_get_lines(buf, math.max(n - 60, 0), n, false)) do
      if l:find(last, 1, true) then return true end
    end
  end
  vim.wait(600000, function() return sessions.find(s.id).status == 'completed' and has_last() end, 1)
  return (vim.uv.hrtime() - t0) / 1e9
]]

local PROMPT = [[
  local host = ...
  local lulu = require('lulu')
  local t0 = vim.uv.hrtime()
  local s = lulu.start({ host = host, agent = 'shell', worktree = false, cwd = '/' })
  local buf = lulu.buffer(s.id)
  vim.wait(10000, function()
    return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), ''):find('[#$]') ~= nil
  end, 1)
  local took = (vim.uv.hrtime() - t0) / 1e6
  lulu.stop(s.id, { force = true })
  return took
]]

local function child_with_host()
  local child = harness.child()
  child.cmd('set columns=200 lines=50')
  local r = remote.sshd(child)
  child.setup({
    bin = bin,
    host = { mode = 'daemon' },
    pool = { size = 2 },
    hosts = { devbox = { ssh = r.host, ssh_args = r.args, bin = r.bin } },
  })
  child.defer(function()
    vim.system({ bin, 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
  child.lua('require("lulu").list()')
  local t0 = vim.uv.hrtime()
  child.lua([[
    local done = false
    require('lulu.remote').when_ready('devbox', function() done = true end, function(e) error(e) end)
    vim.wait(20000, function() return done end, 1)
  ]])
  return child, (vim.uv.hrtime() - t0) / 1e6
end

local input, bytes, lines = common.make_input(size)
local last = ('%06d'):format(lines)
say(('remote: %.1f MiB of SGR-coloured text, %d rounds; ssh to 127.0.0.1'):format(bytes / MIB, rounds))

local child, connect_ms = child_with_host()
local speeds = { ['local'] = {}, remote = {} }
for round = 1, rounds do
  for _, where in ipairs({ 'local', 'remote' }) do
    local secs = child.lua(CAT, input, last, where == 'remote' and 'devbox' or nil)
    speeds[where][#speeds[where] + 1] = bytes / MIB / secs
    say(('  round %d %-6s %6.2f MiB/s'):format(round, where, bytes / MIB / secs))
  end
end
local here, there = common.stats(speeds['local']), common.stats(speeds.remote)
say(('throughput: local daemon %.2f MiB/s, remote over ssh %.2f MiB/s, ratio %.2f'):format(here, there, there / here))

local prompts = { ['local'] = {}, remote = {} }
for _ = 1, 10 do
  for _, where in ipairs({ 'local', 'remote' }) do
    local list = prompts[where]
    list[#list + 1] = child.lua(PROMPT, where == 'remote' and 'devbox' or nil)
    vim.wait(200)
  end
end
local lm, lp, lmax = common.stats(prompts['local'])
local rm, rp, rmax = common.stats(prompts.remote)
say(
  ('start-to-prompt: local median %.1f ms (p99 %.1f, max %.1f); remote median %.1f ms (p99 %.1f, max %.1f)'):format(
    lm,
    lp,
    lmax,
    rm,
    rp,
    rmax
  )
)
say(('connecting to the host (ssh, relay, hello): %.0f ms'):format(connect_ms))
child.stop()
os.remove(input)
