---@mod lulu.ui.list The floating session list (:LuluList).
---
--- Two lines per session, newest first. The float redraws on every session
--- event and once a second (ages tick, the running dot pulses); rows never
--- move when a status changes, and the selection follows its session.
local M = {}
local H = {}

local sessions = require('lulu.sessions')
local util = require('lulu.util')
local clear = require('lulu.ui.clear')

H.ns = vim.api.nvim_create_namespace('lulu_list')
---@type lulu.Session[] the rows as drawn, top to bottom
H.rows = {}

local badges = {
  starting = { icon = '◌', label = 'Starting', hl = 'LuluStarting' },
  running = { icon = '●', label = 'Running', hl = 'LuluRunning' },
  completed = { icon = '✓', label = 'Completed', hl = 'LuluCompleted' },
  failed = { icon = '✗', label = 'Failed', hl = 'LuluFailed' },
}

M.footer =
  ' <CR> open · K detail · p preview · a approve · s stop · d delete · c clear ended · n new · q close '
--- The footer when the full one does not fit.
M.footer_short = ' <CR> K p a s d c n q '

function M.is_open()
  return H.win ~= nil and vim.api.nvim_win_is_valid(H.win)
end

function M.toggle()
  if M.is_open() then
    M.close()
  else
    M.open()
  end
end

