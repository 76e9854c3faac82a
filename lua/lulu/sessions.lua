---@mod lulu.sessions The editor's copy of the host's session records, kept
--- current by events so that the list can redraw without asking the host.
--- Owns the records (by id); requires nothing and tells no one: those who
--- change it say so (|lulu.status.changed()|).
local M = {}

---@class lulu.Session
---@field id string
---@field name string
---@field agent string
---@field status 'starting'|'running'|'completed'|'failed'
---@field failure_reason string|nil
---@field exit_code integer|nil
---@field pid integer|nil
---@field cwd string
---@field argv string[]
---@field worktree string|nil
---@field branch string|nil
---@field base string|nil
---@field created_at string
---@field updated_at string
---@field last_activity_at string
---@field cost_usd number|nil
---@field tokens {input: integer, output: integer, cache_write: integer, cache_read: integer}|nil
---@field conversation string|nil the agent's own conversation id (what :LuluResume resumes)
---@field pending_approvals integer
---@field host string|nil the remote host it runs on (|lulu-remote|); nil: this machine

---@type table<string, lulu.Session>
local by_id = {}

--- The records of one host (`nil`: the local one) are now `records`.
---@param records lulu.Session[]
---@param host string|nil
function M.replace(records, host)
  for id, record in pairs(by_id) do
    if record.host == host then
      by_id[id] = nil
    end
  end
  for _, record in ipairs(records) do
    by_id[record.id] = record
  end
end

---@param record lulu.Session
---@return lulu.Session|nil previous
function M.update(record)
  local previous = by_id[record.id]
  by_id[record.id] = record
  return previous
end

--- Take a start's reply: an event about the session may have come first
--- (it went live, it printed), newer than the reply's snapshot; then the
--- event's record stands.
---@return lulu.Session the record kept
function M.started(record)
  local known = by_id[record.id]
  if known then
    return known
  end
  by_id[record.id] = record
  return record
end

function M.remove(id)
  by_id[id] = nil
end

--- Newest first. Ties (same millisecond) fall back to the id for stability.
---@return lulu.Session[]
function M.all()
  local list = vim.tbl_values(by_id)
  table.sort(list, function(a, b)
    if a.created_at ~= b.created_at then
      return a.created_at > b.created_at
    end
    return a.id > b.id
  end)
  return list
end

--- By id, `host:name`, or name (this machine's first, then any host's).
---@param ref string
---@return lulu.Session|nil
function M.find(ref)
  if by_id[ref] then
    return by_id[ref]
  end
  local host, name = ref:match('^([%w_.-]+):(.+)$')
  local fallback
  for _, record in pairs(by_id) do
    if host then
      if record.host == host and (record.name == name or record.id == name) then
        return record
      end
    elseif record.name == ref then
      if not record.host then
        return record
      end
      fallback = fallback or record
    end
  end
  return fallback
end

--- How a session is named where several hosts show: `devbox:name` for a
--- remote one.
function M.label(record)
  return record.host and (record.host .. ':' .. record.name) or record.name
end

function M.is_live(record)
  return record.status == 'starting' or record.status == 'running'
end

return M
