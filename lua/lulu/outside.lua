---@mod lulu.outside Telling the terminal Neovim runs in, for when you are
--- looking elsewhere: with `notify.terminal`, a question or a session that
--- starts waiting while Neovim is not focused sends the terminal a desktop
--- notification (OSC 777 and OSC 9, which terminals such as kitty, foot,
--- WezTerm, iTerm2 and Windows Terminal show) and a bell (which tmux flags
--- on its window and can pass on).
local M = {}

M.focused = true

--- The escape sequences for `message` (control characters removed: the
--- text comes from agents).
---@param message string
---@return string
function M.sequence(message)
  local text = message:gsub('[%c\27]', ' ')
  return ('\27]777;notify;lulu;%s\27\\\27]9;lulu: %s\27\\\7'):format(text, text)
end

--- Tell the terminal, if the user asked for it and is looking elsewhere.
---@param message string
---@return boolean told
function M.tell(message)
  local notify = require('lulu.config').options.notify
  if M.focused or not (notify and notify.terminal) then
    return false
  end
  -- The UI's terminal is this process's stderr (the TUI starts Neovim's
  -- core with its own stderr).
  pcall(vim.api.nvim_chan_send, vim.v.stderr, M.sequence(message))
  M.told = (M.told or 0) + 1
  return true
end

return M
