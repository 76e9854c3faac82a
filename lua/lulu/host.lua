---@mod lulu.host This machine's lulu host: the embedded one (a job of
--- this Neovim, on stdio) or the daemon (on its socket, shared by editors):
--- started or joined, watched, stopped. Owns the channel to it (other
--- modules read it with |M.channel()|); `lulu.rpc` sends what goes to it,
--- `lulu.remote` does the same for hosts on other machines. Where the
--- binary is: `lulu.host.bin`; joining the daemon: `lulu.host.daemon`.
--- Once connected, `lulu.events` loads the host's view of its sessions.
local M = {}
local H = {}

local bin_info = require('lulu.host.bin')
local calls = require('lulu.calls')
local config = require('lulu.config')
local daemon = require('lulu.host.daemon')
local events = require('lulu.events')
local protocol = require('lulu.protocol')
local util = require('lulu.util')

-- Where the binary is and what it says (`lulu.host.bin`), kept here too.
M.bin = bin_info.find
M.root = bin_info.root
M.data_dir = bin_info.data_dir
M.state_dir = bin_info.state_dir
M.socket_path = bin_info.socket_path
M.daemon_command = bin_info.daemon_command
M.hello_payload = protocol.hello

--- The channel, when connected (nil: not started, or gone).
function M.channel()
  return H.chan
end

--- Is the host running?
function M.running()
  return H.chan ~= nil
end

--- The host's pid, when running.
function M.pid()
  return H.pid
end

--- Which host this editor uses now: 'embedded' or 'daemon'.
function M.mode()
  return H.mode or config.options.host.mode
end

--- The daemon's build differs from the binary this editor would start.
function M.stale_daemon()
  return H.stale == true
end

--- Run `on_ready()` once the host is up, without blocking the editor: a
--- daemon that is not running is started in the background and connected
--- to when it listens; meanwhile the editor goes on, and every command
--- given is queued behind it. `on_error(message)` if it never comes.
function M.when_ready(on_ready, on_error)
  if H.chan then
    return on_ready()
  end
  if config.options.host.mode ~= 'daemon' then
    -- An embedded host is a job of this editor: starting it does not wait.
    local ok, err = pcall(M.ensure)
    if not ok then
      return on_error(tostring(err))
    end
    return on_ready()
  end
  if H.waiting then
    table.insert(H.waiting, { on_ready, on_error })
    return
  end
  local bin, why = bin_info.find()
  if not bin then
    return on_error(why)
  end
  H.waiting = { { on_ready, on_error } }
  daemon.attach_async(bin, function(err, chan, reply, stale)
    if not err then
      H.adopt_daemon(chan, reply, stale)
    end
    local waiting = H.waiting or {}
    H.waiting = nil
    for _, w in ipairs(waiting) do
      if err then
        w[2](err)
      else
        w[1]()
      end
    end
  end)
end

--- The host channel, starting the host if needed (blocking: for the Lua
--- API; commands use |M.when_ready()|). Raises a clean error.
---@return integer
function M.ensure()
  if H.chan then
    return H.chan
  end
  if H.waiting then
    return H.wait_for_daemon()
  end
  local bin, why = bin_info.find()
  if not bin then
    error(why, 0)
  end
  if config.options.host.mode == 'daemon' then
    H.mode = 'daemon'
    local chan, reply, stale = daemon.attach(bin)
    H.adopt_daemon(chan, reply, stale)
    return chan
  end
  return H.start_embedded(bin)
end

--- Send the current options to a running host (setup() after start).
function M.reconfigure()
  if H.chan then
    local ok, err = pcall(vim.rpcrequest, H.chan, protocol.methods.hello, protocol.hello())
    if not ok then
      util.notify('options not applied: ' .. protocol.clean(err), vim.log.levels.ERROR)
    end
  end
end

--- Stop the host (tests, :checkhealth). Its sessions end with it; a
--- daemon's go on (this editor only detaches).
function M.stop()
  if H.chan then
    local chan = H.chan
    H.chan, H.ready = nil, false
    daemon.unwatch()
    vim.fn.chanclose(chan)
    calls.fail(nil, 'the lulu host was stopped')
  end
end

-- helpers ------------------------------------------------------------------

--- A command is bringing the daemon up: wait for that one.
function H.wait_for_daemon()
  local failed
  table.insert(H.waiting, {
    function() end,
    function(err)
      failed = err
    end,
  })
  vim.wait(30000, function()
    return H.chan ~= nil or failed ~= nil
  end, 10)
  if H.chan then
    return H.chan
  end
  error(failed or 'the lulu daemon did not come up within 30 s', 0)
end

--- Start the embedded host (`lulu host`, a job on stdio) and say hello.
function H.start_embedded(bin)
  H.mode = 'embedded'
  H.stderr = {}
  local cmd = { bin, 'host', '--data-dir', bin_info.data_dir(), '--state-dir', bin_info.state_dir() }
  local ok, chan = pcall(vim.fn.jobstart, cmd, {
    rpc = true,
    -- The host stops its sessions itself when our end of stdio closes;
    -- detached, the editor's exit does not kill it before it has.
    detach = true,
    on_stderr = function(_, lines)
      for _, line in ipairs(lines) do
        if line ~= '' then
          table.insert(H.stderr, line)
        end
      end
    end,
    on_exit = function(job, code)
      H.on_exit(job, code)
    end,
  })
  if not ok or chan <= 0 then
    error(('could not start %s: %s'):format(bin, ok and 'jobstart failed' or chan), 0)
  end
  H.chan = chan
  H.pid = vim.fn.jobpid(chan)
  H.hello(chan)
  H.ready = true
  events.host_started(chan, 'embedded')
  return chan
end

--- The embedded host's hello; one that never answers is stopped, saying why.
function H.hello(chan)
  local hello_ok, reply = pcall(vim.rpcrequest, chan, protocol.methods.hello, protocol.hello())
  if not hello_ok then
    H.chan = nil
    -- Let it finish saying why (its last stderr line) before we report.
    vim.fn.jobwait({ chan }, 1000)
    pcall(vim.fn.jobstop, chan)
    error(('host did not start: %s'):format(protocol.clean(reply, H.stderr)), 0)
  end
  if reply.version ~= protocol.version then
    util.notify(
      ('host is version %s but the plugin is %s; rebuild it (cargo build --release)'):format(
        reply.version,
        protocol.version
      ),
      vim.log.levels.WARN
    )
  end
end

--- The daemon answered: its channel is ours, watched until it vanishes.
function H.adopt_daemon(chan, reply, stale)
  H.mode, H.stale = 'daemon', stale
  H.chan, H.pid, H.ready = chan, reply.pid, true
  daemon.watch(chan, function()
    if H.chan ~= chan then
      return
    end
    H.chan, H.pid, H.ready = nil, nil, false
    events.host_exited(1, 'the lulu daemon exited', 'daemon')
  end)
  events.host_started(chan, 'daemon')
end

function H.on_exit(job, code)
  -- A host that never answered hello was reported by ensure() already; one
  -- we stopped (or replaced) on purpose is not news either.
  if not H.ready or job ~= H.chan then
    return
  end
  H.ready = false
  local was_ours = H.chan ~= nil
  H.chan = nil
  H.pid = nil
  local detail = H.stderr and H.stderr[#H.stderr]
  events.host_exited(code, was_ours and detail or nil, M.mode())
end

return M
