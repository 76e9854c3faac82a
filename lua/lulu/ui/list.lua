---@mod lulu.ui.list The floating session list (:LuluList).
---
--- Two lines per session, newest first, grouped under their repository
--- when there is more than one; `f` shows all, this repository's, or the
--- waiting ones. The float redraws on every session
--- event (`changed` on `lulu.bus`) and once a second (ages tick, the
--- running dot pulses); rows never move when a status changes, and the
--- selection follows its session. Owns the float and its timer; the rows'
--- text is `lulu.ui.list.layout`'s, its keys `lulu.ui.list.keys`'s, the
--- screen under it `lulu.ui.preview`'s.
local M = {}
local H = {}

local api_sessions = require('lulu.api.sessions')
local bus = require('lulu.bus')
local config = require('lulu.config')
local events = require('lulu.events')
local keys = require('lulu.ui.list.keys')
local layout = require('lulu.ui.list.layout')
local preview = require('lulu.ui.preview')
local rpc = require('lulu.rpc')
local sessions = require('lulu.sessions')
local util = require('lulu.util')

H.ns = vim.api.nvim_create_namespace('lulu_list')
---@type lulu.Session[] the rows as drawn, top to bottom
H.rows = {}
---@type integer[] each row's first line (1-based)
H.firsts = {}
--- What the list shows: all sessions, those of the editor's repository, or
--- those waiting for you (`f` cycles).
H.filters = { 'all', 'repo', 'waiting' }
H.filter = 'all'

M.footer = layout.footer
M.footer_short = layout.footer_short
M.layout = layout.layout

function M.is_open()
  return H.win ~= nil and vim.api.nvim_win_is_valid(H.win)
end

function M.toggle()
  if M.is_open() then
    M.close()
  else
    M.open()
  end
end

