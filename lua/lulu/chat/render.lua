---@mod lulu.chat.render An ACP conversation's entries as markdown lines.
---
--- Pure: entries in, lines out. Each entry renders on its own (so a change
--- re-renders from the changed entry on); a thought's lines start with `│`
--- (the chat folds them), a tool call is one card line with its files as
--- list items below it (paths a `gf` or `<CR>` opens), a plan a checklist.
local M = {}

--- The separator above the prompt.
M.PROMPT = '──── prompt · <CR> sends · <C-c> cancels ────'

local function text_lines(text)
  local lines = vim.split(text or '', '\n', { plain = true })
  while #lines > 0 and lines[#lines] == '' do
    lines[#lines] = nil
  end
  return lines
end

--- The lines of entry `e`; `prev` is the entry before it (a message's
--- header is shown once, where the speaker changes); `agent` names the
--- agent in its headers.
---@return string[]
function M.entry(e, prev, agent)
  local t, out = e.type, {}
  local prev_t = prev and prev.type
  if t == 'user' then
    vim.list_extend(out, { '', '### › you' })
    vim.list_extend(out, text_lines(e.text))
  elseif t == 'agent' then
    if prev_t ~= 'agent' then
      vim.list_extend(out, { '', '### ' .. (agent or 'agent') })
    end
    vim.list_extend(out, text_lines(e.text))
  elseif t == 'thought' then
    out[1] = '│ thinking'
    for _, line in ipairs(text_lines(e.text)) do
      out[#out + 1] = '│ ' .. line
    end
  elseif t == 'tool' then
    local status = e.status ~= '' and e.status or 'pending'
    out[1] = ('- ⚙ **%s** `%s` · _%s_'):format(
      e.kind ~= '' and e.kind or 'tool',
      (e.title or ''):gsub('\n', ' '),
      status
    )
    for _, file in ipairs(e.files or {}) do
      out[#out + 1] = '  - ' .. file
    end
  elseif t == 'plan' then
    out[1] = '**plan**'
    for _, step in ipairs(e.steps or {}) do
      local mark, now = step.status == 'completed' and 'x' or ' ', step.status == 'in_progress' and ' ← now' or ''
      out[#out + 1] = ('- [%s] %s%s'):format(mark, (step.content or ''):gsub('\n', ' '), now)
    end
  elseif t == 'turn' then
    out = { '', ('*— %s —*'):format(e.stop) }
  elseif t == 'note' then
    out[1] = '> lulu: ' .. (e.text or ''):gsub('\n', ' ')
  end
  return out
end

--- Fold level of a chat line: thoughts fold.
function M.fold_level(line)
  return line:sub(1, 3) == '│' and 1 or 0
end

return M