--- Open the list; `select` (a session id) puts the cursor on its row.
---@param select string|nil
function M.open(select)
  if M.is_open() then
    vim.api.nvim_set_current_win(H.win)
    return
  end
  H.selected_id = select
  -- Fresh records from the host (this also starts it on first use).
  require('lulu').list()
  H.prev_win = vim.api.nvim_get_current_win()
  H.buf = vim.api.nvim_create_buf(false, true)
  vim.bo[H.buf].filetype = 'lulu_list'
  vim.bo[H.buf].bufhidden = 'wipe'
  H.win = vim.api.nvim_open_win(H.buf, true, H.geometry(#sessions.all()))
  vim.wo[H.win].cursorline = false
  vim.wo[H.win].wrap = false
  vim.wo[H.win].winhighlight = 'FloatBorder:LuluBorder,FloatTitle:LuluTitle,FloatFooter:LuluFooter'
  H.maps()
  H.render()
  H.timer = vim.uv.new_timer()
  H.ticks = 0
  H.timer:start(
    1000,
    1000,
    vim.schedule_wrap(function()
      H.pulse = not H.pulse
      H.ticks = H.ticks + 1
      if H.ticks % 10 == 0 then
        H.ask_usage()
      end
      M.refresh()
    end)
  )
  H.ask_usage()
  vim.api.nvim_create_autocmd({ 'WinLeave', 'BufWipeout' }, {
    group = vim.api.nvim_create_augroup('lulu_list', { clear = true }),
    buffer = H.buf,
    once = true,
    callback = function()
      vim.schedule(M.close)
    end,
  })
  vim.api.nvim_create_autocmd('CursorMoved', {
    group = 'lulu_list',
    buffer = H.buf,
    callback = H.snap,
  })
end

function M.close()
  require('lulu.ui.preview').close()
  H.timer = util.stop_timer(H.timer)
  if M.is_open() then
    pcall(vim.api.nvim_win_close, H.win, true)
  end
  H.win, H.buf, H.selected_id = nil, nil, nil
  pcall(vim.api.nvim_del_augroup_by_name, 'lulu_list')
end

--- Close the list for a moment (a detail, a dialog) and reopen it on the
--- same row afterwards.
function H.away(record, show)
  local target = H.prev_win
  M.close()
  show(function()
    if target and vim.api.nvim_win_is_valid(target) then
      vim.api.nvim_set_current_win(target)
    end
    M.open(record.id)
  end)
end

function M.refresh()
  if M.is_open() and vim.api.nvim_buf_is_valid(H.buf) then
    H.render()
  end
end

--- The session under the cursor.
---@return lulu.Session|nil
function M.selected()
  if not M.is_open() then
    return nil
  end
  local line = vim.api.nvim_win_get_cursor(H.win)[1]
  return H.rows[math.floor((line - 1) / 2) + 1]
end

--- The lines a list of records renders to, and their highlights; pure, so
--- tests can check the layout without a window.
---@param records lulu.Session[]
---@param width integer
---@param now number|nil
---@param pulse boolean|nil
---@return string[] lines, table[] highlights {line, col_start, col_end, group}
function M.layout(records, width, now, pulse)
  local lines, hls = {}, {}
  if #records == 0 then
    return { '', '  No sessions yet. Press n to start one.' }, { { 1, 0, -1, 'LuluMeta' } }
  end
  for _, r in ipairs(records) do
    local badge = badges[r.status] or badges.failed
    local head = (' %s %-9s '):format(badge.icon, badge.label)
    local age = util.age(r.last_activity_at, now)
    -- Before the age: pending approvals, waiting, cost: `⚠ 2  ◆ waiting  $0.42  5s`.
    local marker = (r.pending_approvals or 0) > 0 and ('⚠ %d  '):format(r.pending_approvals) or ''
    local waiting = r.waiting and '◆ waiting  ' or ''
    local cost = r.cost_usd and (util.money(r.cost_usd) .. '  ') or ''
    local tail = marker .. waiting .. cost .. age
    local name_room = width - vim.fn.strdisplaywidth(head) - vim.fn.strdisplaywidth(tail) - 2
    local name = r.name
    if vim.fn.strdisplaywidth(name) > name_room then
      name = vim.fn.strcharpart(name, 0, math.max(name_room - 1, 1)) .. '…'
    end
    local gap = math.max(
      1,
      width - vim.fn.strdisplaywidth(head) - vim.fn.strdisplaywidth(name) - vim.fn.strdisplaywidth(tail) - 1
    )
    local first = head .. name .. (' '):rep(gap) .. tail .. ' '
    local second
    if r.status == 'failed' and r.restarting then
      local at = util.parse_time(r.restarting.at) or util.now()
      local wait = math.max(0, math.ceil(at - util.now()))
      second = ('   restarting (%d/%d) in %ds · %s'):format(
        r.restarting.attempt,
        r.restarting.limit,
        wait,
        r.failure_reason or 'failed'
      )
    elseif r.status == 'failed' then
      second = '   ' .. (r.failure_reason or 'failed')
    else
      local parts = { r.agent }
      if r.host then
        local state = (require('lulu.remote').status(r.host) or {}).state
        table.insert(
          parts,
          1,
          state == 'connected' and ('@' .. r.host) or ('@%s (%s)'):format(r.host, state or 'not connected')
        )
      end
      if r.branch then
        parts[#parts + 1] = r.branch
        if r.merged then
          parts[#parts + 1] = 'merged'
        elseif (r.ahead or 0) > 0 then
          parts[#parts + 1] = ('ahead %d'):format(r.ahead)
        end
        if r.dirty then
          parts[#parts + 1] = 'dirty'
        end
      end
      if r.sandbox then
        parts[#parts + 1] = r.sandbox.network == false and 'sandboxed, offline' or 'sandboxed'
      end
      if r.limits and r.limits.memory and r.memory then
        parts[#parts + 1] = ('mem %s/%s'):format(util.bytes(r.memory), r.limits.memory)
      end
      parts[#parts + 1] = util.short_path(r.cwd)
      second = '   ' .. table.concat(parts, ' · ')
    end
    local l = #lines
    lines[l + 1] = first
    lines[l + 2] = second
    local icon_end = 1 + #badge.icon
    local dot_hl = (r.status == 'running' and pulse) and 'LuluRunningDim' or badge.hl
    hls[#hls + 1] = { l, 1, icon_end, dot_hl }
    hls[#hls + 1] = { l, icon_end + 1, #head, badge.hl }
    hls[#hls + 1] = { l, #head, #head + #name, 'LuluName' }
    hls[#hls + 1] = { l, #first - #age - 1, #first - 1, 'LuluAge' }
    local start = #first - #tail - 1
    if marker ~= '' then
      hls[#hls + 1] = { l, start, start + #marker, 'LuluPending' }
    end
    if waiting ~= '' then
      hls[#hls + 1] = { l, start + #marker, start + #marker + #waiting, 'LuluWaiting' }
    end
    if cost ~= '' then
      local at = start + #marker + #waiting
      hls[#hls + 1] = { l, at, at + #cost, 'LuluCost' }
    end
    hls[#hls + 1] = { l + 1, 0, -1, r.status == 'failed' and 'LuluReason' or 'LuluMeta' }
  end
  return lines, hls
end

-- helpers ------------------------------------------------------------------

--- Ask the host for the worktrees' size without waiting: it answers from a
--- cache, and a fresh figure arrives later as a `usage` event.
function H.ask_usage()
  local rpc = require('lulu.rpc')
  rpc.notify(rpc.methods.usage)
end

function H.geometry(count)
  local width = math.max(math.min(80, vim.o.columns - 4), 20)
  local config = util.float(width, math.max(count * 2, 2), H.title(), H.footer(width))
  -- With the preview under it, the two are centred together.
  local reserve = require('lulu.ui.preview').reserve()
  if reserve > 0 and vim.o.lines - (config.height + 2) - reserve >= 4 then
    config.row = math.max(math.floor((vim.o.lines - config.height - 2 - reserve) / 2), 0)
  end
  return config
end

--- Key hints, after the worktrees' count and size when known and there is room.
function H.footer(width)
  local room = width - 2
  local function fit(...)
    for _, candidate in ipairs({ ... }) do
      if vim.fn.strdisplaywidth(candidate) <= room then
        return candidate
      end
    end
    return ''
  end
  local usage = require('lulu.events').usage
  if not usage or usage.count == 0 then
    return fit(M.footer, M.footer_short)
  end
  local size = usage.bytes >= 1024 ^ 2 and usage.bytes < 1024 ^ 3 and ('%.1f MiB'):format(usage.bytes / 1024 ^ 2)
    or util.bytes(usage.bytes)
  local disk = (' %d worktree%s · %s '):format(usage.count, usage.count == 1 and '' or 's', size)
  return fit(disk .. '│' .. M.footer, disk .. '│' .. M.footer_short, M.footer_short)
end

function H.title()
  local live, cost, priced = 0, 0, false
  for _, r in ipairs(sessions.all()) do
    if sessions.is_live(r) then
      live = live + 1
    end
    if r.cost_usd then
      cost, priced = cost + r.cost_usd, true
    end
  end
  return priced and (' lulu · %d live · %s '):format(live, util.money(cost)) or (' lulu · %d live '):format(live)
end

function H.render()
  local selected_id = H.selected_id
  H.rows = sessions.all()
  local config = H.geometry(#H.rows)
  vim.api.nvim_win_set_config(H.win, config)
  local lines, hls = M.layout(H.rows, config.width, nil, H.pulse)
  vim.bo[H.buf].modifiable = true
  vim.api.nvim_buf_set_lines(H.buf, 0, -1, false, lines)
  vim.bo[H.buf].modifiable = false
  vim.api.nvim_buf_clear_namespace(H.buf, H.ns, 0, -1)
  for _, hl in ipairs(hls) do
    local line_len = #lines[hl[1] + 1]
    vim.api.nvim_buf_set_extmark(H.buf, H.ns, hl[1], hl[2], {
      end_col = hl[3] < 0 and line_len or math.min(hl[3], line_len),
      hl_group = hl[4],
    })
  end
  local index = 1
  for i, r in ipairs(H.rows) do
    if r.id == selected_id then
      index = i
    end
  end
  H.selected_id = H.rows[index] and H.rows[index].id
  if #H.rows > 0 then
    H.moving = true
    vim.api.nvim_win_set_cursor(H.win, { (index - 1) * 2 + 1, 0 })
    H.moving = false
    for offset = 0, 1 do
      vim.api.nvim_buf_set_extmark(H.buf, H.ns, (index - 1) * 2 + offset, 0, {
        line_hl_group = 'LuluSelected',
        priority = 10,
      })
    end
  end
  H.preview()
end

--- The preview follows the selection (when it is on).
function H.preview()
  local preview = require('lulu.ui.preview')
  if require('lulu.config').options.list.preview then
    preview.follow(H.win, H.rows[1] and M.selected())
  else
    preview.close()
  end
end

--- Keep the cursor on a row's first line (mouse clicks land anywhere).
function H.snap()
  if H.moving or not M.is_open() then
    return
  end
  local line = vim.api.nvim_win_get_cursor(H.win)[1]
  local row = math.floor((line - 1) / 2) + 1
  local record = H.rows[row]
  if record and record.id ~= H.selected_id or line % 2 == 0 then
    H.selected_id = record and record.id or H.selected_id
    H.render()
  end
end

function H.move(delta)
  local count = #H.rows
  if count == 0 then
    return
  end
  local line = vim.api.nvim_win_get_cursor(H.win)[1]
  local row = math.floor((line - 1) / 2) + 1
  row = math.min(math.max(row + delta * vim.v.count1, 1), count)
  H.selected_id = H.rows[row].id
  H.render()
end

function H.with_selected(fn)
  return function()
    local record = M.selected()
    if not record then
      return
    end
    local ok, err = pcall(fn, record)
    if not ok then
      util.notify(tostring(err), vim.log.levels.ERROR)
    end
  end
end

function H.open_selected(record)
  local target = H.prev_win
  M.close()
  if target and vim.api.nvim_win_is_valid(target) then
    vim.api.nvim_set_current_win(target)
  end
  require('lulu').open(record.id)
end

function H.delete(record)
  local lulu = require('lulu')
  local function attempt(force)
    -- A live one is stopped first (up to a few seconds): not waited for.
    local ok, err = pcall(lulu.delete, record.id, { force = force }, function(err)
      if not err then
        -- Its worktree may have gone with it: count them again.
        return H.ask_usage()
      elseif force then
        return util.notify(err, vim.log.levels.ERROR)
      end
      -- Refused (uncommitted or unmerged work): say why, offer to drop it.
      vim.ui.select({ 'Delete anyway, discarding that work', 'Keep it' }, { prompt = err }, function(choice)
        if choice and vim.startswith(choice, 'Delete') then
          attempt(true)
        end
      end)
    end)
    if not ok then
      util.notify(tostring(err), vim.log.levels.ERROR)
    end
  end
  if not sessions.is_live(record) then
    return attempt(false)
  end
  vim.ui.select({ 'Stop and delete', 'Cancel' }, { prompt = ('%s is running:'):format(record.name) }, function(choice)
    if choice == 'Stop and delete' then
      attempt(false)
    end
  end)
end

function H.new_session()
  -- Installed agents first; the others are marked, and refused with the hint.
  local ok, info = pcall(require('lulu.rpc').request, require('lulu.rpc').methods.agents)
  local missing = {}
  for _, agent in ipairs(ok and info or {}) do
    if agent.error and agent.error ~= vim.NIL then
      missing[agent.name] = agent.error
    end
  end
  local agents = vim.tbl_keys(require('lulu.config').options.agents)
  table.sort(agents, function(a, b)
    if (missing[a] == nil) ~= (missing[b] == nil) then
      return missing[a] == nil
    end
    return a < b
  end)
  local target = H.prev_win
  vim.ui.select(agents, {
    prompt = 'Agent',
    format_item = function(agent)
      return missing[agent] and (agent .. ' (not installed)') or agent
    end,
  }, function(agent)
    if not agent then
      return
    end
    if missing[agent] then
      return util.notify(missing[agent], vim.log.levels.ERROR)
    end
    vim.ui.input({ prompt = 'Name (empty: pick one): ' }, function(name)
      if name == nil then
        return
      end
      M.close()
      if target and vim.api.nvim_win_is_valid(target) then
        vim.api.nvim_set_current_win(target)
      end
      local ok, err = pcall(function()
        local record = require('lulu').start({ agent = agent, name = name ~= '' and name or nil })
        require('lulu').open(record.id)
      end)
      if not ok then
        util.notify(tostring(err), vim.log.levels.ERROR)
      end
    end)
  end)
end

function H.maps()
  local function map(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = H.buf, nowait = true, silent = true, desc = desc })
  end
  map('<CR>', H.with_selected(H.open_selected), 'Open session')
  map('<2-LeftMouse>', H.with_selected(H.open_selected), 'Open session')
  map(
    's',
    H.with_selected(function(r)
      require('lulu').stop(r.id)
    end),
    'Stop session'
  )
  map('d', H.with_selected(H.delete), 'Delete session')
  map(
    'K',
    H.with_selected(function(r)
      H.away(r, function(back)
        require('lulu.ui.detail').open(r.id, back)
      end)
    end),
    'Session detail (q returns to the list)'
  )
  map('a', function()
    if #require('lulu').approvals() == 0 then
      return util.notify('nothing is waiting for an answer')
    end
    local record = M.selected()
    M.close()
    require('lulu.approvals').open(record and record.id)
  end, 'Answer a pending approval')
  map('c', function()
    clear.ended(H.ask_usage)
  end, 'Clear ended sessions (asks once for those with unmerged work)')
  map('n', H.new_session, 'New session')
  map('p', function()
    local options = require('lulu.config').options
    options.list.preview = not options.list.preview
    H.render()
  end, 'Toggle the preview of the selected session')
  map('q', M.close, 'Close list')
  map('<Esc>', M.close, 'Close list')
  for _, key in ipairs({ 'j', '<Down>' }) do
    map(key, function()
      H.move(1)
    end, 'Next session')
  end
  for _, key in ipairs({ 'k', '<Up>' }) do
    map(key, function()
      H.move(-1)
    end, 'Previous session')
  end
end

return M
