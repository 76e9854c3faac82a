-- Real agents (scripts/bench; needs scripts/install-agents): claude and
-- gemini from start to their input prompt, through lulu vs Neovim's own
-- :terminal (median of 10, alternating; same argv and environment), codex
-- through lulu, and
-- gemini and claude also started hidden (never shown: the host's screen
-- model answers their terminal queries), and
-- the memory one session of each takes (the RSS of its whole process tree
-- once ready). Offline, against the scripted model server.
--
-- Codex is not compared with a bare `codex` in :terminal: started with no
-- `-c` overrides it boots a background app-server first (~2.4 s here, and
-- ~150 MiB more), while lulu's `-c` wiring runs it in-process, so the two
-- would not measure the same program.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
package.path = root .. '/tests/lua/?.lua;' .. package.path
local harness = require('harness')
local agents = require('real_agents')

local ROUNDS = tonumber(os.getenv('LULU_BENCH_AGENT_ROUNDS') or '10')

local function say(line)
  io.stdout:write(line, '\n')
  io.stdout:flush()
end

local function median(xs)
  local s = vim.deepcopy(xs)
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) / 2] or (s[n / 2] + s[n / 2 + 1]) / 2
end

--- RSS in KiB of `pid` and all its descendants.
local function tree_rss_kib(pid)
  local total = 0
  local status = io.open('/proc/' .. pid .. '/status')
  if status then
    total = tonumber(status:read('*a'):match('VmRSS:%s+(%d+)') or '0')
    status:close()
  end
  for _, task in ipairs(vim.fn.glob('/proc/' .. pid .. '/task/*/children', false, true)) do
    local f = io.open(task)
    if f then
      for child in f:read('*a'):gmatch('%d+') do
        total = total + tree_rss_kib(child)
      end
      f:close()
    end
  end
  return total
end

-- In the child: start the agent, return ms until `ready` is on screen and
-- the pid of the agent.
local START = [[
  local kind, argv, env, ready = ...
  local t0 = vim.uv.hrtime()
  local buf, pid
  if kind == 'hidden' then
    -- Started and never shown: only the host's screen model sees it (and
    -- answers its terminal queries).
    local s = require('lulu').start({ agent = argv[1], name = 'bench' })
    local rpc = require('lulu.rpc')
    local ok = vim.wait(30000, function()
      return table.concat(rpc.request(rpc.methods.screen, s.id).lines, '\n'):find(ready, 1, true) ~= nil
    end, 2)
    return { ok and (vim.uv.hrtime() - t0) / 1e6 or -1, require('lulu').get('bench').pid }
  end
  if kind == 'lulu' then
    vim.cmd('LuluStart ' .. argv[1] .. ' name=bench')
    buf = vim.api.nvim_get_current_buf()
  else
    vim.cmd.enew()
    buf = vim.api.nvim_get_current_buf()
    pid = vim.fn.jobpid(vim.fn.jobstart(argv[2], { term = true, env = env }))
  end
  local ok = vim.wait(30000, function()
    return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'):find(ready, 1, true) ~= nil
  end, 2)
  local ms = (vim.uv.hrtime() - t0) / 1e6
  if kind == 'lulu' then
    pid = require('lulu').get('bench').pid
  end
  return { ok and ms or -1, pid }
]]

-- What each shows once it takes input. Codex draws its footer while still
-- "loading": ready is its model line.
local READY = { claude = 'for shortcuts', codex = 'gpt-5 default', gemini = 'Type your message' }

local function measure(agent, kind)
  local child = harness.child()
  child.cmd('set columns=120 lines=40')
  harness.repo(child.cwd)
  local server = agents.model(child, {})
  local config = agents[agent](child, server, child.cwd)
  child.setup({ bin = os.getenv('LULU_BIN'), agents = { [agent] = config } })
  child.lua('require("lulu").list()') -- host up before the clock starts
  local argv = vim.list_extend(vim.deepcopy(config.cmd), config.args or {})
  local ready = READY[agent]
  local result = child.lua(START, kind, { agent, argv }, config.env, ready)
  vim.wait(1500) -- settled, as a user would find it
  local rss = result[2] and tree_rss_kib(result[2]) or 0
  child.stop()
  return result[1], rss
end

for _, agent in ipairs({ 'claude', 'codex', 'gemini' }) do
  if vim.fn.executable(agents.bin_dir .. '/' .. agent) == 0 then
    say(('%s: not installed (scripts/install-agents), skipped'):format(agent))
  else
    local times = { lulu = {}, terminal = {}, hidden = {} }
    local rss = { lulu = {}, terminal = {}, hidden = {} }
    for _ = 1, ROUNDS do
      for _, kind in ipairs(agent == 'codex' and { 'lulu' } or { 'terminal', 'lulu', 'hidden' }) do
        local ms, kib = measure(agent, kind)
        if ms >= 0 then
          table.insert(times[kind], ms)
          table.insert(rss[kind], kib / 1024)
        end
      end
    end
    for _, kind in ipairs({ 'terminal', 'lulu', 'hidden' }) do
      if #times[kind] > 0 then
        say(
          ('%s via %-8s start to input-ready: median %4.0f ms (min %4.0f, max %4.0f; %d runs); RSS %3.0f MiB'):format(
            agent,
            kind,
            median(times[kind]),
            math.min(unpack(times[kind])),
            math.max(unpack(times[kind])),
            #times[kind],
            median(rss[kind])
          )
        )
      end
    end
  end
end
