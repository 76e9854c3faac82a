---@mod lulu.status The statusline string, and the news that sessions
--- changed: counted at most once per event-loop turn after a change, then
--- told to the UI (`changed` on `lulu.bus`) and to the user's autocmds
--- (`User LuluSessionsChanged`, and `User LuluStatus` when the line is
--- new). Requires `lulu.sessions` and `lulu.bus`; owns the line.
local M = {}
local H = {}

local bus = require('lulu.bus')
local sessions = require('lulu.sessions')

H.line = ''

--- Count again from the editor's copy of the sessions; returns the line.
---@return string
function M.update()
  local live, waiting, pending = 0, 0, 0
  for _, record in ipairs(sessions.all()) do
    if sessions.is_live(record) then
      live = live + 1
      if record.waiting then
        waiting = waiting + 1
      end
    end
    pending = pending + (record.pending_approvals or 0)
  end
  if live == 0 and pending == 0 then
    H.line = ''
  else
    local parts = { 'lulu ' .. live }
    if waiting > 0 then
      parts[#parts + 1] = '◆' .. waiting
    end
    if pending > 0 then
      parts[#parts + 1] = '⚠' .. pending
    end
    H.line = table.concat(parts, ' ')
  end
  return H.line
end

---@return string
function M.line()
  return H.line
end

--- Sessions (or their questions, or the worktrees' usage) changed: redraw
--- what shows them, at most once per event-loop turn.
function M.changed()
  if H.pending then
    return
  end
  H.pending = true
  vim.schedule(function()
    H.pending = false
    bus.publish('changed')
    vim.api.nvim_exec_autocmds('User', { pattern = 'LuluSessionsChanged', modeline = false })
    local line = M.update()
    if line ~= H.told then
      H.told = line
      vim.api.nvim_exec_autocmds('User', { pattern = 'LuluStatus', modeline = false })
    end
  end)
end

return M
