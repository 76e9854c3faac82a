-- Benchmarks, run by scripts/bench (`nvim -l benches/terminal.lua`):
--  1. throughput of 32 MiB of coloured text into a terminal buffer, through
--     lulu vs Neovim's own :terminal running `cat`, with each Neovim's peak RSS;
--  2. :LuluStart shell to the first prompt byte in the buffer, median of 20.
-- Each run uses a fresh child Neovim (default scrollback 10000) with its own
-- XDG dirs; timings are taken inside the child.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
package.path = root .. '/tests/lua/?.lua;' .. root .. '/benches/?.lua;' .. package.path
local harness = require('harness')
local common = require('common')
local say = common.say

local MIB = 1024 * 1024
local size = tonumber(os.getenv('LULU_BENCH_MIB') or '32') * MIB
local rounds = tonumber(os.getenv('LULU_BENCH_ROUNDS') or '7')

local function peak_rss_kib(pid)
  for line in io.lines('/proc/' .. pid .. '/status') do
    local kib = line:match('^VmHWM:%s+(%d+)')
    if kib then
      return tonumber(kib)
    end
  end
end

-- Inside the child: run `cat input` and return seconds until the last line is
-- in the buffer and the job is over.
local NATIVE = [[
  local input, last = ...
  local done = false
  vim.api.nvim_create_autocmd('TermClose', { once = true, callback = function() done = true end })
  local t0 = vim.uv.hrtime()
  vim.cmd.terminal('cat ' .. vim.fn.fnameescape(input))
  local buf = vim.api.nvim_get_current_buf()
  local function tail_has_last()
    local n = vim.api.nvim_buf_line_count(buf)
    for _, l in ipairs(vim.api.nvim_buf_get_lines(buf, math.max(n - 60, 0), n, false)) do
      if l:find(last, 1, true) then return true end
    end
  end
  vim.wait(600000, function() return done end, 1)
  local exited = (vim.uv.hrtime() - t0) / 1e9
  local complete = vim.wait(2000, tail_has_last, 5)
  return { exited, complete }
]]

local LULU = [[
  local input, last = ...
  local lulu = require('lulu')
  local t0 = vim.uv.hrtime()
  local s = lulu.start({ agent = 'shell', args = { '-c', 'exec cat ' .. vim.fn.shellescape(input) } })
  lulu.open(s.id)
  vim.cmd.stopinsert()
  local sessions = require('lulu.sessions')
  vim.wait(600000, function() return sessions.find(s.id).status == 'completed' end, 1)
  local exited = (vim.uv.hrtime() - t0) / 1e9
  local buf = lulu.buffer(s.id)
  local complete = vim.wait(2000, function()
    local n = vim.api.nvim_buf_line_count(buf)
    for _, l in ipairs(vim.api.nvim_buf_get_lines(buf, math.max(n - 60, 0), n, false)) do
      if l:find(last, 1, true) then return true end
    end
  end, 5)
  return { exited, complete }
]]

-- LULU_BENCH_MODE=daemon measures lulu through the daemon's socket instead
-- of the embedded host's pipe.
local MODE = os.getenv('LULU_BENCH_MODE') or 'embedded'

local function run(kind, input, last)
  local child = harness.child()
  child.cmd('set columns=200 lines=50')
  child.setup({ bin = os.getenv('LULU_BIN'), host = { mode = MODE } })
  child.defer(function()
    if MODE == 'daemon' then
      vim.system({ os.getenv('LULU_BIN'), 'daemon', '--stop' }, { env = child.env }):wait(20000)
    end
  end)
  local pid = child.lua('return vim.fn.getpid()')
  if kind == 'lulu' then
    child.lua('require("lulu").list()') -- host up before the clock starts
  end
  local result = child.lua(kind == 'lulu' and LULU or NATIVE, input, last)
  local rss = peak_rss_kib(pid)
  child.stop()
  return result[1], result[2], rss
end

local function median(xs)
  table.sort(xs)
  local n = #xs
  return n % 2 == 1 and xs[(n + 1) / 2] or (xs[n / 2] + xs[n / 2 + 1]) / 2
end

local input, bytes, lines = common.make_input(size)
local last = ('%06d'):format(lines)
say(
  ('input: %.1f MiB, %d lines of SGR-coloured text; %d rounds each, alternating; lulu host: %s'):format(
    bytes / MIB,
    lines,
    rounds,
    MODE
  )
)

