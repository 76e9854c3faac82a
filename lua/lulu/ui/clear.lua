---@mod lulu.ui.clear Clearing the list of ended sessions (`c` in it):
--- those with nothing left to lose at once, the others after one question.
--- Deletes through `lulu.api.sessions`.
local M = {}

local api_sessions = require('lulu.api.sessions')
local sessions = require('lulu.sessions')
local util = require('lulu.util')

--- Delete every ended session whose work is merged or empty; the ones
--- with work of their own left are named in one question.
function M.ended(after)
  local ended = vim.tbl_filter(function(r)
    return not r.host and not sessions.is_live(r)
  end, sessions.all())
  if #ended == 0 then
    return util.notify('no ended session to clear')
  end
  local left, kept, cleared = #ended, {}, 0
  local function done()
    after()
    if #kept == 0 then
      return util.notify(('cleared %d ended session(s)'):format(cleared))
    end
    local names = vim.tbl_map(function(r)
      return r.name
    end, kept)
    local prompt = ('cleared %d; %d keep work not merged (%s):'):format(cleared, #kept, table.concat(names, ', '))
    vim.ui.select({ 'Delete them too, discarding that work', 'Keep them' }, { prompt = prompt }, function(choice)
      if choice and vim.startswith(choice, 'Delete') then
        for _, r in ipairs(kept) do
          pcall(api_sessions.delete, r.id, { force = true }, function(err)
            if err then
              util.notify(err, vim.log.levels.ERROR)
            end
          end)
        end
      end
    end)
  end
  for _, r in ipairs(ended) do
    local ok = pcall(api_sessions.delete, r.id, { force = false }, function(err)
      if err then
        kept[#kept + 1] = r
      else
        cleared = cleared + 1
      end
      left = left - 1
      if left == 0 then
        done()
      end
    end)
    if not ok then
      kept[#kept + 1] = r
      left = left - 1
    end
  end
  if left == 0 and #ended > 0 and cleared + #kept == #ended and #kept == #ended then
    done()
  end
end

return M
