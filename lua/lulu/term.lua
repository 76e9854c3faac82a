---@mod lulu.term Terminal buffers: one per session, fed by the host.
---
--- The host writes PTY bytes into the buffer's channel; keys go back as
--- notifications (an ACP session's buffer is `lulu.chat`'s instead). Owns
--- the terminal buffers; hears the hosts through `lulu.bus`.
local M = {}
local H = {}

local bus = require('lulu.bus')
local chat = require('lulu.chat')
local attach = require('lulu.term.attach')
local buffer = require('lulu.term.buffer')
local config = require('lulu.config')
local host = require('lulu.host')
local keys = require('lulu.keys')
local remote = require('lulu.remote')
local rpc = require('lulu.rpc')
local sessions = require('lulu.sessions')
local size = require('lulu.term.size')

---@type table<string, {buf: integer, chan: integer, cols: integer|nil, rows: integer|nil}>
H.terms = {}

--- The session's terminal buffer, created (and attached) if needed. A new
--- buffer is shown in `win` first, so the terminal starts at its size; an
--- early terminal (`lulu.term.buffer.early`) still on screen is taken.
---@param record lulu.Session
---@param win integer|nil window to show it in; nil keeps it hidden
---@param early lulu.TermTarget|nil
---@return integer bufnr
function M.ensure(record, win, early)
  local term = H.terms[record.id]
  if record.kind == 'acp' or term then
    buffer.drop(early)
    early = nil
  end
  if record.kind == 'acp' then
    return chat.ensure(record, win)
  end -- stylua: ignore
  if term and vim.api.nvim_buf_is_loaded(term.buf) and not term.lazy and not term.stale then
    if win then
      vim.api.nvim_win_set_buf(win, term.buf)
    end
    return term.buf
  end
  -- A live session's buffer that went lazy while hidden keeps its
  -- terminal: the host catches it up with what happened while nobody was
  -- looking (the rows that scrolled off since, and the screen), not the
  -- whole history again.
  -- (Shown again at another size, its emulator would reflow what it kept
  -- by its own rules: then it is painted afresh instead, below.)
  if term and term.lazy and not term.stale and vim.api.nvim_buf_is_loaded(term.buf) and sessions.is_live(record) then
    if win then
      vim.api.nvim_win_set_buf(win, term.buf)
    end
    if size.of(term.buf) == size.key(term.cols, term.rows) then
      H.resume(record.id, term)
      return term.buf
    end
    term.stale = true
  end
  return H.fresh(record, win, early)
end

--- A fresh terminal for `record`, which the host paints from its screen
--- model: the early one, else a new buffer (in place of a stale one).
function H.fresh(record, win, early)
  local id = record.id
  local buf, chan
  if buffer.usable(early) then
    buf, chan = early.buf, early.chan
    buffer.bind(early, id)
    attach.name(buf, record)
    vim.b[buf].lulu_session = id
  else
    buffer.drop(early)
    buf, win = H.replace(record, win)
    chan = buffer.open_term(buf, win, buffer.target(id))
  end
  -- Sized first: the host resizes the session to the window, then paints
  -- the terminal from its screen model at that size.
  local cols, rows = size.fitted(buf)
  H.terms[id] = { buf = buf, chan = chan, cols = cols, rows = rows }
  keys.terminal_maps(buf)
  vim.bo[buf].bufhidden = 'hide'
  buffer.watch(buf, {
    -- :bdelete unloads a terminal buffer and closes its channel; :bwipeout
    -- too. Either way the host stops sending, and a later open starts afresh.
    gone = function()
      if H.terms[id] and H.terms[id].buf == buf then
        H.terms[id] = nil
        rpc.notify(rpc.methods.detach, id, chan)
      end
    end,
    -- Lazy rendering: once shown and then hidden, a live session stops
    -- streaming to this buffer (the host keeps its screen); shown again, it
    -- is rebuilt from the host's screen model.
    hidden = function()
      H.maybe_sleep(id, buf)
    end,
    shown = function()
      H.maybe_wake(id, buf)
    end,
  })
  attach.attach(id, chan, cols, rows, attach.opts(buf, false))
  M.resize_visible()
  return buf
end

