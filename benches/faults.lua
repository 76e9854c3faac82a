-- The daemon under the two memory attacks (figures, not pass/fail), run by
-- scripts/bench (`nvim -l benches/faults.lua`):
--  1. a client that pipelines `lulu.session_list` requests and never reads a
--     reply: the daemon's peak RSS and CPU while it floods, and its RSS once
--     the client has gone;
--  2. one request carrying a 100 MB string: how soon it is refused, and the
--     daemon's peak RSS meanwhile.
-- Each attack runs on a fresh daemon with its own XDG and runtime dirs.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
package.path = root .. '/tests/lua/?.lua;' .. package.path
local harness = require('harness')
local BIN = assert(os.getenv('LULU_BIN'), 'LULU_BIN must point at a built lulu')

local function say(line)
  io.stdout:write(line, '\n')
  io.stdout:flush()
end

local function fresh_env()
  local dir = vim.fn.tempname()
  local env = {
    XDG_DATA_HOME = dir .. '/data',
    XDG_STATE_HOME = dir .. '/state',
    XDG_RUNTIME_DIR = dir .. '/run',
    HOME = dir .. '/home',
  }
  vim.fn.mkdir(env.HOME, 'p')
  vim.fn.mkdir(env.XDG_RUNTIME_DIR, 'p', tonumber('700', 8))
  return env
end

local function start_daemon(env)
  local out = vim.system({ BIN, 'daemon' }, { env = env, text = true }):wait(20000)
  assert(out.code == 0, out.stderr)
  local status = vim.system({ BIN, 'daemon', '--status' }, { env = env, text = true }):wait().stdout
  return tonumber(status:match('pid (%d+)')), env.XDG_RUNTIME_DIR .. '/lulu/lulu.sock'
end

local function stop_daemon(env)
  vim.system({ BIN, 'daemon', '--stop' }, { env = env }):wait(20000)
end

local rss, cpu = harness.rss, harness.cpu

local function connect(path, on_data)
  local pipe = vim.uv.new_pipe(false)
  local state = { pipe = pipe }
  pipe:connect(path, function(err)
    state.connected = not err
    if not err and on_data then
      pipe:read_start(function(_, data)
        if data then
          on_data(data)
        end
      end)
    end
  end)
  vim.wait(2000, function()
    return state.connected
  end, 5)
  return state
end

-- 1. A client that never reads.
do
  local env = fresh_env()
  local pid, socket = start_daemon(env)
  local base = rss(pid)
  local cpu0 = cpu(pid)
  local client = connect(socket)
  local request = vim.mpack.encode({ 0, 1, 'lulu.session_list', {} })
  local peak, sent = base, 0
  local t0 = vim.uv.hrtime()
  for _ = 1, 50 do
    client.pipe:write(request:rep(5000))
    sent = sent + 5000
    vim.wait(20)
    peak = math.max(peak, rss(pid))
  end
  vim.wait(500, function()
    peak = math.max(peak, rss(pid))
    return false
  end, 20)
  local used = cpu(pid) - cpu0
  local secs = (vim.uv.hrtime() - t0) / 1e9
  client.pipe:close()
  vim.wait(1000)
  say(
    ('never-reading client: %d requests pipelined; daemon RSS %.1f MiB idle, peak %.1f MiB, %.1f MiB after it went; CPU %.2f s over %.1f s'):format(
      sent,
      base,
      peak,
      rss(pid),
      used,
      secs
    )
  )
  stop_daemon(env)
end

-- 2. One 100 MB request.
do
  local env = fresh_env()
  local pid, socket = start_daemon(env)
  local base = rss(pid)
  local replied
  local client = connect(socket, function()
    replied = replied or vim.uv.hrtime()
  end)
  local size = 100 * 1024 * 1024
  local head = '\148\000\009\177lulu.session_send\146\161x\219'
    .. string.char(
      bit.band(bit.rshift(size, 24), 255),
      bit.band(bit.rshift(size, 16), 255),
      bit.band(bit.rshift(size, 8), 255),
      bit.band(size, 255)
    )
  local chunk = ('x'):rep(1024 * 1024)
  local cpu0 = cpu(pid)
  local t0 = vim.uv.hrtime()
  client.pipe:write(head)
  for _ = 1, 100 do
    client.pipe:write(chunk)
  end
  local peak = base
  vim.wait(5000, function()
    peak = math.max(peak, rss(pid))
    return replied ~= nil
  end, 5)
  vim.wait(1000, function()
    peak = math.max(peak, rss(pid))
    return false
  end, 20)
  say(
    ('100 MB request: refused after %s; daemon RSS %.1f MiB idle, peak %.1f MiB; CPU %.2f s'):format(
      replied and ('%d ms'):format((replied - t0) / 1e6) or 'no reply in 5 s',
      base,
      peak,
      cpu(pid) - cpu0
    )
  )
  client.pipe:close()
  stop_daemon(env)
end
