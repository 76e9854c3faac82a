-- Floods (figures, not pass/fail), run by scripts/bench
-- (`nvim -l benches/flood.lua`):
--  1. 32 MiB of SGR-coloured lines (LULU_BENCH_MIB): time until the last
--     line is in the buffer through Neovim's own :terminal and through lulu,
--     the ratio, and whether the two buffers' last 10,000 lines are the same
--     text ("identical", or the first line that differs); and the ceiling:
--     the same file read through a bare PTY;
--  2. Ctrl-C while `yes` floods a shell: time until the prompt is visible
--     again, lulu vs :terminal (median of 5);
--  3. an editor request's round trip while 12 sessions flood in the grid:
--     median, p99, max.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
package.path = root .. '/tests/lua/?.lua;' .. root .. '/benches/?.lua;' .. package.path
local harness = require('harness')
local common = require('common')
local say, stats = common.say, common.stats
local BIN = os.getenv('LULU_BIN')
local MIB = 1024 * 1024

local function child()
  local c = harness.child()
  c.cmd('set columns=160 lines=50')
  c.setup({ bin = BIN })
  c.lua('require("lulu").list()')
  return c
end

-- In the child: the buffer's last `n` non-empty lines, as they are
-- (trailing blanks kept; lulu's ended line and blank rows dropped).
local TAIL = [[
  local buf, n = ...
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local out = {}
  for i = #lines, 1, -1 do
    -- (Trailing blanks a program wrote are part of the line, in both.)
    local l = lines[i]
    local bare = l:gsub('%s+$', '')
    if bare ~= '' and not vim.startswith(l, '[lulu: ') and not l:find('^%[Process exited') then
      table.insert(out, 1, l)
      if #out == n then break end
    end
  end
  return out
]]

-- 1. Time to the last line, and the buffers compared.
do
  local input, bytes, lines = common.make_input(tonumber(os.getenv('LULU_BENCH_MIB') or '32') * MIB)
  local last = ('%06d'):format(lines)
  local c = child()
  local result = c.lua(
    [[
    local input, last, back, tail = ...
    local function has_last(buf)
      local n = vim.api.nvim_buf_line_count(buf)
      for _, l in ipairs(vim.api.nvim_buf_get_lines(buf, math.max(n - 60, 0), n, false)) do
        if l:find(last, 1, true) then return true end
      end
    end
    -- The final state: the last line, and the history up to 2000 lines
    -- back in place above it.
    local function has_history(buf)
      local n = vim.api.nvim_buf_line_count(buf)
      for _, l in ipairs(vim.api.nvim_buf_get_lines(buf, math.max(n - 2100, 0), math.max(n - 1900, 0), false)) do
        if l:find(back, 1, true) then return true end
      end
    end
    local t0 = vim.uv.hrtime()
    -- (Kept open: Neovim's :terminal drops the last output of a process
    -- that exits at once, as the throughput benchmark shows.)
    vim.cmd.terminal('sh -c ' .. vim.fn.shellescape('cat ' .. vim.fn.shellescape(input) .. '; exec sleep 600'))
    local native_buf = vim.api.nvim_get_current_buf()
    vim.wait(600000, function() return has_last(native_buf) end, 1)
    local native = (vim.uv.hrtime() - t0) / 1e9
    vim.wait(600000, function() return has_history(native_buf) end, 1)
    local native_final = (vim.uv.hrtime() - t0) / 1e9
    vim.cmd.enew()
    local lulu = require('lulu')
    t0 = vim.uv.hrtime()
    local s = lulu.start({ agent = 'shell', args = { '-c', 'cat ' .. vim.fn.shellescape(input) .. '; exec sleep 600' } })
    lulu.open(s.id)
    vim.cmd.stopinsert()
    local buf = lulu.buffer(s.id)
    vim.wait(600000, function() return has_last(buf) end, 1)
    local through = (vim.uv.hrtime() - t0) / 1e9
    vim.wait(600000, function() return has_history(buf) end, 1)
    local final = (vim.uv.hrtime() - t0) / 1e9
    vim.wait(500)
    -- The floor past the PTY: Neovim itself taking in that final state
    -- (the rows lulu keeps, 10,000, and a screen) into a fresh terminal,
    -- in one write, waited for as above.
    local file = assert(io.open(input, 'rb'))
    local all = vim.split(file:read('*a'), '\n', { plain = true, trimempty = true })
    file:close()
    local state = table.concat(vim.list_slice(all, #all - 10000 - vim.o.lines + 1, #all), '\r\n')
    vim.cmd.enew()
    local fresh = vim.api.nvim_get_current_buf()
    local chan = vim.api.nvim_open_term(fresh, {})
    vim.wait(100)
    t0 = vim.uv.hrtime()
    vim.api.nvim_chan_send(chan, state)
    vim.wait(600000, function() return has_last(fresh) and has_history(fresh) end, 1)
    local ingest = (vim.uv.hrtime() - t0) / 1e9
    local f = loadstring(tail)
    return { native, through, f(native_buf, 10000), f(buf, 10000), native_final, final, ingest, #state }
  ]],
    input,
    last,
    ('%06d'):format(lines - 2000),
    TAIL
  )
  local native, lulu, a, b = result[1], result[2], result[3], result[4]
  local native_final, lulu_final, ingest, state_bytes = result[5], result[6], result[7], result[8]
  local verdict = 'identical'
  if #a ~= #b then
    verdict = ('%d lines vs %d'):format(#a, #b)
  end
  for i = 1, math.min(#a, #b) do
    if a[i] ~= b[i] then
      verdict = ('first difference at line %d of the last %d: %q vs %q'):format(i, #a, a[i], b[i])
      break
    end
  end
  say(
    ('flood of %.0f MiB: last line in the buffer after %.2f s with :terminal, %.2f s with lulu (%.1fx sooner); last 10,000 lines: %s'):format(
      bytes / MIB,
      native,
      lulu,
      native / lulu,
      verdict
    )
  )
  c.stop()
  -- The ceiling: the same file read through a PTY by a plain loop (no
  -- terminal, no model), as fast as this machine's kernel hands it out.
  local raw = vim
    .system({
      'python3',
      '-c',
      [=[
import os, pty, sys, time
t = time.time()
pid, fd = pty.fork()
if pid == 0:
    os.execvp('cat', ['cat', sys.argv[1]])
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
os.waitpid(pid, 0)
print(time.time() - t)
]=],
      input,
    }, { text = true })
    :wait()
  local ceiling = tonumber(raw.stdout)
  if ceiling then
    say(
      ('  the PTY alone (cat read through a PTY, nothing parsed): %.2f s, so lulu is at %.0f%% of it'):format(
        ceiling,
        100 * ceiling / lulu
      )
    )
    say(
      ('  final state (the last line and 2000 lines of history in place): :terminal %.2f s, lulu %.2f s, %.2fx the PTY alone'):format(
        native_final,
        lulu_final,
        lulu_final / ceiling
      )
    )
    -- Neovim's terminal takes in ~10,000 rows no faster than this however
    -- they are sent, and those rows exist only once the flood has ended:
    -- the PTY alone plus this is as soon as any program can have them in
    -- a Neovim buffer.
    say(
      ('  the floor: the PTY alone + Neovim taking in that final state (%.0f KiB in one write to a fresh terminal: %.3f s) = %.2f s; lulu %.2fx the floor'):format(
        state_bytes / 1024,
        ingest,
        ceiling + ingest,
        lulu_final / (ceiling + ingest)
      )
    )
  end
end

-- 2. Ctrl-C under a flood.
do
  local c = child()
  local result = c.lua([[
    local function prompt_after(buf, mark)
      local n = vim.api.nvim_buf_line_count(buf)
      local lines = vim.api.nvim_buf_get_lines(buf, math.max(n - 60, 0), n, false)
      for i = #lines, 1, -1 do
        if lines[i]:find(mark, 1, true) then return true end
        if lines[i] == 'y' then return false end
      end
    end
    local function measure(buf, send)
      local out = {}
      for round = 1, 5 do
        send('yes\r')
        vim.wait(700)
        local mark = 'back-' .. round
        local t0 = vim.uv.hrtime()
        send('\3')
        send('echo ' .. mark .. '\r')
        vim.wait(20000, function() return prompt_after(buf, mark) end, 1)
        out[#out + 1] = (vim.uv.hrtime() - t0) / 1e6
        vim.wait(200)
      end
      table.sort(out)
      return out[3]
    end
    vim.cmd.terminal('/bin/sh')
    local native_buf, job = vim.api.nvim_get_current_buf(), vim.b.terminal_job_id
    vim.wait(500)
    local native = measure(native_buf, function(keys) vim.fn.chansend(job, keys) end)
    vim.cmd.enew()
    local lulu = require('lulu')
    local s = lulu.start({ agent = 'shell' })
    lulu.open(s.id)
    vim.cmd.stopinsert()
    vim.wait(500)
    local rpc = require('lulu.rpc')
    local through = measure(lulu.buffer(s.id), function(keys) rpc.notify(rpc.methods.write, s.id, keys) end)
    return { native, through }
  ]])
  say(
    ('Ctrl-C under `yes`: prompt back after %.0f ms with :terminal, %.0f ms with lulu (median of 5)'):format(
      result[1],
      result[2]
    )
  )
  c.stop()
end

-- 3. Editor requests while 12 sessions flood in the grid.
do
  local input = common.make_input(8 * MIB)
  local c = child()
  c.lua(
    [[
    local input = ...
    for i = 1, 12 do
      require('lulu').start({ agent = 'shell', name = 'flood' .. i,
        args = { '-c', 'while :; do cat ' .. vim.fn.shellescape(input) .. '; done' } })
    end
    vim.cmd('LuluGrid')
  ]],
    input
  )
  vim.wait(1000)
  local samples = {}
  for i = 1, 200 do
    local t0 = vim.uv.hrtime()
    vim.rpcrequest(c.job, 'nvim_eval', '1')
    samples[i] = (vim.uv.hrtime() - t0) / 1e6
    vim.wait(20)
  end
  local median, p99, max = stats(samples)
  say(
    ('12 sessions flooding in the grid: editor request round trip median %.2f ms, p99 %.1f ms, max %.1f ms (200 requests)'):format(
      median,
      p99,
      max
    )
  )
  c.stop()
end
