---@mod lulu.persist Autosave and the exit prompt (`persist` options): the
--- live sessions saved as a set (`lulu.api.saved`) on a timer or when
--- Neovim exits. Owns that timer and the `lulu_persist` augroup.
local M = {}
local H = {}

local config = require('lulu.config')
local host = require('lulu.host')
local saved = require('lulu.api.saved')
local sessions = require('lulu.sessions')
local util = require('lulu.util')

--- Save as `autosave` if anything is live; quiet unless it fails.
function M.autosave()
  if not host.running() or H.live_count() == 0 then
    return false
  end
  local ok, err = pcall(saved.save, 'autosave')
  if not ok then
    util.notify('autosave failed: ' .. tostring(err), vim.log.levels.WARN)
  end
  return ok
end

--- (Re)arm the timer and the exit hook from the current options.
function M.apply()
  local opts = config.options.persist
  H.timer = util.stop_timer(H.timer)
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

-- helpers ------------------------------------------------------------------

function H.live_count()
  local n = 0
  for _, r in ipairs(sessions.all()) do
    if sessions.is_live(r) then
      n = n + 1
    end
  end
  return n
end

function H.on_exit()
  local opts = config.options.persist
  if H.live_count() == 0 then
    return
  end
  if opts.autosave then
    M.autosave()
  elseif opts.prompt_on_exit and host.mode() ~= 'daemon' then
    -- (A daemon's sessions go on running: nothing to save them from.)
    local answer = vim.fn.confirm('Save lulu sessions for later (:LuluRestore)?', '&Yes\n&No', 2)
    if answer == 1 then
      pcall(saved.save, 'default')
    end
  end
end

return M