--- A new buffer for `record`, shown in `win` (else where its stale one
--- was, which it replaces, winbars kept). Returns it and that window.
function H.replace(record, win)
  local term = H.terms[record.id]
  local stale = term and vim.api.nvim_buf_is_valid(term.buf) and term.buf or nil
  local stale_wins = stale and vim.fn.win_findbuf(stale) or {}
  win = win or stale_wins[1]
  local buf = vim.api.nvim_create_buf(true, false)
  if stale then
    H.terms[record.id] = nil
    -- Each window keeps its winbar (a grid pane's) before the terminal
    -- opens: its height is the terminal's.
    for _, other in ipairs(vim.list_extend({ win }, stale_wins)) do
      if vim.api.nvim_win_is_valid(other) then
        local winbar = vim.wo[other].winbar
        vim.api.nvim_win_set_buf(other, buf)
        vim.wo[other].winbar = winbar
      end
    end
    pcall(vim.api.nvim_buf_delete, stale, { force = true })
  end
  attach.name(buf, record)
  vim.b[buf].lulu_session = record.id
  if win then
    vim.api.nvim_win_set_buf(win, buf)
  end
  return buf, win
end

--- Show a session in the current window (or in its early terminal, see
--- `lulu.term.buffer.early`).
---@param record lulu.Session
---@param early lulu.TermTarget|nil
function M.open(record, early)
  if record.kind == 'acp' then
    buffer.drop(early)
    return chat.open(record)
  end -- stylua: ignore
  local win = vim.api.nvim_get_current_win()
  local buf = M.ensure(record, win, early)
  -- (Its early terminal may be in a window the user has since left.)
  if vim.api.nvim_get_current_buf() ~= buf then
    return buf
  end
  if sessions.is_live(record) and config.options.open.insert then
    vim.cmd.startinsert()
  else
    -- On its last line, the window follows the output.
    pcall(vim.api.nvim_win_set_cursor, win, { vim.api.nvim_buf_line_count(buf), 0 })
  end
  return buf
end

--- The size a session started now in `win` would have (see `lulu.term.size`).
M.size_for = size.size_for
M.MIN_COLS, M.MIN_ROWS = size.MIN_COLS, size.MIN_ROWS

function M.buffer_of(id)
  local term = H.terms[id]
  return term and vim.api.nvim_buf_is_valid(term.buf) and term.buf or nil
end

--- Tell the host the size of every visible session (`lulu.term.size`);
--- a terminal whose size changed is painted afresh (`H.repaint_soon`).
function M.resize_visible()
  for id, term in pairs(H.terms) do
    local record = sessions.find(id)
    local cols, rows
    if record and sessions.is_live(record) and not term.lazy and vim.api.nvim_buf_is_valid(term.buf) then
      cols, rows = size.fitted(term.buf)
    end
    if cols and (cols ~= term.cols or rows ~= term.rows) then
      term.cols, term.rows = cols, rows
      rpc.notify(rpc.methods.resize, id, cols, rows)
      H.repaint_soon(id)
    end
  end
end

--- Wait this long after a size change (a dragged window: one per column).
H.SETTLE_MS = 40
---@type table<string, uv.uv_timer_t>
H.repaints = {}

--- The terminal changed size: Neovim's emulator and the host's model
--- reflow by their own rules and disagree. The host is the truth: once the
--- size settles, a fresh terminal is painted from the model (Neovim
--- ignores `CSI 3 J`, so scrollback cannot be cleared in place).
function H.repaint_soon(id)
  local timer = H.repaints[id]
  if not timer then
    timer = assert(vim.uv.new_timer())
    H.repaints[id] = timer
  end
  timer:start(
    H.SETTLE_MS,
    0,
    vim.schedule_wrap(function()
      timer:stop()
      timer:close()
      if H.repaints[id] == timer then
        H.repaints[id] = nil
      end
      H.repaint(id)
    end)
  )
end

--- Replace session `id`'s terminal with a fresh one, painted from the
--- host's model, in every window that shows it; Terminal mode is kept.
function H.repaint(id)
  local term = H.terms[id]
  local record = sessions.find(id)
  if not (term and record and sessions.is_live(record)) or term.lazy or term.stale then
    return
  end
  if not vim.api.nvim_buf_is_loaded(term.buf) or #vim.fn.win_findbuf(term.buf) == 0 then
    return
  end
  local typing = vim.api.nvim_get_current_buf() == term.buf and vim.api.nvim_get_mode().mode == 't'
  local last = vim.api.nvim_buf_line_count(term.buf)
  -- Where each window was, counted from the end: one that followed the
  -- output (on the last line) follows the new terminal; one scrolled back
  -- stays as far back once the paint is in.
  local back = {}
  for _, win in ipairs(vim.fn.win_findbuf(term.buf)) do
    back[win] = last - vim.api.nvim_win_get_cursor(win)[1]
  end
  rpc.notify(rpc.methods.detach, id, term.chan)
  term.stale = true
  local buf = M.ensure(record)
  size.place(buf, back)
  if typing then
    H.keep_typing(buf)
  end
end

--- Back in Terminal mode in `buf`: the mode the old buffer had ends with
--- it once Neovim's terminal loop sees the buffer change (entered again
--- before that, it would not stick).
function H.keep_typing(buf)
  local function again()
    vim.schedule(function()
      if vim.api.nvim_get_current_buf() == buf and vim.api.nvim_get_mode().mode ~= 't' then
        vim.cmd.startinsert()
      end
    end)
  end
  if vim.api.nvim_get_mode().mode == 't' then
    vim.api.nvim_create_autocmd('ModeChanged', { pattern = 't:nt', once = true, callback = again })
  else
    again()
  end
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

