---@mod lulu.ui.grid :LuluGrid, a tab showing every live session in equal panes.
---
--- Columns x rows by count: 1 -> 1x1, 2 -> 2x1, 3-4 -> 2x2, 5-6 -> 3x2,
--- 7-9 -> 3x3, 10-12 -> 4x3. The last row holds what is left, so there is
--- never an empty pane. The tab re-flows when sessions start or end
--- (`changed` on `lulu.bus`, subscribed at the end). Owns the grid's tab.
local M = {}
local H = {}

local bus = require('lulu.bus')
local sessions = require('lulu.sessions')
local term = require('lulu.term')
local util = require('lulu.util')

--- Columns and rows for `count` panes.
---@return integer cols, integer rows
function M.shape(count)
  if count <= 1 then
    return 1, 1
  elseif count == 2 then
    return 2, 1
  elseif count <= 4 then
    return 2, 2
  elseif count <= 6 then
    return 3, 2
  elseif count <= 9 then
    return 3, 3
  end
  return 4, 3
end

--- The grid's tab page, if it is open.
function M.tab()
  for _, tab in ipairs(vim.api.nvim_list_tabpages()) do
    if vim.t[tab].lulu_grid then
      return tab
    end
  end
end

--- Open the grid (or re-flow it and go there).
function M.open()
  local live = H.live()
  if #live == 0 then
    util.notify('no live sessions to show (start one with :LuluStart)')
    return
  end
  local tab = M.tab()
  if tab then
    vim.api.nvim_set_current_tabpage(tab)
  else
    vim.cmd('tabnew')
    vim.t.lulu_grid = true
  end
  H.flow(live)
end

--- Re-flow an open grid when the set of live sessions changed. Keeps the
--- user's current tab.
function M.refresh()
  local tab = M.tab()
  if not tab then
    return
  end
  local live = H.live()
  local shown = H.shown(tab)
  if vim.deep_equal(
    shown,
    vim.tbl_map(function(r)
      return r.id
    end, live)
  ) then
    return H.winbars(tab)
  end
  if #live == 0 then
    return
  end
  local current = vim.api.nvim_get_current_tabpage()
  vim.api.nvim_set_current_tabpage(tab)
  H.flow(live)
  if vim.api.nvim_tabpage_is_valid(current) then
    vim.api.nvim_set_current_tabpage(current)
  end
end

--- The editor was resized: keep the grid's panes equal.
function M.equalize()
  local tab = M.tab()
  local win = tab and vim.api.nvim_tabpage_list_wins(tab)[1]
  if win then
    vim.api.nvim_win_call(win, function()
      vim.cmd('wincmd =')
    end)
  end
end

--- The winbar text for one session.
---@param r lulu.Session
function M.winbar(r)
  local dot = ({ starting = '%#LuluStarting#◌', running = '%#LuluRunning#●', completed = '%#LuluCompleted#✓' })[r.status]
    or '%#LuluFailed#✗'
  -- `%<` after the name: a narrow pane cuts the branch and cost, never
  -- the name (the end, waiting and questions, stays too).
  local parts = { ('%s%%* %%#LuluMeta#[%s]%%* %%#LuluName#%s%%*%%<'):format(dot, r.agent, H.escape(r.name)) }
  if r.branch then
    parts[#parts + 1] = '%#LuluMeta#' .. H.escape(r.branch) .. '%*'
  end
  if r.cost_usd then
    parts[#parts + 1] = '%#LuluCost#' .. util.money(r.cost_usd):gsub('%%', '%%%%') .. '%*'
  end
  if r.waiting then
    parts[#parts + 1] = '%#LuluWaiting#◆ waiting%*'
  end
  if (r.pending_approvals or 0) > 0 then
    parts[#parts + 1] = ('%%#LuluPending#⚠ %d%%*'):format(r.pending_approvals)
  end
  return ' ' .. table.concat(parts, ' · ')
end

-- helpers ------------------------------------------------------------------

function H.escape(text)
  return (text:gsub('%%', '%%%%'))
end

--- Live sessions, newest first, at most 12.
function H.live()
  local live = vim.tbl_filter(sessions.is_live, sessions.all())
  return vim.list_slice(live, 1, 12)
end

--- Session ids shown in the tab's windows, in window order.
function H.shown(tab)
  local ids = {}
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(tab)) do
    ids[#ids + 1] = vim.w[win].lulu_grid_session
  end
  return ids
end

--- Rebuild the current tab as the grid for `live`.
function H.flow(live)
  local cols, rows = M.shape(#live)
  -- One window, holding a scratch buffer, to split from.
  vim.cmd('silent! only')
  local first = vim.api.nvim_get_current_win()
  local row_wins = { first }
  for _ = 2, math.min(rows, math.ceil(#live / cols)) do
    vim.api.nvim_set_current_win(row_wins[#row_wins])
    vim.cmd('belowright split')
    row_wins[#row_wins + 1] = vim.api.nvim_get_current_win()
  end
  local panes, index = {}, 1
  for _, row_win in ipairs(row_wins) do
    local in_row = math.min(cols, #live - index + 1)
    local win = row_win
    panes[#panes + 1] = win
    for _ = 2, in_row do
      vim.api.nvim_set_current_win(win)
      vim.cmd('belowright vsplit')
      win = vim.api.nvim_get_current_win()
      panes[#panes + 1] = win
    end
    index = index + in_row
  end
  vim.cmd('wincmd =')
  for i, record in ipairs(live) do
    local win = panes[i]
    local buf = term.ensure(record, win)
    -- On its last line a terminal window follows the output, as a tmux
    -- pane does (scrolling up stops that; G starts it again).
    pcall(vim.api.nvim_win_set_cursor, win, { vim.api.nvim_buf_line_count(buf), 0 })
    vim.w[win].lulu_grid_session = record.id
    vim.wo[win].winbar = M.winbar(record)
  end
  vim.api.nvim_set_current_win(panes[1])
  term.resize_visible()
end

function H.winbars(tab)
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(tab)) do
    local record = sessions.find(vim.w[win].lulu_grid_session or '')
    if record then
      vim.wo[win].winbar = M.winbar(record)
    end
  end
end

bus.subscribe('changed', 'lulu.ui.grid', M.refresh)

return M