--- Open the list; `select` (a session id) puts the cursor on its row.
---@param select string|nil
function M.open(select)
  if M.is_open() then
    vim.api.nvim_set_current_win(H.win)
    return
  end
  H.selected_id = select
  -- Fresh records from the host (this also starts it on first use).
  api_sessions.list()
  H.prev_win = vim.api.nvim_get_current_win()
  H.buf = vim.api.nvim_create_buf(false, true)
  vim.bo[H.buf].filetype = 'lulu_list'
  vim.bo[H.buf].bufhidden = 'wipe'
  H.win = vim.api.nvim_open_win(H.buf, true, H.geometry(#sessions.all() * 2))
  vim.wo[H.win].cursorline = false
  vim.wo[H.win].wrap = false
  vim.wo[H.win].winhighlight = 'FloatBorder:LuluBorder,FloatTitle:LuluTitle,FloatFooter:LuluFooter'
  keys.set(H.buf, H.handle)
  H.render()
  H.tick()
  H.ask_usage()
  H.autocmds()
end

function M.close()
  preview.close()
  H.timer = util.stop_timer(H.timer)
  if M.is_open() then
    pcall(vim.api.nvim_win_close, H.win, true)
  end
  H.win, H.buf, H.selected_id = nil, nil, nil
  pcall(vim.api.nvim_del_augroup_by_name, 'lulu_list')
end

function M.refresh()
  if M.is_open() and vim.api.nvim_buf_is_valid(H.buf) then
    H.render()
  end
end

--- The session under the cursor.
---@return lulu.Session|nil
function M.selected()
  if not M.is_open() then
    return nil
  end
  return H.rows[H.row_at(vim.api.nvim_win_get_cursor(H.win)[1])]
end

--- Cycle what the list shows: all, this repository, waiting.
function M.cycle_filter()
  for i, name in ipairs(H.filters) do
    if name == H.filter then
      H.filter = H.filters[i % #H.filters + 1]
      break
    end
  end
  M.refresh()
  return H.filter
end

--- The sessions the filter lets through, newest first.
function M.shown()
  local all = sessions.all()
  if H.filter == 'waiting' then
    return vim.tbl_filter(function(r)
      return r.waiting or (r.pending_approvals or 0) > 0
    end, all)
  elseif H.filter == 'repo' then
    local here = vim.fs.root(vim.fn.getcwd(), '.git') or vim.fn.getcwd()
    return vim.tbl_filter(function(r)
      return not r.host and (r.repo or r.cwd) == here
    end, all)
  end
  return all
end

-- helpers ------------------------------------------------------------------

--- Once a second: the running dot pulses, ages tick; every ten, the
--- worktrees' usage is asked for again.
function H.tick()
  H.timer = vim.uv.new_timer()
  H.ticks = 0
  H.timer:start(
    1000,
    1000,
    vim.schedule_wrap(function()
      H.pulse = not H.pulse
      H.ticks = H.ticks + 1
      if H.ticks % 10 == 0 then
        H.ask_usage()
      end
      M.refresh()
    end)
  )
end

--- The list closes when left; the cursor keeps to a row's first line.
function H.autocmds()
  vim.api.nvim_create_autocmd({ 'WinLeave', 'BufWipeout' }, {
    group = vim.api.nvim_create_augroup('lulu_list', { clear = true }),
    buffer = H.buf,
    once = true,
    callback = function()
      vim.schedule(M.close)
    end,
  })
  vim.api.nvim_create_autocmd('CursorMoved', {
    group = 'lulu_list',
    buffer = H.buf,
    callback = H.snap,
  })
end

--- Close the list for a moment (a detail, a dialog) and reopen it on the
--- same row afterwards.
function H.away(record, show)
  local target = H.prev_win
  M.close()
  show(function()
    if target and vim.api.nvim_win_is_valid(target) then
      vim.api.nvim_set_current_win(target)
    end
    M.open(record.id)
  end)
end

--- Ask the host for the worktrees' size without waiting: it answers from a
--- cache, and a fresh figure arrives later as a `usage` event.
function H.ask_usage()
  rpc.notify(rpc.methods.usage)
end

function H.geometry(height)
  local width = math.max(math.min(80, vim.o.columns - 4), 20)
  local title = layout.title(sessions.all())
  if H.filter ~= 'all' then
    title = title .. (H.filter == 'repo' and '· this repository ' or '· waiting ')
  end
  local float = util.float(width, math.max(height, 2), title, H.footer(width))
  -- With the preview under it, the two are centred together.
  local reserve = preview.reserve()
  if reserve > 0 and vim.o.lines - (float.height + 2) - reserve >= 4 then
    float.row = math.max(math.floor((vim.o.lines - float.height - 2 - reserve) / 2), 0)
  end
  return float
end

function H.footer(width)
  return layout.footer_for(width, events.usage)
end

function H.render()
  local selected_id = H.selected_id
  local width = H.geometry(2).width
  local lines, hls, rows, firsts = layout.layout(M.shown(), width, nil, H.pulse)
  H.rows, H.firsts = rows, firsts
  if #rows == 0 and H.filter ~= 'all' then
    local what = H.filter == 'repo' and 'in this repository' or 'waiting for you'
    lines = { '', ('  No session %s. f shows them all.'):format(what) }
  end
  vim.api.nvim_win_set_config(H.win, H.geometry(#lines))
  vim.bo[H.buf].modifiable = true
  vim.api.nvim_buf_set_lines(H.buf, 0, -1, false, lines)
  vim.bo[H.buf].modifiable = false
  vim.api.nvim_buf_clear_namespace(H.buf, H.ns, 0, -1)
  for _, hl in ipairs(hls) do
    local line_len = #lines[hl[1] + 1]
    vim.api.nvim_buf_set_extmark(H.buf, H.ns, hl[1], hl[2], {
      end_col = hl[3] < 0 and line_len or math.min(hl[3], line_len),
      hl_group = hl[4],
    })
  end
  local index = 1
  for i, r in ipairs(H.rows) do
    if r.id == selected_id then
      index = i
    end
  end
  H.selected_id = H.rows[index] and H.rows[index].id
  H.select(index)
  H.preview()
end

--- Put the cursor and the highlight on row `index`.
function H.select(index)
  if #H.rows == 0 then
    return
  end
  H.moving = true
  vim.api.nvim_win_set_cursor(H.win, { H.firsts[index], 0 })
  H.moving = false
  for offset = 0, 1 do
    vim.api.nvim_buf_set_extmark(H.buf, H.ns, H.firsts[index] - 1 + offset, 0, {
      line_hl_group = 'LuluSelected',
      priority = 10,
    })
  end
end

--- The preview follows the selection (when it is on).
function H.preview()
  if config.options.list.preview then
    preview.follow(H.win, H.rows[1] and M.selected())
  else
    preview.close()
  end
end

--- Keep the cursor on a row's first line (mouse clicks land anywhere).
function H.snap()
  if H.moving or not M.is_open() then
    return
  end
  local line = vim.api.nvim_win_get_cursor(H.win)[1]
  local row = H.row_at(line)
  local record = H.rows[row]
  if record and record.id ~= H.selected_id or line ~= H.firsts[row] then
    H.selected_id = record and record.id or H.selected_id
    H.render()
  end
end

function H.move(delta)
  local count = #H.rows
  if count == 0 then
    return
  end
  local row = H.row_at(vim.api.nvim_win_get_cursor(H.win)[1])
  row = math.min(math.max(row + delta * vim.v.count1, 1), count)
  H.selected_id = H.rows[row].id
  H.render()
end

--- The row at `line` (1-based): the one it belongs to, or for a group's
--- header the row under it.
function H.row_at(line)
  for i = #H.firsts, 1, -1 do
    if H.firsts[i] <= line then
      return i
    end
  end
  return 1
end

--- What the keys may do to the list (`lulu.ui.list.keys`).
---@type lulu.ListHandle
H.handle = {
  selected = M.selected,
  close = M.close,
  open = M.open,
  away = H.away,
  render = H.render,
  move = H.move,
  prev_win = function()
    return H.prev_win
  end,
  ask_usage = H.ask_usage,
  cycle_filter = M.cycle_filter,
}

bus.subscribe('changed', 'lulu.ui.list', M.refresh)

return M
