---@mod lulu.outside Telling the terminal Neovim runs in, for when you are
--- looking elsewhere: with `notify.terminal`, a question or a session that
--- starts waiting while Neovim is not focused sends the terminal a desktop
--- notification (OSC 777 and OSC 9, which terminals such as kitty, foot,
--- WezTerm, iTerm2 and Windows Terminal show) and a bell (which tmux flags
--- on its window and can pass on). Owns whether Neovim has the focus (set
--- by plugin/lulu.lua); requires only `lulu.config`.
local M = {}
local H = {}

local config = require('lulu.config')

M.focused = true

--- The escape sequences for `message`. The text comes from agents, so
--- only printable characters are kept (each other one is a space): no C0
--- or C1 control (U+009C ends an OSC on terminals that read C1), no DEL,
--- no bidi or line-separator mark, and a byte that is not UTF-8 is read
--- as the character of that number. At most 200 characters.
---@param message string
---@return string
function M.sequence(message)
  local kept = {}
  for _, code in ipairs(vim.fn.str2list(message:sub(1, 4096))) do
    if #kept >= 200 then
      break
    end
    kept[#kept + 1] = H.printable(code) and code or 32
  end
  local text = vim.fn.list2str(kept)
  return ('\27]777;notify;lulu;%s\27\\\27]9;lulu: %s\27\\\7'):format(text, text)
end

--- A character that shows as itself.
function H.printable(code)
  return code >= 0x20
    and code ~= 0x7f
    and not (code >= 0x80 and code <= 0x9f)
    and not (code >= 0x200b and code <= 0x200f)
    and not (code >= 0x2028 and code <= 0x202e)
    and not (code >= 0x2060 and code <= 0x206f)
    and code ~= 0xfeff
    and not (code >= 0xfff9 and code <= 0xfffb)
end

--- Tell the terminal, if the user asked for it and is looking elsewhere.
---@param message string
---@return boolean told
function M.tell(message)
  local notify = config.options.notify
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