--- A session ended: say so in its terminal, after its last output (the
--- exit event comes after every byte it printed).
---@param record lulu.Session
function M.ended(record)
  local term = H.terms[record.id]
  if term and not term.lazy and vim.api.nvim_buf_is_loaded(term.buf) then
    pcall(vim.api.nvim_chan_send, term.chan, '\r\n\27[2m' .. attach.ended_line(record) .. '\27[0m\r\n')
  end
end

--- The host is gone: its channels are dead, so forget them. The buffers stay,
--- showing what they showed; opening the session again makes a new one.
function M.host_exited()
  for id, term in pairs(H.terms) do
    local record = sessions.find(id)
    -- A remote host's terminals are not this host's.
    if not (record and record.host) then
      if vim.api.nvim_buf_is_valid(term.buf) then
        vim.b[term.buf].lulu_session = nil
        pcall(vim.api.nvim_buf_set_name, term.buf, vim.api.nvim_buf_get_name(term.buf) .. ' (host exited)')
      end
      H.terms[id] = nil
    end
  end
end

--- The terminals of host `name`'s sessions, open here.
function H.of_host(name)
  local found = {}
  for id, term in pairs(H.terms) do
    local record = sessions.find(id)
    if record and record.host == name then
      found[id] = term
    end
  end
  return found
end

--- Remote host `name` is out of reach: its terminals keep what they show,
--- and are painted afresh when it is back.
function M.host_lost(name)
  for _, term in pairs(H.of_host(name)) do
    term.stale = true
  end
end

--- Remote host `name` is back: repaint its sessions' terminals that are
--- on screen from its screen model (the others when next shown).
function M.host_back(name)
  for id, term in pairs(H.of_host(name)) do
    if term.stale and vim.api.nvim_buf_is_valid(term.buf) and #vim.fn.win_findbuf(term.buf) > 0 then
      M.ensure(sessions.find(id))
    end
  end
end

--- Hidden now? Stop the stream (live sessions only; ended ones are static).
function H.maybe_sleep(id, buf)
  local term = H.terms[id]
  if not term or term.buf ~= buf or term.lazy or #vim.fn.win_findbuf(buf) > 0 then
    return
  end
  local record = sessions.find(id)
  if not record or not sessions.is_live(record) then
    return
  end
  term.lazy = true
  rpc.notify(rpc.methods.detach, id, term.chan)
end

--- Shown again after going lazy: rebuild from the host's screen model.
function H.maybe_wake(id, buf)
  local term = H.terms[id]
  if not term or term.buf ~= buf or not (term.lazy or term.stale) then
    return
  end
  local record = sessions.find(id)
  if record and record.host and not remote.connected(record.host) then
    return
  end
  if record then
    M.ensure(record)
  end
end

--- Attach a lazy terminal again, at the size of its windows, caught up
--- from where it stopped.
function H.resume(id, term)
  local cols, rows = size.fitted(term.buf)
  term.lazy = false
  term.cols, term.rows = cols, rows
  attach.attach(id, term.chan, cols, rows, attach.opts(term.buf, true))
  M.resize_visible()
end

--- Is this session's buffer streaming (false while lazy)?
function M.streaming(id)
  local term = H.terms[id]
  return term ~= nil and not term.lazy
end

bus.subscribe('session_status', 'lulu.term', M.status_changed)
bus.subscribe('exit', 'lulu.term', M.ended)
bus.subscribe('deleted', 'lulu.term', M.forget)
bus.subscribe('host_exited', 'lulu.term', M.host_exited)
bus.subscribe('host_lost', 'lulu.term', M.host_lost)
bus.subscribe('host_back', 'lulu.term', M.host_back)

return M
