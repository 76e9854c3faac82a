---@mod lulu.ui.pr A pull request's draft in a buffer: its title on the
--- first line, its body under a blank line; `:w` opens the request (the
--- branch pushed first), and the buffer closes once the forge answered.
local M = {}
local H = {}

local api_forge = require('lulu.api.forge')
local util = require('lulu.util')

--- Open the draft of `session`'s request to `remote` in a new tab.
---@param draft {title: string, body: string}
function M.open(session, remote, draft)
  local buf = util.tab_buffer('lulu-pr://' .. session, 'acwrite')
  local lines = { draft.title, '' }
  vim.list_extend(lines, vim.split(draft.body or '', '\n', { plain = true }))
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modified = false
  vim.bo[buf].filetype = 'markdown'
  vim.api.nvim_create_autocmd('BufWriteCmd', {
    buffer = buf,
    callback = function()
      H.send(buf, session, remote)
    end,
  })
  util.notify(('the pull request for %s: edit its title (line 1) and body, then :w to open it'):format(session))
  return buf
end

function H.send(buf, session, remote)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local title = vim.trim(lines[1] or '')
  local body = vim.trim(table.concat(vim.list_slice(lines, 3), '\n'))
  if title == '' then
    return util.notify('the pull request needs a title on its first line', vim.log.levels.ERROR)
  end
  vim.bo[buf].modified = false
  api_forge.pr(session, { title = title, body = body, remote = remote }, function(err, result)
    if err then
      vim.bo[buf].modified = true
      return util.notify(err, vim.log.levels.ERROR)
    end
    M.told(session, result)
    if vim.api.nvim_buf_is_valid(buf) then
      pcall(vim.api.nvim_buf_delete, buf, { force = true })
    end
  end)
end

--- What a push or request came to, in one line.
function M.told(session, result)
  if result.url then
    local how = result.existed and 'already open' or 'opened'
    util.notify(('%s: pull request %s: %s'):format(session, how, result.url))
  elseif result.hint then
    util.notify(
      ('%s pushed to %s; no pull request: %s'):format(result.branch, result.remote, result.hint),
      vim.log.levels.WARN
    )
  else
    util.notify(('%s pushed to %s'):format(result.branch, result.remote))
  end
end

return M
