---@mod lulu.remote Remote hosts: lulu daemons on other machines, over ssh.
---
--- `hosts = { devbox = { ssh = 'me@devbox' } }` in |lulu-config|. Each host
--- is one job of the local lulu, `lulu link`, which runs
--- `ssh -T <dest> lulu daemon --stdio` (argv words, names checked) to join
--- (or start) the remote user's daemon. The remote never gets an RPC
--- channel into this editor: the link passes on only lulu's own events,
--- terminal output for channels opened for this host, and answers to this
--- editor's requests, and closes at anything else (the host then shows as
--- failed with the reason). Terminals, questions and reviews work as with
--- the local daemon.
--- Nothing here waits on the network: the hello is a notification that the
--- daemon answers with a `hello` event (carrying its sessions and pending
--- questions); commands given meanwhile are queued. A dropped connection
--- marks the host disconnected (its sessions go on running there) and is
--- tried again with back-off; terminals are painted afresh from the
--- remote screen model when it is back.
---
--- Owns the connections to remote hosts. Fills the caches (`lulu.sessions`,
--- `lulu.approvals`) from a host's hello and empties them when it goes;
--- tells the UI through `lulu.bus` (`host_back`, `host_lost`), never by
--- naming its modules.
local M = {}
local H = {}

local approvals = require('lulu.approvals')
local bin_info = require('lulu.host.bin')
local bus = require('lulu.bus')
local calls = require('lulu.calls')
local config = require('lulu.config')
local protocol = require('lulu.protocol')
local sessions = require('lulu.sessions')
local status = require('lulu.status')
local util = require('lulu.util')

--- Back-off between reconnection attempts, in ms: 1 s doubling to 30 s.
local FIRST_RETRY, MAX_RETRY = 1000, 30000

---@class lulu.Host
---@field state 'connecting'|'connected'|'disconnected'|'failed'
---@field chan integer|nil
---@field pid integer|nil the ssh process
---@field error string|nil why it is not connected
---@field version string|nil the remote lulu's
---@field ever boolean it was connected once (only then is it retried)

---@type table<string, lulu.Host>
H.hosts = {}
H.waiting = {}

--- The configured host names, sorted.
function M.names()
  local names = vim.tbl_keys(config.options.hosts)
  table.sort(names)
  return names
end

function M.configured(name)
  return config.options.hosts[name] ~= nil
end

--- `{ state, error, version, pid }` of a host (nil: never asked for).
function M.status(name)
  local h = H.hosts[name]
  return h and { state = h.state, error = h.error, version = h.version, pid = h.pid } or nil
end

function M.connected(name)
  local h = H.hosts[name]
  return h ~= nil and h.state == 'connected'
end

--- Run `fn()` once host `name` is connected (at once if it is), or
--- `on_error(message)` if it cannot be. Never waits.
function M.when_ready(name, fn, on_error)
  if not M.configured(name) then
    return on_error(H.unknown(name))
  end
  if M.connected(name) then
    return fn()
  end
  H.waiting[name] = H.waiting[name] or {}
  table.insert(H.waiting[name], { fn, on_error })
  M.connect(name)
end

--- Connect every host not connected yet and not `autoconnect = false`
--- (never waits; one that fails says so once).
function M.connect_all()
  for name, spec in pairs(config.options.hosts) do
    if spec.autoconnect ~= false and not H.hosts[name] then
      pcall(M.connect, name)
    end
  end
end

--- Open the connection (nothing if one is open or opening).
function M.connect(name)
  local spec = config.options.hosts[name]
  if not spec then
    error(H.unknown(name), 0)
  end
  local h = H.hosts[name] or { ever = false }
  H.hosts[name] = h
  if h.chan and (h.state == 'connecting' or h.state == 'connected') then
    return
  end
  h.retry = util.stop_timer(h.retry)
  h.state, h.error, h.stderr = 'connecting', nil, {}
  local cmd, why = M.command(name, spec)
  if not cmd then
    h.state, h.chan, h.error = 'failed', nil, why
    return H.flush(name, h.error)
  end
  local ok, chan = pcall(vim.fn.jobstart, cmd, {
    rpc = true,
    on_stderr = function(_, lines)
      for _, line in ipairs(lines) do
        line = line:gsub('\r$', '')
        if line ~= '' then
          table.insert(h.stderr, line)
          if #h.stderr > 20 then
            table.remove(h.stderr, 1)
          end
        end
      end
    end,
    on_exit = function(job, code)
      H.lost(name, job, code)
    end,
  })
  if not ok or chan <= 0 then
    h.state, h.chan = 'failed', nil
    h.error = ('cannot run ssh: %s'):format(ok and 'jobstart failed' or tostring(chan))
    return H.flush(name, h.error)
  end
  h.chan, h.pid = chan, vim.fn.jobpid(chan)
  local hello = protocol.hello(spec.agents)
  hello.tag = name
  vim.rpcnotify(chan, protocol.methods.hello, hello)
end

--- The command for a host: the local lulu's link, which runs ssh.
---@return string[]|nil cmd, string|nil why_not
function M.command(name, spec)
  local bin, why = bin_info.find()
  if not bin then
    return nil, why
  end
  local cmd = { bin, 'link', '--name', name, '--dest', spec.ssh, '--bin', spec.bin or 'lulu', '--' }
  return vim.list_extend(cmd, spec.ssh_args or {})
end

