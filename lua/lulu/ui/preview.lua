---@mod lulu.ui.preview The list's live preview of the selected session's screen.
---
--- A float under the list (or beside it, when there is no room below)
--- showing the last rows of the selected session's screen, as the host's
--- screen model holds them. The host sends `screen` events while a session
--- is watched (at most ten a second, only when it changed); nothing here
--- waits for it. Owns the preview float and which session it watches;
--- hears `screen` and `host_back` through `lulu.bus`.
local M = {}
local H = {}

local bus = require('lulu.bus')
local config = require('lulu.config')
local remote = require('lulu.remote')
local rpc = require('lulu.rpc')

H.ns = vim.api.nvim_create_namespace('lulu_preview')

function M.is_open()
  return H.win ~= nil and vim.api.nvim_win_is_valid(H.win)
end

--- Where the preview goes for a list float `list` (its nvim_open_win
--- config): below it, else to its right; nil when neither fits.
---@param list table
---@return table|nil
function M.geometry(list, title)
  local place
  local below = vim.o.lines - (list.row + list.height + 2) - 3
  local right = vim.o.columns - (list.col + list.width + 2) - 2
  if below >= 4 then
    place = { row = list.row + list.height + 2, col = list.col, width = list.width, height = math.min(below, M.ROWS) }
  elseif right >= 30 then
    place = { row = list.row, col = list.col + list.width + 2, width = right, height = math.max(list.height, 4) }
  else
    return nil
  end
  return vim.tbl_extend('force', place, {
    relative = 'editor',
    style = 'minimal',
    border = 'rounded',
    title = title,
    title_pos = 'center',
    focusable = false,
    zindex = 45,
  })
end

--- Rows of screen the preview shows at most.
M.ROWS = 12

--- The rows a preview under the list takes, border included (0 when off).
function M.reserve()
  return config.options.list.preview and (M.ROWS + 2) or 0
end

--- Show `record`'s screen beside the list window `list_win`.
---@param list_win integer
---@param record lulu.Session|nil
function M.follow(list_win, record)
  if not record or not vim.api.nvim_win_is_valid(list_win) then
    return M.close()
  end
  local list = vim.api.nvim_win_get_config(list_win)
  local config = M.geometry(list, (' %s '):format(record.name))
  if not config then
    return M.close()
  end
  if not (H.buf and vim.api.nvim_buf_is_valid(H.buf)) then
    H.buf = vim.api.nvim_create_buf(false, true)
    vim.bo[H.buf].bufhidden = 'wipe'
    vim.bo[H.buf].filetype = 'lulu_preview'
  end
  if M.is_open() then
    vim.api.nvim_win_set_config(H.win, config)
  else
    H.win = vim.api.nvim_open_win(H.buf, false, config)
    vim.wo[H.win].wrap = false
    vim.wo[H.win].winhighlight = 'Normal:LuluPreview,FloatBorder:LuluBorder,FloatTitle:LuluTitle'
  end
  if H.watching ~= record.id then
    H.unwatch(record.host)
    H.watching, H.watching_host = record.id, record.host
    H.paint({ '' })
    H.watch_rows = config.height
    rpc.notify(rpc.methods.watch, record.id, config.height)
  end
end

--- Stop the host that sends the watched screen (unless `next_host`, which
--- is told to watch another, replaces the watch itself).
function H.unwatch(next_host)
  if not H.watching or H.watching_host == next_host then
    return
  end
  if H.watching_host then
    remote.notify(H.watching_host, rpc.methods.watch)
  else
    rpc.notify(rpc.methods.watch)
  end
end

--- Host `name` connected again: a screen it was sending is asked for anew
--- (the watch was the old connection's).
function M.host_back(name)
  if H.watching and H.watching_host == name and M.is_open() then
    rpc.notify(rpc.methods.watch, H.watching, H.watch_rows or M.ROWS)
  end
end

function M.close()
  H.unwatch(false)
  H.watching, H.watching_host = nil, nil
  if M.is_open() then
    pcall(vim.api.nvim_win_close, H.win, true)
  end
  H.win, H.buf = nil, nil
end

--- The host sent a screen (`screen` event).
---@param screen {session: string, lines: string[], cursor: integer[], alternate: boolean}
function M.on_screen(screen)
  if screen.session ~= H.watching or not M.is_open() then
    return
  end
  local height = vim.api.nvim_win_get_height(H.win)
  local lines = screen.lines or {}
  -- The last rows, so a prompt at the bottom is what shows.
  local first = math.max(#lines - height + 1, 1)
  local shown = {}
  for i = first, #lines do
    shown[#shown + 1] = lines[i]
  end
  if #shown == 0 then
    shown = { '' }
  end
  H.paint(shown)
end

--- The lines shown now (tests).
function M.lines()
  if not (H.buf and vim.api.nvim_buf_is_valid(H.buf)) then
    return nil
  end
  return vim.api.nvim_buf_get_lines(H.buf, 0, -1, false)
end

function H.paint(lines)
  if not (H.buf and vim.api.nvim_buf_is_valid(H.buf)) then
    return
  end
  vim.bo[H.buf].modifiable = true
  vim.api.nvim_buf_set_lines(H.buf, 0, -1, false, lines)
  vim.bo[H.buf].modifiable = false
end

bus.subscribe('screen', 'lulu.ui.preview', M.on_screen)
bus.subscribe('host_back', 'lulu.ui.preview', M.host_back)

return M
