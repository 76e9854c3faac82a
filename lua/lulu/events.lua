---@mod lulu.events The single entry for everything the hosts tell the editor.
---
--- The host calls |M.dispatch()| (nvim_exec_lua) with an event and its
--- payload; `lulu.host` calls |M.host_started()| and |M.host_exited()|.
--- Here the caches are updated (`lulu.sessions`, `lulu.approvals`), the
--- user is told what is news, and the UI hears the rest through
--- `lulu.bus`: this module names no window. Owns the worktrees' usage as
--- last told (`usage`).
local M = {}
local H = {}

local approvals = require('lulu.approvals')
local bus = require('lulu.bus')
local calls = require('lulu.calls')
local config = require('lulu.config')
local outside = require('lulu.outside')
local protocol = require('lulu.protocol')
local remote = require('lulu.remote')
local sessions = require('lulu.sessions')
local status = require('lulu.status')
local util = require('lulu.util')

--- Worktree count and size, computed by the host in the background (the
--- `usage` event): `{ count, bytes }`.
---@type {count: integer, bytes: integer}|nil
M.usage = nil

--- Redraw what shows sessions, at most once per event-loop turn.
M.changed = status.changed

--- Called by the host (nvim_exec_lua) with an event name and its payload;
--- `host` is the name of the remote host it came from (|lulu-remote|).
function M.dispatch(name, payload, host)
  local handler = H.handlers[name]
  if not handler then
    return
  end
  if host then
    handler = H.remote[name]
    if not handler then
      return
    end
  end
  local ok, err = pcall(handler, payload, host)
  if not ok then
    util.notify(('event %s failed: %s'):format(name, err), vim.log.levels.ERROR)
  end
end

--- The host on channel `chan` answered hello: load its view of the
--- sessions. `mode`: 'embedded' or 'daemon'.
function M.host_started(chan, mode)
  local ok, records = pcall(vim.rpcrequest, chan, protocol.methods.list)
  if ok then
    sessions.replace(records, nil)
  end
  -- A daemon may have questions waiting from before this editor attached;
  -- a fresh embedded host has none.
  local pending = nil
  if mode == 'daemon' then
    local listed, list = pcall(vim.rpcrequest, chan, protocol.methods.approvals)
    pending = listed and list or nil
  end
  approvals.reset(pending, nil)
  -- Remote hosts join in the background, so their sessions are listed.
  remote.connect_all()
  status.changed()
end

--- The host process ended (`mode`: which it was). Live sessions ended with it.
function M.host_exited(code, detail, mode)
  calls.fail(nil, detail or 'the lulu host exited')
  local daemon = mode == 'daemon'
  local any_live = false
  for _, record in ipairs(sessions.all()) do
    if sessions.is_live(record) and not record.host then
      any_live = true
      record.status = 'failed'
      record.failure_reason = daemon and 'daemon exited' or 'host exited'
    end
  end
  if daemon then
    util.notify(
      'the lulu daemon exited; its sessions ended. It starts again on the next lulu command',
      vim.log.levels.ERROR
    )
  elseif code ~= 0 or any_live then
    local why = detail and (': ' .. detail) or ''
    util.notify(
      ('host exited (code %d)%s; it restarts on the next lulu command'):format(code, why),
      vim.log.levels.ERROR
    )
  end
  bus.publish('host_exited')
  status.changed()
end

-- helpers ------------------------------------------------------------------

H.handlers = {}

function H.handlers.screen(screen)
  bus.publish('screen', screen)
end

function H.handlers.session(record)
  local previous = sessions.update(record)
  if record.status == 'failed' and previous and previous.status ~= 'failed' then
    util.notify(
      ('session %s failed: %s'):format(record.name, record.failure_reason or 'unknown reason'),
      vim.log.levels.WARN
    )
  end
  if previous and previous.status ~= record.status then
    bus.publish('session_status', record)
  end
  if record.waiting and previous and not previous.waiting then
    outside.tell(('%s is waiting for you'):format(record.name))
  end
  if record.waiting and previous and not previous.waiting and config.options.approvals.notify then
    if not H.shown(record.id) then
      util.notify(('%s is waiting for you (:LuluNext)'):format(record.name), nil, { key = 'waiting:' .. record.id })
    end
  end
  if not record.waiting then
    -- It moved on: the next time it waits is news again.
    util.forget('waiting:' .. record.id)
  end
  status.changed()
