---@mod lulu.term.buffer A session's terminal buffer as Neovim knows it: the
--- buffer, its emulator's channel, where its keys go, and the autocommands
--- that say it was hidden, shown again or unloaded. Also the early
--- terminal: opened by `:LuluStart` before the host has made the session,
--- so Neovim's terminal is up (and its first refresh due) while the host
--- works; keys typed into it wait until it is bound to the session. Owns
--- no session state (`lulu.term` does).
local M = {}

local rpc = require('lulu.rpc')
local size = require('lulu.term.size')
local util = require('lulu.util')

--- Bytes of keys an early terminal keeps before its session exists.
M.MAX_QUEUED = 1024 * 1024

---@class lulu.TermTarget
---@field id string|nil the session its keys go to; nil until it is made
---@field queued string[] keys typed before that
---@field bytes integer their size
---@field prev integer|nil the buffer an early terminal's window showed
---@field buf integer|nil an early terminal's buffer
---@field chan integer|nil an early terminal's channel

--- Where a terminal's keys go: session `id`, or (nil) one not made yet.
---@return lulu.TermTarget
function M.target(id)
  return { id = id, queued = {}, bytes = 0 }
end

--- Open the emulator of `buf` in the largest window that shows it (else
--- `win`, else the current one), so that it starts at the size the host
--- gives the session (Neovim sizes a new terminal by the current window).
---@param target lulu.TermTarget
---@return integer chan
function M.open_term(buf, win, target)
  return vim.api.nvim_win_call(size.largest_win(buf) or win or vim.api.nvim_get_current_win(), function()
    return vim.api.nvim_open_term(buf, {
      force_crlf = false,
      on_input = function(_, _, _, data)
        if target.id then
          rpc.notify(rpc.methods.write, target.id, data)
        elseif target.bytes + #data <= M.MAX_QUEUED then
          target.queued[#target.queued + 1] = data
          target.bytes = target.bytes + #data
        elseif not target.overflowed then
          target.overflowed = true
          util.notify(
            'keys typed before the session started are dropped past 1 MiB: type them again',
            vim.log.levels.WARN
          )
        end
      end,
    })
  end)
end

--- A terminal in `win` for a session being started: bound by
--- `lulu.term.open(record, early)` once the host answers, dropped if the
--- start fails. Hidden before that, it is wiped (the session then opens as
--- any other).
---@return lulu.TermTarget
---@return lulu.TermTarget|nil nil when the window cannot show it ('winfixbuf')
function M.early(win)
  local prev = vim.api.nvim_win_get_buf(win)
  local buf = vim.api.nvim_create_buf(true, false)
  vim.bo[buf].bufhidden = 'wipe'
  if not pcall(vim.api.nvim_win_set_buf, win, buf) then
    vim.api.nvim_buf_delete(buf, { force = true })
    return nil
  end
  local early = M.target(nil)
  early.buf, early.prev = buf, prev
  early.chan = M.open_term(buf, win, early)
  return early
end

--- Is the early terminal still on screen to be bound?
function M.usable(early)
  return early ~= nil and vim.api.nvim_buf_is_valid(early.buf) and #vim.fn.win_findbuf(early.buf) > 0
end

--- The session is made: its keys go to it, those typed meanwhile first.
---@param target lulu.TermTarget
function M.bind(target, id)
  target.id = id
  for _, data in ipairs(target.queued) do
    rpc.notify(rpc.methods.write, id, data)
  end
  target.queued = {}
end

--- An early terminal no session took (the start failed, or another was
--- shown): its window goes back to what it showed before.
function M.drop(early)
  if not (early and vim.api.nvim_buf_is_valid(early.buf)) then
    return
  end
  if vim.api.nvim_get_current_buf() == early.buf and vim.api.nvim_get_mode().mode == 't' then
    vim.cmd.stopinsert()
  end
  -- Each window that shows it shows what it did before (deleting the
  -- buffer would close every window but the last).
  local back = early.prev and vim.api.nvim_buf_is_valid(early.prev) and early.prev or nil
  for _, win in ipairs(vim.fn.win_findbuf(early.buf)) do
    pcall(vim.api.nvim_win_set_buf, win, back or vim.api.nvim_create_buf(true, false))
  end
  M.wipe(early.buf)
end

--- Wipe `buf`; a terminal still in Terminal mode cannot be, until the mode
--- is left: tried again a few times.
function M.wipe(buf, tries)
  pcall(vim.api.nvim_buf_delete, buf, { force = true })
  if vim.api.nvim_buf_is_valid(buf) and (tries or 0) < 20 then
    vim.defer_fn(function()
      M.wipe(buf, (tries or 0) + 1)
    end, 10)
  end
end

--- Call `hooks.gone` when `buf` is unloaded or wiped (its channel closes),
--- `hooks.hidden` when it may no longer be on screen and `hooks.shown`
--- when it is shown again (both scheduled: windows settle first).
---@param hooks {gone: fun(), hidden: fun(), shown: fun()}
function M.watch(buf, hooks)
  local group = vim.api.nvim_create_augroup('lulu', { clear = false })
  vim.api.nvim_create_autocmd({ 'BufUnload', 'BufWipeout' }, {
    group = group,
    buffer = buf,
    once = true,
    callback = hooks.gone,
  })
  vim.api.nvim_create_autocmd({ 'BufWinLeave', 'BufHidden' }, {
    group = group,
    buffer = buf,
    callback = function()
      vim.schedule(hooks.hidden)
    end,
  })
  vim.api.nvim_create_autocmd('BufWinEnter', {
    group = group,
    buffer = buf,
    callback = function()
      vim.schedule(hooks.shown)
    end,
  })
end

return M