--- Close a host's connection on purpose (its sessions go on there).
function M.disconnect(name)
  local h = H.hosts[name]
  if not h then
    return
  end
  h.retry = util.stop_timer(h.retry)
  local chan = h.chan
  h.chan, h.state, h.ever = nil, 'disconnected', false
  h.error = 'disconnected (:LuluHost connect ' .. name .. ')'
  if chan then
    pcall(vim.fn.jobstop, chan)
  end
  H.gone(name)
end

--- A request to host `name`; raises the host's one-line error.
function M.request(name, method, ...)
  local h = H.hosts[name]
  if not (h and h.state == 'connected') then
    error(H.not_connected(name), 0)
  end
  local ok, result = pcall(vim.rpcrequest, h.chan, method, ...)
  if not ok then
    error(('%s: %s'):format(name, protocol.clean(result)), 0)
  end
  return result
end

--- A call (|lulu.rpc.call()|) to host `name`: true once sent, else false
--- and why.
function M.call(name, ticket, method, args)
  local h = H.hosts[name]
  if not (h and h.state == 'connected') then
    return false, H.not_connected(name)
  end
  if not pcall(vim.rpcnotify, h.chan, protocol.methods.call, ticket, method, args) then
    return false, name .. ': the connection is gone'
  end
  return true
end

--- Fire and forget; nothing while it is not connected.
function M.notify(name, method, ...)
  local h = H.hosts[name]
  if h and h.state == 'connected' then
    pcall(vim.rpcnotify, h.chan, method, ...)
  end
end

--- The daemon answered our hello (the `hello` event).
function M.on_hello(name, reply)
  local h = H.hosts[name]
  if not h or not h.chan then
    return
  end
  if reply.error then
    h.error = protocol.clean(reply.error)
    return M.give_up(name, h.error)
  end
  local ours = protocol.version
  if reply.version ~= ours then
    return M.give_up(
      name,
      ('%s runs lulu %s but this editor has %s: install the same version there'):format(
        name,
        tostring(reply.version),
        ours
      )
    )
  end
  h.state, h.version, h.ever, h.attempt, h.error = 'connected', reply.version, true, 0, nil
  local records = {}
  for _, record in ipairs(reply.sessions or {}) do
    record.host = name
    records[#records + 1] = record
  end
  sessions.replace(records, name)
  local pending = {}
  for _, approval in ipairs(reply.approvals or {}) do
    pending[#pending + 1] = M.tag_approval(approval, name)
  end
  approvals.reset(pending, name)
  bus.publish('host_back', name)
  H.flush(name)
  status.changed()
end

--- A question of host `name`, as this editor keeps it: its id made unique
--- across hosts (`devbox:12`).
function M.tag_approval(approval, name)
  approval.host = name
  approval.id = name .. ':' .. tostring(approval.id)
  return approval
end

--- Stop trying host `name`, saying why once.
function M.give_up(name, why)
  local h = H.hosts[name]
  h.state, h.error, h.ever = 'failed', why, false
  local chan = h.chan
  h.chan = nil
  if chan then
    pcall(vim.fn.jobstop, chan)
  end
  util.notify(why, vim.log.levels.ERROR)
  H.flush(name, why)
  H.gone(name)
end

--- A job ended: one we meant to end, or a dropped link.
function H.lost(name, job, code)
  local h = H.hosts[name]
  if not h or h.chan ~= job then
    return
  end
  h.chan, h.pid = nil, nil
  local said = h.stderr and h.stderr[#h.stderr]
  h.error = said and ('%s: %s'):format(name, said) or ('%s: ssh exited (%d)'):format(name, code)
  if not h.ever then
    -- Never got in: say why, and try again only when asked.
    h.state = 'failed'
    H.flush(name, h.error)
    util.notify(h.error, vim.log.levels.ERROR)
    return status.changed()
  end
  h.state = 'disconnected'
  H.gone(name)
  h.attempt = (h.attempt or 0) + 1
  local delay = math.min(FIRST_RETRY * 2 ^ (h.attempt - 1), MAX_RETRY)
  h.retry = vim.defer_fn(function()
    h.retry = nil
    if h.state == 'disconnected' and h.ever then
      M.connect(name)
    end
  end, delay)
end

--- Host `name` is out of reach: its rows say so, its terminals stop.
function H.gone(name)
  calls.fail(name, ('%s: the connection is gone'):format(name))
  bus.publish('host_lost', name)
  approvals.reset({}, name)
  status.changed()
end

function H.flush(name, err)
  local waiting = H.waiting[name] or {}
  H.waiting[name] = nil
  for _, w in ipairs(waiting) do
    if err then
      w[2](err)
    else
      local ok, e = pcall(w[1])
      if not ok then
        util.notify(tostring(e), vim.log.levels.ERROR)
      end
    end
  end
end

function H.unknown(name)
  local names = M.names()
  return ('no host named %q (%s)'):format(
    name,
    #names > 0 and ('configured: ' .. table.concat(names, ', ')) or 'add it to setup({ hosts = ... })'
  )
end

function H.not_connected(name)
  local h = H.hosts[name]
  if not h then
    return ('host %s is not connected (:LuluHost connect %s)'):format(name, name)
  end
  if h.state == 'connecting' then
    return ('host %s is still connecting'):format(name)
  end
  return h.error or ('host %s is %s'):format(name, h.state)
end

--- Every host's connection ends with the editor.
function M.shutdown()
  for name in pairs(H.hosts) do
    M.disconnect(name)
  end
end

return M
