---@mod lulu.persist Autosave and the exit prompt (`persist` options).
local M = {}
local H = {}

local function live_count()
  local n = 0
  for _, r in ipairs(require('lulu.sessions').all()) do
    if require('lulu.sessions').is_live(r) then
      n = n + 1
    end
  end
  return n
end

--- Save as `autosave` if anything is live; quiet unless it fails.
function M.autosave()
  if not require('lulu.host').running() or live_count() == 0 then
    return false
  end
  local ok, err = pcall(require('lulu').save, 'autosave')
  if not ok then
    require('lulu.util').notify('autosave failed: ' .. tostring(err), vim.log.levels.WARN)
  end
  return ok
end

--- (Re)arm the timer and the exit hook from the current options.
function M.apply()
  local opts = require('lulu.config').options.persist
  H.timer = require('lulu.util').stop_timer(H.timer)
  if opts.autosave then
    local ms = opts.autosave * 1000
    H.timer = vim.uv.new_timer()
    H.timer:start(ms, ms, vim.schedule_wrap(M.autosave))
  end
  local group = vim.api.nvim_create_augroup('lulu_persist', { clear = true })
  if opts.autosave or opts.prompt_on_exit then
    vim.api.nvim_create_autocmd('VimLeavePre', {
      group = group,
      callback = H.on_exit,
    })
  end
end

function H.on_exit()
  local opts = require('lulu.config').options.persist
  if live_count() == 0 then
    return
  end
  if opts.autosave then
    M.autosave()
  elseif opts.prompt_on_exit and require('lulu.host').mode() ~= 'daemon' then
    -- (A daemon's sessions go on running: nothing to save them from.)
    local answer = vim.fn.confirm('Save lulu sessions for later (:LuluRestore)?', '&Yes\n&No', 2)
    if answer == 1 then
      pcall(require('lulu').save, 'default')
    end
  end
end

return M
