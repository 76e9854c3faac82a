---@mod lulu.ui.detail A session's detail float (`K` in the list): the record,
--- its event history, and the last lines it printed (asked of the host
--- through `lulu.api.sessions`). Owns nothing past its float.
local M = {}
local H = {}

local api_sessions = require('lulu.api.sessions')
local sessions = require('lulu.sessions')
local util = require('lulu.util')

--- The detail as lines of text.
---@param detail {record: lulu.Session, events: table[], output: string[]}
function M.lines(detail)
  local r = detail.record
  local lines = H.record(r)
  local started = util.parse_time(r.created_at)
  lines[#lines + 1] = ('started %s (%s ago) · last activity %s ago · id %s'):format(
    started and os.date('%Y-%m-%d %H:%M:%S', math.floor(started)) or tostring(r.created_at),
    util.age(r.created_at),
    util.age(r.last_activity_at),
    r.id
  )
  lines[#lines + 1] = ''
  lines[#lines + 1] = '── events ──'
  for _, e in ipairs(detail.events) do
    lines[#lines + 1] = ('%s  %-18s %s'):format((e.at:match('T(%d+:%d+:%d+)') or e.at), e.kind, e.detail)
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = '── screen ──'
  vim.list_extend(lines, #detail.output > 0 and detail.output or { '(none)' })
  return lines
end

--- Show a session in detail; `on_close` runs when the float is closed with
--- q, <Esc> or K (the list reopens on the same row).
function M.open(ref, on_close)
  local ok, detail = pcall(api_sessions.detail, ref)
  if not ok then
    return util.notify(tostring(detail), vim.log.levels.ERROR)
  end
  local lines = M.lines(detail)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = 'lulu_detail'
  local width = math.min(math.max(60, vim.o.columns - 20), 100)
  local win = vim.api.nvim_open_win(buf, true, util.float(width, #lines, ' ' .. detail.record.name .. ' ', ' q close '))
  vim.wo[win].wrap = false
  local hl = ({ failed = 'LuluFailed', completed = 'LuluCompleted', running = 'LuluRunning' })[detail.record.status]
    or 'LuluStarting'
  vim.api.nvim_buf_set_extmark(buf, vim.api.nvim_create_namespace('lulu_detail'), 0, 0, {
    end_col = #lines[1],
    hl_group = hl,
  })
  for _, key in ipairs({ 'q', '<Esc>', 'K' }) do
    vim.keymap.set('n', key, function()
      pcall(vim.api.nvim_win_close, win, true)
      if on_close then
        on_close()
      end
    end, { buffer = buf, nowait = true, desc = on_close and 'Back to the list' or 'Close' })
  end
end

-- helpers ------------------------------------------------------------------

--- The record's lines: what runs where, its branch, cost, limits, sandbox
--- and conversation.
function H.record(r)
  local status = r.status .. (r.failure_reason and (': ' .. r.failure_reason) or '')
  local lines = {
    ('%s · %s · %s%s'):format(r.name, r.agent, status, r.exit_code and (' · exit ' .. r.exit_code) or ''),
    'argv: ' .. table.concat(r.argv or {}, ' '),
    'cwd:  ' .. util.short_path(r.cwd),
  }
  if r.branch then
    lines[#lines + 1] = ('branch: %s from %s · ahead %d · %s'):format(
      r.branch,
      r.base or '?',
      r.ahead or 0,
      util.short_path(r.worktree)
    )
  end
  if r.cost_usd or r.tokens then
    local t = r.tokens or {}
    lines[#lines + 1] = ('cost: %s · tokens in %d, out %d, cache write %d, read %d'):format(
      r.cost_usd and util.money(r.cost_usd) or 'no price for its model (cost.prices)',
      t.input or 0,
      t.output or 0,
      t.cache_write or 0,
      t.cache_read or 0
    )
  end
  H.confinement(lines, r)
  if r.pr_url then
    lines[#lines + 1] = 'pull request: ' .. r.pr_url
  end
  if r.conversation then
    local live = sessions.is_live(r)
    lines[#lines + 1] = ('conversation: %s%s'):format(r.conversation, live and '' or ' (:LuluResume ' .. r.name .. ')')
  end
  return lines
end

--- Its limits and sandbox, when it has them.
function H.confinement(lines, r)
  if r.limits then
    local l = r.limits
    local set = {}
    for _, key in ipairs({ 'memory', 'cpu', 'pids' }) do
      if l[key] and l[key] ~= vim.NIL then
        set[#set + 1] = ('%s %s'):format(key, l[key])
      end
    end
    lines[#lines + 1] = ('limits: %s%s'):format(
      table.concat(set, ', '),
      r.memory and (' · using %s'):format(util.bytes(r.memory)) or ''
    )
  end
  if r.sandbox then
    local s = r.sandbox
    local function list(paths)
      return #(paths or {}) > 0 and table.concat(vim.tbl_map(util.short_path, paths), ', ') or 'none'
    end
    lines[#lines + 1] = ('sandbox: %s · network %s · hidden %s · also writable %s'):format(
      s.backend,
      s.network == false and 'off' or 'on',
      list(s.hide),
      list(s.rw)
    )
  end
end

return M
