---@mod lulu.chat An ACP session's chat buffer: its conversation as markdown
--- (filetype `lulu-chat`), streamed from the host's `chat` events, with a
--- prompt at the bottom. Owns the chat buffers; hears conversations through
--- `lulu.bus` (subscribed at the end). The prompt goes to the session as
--- typed text (what `lulu acp` reads as a prompt); `<C-c>` cancels a turn.
local M = {}
local H = {}

local bus = require('lulu.bus')
local render = require('lulu.chat.render')
local rpc = require('lulu.rpc')
local sessions = require('lulu.sessions')
local util = require('lulu.util')

local NS = vim.api.nvim_create_namespace('lulu_chat')

---@type table<string, {buf: integer, entries: table[], starts: integer[], agent: string, sep: integer, loaded: boolean, pending: table[]}>
H.chats = {}

--- The session's chat buffer, made (and filled from the host) if needed,
--- shown in `win` when given.
---@param record lulu.Session
---@param win integer|nil
---@return integer bufnr
function M.ensure(record, win)
  local chat = H.chats[record.id]
  if not (chat and vim.api.nvim_buf_is_valid(chat.buf)) then
    chat = H.make(record)
  end
  if win then
    vim.api.nvim_win_set_buf(win, chat.buf)
    H.window(win)
  end
  return chat.buf
end

--- Show the chat in the current window, the cursor in the prompt.
function M.open(record)
  local win = vim.api.nvim_get_current_win()
  local buf = M.ensure(record, win)
  pcall(vim.api.nvim_win_set_cursor, win, { vim.api.nvim_buf_line_count(buf), 0 })
  return buf
end

function M.buffer_of(id)
  local chat = H.chats[id]
  return chat and vim.api.nvim_buf_is_valid(chat.buf) and chat.buf or nil
end

--- The prompt's text (the lines under the separator).
function M.prompt_text(buf)
  local sep = H.sep_row(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, sep + 1, -1, false)
  return vim.trim(table.concat(lines, '\n'))
end

--- Send the prompt to the session and clear it.
function M.send(buf)
  local id = vim.b[buf].lulu_session
  local text = M.prompt_text(buf)
  if text == '' then
    util.notify('the prompt is empty: write it under the prompt line, then <CR>', vim.log.levels.WARN)
    return
  end
  rpc.call(rpc.methods.send, { id, text }, function(err)
    if err then
      util.notify(('cannot send to the session: %s'):format(err), vim.log.levels.ERROR)
    end
  end)
  vim.api.nvim_buf_set_lines(buf, H.sep_row(buf) + 1, -1, false, { '' })
end

--- Cancel the turn (Ctrl-C to `lulu acp`).
function M.cancel(buf)
  rpc.notify(rpc.methods.write, vim.b[buf].lulu_session, '\3')
end

--- Fold expression of chat windows.
function M.foldexpr(lnum)
  return render.fold_level(vim.fn.getline(lnum))
end

-- helpers ------------------------------------------------------------------

