---@mod lulu.ui.review An agent's file change, reviewed as a diff before it runs.
---
--- A tab with the file as it is now (left, read-only) and as it would be
--- after the change (right, editable), in diff mode. `ga` or `:w` accepts
--- what the right side holds, the user's own edits included; `gr` rejects,
--- with an optional message for the agent; `q` closes the tab and leaves
--- the question pending. Owns those tabs; asks the host for the change
--- (|lulu.rpc|) and answers through `lulu.api.approvals`. Subscribes to
--- `lulu.bus`: a change to review at once (`approval_review`), a question
--- gone (`approval_resolved`).
local M = {}
local H = {}

local api_approvals = require('lulu.api.approvals')
local bus = require('lulu.bus')
local rpc = require('lulu.rpc')
local util = require('lulu.util')

---@type table<integer, integer> approval id -> tabpage
H.tabs = {}

--- Split text into buffer lines, and whether it ended with a newline.
local function lines_of(text)
  local lines = vim.split(text, '\n', { plain = true })
  local eol = lines[#lines] == ''
  if eol and #lines > 1 then
    table.remove(lines)
  end
  return lines, eol
end

--- The buffer's text as a file would hold it.
function M.text_of(buf)
  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
  if vim.bo[buf].eol and text ~= '' then
    text = text .. '\n'
  end
  return text
end

local function scratch(name, text, filetype)
  local buf = vim.api.nvim_create_buf(false, true)
  local lines, eol = lines_of(text)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].eol = eol
  vim.bo[buf].fixeol = false
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, name)
  if filetype then
    vim.bo[buf].filetype = filetype
  end
  return buf
end

--- Open the review of approval `id` (a file tool's question).
function M.open(id)
  if H.tabs[id] and vim.api.nvim_tabpage_is_valid(H.tabs[id]) then
    vim.api.nvim_set_current_tabpage(H.tabs[id])
    return
  end
  local change = rpc.request(rpc.methods.review, id)
  local current = change.current ~= vim.NIL and change.current or nil
  local short = change.shown or util.short_path(change.path)
  local before, after = H.tab(id, change, current, short)
  H.keys(id, change, before, after)
  vim.b[after].lulu_review = id
  vim.b[before].lulu_review = id
  H.buffers[id] = { before, after }
end

--- Open the review of `approval`; a failure is told, not raised.
function M.offer(approval)
  local ok, err = pcall(M.open, approval.id)
  if not ok then
    util.notify(('cannot review %s: %s'):format(approval.summary, tostring(err)), vim.log.levels.ERROR)
  end
end

---@type table<integer, integer[]> approval id -> its two buffers
H.buffers = {}

--- Close the review of `id`: its edits are not kept (the question, if
--- still pending, shows the agent's version again when reopened).
function H.close(id)
  local tab = H.tabs[id]
  H.tabs[id] = nil
  for _, buf in ipairs(H.buffers[id] or {}) do
    if vim.api.nvim_buf_is_valid(buf) then
      vim.bo[buf].modified = false
    end
  end
  H.buffers[id] = nil
  if not (tab and vim.api.nvim_tabpage_is_valid(tab)) then
    return false
  end
  local was = vim.api.nvim_get_current_tabpage()
  vim.api.nvim_set_current_tabpage(tab)
  vim.cmd('tabclose')
  if was ~= tab and vim.api.nvim_tabpage_is_valid(was) then
    vim.api.nvim_set_current_tabpage(was)
  end
  return true
end

--- The question went (answered elsewhere, expired, withdrawn): its review
--- closes, saying why.
function M.resolved(id, outcome)
  if H.close(id) and outcome ~= 'allow' and outcome ~= 'deny' then
    util.notify(('the change under review is no longer pending (%s)'):format(outcome or 'gone'))
  end
end

--- Whether a review of `id` is open.
function M.is_open(id)
  return H.tabs[id] ~= nil and vim.api.nvim_tabpage_is_valid(H.tabs[id])
end

--- The review's tab: the file now (left, read-only) and after the change
--- (right), in diff mode. Returns the two buffers.
function H.tab(id, change, current, short)
  local filetype = vim.filetype.match({ filename = change.path })
  vim.cmd.tabnew()
  H.tabs[id] = vim.api.nvim_get_current_tabpage()
  local scratch_win = vim.api.nvim_get_current_win()
  local before = scratch(('lulu://review/%d/now/%s'):format(id, short), current or '', filetype)
  vim.bo[before].modifiable = false
  vim.api.nvim_win_set_buf(scratch_win, before)
  vim.cmd('rightbelow vsplit')
  local after_win = vim.api.nvim_get_current_win()
  local after = scratch(('lulu://review/%d/after/%s'):format(id, short), change.proposed, filetype)
  vim.bo[after].buftype = 'acwrite'
  vim.bo[after].modifiable = change.editable
  vim.bo[after].modified = false
  vim.api.nvim_win_set_buf(after_win, after)
  for _, win in ipairs({ scratch_win, after_win }) do
    vim.api.nvim_win_call(win, vim.cmd.diffthis)
  end
  local keys = change.editable and 'ga/:w accept (with your edits)' or 'ga accept'
  local function esc(text)
    return (tostring(text):gsub('%%', '%%%%'))
  end
  local what = ('%%#LuluName#%s%%* · %s %s'):format(esc(change.session_name), esc(change.tool), esc(short))
  vim.wo[scratch_win].winbar = ('lulu review · %s · %s'):format(what, current and 'now' or 'new file (empty now)')
  vim.wo[after_win].winbar = ('after │ %s · gr reject · q later'):format(keys)
  return before, after
end

--- ga (and :w) accepts, gr rejects, q leaves it for later.
function H.keys(id, change, before, after)
  local function close()
    H.close(id)
  end
  local function decide(decision, opts)
    local ok, err = pcall(api_approvals.decide, id, decision, opts)
    if not ok then
      util.notify(tostring(err), vim.log.levels.ERROR)
      return
    end
    close()
  end
  local function accept()
    if change.editable then
      decide('allow', { content = M.text_of(after) })
    else
      decide('allow')
    end
  end
  local function reject()
    vim.ui.input({ prompt = 'Tell the agent why (optional): ' }, function(message)
      if message == nil then
        return
      end
      decide('deny', message ~= '' and { message = message } or nil)
    end)
  end
  for _, buf in ipairs({ before, after }) do
    local map = function(lhs, fn, desc)
      vim.keymap.set('n', lhs, fn, { buffer = buf, nowait = true, desc = 'lulu review: ' .. desc })
    end
    map('ga', accept, 'accept')
    map('gr', reject, 'reject')
    map('q', close, 'later (the question stays pending)')
  end
  vim.api.nvim_create_autocmd('BufWriteCmd', {
    buffer = after,
    callback = accept,
  })
end

bus.subscribe('approval_review', 'lulu.ui.review', M.offer)
bus.subscribe('approval_resolved', 'lulu.ui.review', M.resolved)

return M
