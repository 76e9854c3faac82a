---@mod lulu.events The single entry for everything the host tells the editor.
local M = {}
local H = {}

local sessions = require('lulu.sessions')
local util = require('lulu.util')

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

--- The host answered hello: load its view of the sessions.
function M.host_started()
  local rpc = require('lulu.rpc')
  local ok, records = pcall(vim.rpcrequest, require('lulu.host').ensure(), rpc.methods.list)
  if ok then
    sessions.replace(records, nil)
  end
  -- A daemon may have questions waiting from before this editor attached;
  -- a fresh embedded host has none.
  local pending = nil
  if require('lulu.host').mode() == 'daemon' then
    local ok, list = pcall(vim.rpcrequest, require('lulu.host').ensure(), rpc.methods.approvals)
    pending = ok and list or nil
  end
  require('lulu.approvals').reset(pending, nil)
  -- Remote hosts join in the background, so their sessions are listed.
  require('lulu.remote').connect_all()
  H.changed()
end

--- The host process ended. Live sessions ended with it.
function M.host_exited(code, detail)
  require('lulu.rpc').fail_calls(nil, detail or 'the lulu host exited')
  local daemon = require('lulu.host').mode() == 'daemon'
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
  require('lulu.term').host_exited()
  H.changed()
end

-- helpers ------------------------------------------------------------------

H.handlers = {}

function H.handlers.screen(screen)
  require('lulu.ui.preview').on_screen(screen)
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
    require('lulu.term').status_changed(record)
  end
  if record.waiting and previous and not previous.waiting then
    require('lulu.outside').tell(('%s is waiting for you'):format(record.name))
  end
  if record.waiting and previous and not previous.waiting and require('lulu.config').options.approvals.notify then
    local buf = require('lulu.term').buffer_of(record.id)
    if not buf or #vim.fn.win_findbuf(buf) == 0 then
      util.notify(('%s is waiting for you (:LuluNext)'):format(record.name), nil, { key = 'waiting:' .. record.id })
    end
  end
  if not record.waiting then
    -- It moved on: the next time it waits is news again.
    util.forget('waiting:' .. record.id)
  end
  H.changed()
end

--- After the `session` event that made it terminal: every byte the process
--- wrote is in its buffer by now.
function H.handlers.exit(record)
  sessions.update(record)
  local term = require('lulu.term')
  term.ended(record)
  -- A failure is told by the session handler; a quiet end is told here,
  -- unless the session is on screen.
  if record.status == 'completed' and not term.visible(record.id) then
    util.notify(('session %s completed (%s)'):format(record.name, term.ended_line(record):match('· (.-) ·') or ''))
  end
  vim.api.nvim_exec_autocmds('User', { pattern = 'LuluSessionExit', modeline = false, data = record })
end

function H.handlers.approval(approval)
  require('lulu.approvals').added(approval)
  H.changed()
end

function H.handlers.approval_resolved(payload)
  require('lulu.approvals').resolved(payload.id, payload.outcome)
  H.changed()
end

--- Something happened on a session's branch (`:LuluActivity`).
function H.handlers.activity(item)
  if package.loaded['lulu.ui.activity'] then
    require('lulu.ui.activity').added(item)
  end
  vim.api.nvim_exec_autocmds('User', { pattern = 'LuluActivity', modeline = false, data = item })
end

function H.handlers.rules(rules)
  vim.api.nvim_exec_autocmds('User', { pattern = 'LuluRulesChanged', modeline = false, data = rules })
end

--- Worktree count and size, computed by the host in the background.
function H.handlers.usage(usage)
  M.usage = usage
  H.changed()
end

function H.handlers.notice(message)
  -- A notice may carry a code, as errors do: the Vim hint is ours to add.
  util.notify(require('lulu.rpc').clean(message), vim.log.levels.WARN)
end

function H.handlers.deleted(id)
  sessions.remove(id)
  require('lulu.term').forget(id)
  H.changed()
end

--- A remote host's events: its records and questions tagged with its
--- name (and its questions' ids made unique), then handled as the local
--- host's. Its rules and worktree usage are its own: not shown here.
H.remote = {}

function H.remote.hello(reply, host)
  require('lulu.remote').on_hello(host, reply)
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
  H.handlers.approval(require('lulu.remote').tag_approval(approval, host))
end

function H.remote.approval_resolved(payload, host)
  payload.id = host .. ':' .. tostring(payload.id)
  H.handlers.approval_resolved(payload)
end

function H.remote.notice(message, host)
  H.handlers.notice(host .. ': ' .. message)
end

H.remote.screen = function(screen)
  H.handlers.screen(screen)
end
H.remote.deleted = function(id)
  H.handlers.deleted(id)
end
H.remote.activity = function(item, host)
  item.host = host
  H.handlers.activity(item)
end

function H.handlers.reply(payload)
  require('lulu.rpc').on_reply(payload)
end

function H.remote.reply(payload)
  require('lulu.rpc').on_reply(payload)
end

function H.handlers.hello()
  -- The local host answers its hello as a request.
end

function M.changed()
  H.changed()
end

--- Redraw what shows sessions, at most once per event-loop turn.
function H.changed()
  if H.pending then
    return
  end
  H.pending = true
  vim.schedule(function()
    H.pending = false
    require('lulu.ui.list').refresh()
    if package.loaded['lulu.ui.grid'] then
      require('lulu.ui.grid').refresh()
    end
    vim.api.nvim_exec_autocmds('User', { pattern = 'LuluSessionsChanged', modeline = false })
    local line = require('lulu.status').update()
    if line ~= H.status_line then
      H.status_line = line
      vim.api.nvim_exec_autocmds('User', { pattern = 'LuluStatus', modeline = false })
    end
  end)
end

return M
