---@mod lulu.commands.host The bodies of the commands on hosts: :LuluHost
--- (remote hosts: how each is, connect, disconnect) and :LuluDaemon (this
--- machine's daemon: status, stop, restart). Through `lulu.commands.run`
--- for the daemon; never waits on a remote host.
local M = {}
local H = {}

local bin_info = require('lulu.host.bin')
local host = require('lulu.host')
local remote = require('lulu.remote')
local rpc = require('lulu.rpc')
local run = require('lulu.commands.run')
local sessions = require('lulu.sessions')
local util = require('lulu.util')

--- `:LuluHost` says how each remote host is; `connect NAME` and
--- `disconnect NAME` open and close one (its sessions go on there).
function M.host(cmd)
  local action, name = unpack(cmd.fargs)
  if not action then
    return H.hosts()
  end
  if not name or (action ~= 'connect' and action ~= 'disconnect') then
    return util.notify('usage: :LuluHost [connect|disconnect {name}]', vim.log.levels.ERROR)
  end
  if action == 'disconnect' then
    return remote.disconnect(name)
  end
  remote.when_ready(name, function()
    util.notify(('%s: connected (lulu %s)'):format(name, remote.status(name).version))
  end, function(err)
    util.notify(err, vim.log.levels.ERROR)
  end)
end

function M.daemon(cmd)
  run.guard(function()
    local action = vim.trim(cmd.args)
    if action == 'status' then
      util.notify(H.daemon_status(), nil, { multiline = true })
    elseif action == 'stop' or action == 'restart' then
      H.stop_daemon(action, cmd.bang)
    else
      error('usage: :LuluDaemon status|stop|restart', 0)
    end
  end, { local_only = true })
end

-- helpers ------------------------------------------------------------------

--- How each remote host is, one line each.
function H.hosts()
  local lines = {}
  for _, name in ipairs(remote.names()) do
    local s = remote.status(name)
    local state = s and s.state or 'not connected'
    lines[#lines + 1] = ('%s: %s%s'):format(name, state, s and s.error and (' (' .. s.error .. ')') or '')
  end
  return util.notify(
    #lines > 0 and table.concat(lines, '\n') or 'no hosts configured (setup({ hosts = ... }))',
    nil,
    { multiline = true }
  )
end

--- What the binary says of the daemon, and what the daemon says of
--- itself when this editor is attached to it.
function H.daemon_status()
  local out = bin_info.daemon_command({ '--status' })
  if host.running() and host.mode() == 'daemon' then
    local s = rpc.request(rpc.methods.daemon_status)
    out = ('lulu daemon pid %d, %d live session(s), %d editor(s) attached, on %s; log %s%s'):format(
      s.pid,
      s.live,
      s.clients,
      s.socket,
      s.log,
      host.stale_daemon() and '; another build than this editor’s (:LuluDaemon restart)' or ''
    )
  end
  return out
end

--- Stop (or restart) the daemon: refused while sessions live for a
--- restart, asked first for a stop (unless `bang`).
function H.stop_daemon(action, bang)
  local live = vim.tbl_filter(function(r)
    return not r.host and sessions.is_live(r)
  end, sessions.all())
  if action == 'restart' and #live > 0 and host.mode() == 'daemon' then
    error(('%d session(s) still live; stop them first (restarting the daemon ends them)'):format(#live), 0)
  end
  if action == 'stop' and #live > 0 and not bang then
    -- Stopping the daemon ends its agents, and their unsaved work.
    local names = vim.tbl_map(function(r)
      return r.name
    end, live)
    local question = ('Stop the daemon and end %d live session(s): %s?'):format(#live, table.concat(names, ', '))
    if vim.fn.confirm(question, '&Stop them\n&Cancel', 2) ~= 1 then
      return util.notify('not stopped (:LuluDaemon! stop skips this question)')
    end
  end
  host.stop()
  util.notify(bin_info.daemon_command({ '--stop' }))
  if action == 'restart' then
    util.notify(bin_info.start_daemon())
    host.ensure()
  end
end

return M
