---@mod lulu.term Terminal buffers: one per session, fed by the host.
---
--- The host writes PTY bytes straight into the buffer's terminal channel
--- (nvim_chan_send); keys typed in the buffer go back as notifications.
local M = {}
local H = {}

local rpc = require('lulu.rpc')

---@type table<string, {buf: integer, chan: integer, cols: integer|nil, rows: integer|nil}>
H.terms = {}

--- The session's terminal buffer, created (and attached) if needed. A new
--- buffer is shown in `win` first, so the terminal starts at its size.
---@param record lulu.Session
---@param win integer|nil window to show it in; nil keeps it hidden
---@return integer bufnr
function M.ensure(record, win)
  local term = H.terms[record.id]
  if term and vim.api.nvim_buf_is_loaded(term.buf) then
    if win then
      vim.api.nvim_win_set_buf(win, term.buf)
    end
    return term.buf
  end
  local buf = vim.api.nvim_create_buf(true, false)
  H.name(buf, record)
  vim.b[buf].lulu_session = record.id
  if win then
    vim.api.nvim_win_set_buf(win, buf)
  end
  local id = record.id
  local chan = vim.api.nvim_open_term(buf, {
    force_crlf = false,
    on_input = function(_, _, _, data)
      rpc.notify(rpc.methods.write, id, data)
    end,
  })
  H.terms[id] = { buf = buf, chan = chan }
  vim.bo[buf].bufhidden = 'hide'
  -- :bdelete unloads a terminal buffer and closes its channel; :bwipeout
  -- too. Either way the host stops sending, and a later open starts afresh.
  vim.api.nvim_create_autocmd({ 'BufUnload', 'BufWipeout' }, {
    group = vim.api.nvim_create_augroup('lulu', { clear = false }),
    buffer = buf,
    once = true,
    callback = function()
      if H.terms[id] and H.terms[id].buf == buf then
        H.terms[id] = nil
        rpc.notify(rpc.methods.detach, id, chan)
      end
    end,
  })
  rpc.request(rpc.methods.attach, id, chan)
  M.resize_visible()
  return buf
end

--- Show a session in the current window.
---@param record lulu.Session
function M.open(record)
  local buf = M.ensure(record, vim.api.nvim_get_current_win())
  if require('lulu.sessions').is_live(record) then
    vim.cmd.startinsert()
  end
  return buf
end

function M.buffer_of(id)
  local term = H.terms[id]
  return term and vim.api.nvim_buf_is_valid(term.buf) and term.buf or nil
end

--- Tell the host the size of every visible session: each window's text
--- area; for a buffer in several windows, the smallest.
function M.resize_visible()
  local sessions = require('lulu.sessions')
  for id, term in pairs(H.terms) do
    local record = sessions.find(id)
    local cols, rows
    if record and sessions.is_live(record) and vim.api.nvim_buf_is_valid(term.buf) then
      for _, win in ipairs(vim.fn.win_findbuf(term.buf)) do
        local info = vim.fn.getwininfo(win)[1]
        local w, h = info.width - info.textoff, info.height
        cols = math.min(cols or w, w)
        rows = math.min(rows or h, h)
      end
    end
    if cols and cols > 0 and rows > 0 and (cols ~= term.cols or rows ~= term.rows) then
      term.cols, term.rows = cols, rows
      rpc.notify(rpc.methods.resize, id, cols, rows)
    end
  end
end

--- The size a session started now in `win` would have.
function M.size_for(win)
  local info = vim.fn.getwininfo(win or vim.api.nvim_get_current_win())[1]
  return math.max(info.width - info.textoff, 1), math.max(info.height, 1)
end

--- A session was deleted: its buffer goes too.
function M.forget(id)
  local term = H.terms[id]
  H.terms[id] = nil
  if term and vim.api.nvim_buf_is_valid(term.buf) then
    pcall(vim.api.nvim_buf_delete, term.buf, { force = true })
  end
end

function M.status_changed(record)
  local term = H.terms[record.id]
  if term and vim.api.nvim_buf_is_loaded(term.buf) then
    vim.b[term.buf].lulu_status = record.status
  end
end

--- The host is gone: its channels are dead, so forget them. The buffers stay,
--- showing what they showed; opening the session again makes a new one.
function M.host_exited()
  for id, term in pairs(H.terms) do
    if vim.api.nvim_buf_is_valid(term.buf) then
      vim.b[term.buf].lulu_session = nil
      pcall(vim.api.nvim_buf_set_name, term.buf, vim.api.nvim_buf_get_name(term.buf) .. ' (host exited)')
    end
    H.terms[id] = nil
  end
end

function H.name(buf, record)
  local name = 'lulu://' .. record.name
  local old = vim.fn.bufnr(name)
  if old > 0 and not vim.api.nvim_buf_is_loaded(old) then
    -- The session's unloaded (:bdelete) buffer: replace it.
    pcall(vim.api.nvim_buf_delete, old, { force = true })
  elseif old > 0 then
    -- Another buffer holds the name (a host that exited left it).
    name = name .. '#' .. record.id
  end
  vim.api.nvim_buf_set_name(buf, name)
end

return M