local results = { native = { mbs = {}, rss = {}, lost = 0 }, lulu = { mbs = {}, rss = {}, lost = 0 } }
for round = 1, rounds do
  for _, kind in ipairs({ 'native', 'lulu' }) do
    local secs, complete, rss = run(kind, input, last)
    local r = results[kind]
    r.mbs[#r.mbs + 1] = bytes / MIB / secs
    r.rss[#r.rss + 1] = rss
    if not complete then
      r.lost = r.lost + 1
    end
    say(
      ('  round %d %-6s %6.2f MiB/s  peak RSS %4d MiB%s'):format(
        round,
        kind,
        bytes / MIB / secs,
        rss / 1024,
        complete and '' or '  (last line missing)'
      )
    )
  end
end

local native, lulu = median(results.native.mbs), median(results.lulu.mbs)
local native_rss, lulu_rss = median(results.native.rss), median(results.lulu.rss)
say(
  ('throughput: native :terminal %.2f MiB/s, lulu %.2f MiB/s, ratio lulu/native %.2f'):format(
    native,
    lulu,
    lulu / native
  )
)
say(
  ('peak RSS:   native %d MiB, lulu %d MiB, ratio %.2f'):format(
    native_rss / 1024,
    lulu_rss / 1024,
    lulu_rss / native_rss
  )
)
say(('tail lost:  native %d/%d runs, lulu %d/%d runs'):format(results.native.lost, rounds, results.lulu.lost, rounds))

-- Responsiveness: 12 sessions flooding their terminals at once (all attached
-- to buffers), while another channel (as a UI would) makes small requests.
do
  local child = harness.child()
  child.setup({ bin = os.getenv('LULU_BIN') })
  child.lua('require("lulu").list()')
  local idle = {}
  for i = 1, 20 do
    local t0 = vim.uv.hrtime()
    vim.rpcrequest(child.job, 'nvim_eval', '1')
    idle[i] = (vim.uv.hrtime() - t0) / 1e6
  end
  child.lua(
    [[
    local input = ...
    for i = 1, 12 do
      local s = require('lulu').start({ agent = 'shell', name = 'flood' .. i,
        args = { '-c', 'while :; do cat ' .. vim.fn.shellescape(input) .. '; done' } })
      require('lulu').buffer(s.id)
    end
  ]],
    input
  )
  vim.wait(1000)
  local busy = {}
  for i = 1, 60 do
    local t0 = vim.uv.hrtime()
    vim.rpcrequest(child.job, 'nvim_eval', '1')
    busy[i] = (vim.uv.hrtime() - t0) / 1e6
    vim.wait(50)
  end
  child.stop()
  table.sort(busy)
  say(
    ('responsiveness: editor request round trip idle median %.2f ms; with 12 flooding sessions median %.1f ms, p95 %.1f ms, max %.1f ms'):format(
      median(idle),
      median(vim.deepcopy(busy)),
      busy[math.ceil(#busy * 0.95)],
      busy[#busy]
    )
  )
end

os.remove(input)

-- `lulu hook claude` from process start to printed answer, as an agent runs
-- it on every tool call: once answered by a rule, once with no rule matching.
do
  local child = harness.child()
  child.setup({ bin = os.getenv('LULU_BIN') })
  child.lua('require("lulu").add_rule({ action = "allow", tool = "Bash", command = "^echo " })')
  local out = child.dir .. '/hook-times.json'
  local script = [[
import json, subprocess, sys, time
out, lulu = sys.argv[1], sys.argv[2]
def payload(tool, tool_input):
    return json.dumps({"session_id": "bench", "transcript_path": "/tmp/x.jsonl", "cwd": "/tmp",
                       "hook_event_name": "PreToolUse", "permission_mode": "default",
                       "tool_name": tool, "tool_input": tool_input, "tool_use_id": "toolu_1"})
cases = {"rule": payload("Bash", {"command": "echo hi"}), "none": payload("Read", {"file_path": "/tmp/a"})}
times = {}
for name, data in cases.items():
    times[name] = []
    for _ in range(50):
        t0 = time.perf_counter()
        proc = subprocess.run([lulu, "hook", "claude"], input=data, capture_output=True, text=True)
        times[name].append((time.perf_counter() - t0) * 1000)
    times[name + "_out"] = proc.stdout
json.dump(times, open(out, "w"))
]]
  local s = child.lua('return require("lulu").start({ agent = "shell", args = ... })', {
    '-c',
    'exec python3 -c "$0" "$1" "$2"',
    script,
    out,
    os.getenv('LULU_BIN'),
  })
  child.wait(
    'return require("lulu").get(...).status ~= "running" and require("lulu").get(...).status ~= "starting"',
    60000,
    'hook bench',
    s.id
  )
  child.stop()
  local times = vim.json.decode(io.open(out):read('*a'))
  local answered = times.rule_out:find('"permissionDecision":"allow"') ~= nil
  say(
    ('hook latency (lulu hook claude, start to answer, 50 runs each): rule answers median %.1f ms%s; no rule matches median %.1f ms'):format(
      median(times.rule),
      answered and '' or ' (NOT answered by the rule!)',
      median(times.none)
    )
  )
end

-- Start to first prompt byte, alternated with the anchor (Neovim's
-- :terminal forking /bin/sh), each from a new tab page, as a user would.
local child = harness.child()
child.setup({ bin = os.getenv('LULU_BIN') })
child.lua('require("lulu").list()')
local result = child.lua([[
  local lulu = require('lulu')
  local function prompt_in(buf)
    vim.wait(5000, function()
      return vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] ~= ''
    end, 1)
  end
  local out, native = {}, {}
  for i = 1, 20 do
    vim.cmd('tabnew')
    local t0 = vim.uv.hrtime()
    vim.cmd('LuluStart shell name=b' .. i)
    -- :LuluStart returns at once; its terminal takes the session when the
    -- host has made it.
    vim.wait(5000, function()
      local made = require('lulu.sessions').find('b' .. i)
      return made ~= nil and vim.b.lulu_session == made.id
    end, 1)
    prompt_in(vim.api.nvim_get_current_buf())
    out[#out + 1] = (vim.uv.hrtime() - t0) / 1e6
    vim.cmd.stopinsert()
    lulu.stop('b' .. i, { force = true })
    vim.wait(2000, function() return require('lulu.sessions').find('b' .. i).status == 'completed' end, 1)
    vim.cmd('tabclose')
    vim.cmd('tabnew')
    t0 = vim.uv.hrtime()
    vim.cmd.terminal('/bin/sh')
    local buf = vim.api.nvim_get_current_buf()
    prompt_in(buf)
    native[#native + 1] = (vim.uv.hrtime() - t0) / 1e6
    vim.cmd.stopinsert()
    vim.fn.jobstop(vim.b[buf].terminal_job_id)
    vim.cmd('bwipeout!')
  end
  return { out, native }
]])
child.stop()
local times, native_times = result[1], result[2]

--- The other anchor: a tmux server's `new-window` running /bin/sh, to its
--- prompt on the pane (read with `capture-pane`, whose own run is counted).
local function tmux_start_times()
  local run = common.tmux_server()
  if not run then
    return nil
  end
  run('new-session', '-d', '-x', '100', '-y', '40')
  local out = {}
  for _ = 1, 20 do
    local t0 = vim.uv.hrtime()
    local pane = vim.trim(run('new-window', '-P', '-F', '#{pane_id}', '/bin/sh').stdout or '')
    vim.wait(5000, function()
      return (run('capture-pane', '-p', '-t', pane).stdout or ''):find('%S') ~= nil
    end, 0)
    out[#out + 1] = (vim.uv.hrtime() - t0) / 1e6
    run('kill-pane', '-t', pane)
  end
  run('kill-server')
  return out
end
local tmux_times = tmux_start_times()
local sorted = vim.deepcopy(times)
say(
  ('start to prompt: median %.1f ms, min %.1f ms, max %.1f ms (20 runs, /bin/sh, alternated); :terminal median %.1f ms; tmux new-window median %s ms'):format(
    median(sorted),
    math.min(unpack(times)),
    math.max(unpack(times)),
    median(vim.deepcopy(native_times)),
    tmux_times and ('%.1f'):format(median(tmux_times)) or '-'
  )
)

-- Typing: a line typed into /bin/sh to its echo in the buffer, through
-- Neovim's :terminal and through lulu, alternated (60 rounds each).
do
  local c = harness.child()
  c.setup({ bin = os.getenv('LULU_BIN') })
  local result = c.lua([[
    local lulu = require('lulu')
    local function wait_line(buf, text)
      return vim.wait(5000, function()
        for _, l in ipairs(vim.api.nvim_buf_get_lines(buf, -40, -1, false)) do
          if l == text then return true end
        end
      end, 0)
    end
    vim.cmd.terminal('/bin/sh')
    local native_buf = vim.api.nvim_get_current_buf()
    local job = vim.b[native_buf].terminal_job_id
    vim.cmd.stopinsert()
    vim.cmd('tabnew')
    local s = lulu.start({ agent = 'shell', name = 'typing', args = {}, worktree = false })
    lulu.open(s.id)
    vim.cmd.stopinsert()
    local buf = lulu.buffer(s.id)
    local rpc = require('lulu.rpc')
    vim.wait(3000, function() return vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1] ~= '' end, 1)
    vim.wait(300)
    local native, through = {}, {}
    for i = 1, 60 do
      local mark = ('T%05d'):format(i)
      local t0 = vim.uv.hrtime()
      vim.fn.chansend(job, 'echo ' .. mark .. '\r')
      wait_line(native_buf, mark)
      native[#native + 1] = (vim.uv.hrtime() - t0) / 1e6
      t0 = vim.uv.hrtime()
      rpc.notify(rpc.methods.write, s.id, 'echo ' .. mark .. '\r')
      wait_line(buf, mark)
      through[#through + 1] = (vim.uv.hrtime() - t0) / 1e6
      vim.wait(20)
    end
    return { native, through }
  ]])
  c.stop()
  local function med(t)
    table.sort(t)
    return t[math.ceil(#t / 2)], t[math.ceil(#t * 0.9)]
  end
  local nm, n90 = med(result[1])
  local lm, l90 = med(result[2])
  say(
    ('typing (a line typed into /bin/sh to its echo in the buffer, 60 rounds): :terminal median %.1f ms (p90 %.1f), lulu median %.1f ms (p90 %.1f), ratio %.2f'):format(
      nm,
      n90,
      lm,
      l90,
      lm / nm
    )
  )
end
