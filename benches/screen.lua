-- The host's screen model (figures, not pass/fail), run by scripts/bench
-- (`nvim -l benches/screen.lua`), in daemon mode so the host's own CPU and
-- memory can be read:
--  1. reopen to last line: a session with 20,000 lines of history, hidden,
--     shown again (a fresh terminal painted from the model), until its last
--     line is in the buffer; median, min and max of 12;
--  2. the model's cost: a hidden session floods (nothing but the model reads
--     its output): bytes per second parsed and the host's CPU share, and
--     from them the share of one core the model costs at Neovim's own
--     terminal rate (the throughput benchmark's native figure, ~10 MiB/s);
--  3. the host's RSS with 12 sessions each holding 10,000 rows of
--     120-column scrollback (idle, after a flood each).
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
package.path = root .. '/tests/lua/?.lua;' .. root .. '/benches/?.lua;' .. package.path
local harness = require('harness')
local common = require('common')
local say = common.say
local BIN = os.getenv('LULU_BIN')

local function daemon_child()
  return common.daemon_child(harness, BIN, 'set columns=200 lines=50')
end

-- 1. Reopen to last line.
do
  local child = daemon_child()
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "history" })')
  local other = child.lua('return require("lulu").start({ agent = "shell", name = "other" })')
  child.lua(
    'require("lulu").send(...)',
    s.id,
    "seq -f 'history line %05g of twenty thousand, with some text to fill the row' 1 20000"
  )
  child.wait(
    [[return table.concat(require("lulu.rpc").request(require("lulu.rpc").methods.screen, ...).lines, "\n"):find("history line 20000")]],
    30000,
    'the history to be written',
    s.id
  )
  local samples = child.lua(
    [[
    local id, other = ...
    local lulu, rpc = require('lulu'), require('lulu.rpc')
    local out = {}
    for i = 1, 13 do
      lulu.open(other)
      vim.cmd.stopinsert()
      -- Hidden: its terminal is detached (lazy) once the editor gets to it.
      vim.wait(1000, function() return not require('lulu.term').streaming(id) end, 1)
      -- Something happens while nobody looks.
      local line = 'last-line-' .. i
      lulu.send(id, 'echo ' .. line)
      vim.wait(5000, function()
        return table.concat(rpc.request(rpc.methods.screen, id).lines, '\n'):find(line .. '\n', 1, true) ~= nil
      end, 5)
      local t0 = vim.uv.hrtime()
      lulu.open(id)
      vim.cmd.stopinsert()
      vim.wait(10000, function()
        local buf = require('lulu.term').buffer_of(id)
        if not buf then return false end
        local n = vim.api.nvim_buf_line_count(buf)
        for _, l in ipairs(vim.api.nvim_buf_get_lines(buf, math.max(n - 60, 0), n, false)) do
          if l == line then return true end
        end
      end, 1)
      -- The first open creates the buffer; the next twelve reopen it.
      if i > 1 then out[#out + 1] = (vim.uv.hrtime() - t0) / 1e6 end
    end
    return out
  ]],
    s.id,
    other.id
  )
  local median, _, max, min = common.stats(samples)
  say(
    ('reopen to last line, 20,000 lines of history: median %.1f ms (min %.1f, max %.1f) of %d'):format(
      median,
      min,
      max,
      #samples
    )
  )
  child.stop()
end

-- 2. The model's cost: a hidden flood.
do
  local child, pid = daemon_child()
  local s = child.lua(
    'return require("lulu").start({ agent = "shell", name = "flood", args = { "-c", ... } })',
    [[while :; do seq -f '\033[3%g;1mflooding\033[0m the model with coloured text, line after line' 1 7 1000000; done]]
  )
  vim.wait(1000)
  local log = child.env.XDG_STATE_HOME .. '/nvim/lulu/logs/' .. s.id .. '.log'
  local size = function()
    local st = vim.uv.fs_stat(log)
    return st and st.size or 0
  end
  -- The log rotates at 8 MiB: count its growth in short steps.
  local bytes, cpu0, t0 = 0, harness.cpu(pid), vim.uv.hrtime()
  local last = size()
  for _ = 1, 50 do
    vim.wait(100)
    local now = size()
    bytes = bytes + (now >= last and now - last or now)
    last = now
  end
  local secs = (vim.uv.hrtime() - t0) / 1e9
  local share = (harness.cpu(pid) - cpu0) / secs
  local mibs = bytes / 1024 / 1024 / secs
  say(
    ("hidden flood: the host parsed %.1f MiB/s at %.0f%% of one core; at Neovim's terminal rate (10 MiB/s) that is %.0f%% of one core"):format(
      mibs,
      share * 100,
      share / mibs * 10 * 100
    )
  )
  child.stop()
end

-- 3. RSS with 12 sessions of 10,000 rows of 120 columns.
do
  local child, pid = daemon_child()
  local before = harness.rss(pid)
  child.lua([[
    for i = 1, 12 do
      require('lulu').start({ agent = 'shell', name = 'rows' .. i, cols = 120, rows = 40,
        args = { '-c', "seq -f '%0120g' 1 10040; echo done-writing; exec sleep 600" } })
    end
  ]])
  child.wait(
    [[for i = 1, 12 do
        local s = require("lulu.rpc").request(require("lulu.rpc").methods.screen, "rows" .. i)
        if not table.concat(s.lines, "\n"):find("done%-writing") then return false end
      end
      return true]],
    60000,
    'twelve sessions to fill their scrollback'
  )
  vim.wait(1000)
  local after = harness.rss(pid)
  say(
    ('host RSS: %.0f MiB with no session, %.0f MiB with 12 sessions of 10,000 rows x 120 columns (%.1f MiB each)'):format(
      before,
      after,
      (after - before) / 12
    )
  )
  child.stop()
end
