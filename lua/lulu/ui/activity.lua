---@mod lulu.ui.activity The git activity feed of the sessions' branches.
---
--- Newest first, live: commits (subject, files), branches created and
--- deleted, merges, rebases, conflicts, as the host sees them in the
--- repositories' refs. `<CR>` on a commit shows it; `q` closes. Owns the
--- feed's buffer; hears new items through `lulu.bus` (`activity`).
local M = {}
local H = {}

local api_git = require('lulu.api.git')
local bus = require('lulu.bus')
local util = require('lulu.util')

---@type integer|nil the feed's buffer
H.buf = nil
---@type table[] newest first, as shown
H.items = {}

--- One item as a line.
function M.line(item)
  local at = util.parse_time(item.at)
  local clock = at and os.date('%H:%M:%S', math.floor(at)) or item.at
  local commit = item.commit and item.commit:sub(1, 8) or '        '
  local files = item.files and (' (%d file%s)'):format(item.files, item.files == 1 and '' or 's') or ''
  return ('%s  %-12s %-9s %s  %s%s'):format(clock, item.session or item.branch, item.kind, commit, item.subject, files)
end

local function draw()
  if not (H.buf and vim.api.nvim_buf_is_valid(H.buf)) then
    return
  end
  local lines = { 'lulu activity · newest first │ <CR> show commit · q close', '' }
  for _, item in ipairs(H.items) do
    lines[#lines + 1] = M.line(item)
  end
  if #H.items == 0 then
    lines[#lines + 1] = "(nothing yet: commits on the sessions' branches show here as they happen)"
  end
  vim.bo[H.buf].modifiable = true
  vim.api.nvim_buf_set_lines(H.buf, 0, -1, false, lines)
  vim.bo[H.buf].modifiable = false
end

--- Open the feed in a split (or go to it).
function M.open()
  if H.buf and vim.api.nvim_buf_is_valid(H.buf) then
    local win = vim.fn.bufwinid(H.buf)
    if win ~= -1 then
      return vim.api.nvim_set_current_win(win)
    end
  end
  H.items = api_git.activity()
  vim.cmd('botright new')
  H.buf = vim.api.nvim_get_current_buf()
  vim.bo[H.buf].buftype = 'nofile'
  vim.bo[H.buf].bufhidden = 'wipe'
  vim.bo[H.buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, H.buf, 'lulu://activity')
  vim.api.nvim_win_set_height(0, 12)
  vim.wo.wrap = false
  draw()
  vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = H.buf, nowait = true, desc = 'lulu activity: close' })
  vim.keymap.set('n', '<CR>', function()
    local item = H.items[vim.api.nvim_win_get_cursor(0)[1] - 2]
    if item and item.commit then
      M.show(item)
    end
  end, { buffer = H.buf, nowait = true, desc = 'lulu activity: show the commit' })
end

--- The commit of `item`, as `git show` prints it, in a diff buffer.
function M.show(item)
  vim.system(
    { 'git', '-C', item.repo, 'show', '--stat', '--patch', '--no-color', item.commit },
    { text = true },
    function(out)
      vim.schedule(function()
        if out.code ~= 0 then
          return util.notify(
            ('cannot show %s: %s'):format(item.commit:sub(1, 8), vim.trim(out.stderr or '')),
            vim.log.levels.ERROR
          )
        end
        local buf = util.tab_buffer('lulu://commit/' .. item.commit:sub(1, 12), 'nofile')
        vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(out.stdout, '\n', { trimempty = true }))
        vim.bo[buf].modifiable = false
        vim.bo[buf].filetype = 'git'
        vim.keymap.set('n', 'q', '<cmd>tabclose<cr>', { buffer = buf, nowait = true, desc = 'Close the commit' })
      end)
    end
  )
end

--- The host saw something happen (an `activity` event).
function M.added(item)
  table.insert(H.items, 1, item)
  draw()
end

bus.subscribe('activity', 'lulu.ui.activity', M.added)

return M