function H.make(record)
  local buf = vim.api.nvim_create_buf(true, false)
  pcall(vim.api.nvim_buf_set_name, buf, 'lulu-chat://' .. record.name)
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'hide'
  vim.bo[buf].swapfile = false
  vim.b[buf].lulu_session = record.id
  vim.bo[buf].filetype = 'lulu-chat'
  if not pcall(vim.treesitter.start, buf, 'markdown') then
    vim.bo[buf].syntax = 'markdown'
  end
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { render.PROMPT, '' })
  local chat = { buf = buf, entries = {}, starts = {}, agent = record.agent, loaded = false, pending = {} }
  chat.sep = vim.api.nvim_buf_set_extmark(buf, NS, 0, 0, { hl_group = 'Comment', end_col = #render.PROMPT })
  H.chats[record.id] = chat
  H.maps(buf)
  vim.api.nvim_create_autocmd('BufWipeout', {
    buffer = buf,
    once = true,
    callback = function()
      if H.chats[record.id] and H.chats[record.id].buf == buf then
        H.chats[record.id] = nil
      end
    end,
  })
  H.load(record.id)
  return chat
end

function H.window(win)
  vim.wo[win].foldmethod = 'expr'
  vim.wo[win].foldexpr = "v:lua.require'lulu.chat'.foldexpr(v:lnum)"
  vim.wo[win].foldlevel = 0
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].conceallevel = 2
end

function H.maps(buf)
  local function map(mode, lhs, fn, desc)
    vim.keymap.set(mode, lhs, fn, { buffer = buf, desc = desc })
  end
  map('n', '<CR>', function()
    if not H.open_file_under_cursor(buf) then
      M.send(buf)
    end
  end, 'lulu: send the prompt (or open the file under the cursor)')
  map({ 'n', 'i' }, '<C-c>', function()
    M.cancel(buf)
  end, "lulu: cancel the agent's turn")
end

--- On a tool card's file line: open that file in the previous window.
function H.open_file_under_cursor(buf)
  local row = vim.api.nvim_win_get_cursor(0)[1]
  if row > H.sep_row(buf) then
    return false
  end
  local path = vim.api.nvim_get_current_line():match('^  %- (/.+)$')
  if not (path and vim.fn.filereadable(path) == 1) then
    return false
  end
  vim.cmd('wincmd p')
  vim.cmd.edit(vim.fn.fnameescape(path))
  return true
end

function H.sep_row(buf)
  local chat = H.chats[vim.b[buf].lulu_session]
  local mark = chat and vim.api.nvim_buf_get_extmark_by_id(buf, NS, chat.sep, {})
  return mark and mark[1] or (vim.api.nvim_buf_line_count(buf) - 1)
end

--- The whole conversation from the host (asynchronously); updates that
--- arrive meanwhile are applied after it.
function H.load(id)
  rpc.call(rpc.methods.chat, { id }, function(err, whole)
    local chat = H.chats[id]
    if not chat then
      return
    end
    if err then
      util.notify(('cannot read the conversation: %s'):format(err), vim.log.levels.WARN)
    elseif type(whole) == 'table' then
      H.apply(chat, 0, whole.entries or {})
    end
    chat.loaded = true
    for _, update in ipairs(chat.pending) do
      H.apply(chat, update.from, update.entries)
    end
    chat.pending = {}
  end)
end

--- Entries from `from` (0-based) on replace the chat's, and their lines.
function H.apply(chat, from, entries)
  local buf = chat.buf
  if not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  from = math.min(from, #chat.entries)
  local first = chat.starts[from + 1] or H.sep_row(buf)
  local lines = {}
  for i = from + 1, #chat.entries do
    chat.entries[i], chat.starts[i] = nil, nil
  end
  for i, e in ipairs(entries) do
    local at = from + i
    chat.entries[at] = e
    chat.starts[at] = first + #lines
    vim.list_extend(lines, render.entry(e, chat.entries[at - 1], chat.agent))
  end
  local follow = H.following(buf)
  vim.bo[buf].undolevels = -1
  vim.api.nvim_buf_set_lines(buf, first, H.sep_row(buf), false, lines)
  vim.bo[buf].undolevels = vim.go.undolevels
  for _, win in ipairs(follow) do
    pcall(vim.api.nvim_win_set_cursor, win, { vim.api.nvim_buf_line_count(buf), 0 })
  end
end

--- Windows whose cursor is in the prompt: they stay there as lines come.
function H.following(buf)
  local out, sep = {}, H.sep_row(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    if vim.api.nvim_win_get_cursor(win)[1] > sep then
      out[#out + 1] = win
    end
  end
  return out
end

function H.on_chat(update)
  local chat = H.chats[update.session]
  if not chat then
    return
  end
  if not chat.loaded then
    chat.pending[#chat.pending + 1] = update
    return
  end
  H.apply(chat, update.from, update.entries or {})
end

bus.subscribe('chat', 'lulu.chat', H.on_chat)
bus.subscribe('deleted', 'lulu.chat', function(id)
  local chat = H.chats[id]
  if chat and vim.api.nvim_buf_is_valid(chat.buf) then
    pcall(vim.api.nvim_buf_delete, chat.buf, { force = true })
  end
  H.chats[id] = nil
end)

return M
