---@mod lulu.ui.branch Review a session's branch: its files, their diffs, comments.
---
--- A tab: the files the session changed against its base (committed or
--- not) with `+/-` counts and the comments so far; `<CR>` shows a file's
--- diff against the fork (the base's version read-only on the left, the
--- worktree's file itself on the right, editable); `]f`/`[f` move between
--- files; `gc` comments on the line or the selected lines (on a line with
--- a comment: edits it), `dc` deletes it, and each comment shows on its
--- lines (a sign and a virtual line); `gS` sends the comments to the agent
--- as one prompt; `gm` merges; `q` closes. Owns those tabs; asks the host
--- through `lulu.api.git` and `lulu.api.sessions` (and `lulu.rpc` for a
--- file's base and a remote worktree's files).
local M = {}
local H = {}

local api_git = require('lulu.api.git')
local api_sessions = require('lulu.api.sessions')
local rpc = require('lulu.rpc')
local util = require('lulu.util')

--- The state of one open review, by tabpage.
---@type table<integer, {ref: string, record: table, files: table[], list_buf: integer, current: integer|nil}>
H.reviews = {}

local STATUS = { A = 'added', M = 'modified', D = 'deleted', R = 'renamed' }

--- The review's file list, as lines (and which line holds which file).
function M.lines(record, files, comments)
  local lines = {
    ('lulu review · %s · %s against %s'):format(record.name, record.branch or '?', record.base or '?'),
    ('%d file(s) · %d comment(s) │ <CR> ]f [f gc gS gm q'):format(#files, #comments),
    '',
  }
  local at = {}
  local width = 0
  for _, f in ipairs(files) do
    width = math.max(width, vim.fn.strdisplaywidth(f.path))
  end
  for i, f in ipairs(files) do
    local pad = (' '):rep(width - vim.fn.strdisplaywidth(f.path))
    lines[#lines + 1] = ('%s %s%s  +%d -%d'):format(f.status, f.path, pad, f.added, f.removed)
    at[#lines] = i
  end
  if #files == 0 then
    lines[#lines + 1] = '(no changes against the base)'
  end
  if #comments > 0 then
    lines[#lines + 1] = ''
    lines[#lines + 1] = '── comments (gS sends them) ──'
    for _, c in ipairs(comments) do
      lines[#lines + 1] = ('%s  %s'):format(api_git.where(c), (c.text:gsub('\n', ' ')))
    end
  end
  return lines, at
end

--- The prompt that carries `comments` to the agent.
M.prompt = api_git.prompt

--- Open the review of session `ref`.
function M.open(ref)
  local record = api_sessions.get(ref)
  if not record.worktree then
    error(("session '%s' has no worktree and branch of its own; nothing to review"):format(record.name), 0)
  end
  vim.cmd.tabnew()
  local tab = vim.api.nvim_get_current_tabpage()
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = 'nofile'
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, 'lulu://review/' .. record.name)
  H.reviews[tab] = { ref = record.id, record = record, files = {}, at = {}, list_buf = buf }
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { ('lulu review · %s · reading its files…'):format(record.name) })
  vim.bo[buf].modifiable = false
  M.refresh(tab)
  H.keys(buf, tab)
  vim.keymap.set('n', '<CR>', function()
    local state = H.reviews[tab]
    local index = state.at[vim.api.nvim_win_get_cursor(0)[1]]
    if index then
      M.show(tab, index)
    end
  end, { buffer = buf, nowait = true, desc = "lulu review: this file's diff" })
  vim.keymap.set('n', 'q', function()
    M.close(tab)
  end, { buffer = buf, nowait = true, desc = 'lulu review: close' })
  return tab
end

--- Read the files and comments again and redraw the list. The files are
--- git work on the host: the editor waits for neither.
function M.refresh(tab)
  local ref = H.reviews[tab].ref
  api_git.review_files(ref, function(err, files)
    if err then
      return util.notify(err, vim.log.levels.ERROR)
    end
    api_git.comments(ref, function(comments_err, comments)
      H.redraw(tab, files, comments_err and {} or comments)
      H.mark_comments(tab, comments_err and {} or comments)
      if comments_err then
        util.notify(comments_err, vim.log.levels.ERROR)
      end
    end)
  end)
end

--- The list, drawn again from what the host said.
function H.redraw(tab, files, comments)
  local state = H.reviews[tab]
  if not state then
    return -- closed meanwhile
  end
  H.guard(function()
    state.files = files
    local lines, at = M.lines(state.record, files, comments)
    state.at = at
    if vim.api.nvim_buf_is_valid(state.list_buf) then
      vim.bo[state.list_buf].modifiable = true
      vim.api.nvim_buf_set_lines(state.list_buf, 0, -1, false, lines)
      vim.bo[state.list_buf].modifiable = false
    end
  end)
end

--- Show file `index` of the review in diff mode beside the list.
function M.show(tab, index)
  local state = H.reviews[tab]
  local file = state.files[index]
  if not file then
    return
  end
  state.current = index
  -- The list stays on the left; the two sides take the rest.
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(tab)) do
    if vim.api.nvim_win_get_buf(win) ~= state.list_buf then
      vim.api.nvim_win_close(win, true)
    end
  end
  local list_win = vim.fn.bufwinid(state.list_buf)
  vim.api.nvim_set_current_win(list_win)
  local base_text = rpc.request(rpc.methods.review_base, state.ref, file.path)
  vim.cmd('rightbelow vsplit')
  local base_win = vim.api.nvim_get_current_win()
  local base = vim.api.nvim_create_buf(false, true)
  local text = base_text ~= vim.NIL and base_text or ''
  local lines = vim.split(text, '\n', { plain = true })
  if lines[#lines] == '' and #lines > 1 then
    table.remove(lines)
  end
  vim.api.nvim_buf_set_lines(base, 0, -1, false, lines)
  vim.bo[base].modifiable = false
  vim.bo[base].bufhidden = 'wipe'
  vim.bo[base].filetype = vim.filetype.match({ filename = file.path }) or ''
  pcall(vim.api.nvim_buf_set_name, base, ('lulu://base/%s/%s'):format(state.record.name, file.path))
  vim.api.nvim_win_set_buf(base_win, base)
  vim.cmd('rightbelow vsplit')
  local work_win = vim.api.nvim_get_current_win()
  if state.record.host then
    H.remote_file(state, file.path)
  else
    vim.cmd.edit(vim.fn.fnameescape(state.record.worktree .. '/' .. file.path))
  end
  local work = vim.api.nvim_get_current_buf()
  for _, win in ipairs({ base_win, work_win }) do
    vim.api.nvim_win_call(win, vim.cmd.diffthis)
  end
  vim.api.nvim_win_set_width(list_win, 44)
  vim.wo[list_win].wrap = false
  local label = ('%s %s'):format(STATUS[file.status] or file.status, file.path)
  vim.wo[base_win].winbar = ('%%#LuluName#base%%* · %s'):format((label:gsub('%%', '%%%%')))
  vim.wo[work_win].winbar = ('%%#LuluName#%s%%* · %s │ gc comment · ]f [f · gS send'):format(
    (state.record.name:gsub('%%', '%%%%')),
    (label:gsub('%%', '%%%%'))
  )
  for _, b in ipairs({ base, work }) do
    H.keys(b, tab)
    vim.b[b].lulu_review_path = file.path
  end
  state.base_buf = base
  vim.api.nvim_set_current_win(work_win)
  H.mark_comments(tab, state.comments or {})
end

--- A remote session's file, read through its host and written back
--- through it on `:w` (this editor cannot reach its worktree).
function H.remote_file(state, path)
  local name = ('lulu://%s/%s/%s'):format(state.record.host, state.record.name, path)
  local buf = vim.fn.bufnr(name)
  if buf == -1 then
    buf = vim.api.nvim_create_buf(true, false)
    vim.api.nvim_buf_set_name(buf, name)
    vim.bo[buf].buftype = 'acwrite'
    vim.api.nvim_create_autocmd('BufWriteCmd', {
      buffer = buf,
      callback = function()
        local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n') .. '\n'
        local ok, err = pcall(rpc.request, rpc.methods.review_write, state.ref, path, text)
        if ok then
          vim.bo[buf].modified = false
          util.notify(('wrote %s on %s'):format(path, state.record.host))
        else
          util.notify(tostring(err), vim.log.levels.ERROR)
        end
      end,
    })
  end
  local text = rpc.request(rpc.methods.review_read, state.ref, path)
  local lines = vim.split(text ~= vim.NIL and text or '', '\n', { plain = true })
  if lines[#lines] == '' and #lines > 1 then
    table.remove(lines)
  end
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modified = false
  vim.bo[buf].filetype = vim.filetype.match({ filename = path }) or ''
  vim.api.nvim_win_set_buf(0, buf)
end

--- Keys every buffer of the review shares.
function H.keys(buf, tab)
  local function map(modes, lhs, fn, desc)
    vim.keymap.set(modes, lhs, fn, { buffer = buf, nowait = true, desc = 'lulu review: ' .. desc })
  end
  map('n', ']f', function()
    H.step(tab, 1)
  end, 'next file')
  map('n', '[f', function()
    H.step(tab, -1)
  end, 'previous file')
  map('n', 'gc', function()
    local here = H.comments_at(tab, vim.fn.line('.'))
    if #here > 0 then
      return H.edit_comment(tab, here[1])
    end
    H.comment(tab, vim.fn.line('.'), vim.fn.line('.'))
  end, 'comment on this line (edit the one there)')
  map('n', 'dc', function()
    local here = H.comments_at(tab, vim.fn.line('.'))
    if #here == 0 then
      return util.notify('no comment on this line')
    end
    H.guard(function()
      api_git.uncomment(H.reviews[tab].ref, here[1].id)
      M.refresh(tab)
    end)
  end, 'delete the comment on this line')
  map('x', 'gc', function()
    local first, last = vim.fn.line('v'), vim.fn.line('.')
    vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('<Esc>', true, false, true), 'nx', false)
    H.comment(tab, math.min(first, last), math.max(first, last))
  end, 'comment on these lines')
  map('n', 'gS', function()
    H.guard(function()
      local n = M.send(tab)
      util.notify(('sent %d comment(s) to %s'):format(n, H.reviews[tab].record.name))
    end)
  end, 'send the comments to the agent')
  map('n', 'gm', function()
    local state = H.reviews[tab]
    -- The merge is git work on the host: the editor does not wait for it.
    api_git.merge(state.ref, 'merge', nil, function(err, result)
      if err then
        return util.notify(err, vim.log.levels.ERROR)
      elseif not result.ok then
        return util.notify(('%s (:LuluRebase %s)'):format(result.message, state.record.name), vim.log.levels.ERROR)
      end
      util.notify(('merged %s at %s'):format(state.record.name, result.commit:sub(1, 10)))
      if H.reviews[tab] then
        H.guard(function()
          M.refresh(tab)
        end)
      end
    end)
  end, 'merge the branch')
end

H.ns = vim.api.nvim_create_namespace('lulu_review_comments')

--- Each comment on its lines of the file shown: a sign on its first line
--- and its text as a virtual line under its last.
function H.mark_comments(tab, comments)
  local state = H.reviews[tab]
  if not state then
    return
  end
  state.comments = comments
  for _, win in ipairs(vim.api.nvim_tabpage_is_valid(tab) and vim.api.nvim_tabpage_list_wins(tab) or {}) do
    local buf = vim.api.nvim_win_get_buf(win)
    local path = vim.b[buf].lulu_review_path
    if path and buf ~= state.base_buf then
      vim.api.nvim_buf_clear_namespace(buf, H.ns, 0, -1)
      local count = vim.api.nvim_buf_line_count(buf)
      for _, c in ipairs(comments) do
        if c.path == path and c.line <= count then
          local last = math.min(c.end_line or c.line, count)
          vim.api.nvim_buf_set_extmark(buf, H.ns, c.line - 1, 0, { sign_text = '✎', sign_hl_group = 'LuluComment' })
          vim.api.nvim_buf_set_extmark(buf, H.ns, last - 1, 0, {
            virt_lines = { { { ('  ✎ %s'):format(c.text), 'LuluComment' } } },
          })
        end
      end
    end
  end
end

--- The comments on `line` of the file shown.
function H.comments_at(tab, line)
  local state, path = H.reviews[tab], vim.b.lulu_review_path
  return vim.tbl_filter(function(c)
    return c.path == path and c.line <= line and line <= (c.end_line or c.line)
  end, state and state.comments or {})
end

function H.guard(fn)
  local ok, err = pcall(fn)
  if not ok then
    util.notify(tostring(err), vim.log.levels.ERROR)
  end
end

function H.step(tab, delta)
  local state = H.reviews[tab]
  if #state.files == 0 then
    return
  end
  local index = ((state.current or 0) + delta - 1) % #state.files + 1
  M.show(tab, index)
end

--- Change a comment's text (emptied: removed).
function H.edit_comment(tab, c)
  vim.ui.input({ prompt = ('comment on %s:%d: '):format(c.path, c.line), default = c.text }, function(text)
    if text == nil then
      return
    end
    H.guard(function()
      local state = H.reviews[tab]
      api_git.uncomment(state.ref, c.id)
      if vim.trim(text) ~= '' then
        api_git.comment(state.ref, { path = c.path, line = c.line, end_line = c.end_line, text = text })
      end
      M.refresh(tab)
    end)
  end)
end

function H.comment(tab, first, last)
  local path = vim.b.lulu_review_path
  if not path then
    return util.notify('open a file of the review (<CR> on it) to comment on its lines', vim.log.levels.WARN)
  end
  local range = first == last and tostring(first) or ('%d-%d'):format(first, last)
  vim.ui.input({ prompt = ('comment on %s:%s: '):format(path, range) }, function(text)
    if not text or vim.trim(text) == '' then
      return
    end
    H.guard(function()
      local state = H.reviews[tab]
      api_git.comment(state.ref, { path = path, line = first, end_line = last, text = text })
      M.refresh(tab)
    end)
  end)
end

--- Send the review's comments to its session; returns how many.
function M.send(tab)
  local state = H.reviews[tab]
  local n = api_git.send_review(state.ref)
  M.refresh(tab)
  return n
end

function M.close(tab)
  H.reviews[tab] = nil
  if vim.api.nvim_tabpage_is_valid(tab) and #vim.api.nvim_list_tabpages() > 1 then
    vim.api.nvim_set_current_tabpage(tab)
    vim.cmd('tabclose')
  end
end

return M
