---@mod lulu.api.sessions The bodies of the public functions on sessions
--- as the host has them (|lulu-api|): list, get, send, stop, delete,
--- detail, the warm pool. Each asks the host (|lulu.rpc|) and keeps the
--- editor's copy (`lulu.sessions`) current; none shows anything.
local M = {}

local context = require('lulu.context')
local rpc = require('lulu.rpc')
local sessions = require('lulu.sessions')

--- A session argument: a non-empty name or id (raises otherwise).
---@param ref string id, name, or `host:name`
---@return string
function M.ref(ref)
  if type(ref) ~= 'string' or ref == '' then
    error('a session name or id is required', 0)
  end
  return ref
end

--- All sessions, newest first (fresh from the host). Remote hosts'
--- sessions come as they were last told (never waiting on the network);
--- each carries `host`.
---@return lulu.Session[]
function M.list()
  sessions.replace(rpc.request(rpc.methods.list), nil)
  return vim.deepcopy(sessions.all())
end

---@param ref string id, name, or `host:name`
---@return lulu.Session
function M.get(ref)
  local known = sessions.find(M.ref(ref))
  local record = rpc.request(rpc.methods.get, ref)
  record.host = known and known.host
  sessions.update(record)
  return record
end

--- Type `text` into a session as a person would, then Enter. With
--- `opts.context`, its placeholders ({file}, {position}, {selection},
--- {diagnostics}, {quickfix}) are filled from the current buffer (lines
--- `opts.range = { first, last }` selected), as this session sees them.
---@param opts {context: boolean|nil, range: integer[]|nil}|nil
function M.send(ref, text, opts)
  vim.validate('text', text, 'string')
  if opts and opts.context then
    local range = opts.range or {}
    local ctx = context.capture(0, range[1], range[2])
    text = context.expand(text, ctx, M.get(ref))
  end
  rpc.request(rpc.methods.send, M.ref(ref), text)
end

--- Stop a session: SIGHUP/SIGTERM, SIGKILL after 3 s (`force`: at once).
---@param opts {force: boolean}|nil
function M.stop(ref, opts)
  return rpc.request(rpc.methods.stop, M.ref(ref), { force = opts and opts.force or false })
end

--- Delete a session's record and log (stopping it first if live).
---@param opts {force: boolean}|nil
---@param on_done fun(err: string|nil)|nil
function M.delete(ref, opts, on_done)
  rpc.ask(on_done, rpc.methods.delete, M.ref(ref), { force = opts and opts.force or false })
end

--- Everything about a session: `{ record, events = { {at, kind, detail} },
--- output = { last lines, plain text } }`.
function M.detail(ref)
  local known = sessions.find(M.ref(ref))
  local detail = rpc.request(rpc.methods.detail, ref)
  if type(detail) == 'table' then
    detail.host = known and known.host
  end
  return detail
end

--- The pre-warmed shells: `{ size, idle, ready, spawning, claimed, replaced,
--- pids, shell }` (`ready`: idle shells that have shown their prompt).
function M.pool_status()
  return rpc.request(rpc.methods.pool)
end

return M
