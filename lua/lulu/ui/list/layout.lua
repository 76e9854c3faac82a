---@mod lulu.ui.list.layout What the session list shows, as text: two lines
--- per session, their highlights, the title and the footer. Pure (no
--- window, no host), so specs check the layout without one; reads a
--- remote host's state from `lulu.remote` for its sessions' rows.
local M = {}
local H = {}

local remote = require('lulu.remote')
local sessions = require('lulu.sessions')
local util = require('lulu.util')

M.footer =
  ' <CR> open · K detail · p preview · a approve · s stop · d delete · c clear · f filter · n new · q close '
--- The footer when the full one does not fit.
M.footer_short = ' <CR> K p a s d c f n q '

--- The lines a list of records renders to, and their highlights; pure, so
--- tests can check the layout without a window.
---@param records lulu.Session[]
---@param width integer
---@param now number|nil
---@param pulse boolean|nil
---@return string[] lines, table[] highlights {line, col_start, col_end, group}
--- With sessions of more than one repository (or host), rows are grouped
--- under a header per repository (its name, live and waiting counts,
--- cost), groups in the order of their newest session, rows newest first
--- within. Also returns the rows in the order drawn, and each one's first
--- line (1-based).
---@return string[] lines, table[] highlights, lulu.Session[] rows, integer[] firsts
function M.layout(records, width, now, pulse)
  local lines, hls, rows, firsts = {}, {}, {}, {}
  if #records == 0 then
    return { '', '  No sessions yet. Press n to start one.' }, { { 1, 0, -1, 'LuluMeta' } }, rows, firsts
  end
  local groups = M.groups(records)
  for _, group in ipairs(groups) do
    if #groups > 1 then
      lines[#lines + 1] = H.header(group, width)
      hls[#hls + 1] = { #lines - 1, 0, -1, 'LuluTitle' }
    end
    for _, r in ipairs(group.records) do
      local row = H.first(r, width, now)
      local l = #lines
      lines[l + 1] = row.text
      lines[l + 2] = H.second(r)
      H.highlight(hls, l, r, row, pulse)
      rows[#rows + 1], firsts[#firsts + 1] = r, l + 1
    end
  end
  return lines, hls, rows, firsts
end

--- The repository (or, outside one, the directory) a session works on,
--- with its host: what the list groups by.
function M.repo_of(r)
  return (r.host and (r.host .. ':') or '') .. (r.repo or r.cwd or '')
end

--- Records by repository, in the order of each one's first (newest).
---@return {key: string, records: lulu.Session[]}[]
function M.groups(records)
  local groups, by_key = {}, {}
  for _, r in ipairs(records) do
    local key = M.repo_of(r)
    if not by_key[key] then
      by_key[key] = { key = key, records = {} }
      groups[#groups + 1] = by_key[key]
    end
    table.insert(by_key[key].records, r)
  end
  return groups
end

--- `▾ rocket  ~/src/rocket · 2 live · 1 waiting · $0.42`
function H.header(group, width)
  local first = group.records[1]
  local live, waiting, cost, priced = 0, 0, 0, false
  for _, r in ipairs(group.records) do
    live = live + (sessions.is_live(r) and 1 or 0)
    waiting = waiting + ((r.waiting or (r.pending_approvals or 0) > 0) and 1 or 0)
    if r.cost_usd then
      cost, priced = cost + r.cost_usd, true
    end
  end
  local dir = first.repo or first.cwd or ''
  local parts = { ('%d live'):format(live) }
  if waiting > 0 then
    parts[#parts + 1] = ('%d waiting'):format(waiting)
  end
  if priced then
    parts[#parts + 1] = util.money(cost)
  end
  local name = (first.host and (first.host .. ':') or '') .. vim.fn.fnamemodify(dir, ':t')
  local text = ('▾ %s  %s · %s'):format(name, util.short_path(dir), table.concat(parts, ' · '))
  while vim.fn.strdisplaywidth(text) > width - 1 do
    text = vim.fn.strcharpart(text, 0, vim.fn.strchars(text) - 1)
  end
  return text
end

--- Key hints, after the worktrees' count and size when known and there is
--- room (`usage`: `{ count, bytes }` as the host last said).
function M.footer_for(width, usage)
  local room = width - 2
  local function fit(...)
    for _, candidate in ipairs({ ... }) do
      if vim.fn.strdisplaywidth(candidate) <= room then
        return candidate
      end
    end
    return ''
  end
  if not usage or usage.count == 0 then
    return fit(M.footer, M.footer_short)
  end
  local size = usage.bytes >= 1024 ^ 2 and usage.bytes < 1024 ^ 3 and ('%.1f MiB'):format(usage.bytes / 1024 ^ 2)
    or util.bytes(usage.bytes)
  local disk = (' %d worktree%s · %s '):format(usage.count, usage.count == 1 and '' or 's', size)
  return fit(disk .. '│' .. M.footer, disk .. '│' .. M.footer_short, M.footer_short)
end

--- ` lulu · 3 live · $1.24 `: live sessions, and their cost when priced.
function M.title(records)
  local live, cost, priced = 0, 0, false
  for _, r in ipairs(records) do
    if sessions.is_live(r) then
      live = live + 1
    end
    if r.cost_usd then
      cost, priced = cost + r.cost_usd, true
    end
  end
  return priced and (' lulu · %d live · %s '):format(live, util.money(cost)) or (' lulu · %d live '):format(live)
end

-- helpers ------------------------------------------------------------------

H.badges = {
  starting = { icon = '◌', label = 'Starting', hl = 'LuluStarting' },
  running = { icon = '●', label = 'Running', hl = 'LuluRunning' },
  completed = { icon = '✓', label = 'Completed', hl = 'LuluCompleted' },
  failed = { icon = '✗', label = 'Failed', hl = 'LuluFailed' },
}

--- A row's first line: badge, name, and before the age its pending
--- approvals, waiting, cost: `⚠ 2  ◆ waiting  $0.42  5s`. Returns its
--- parts too, for the highlights.
function H.first(r, width, now)
  local badge = H.badges[r.status] or H.badges.failed
  local head = (' %s %-9s '):format(badge.icon, badge.label)
  local age = util.age(r.last_activity_at, now)
  local marker = (r.pending_approvals or 0) > 0 and ('⚠ %d  '):format(r.pending_approvals) or ''
  local waiting = r.waiting and '◆ waiting  ' or ''
  local cost = r.cost_usd and (util.money(r.cost_usd) .. '  ') or ''
  local tail = marker .. waiting .. cost .. age
  local name_room = width - vim.fn.strdisplaywidth(head) - vim.fn.strdisplaywidth(tail) - 2
  local name = r.name
  if vim.fn.strdisplaywidth(name) > name_room then
    name = vim.fn.strcharpart(name, 0, math.max(name_room - 1, 1)) .. '…'
  end
  local gap =
    math.max(1, width - vim.fn.strdisplaywidth(head) - vim.fn.strdisplaywidth(name) - vim.fn.strdisplaywidth(tail) - 1)
  return {
    text = head .. name .. (' '):rep(gap) .. tail .. ' ',
    badge = badge,
    head = head,
    name = name,
    age = age,
    tail = tail,
    marker = marker,
    waiting = waiting,
    cost = cost,
  }
end

--- A row's second line: why it failed (and when it restarts), or where it
--- runs: host, agent, branch, sandbox, memory, directory.
function H.second(r)
  if r.status == 'failed' and r.restarting then
    local at = util.parse_time(r.restarting.at) or util.now()
    local wait = math.max(0, math.ceil(at - util.now()))
    return ('   restarting (%d/%d) in %ds · %s'):format(
      r.restarting.attempt,
      r.restarting.limit,
      wait,
      r.failure_reason or 'failed'
    )
  elseif r.status == 'failed' then
    return '   ' .. (r.failure_reason or 'failed')
  end
  local parts = { r.agent }
  if r.host then
    local state = (remote.status(r.host) or {}).state
    table.insert(
      parts,
      1,
      state == 'connected' and ('@' .. r.host) or ('@%s (%s)'):format(r.host, state or 'not connected')
    )
  end
  H.branch(parts, r)
  if r.sandbox then
    parts[#parts + 1] = r.sandbox.network == false and 'sandboxed, offline' or 'sandboxed'
  end
  if r.limits and r.limits.memory and r.memory then
    parts[#parts + 1] = ('mem %s/%s'):format(util.bytes(r.memory), r.limits.memory)
  end
  parts[#parts + 1] = util.short_path(r.cwd)
  return '   ' .. table.concat(parts, ' · ')
end

--- The branch, and whether it is merged, ahead or dirty.
function H.branch(parts, r)
  if not r.branch then
    return
  end
  parts[#parts + 1] = r.branch
  if r.merged then
    parts[#parts + 1] = 'merged'
  elseif (r.ahead or 0) > 0 then
    parts[#parts + 1] = ('ahead %d'):format(r.ahead)
  end
  if r.dirty then
    parts[#parts + 1] = 'dirty'
  end
  if r.pr_url then
    -- `PR #12` (GitHub), `MR !12` (GitLab), else the URL's tail.
    local n = r.pr_url:match('/pull/(%d+)') or r.pr_url:match('/merge_requests/(%d+)')
    parts[#parts + 1] = n and (r.pr_url:find('/pull/') and 'PR #' or 'MR !') .. n or 'PR'
  end
end

--- The highlights of the row whose first line is line `l` (0-based).
function H.highlight(hls, l, r, row, pulse)
  local first, head, badge = row.text, row.head, row.badge
  local icon_end = 1 + #badge.icon
  local dot_hl = (r.status == 'running' and pulse) and 'LuluRunningDim' or badge.hl
  hls[#hls + 1] = { l, 1, icon_end, dot_hl }
  hls[#hls + 1] = { l, icon_end + 1, #head, badge.hl }
  hls[#hls + 1] = { l, #head, #head + #row.name, 'LuluName' }
  hls[#hls + 1] = { l, #first - #row.age - 1, #first - 1, 'LuluAge' }
  local start = #first - #row.tail - 1
  if row.marker ~= '' then
    hls[#hls + 1] = { l, start, start + #row.marker, 'LuluPending' }
  end
  if row.waiting ~= '' then
    hls[#hls + 1] = { l, start + #row.marker, start + #row.marker + #row.waiting, 'LuluWaiting' }
  end
  if row.cost ~= '' then
    local at = start + #row.marker + #row.waiting
    hls[#hls + 1] = { l, at, at + #row.cost, 'LuluCost' }
  end
  hls[#hls + 1] = { l + 1, 0, -1, r.status == 'failed' and 'LuluReason' or 'LuluMeta' }
end

return M