end

--- After the `session` event that made it terminal: every byte the process
--- wrote is in its buffer by now.
function H.handlers.exit(record)
  sessions.update(record)
  bus.publish('exit', record)
  -- A failure is told by the session handler; a quiet end is told here,
  -- unless the session is on screen.
  if record.status == 'completed' and not H.shown(record.id) then
    util.notify(('session %s completed (%s)'):format(record.name, H.how(record)))
  end
  vim.api.nvim_exec_autocmds('User', { pattern = 'LuluSessionExit', modeline = false, data = record })
end

function H.handlers.approval(approval)
  approvals.added(approval)
  status.changed()
end

function H.handlers.approval_resolved(payload)
  approvals.resolved(payload.id, payload.outcome)
  status.changed()
end

--- Something happened on a session's branch (`:LuluActivity`).
function H.handlers.activity(item)
  bus.publish('activity', item)
  vim.api.nvim_exec_autocmds('User', { pattern = 'LuluActivity', modeline = false, data = item })
end

function H.handlers.rules(rules)
  vim.api.nvim_exec_autocmds('User', { pattern = 'LuluRulesChanged', modeline = false, data = rules })
end

--- Worktree count and size, computed by the host in the background.
function H.handlers.usage(usage)
  M.usage = usage
  status.changed()
end

function H.handlers.notice(message)
  -- A notice may carry a code, as errors do: the Vim hint is ours to add.
  util.notify(protocol.clean(message), vim.log.levels.WARN)
end

function H.handlers.deleted(id)
  sessions.remove(id)
  bus.publish('deleted', id)
  status.changed()
end

--- Entries of an ACP session's conversation (`lulu.chat` shows them).
function H.handlers.chat(update)
  bus.publish('chat', update)
end

function H.handlers.reply(payload)
  calls.on_reply(payload)
end

function H.handlers.hello()
  -- The local host answers its hello as a request.
end

--- A remote host's events: its records and questions tagged with its
--- name (and its questions' ids made unique), then handled as the local
--- host's. Its rules and worktree usage are its own: not shown here.
H.remote = {}

function H.remote.hello(reply, host)
  remote.on_hello(host, reply)
end

function H.remote.session(record, host)
  record.host = host
  H.handlers.session(record)
end

function H.remote.exit(record, host)
  record.host = host
  H.handlers.exit(record)
end

function H.remote.approval(approval, host)
  H.handlers.approval(remote.tag_approval(approval, host))
end

function H.remote.approval_resolved(payload, host)
  payload.id = host .. ':' .. tostring(payload.id)
  H.handlers.approval_resolved(payload)
end

function H.remote.notice(message, host)
  H.handlers.notice(host .. ': ' .. message)
end

function H.remote.activity(item, host)
  item.host = host
  H.handlers.activity(item)
end

H.remote.screen = H.handlers.screen
H.remote.deleted = H.handlers.deleted
H.remote.reply = H.handlers.reply
H.remote.chat = H.handlers.chat

--- Is session `id` on screen: a window, in any tab, showing its terminal
--- buffer (`b:lulu_session`, set by `lulu.term`)?
function H.shown(id)
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.b[vim.api.nvim_win_get_buf(win)].lulu_session == id then
      return true
    end
  end
  return false
end

--- How a session ended, in words: its failure, else its exit code (as the
--- ended line in its terminal says it).
function H.how(record)
  local how = record.failure_reason
  if not how or how == vim.NIL then
    how = ('exit %s'):format(record.exit_code ~= vim.NIL and record.exit_code or '?')
  end
  return how
end

return M
