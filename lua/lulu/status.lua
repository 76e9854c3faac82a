---@mod lulu.status The statusline string: counted when sessions change, read
--- on every redraw.
local M = {}

local line = ''

--- Count again from the editor's copy of the sessions; returns the line.
---@return string
function M.update()
  local sessions = require('lulu.sessions')
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
    line = ''
  else
    local parts = { 'lulu ' .. live }
    if waiting > 0 then
      parts[#parts + 1] = '◆' .. waiting
    end
    if pending > 0 then
      parts[#parts + 1] = '⚠' .. pending
    end
    line = table.concat(parts, ' ')
  end
  return line
end

---@return string
function M.line()
  return line
end

return M
