---@mod lulu.ui.list.keys The session list's keys and what they do: open,
--- detail, preview, approve, stop, delete, clear, new, move, close. Works
--- on the list through the functions `lulu.ui.list` hands it (so it does
--- not require the list); asks the host through `lulu.api.*`.
local M = {}
local H = {}

local api_approvals = require('lulu.api.approvals')
local api_sessions = require('lulu.api.sessions')
local approve = require('lulu.ui.approve')
local clear = require('lulu.ui.clear')
local config = require('lulu.config')
local detail = require('lulu.ui.detail')
local rpc = require('lulu.rpc')
local sessions = require('lulu.sessions')
local start = require('lulu.api.start')
local term = require('lulu.term')
local util = require('lulu.util')

---@class lulu.ListHandle what the list hands its keys
---@field selected fun(): lulu.Session|nil
---@field close fun()
---@field open fun(select: string|nil)
---@field away fun(record: lulu.Session, show: fun(back: fun()))
---@field render fun()
---@field move fun(delta: integer)
---@field prev_win fun(): integer|nil
---@field ask_usage fun()
---@field cycle_filter fun(): string

--- Map the list's keys in its buffer `buf`.
---@param list lulu.ListHandle
function M.set(buf, list)
  local function map(lhs, fn, desc)
    vim.keymap.set('n', lhs, fn, { buffer = buf, nowait = true, silent = true, desc = desc })
  end
  local function selected(fn)
    return H.with_selected(list, fn)
  end
  local open = selected(function(r)
    H.open_selected(list, r)
  end)
  map('<CR>', open, 'Open session')
  map('f', function()
    util.notify(
      ('the list shows: %s'):format(
        ({ all = 'all sessions', repo = "this repository's", waiting = 'those waiting for you' })[list.cycle_filter()]
      )
    )
  end, 'Filter: all, this repository, waiting')
  map('<2-LeftMouse>', open, 'Open session')
  map(
    's',
    selected(function(r)
      api_sessions.stop(r.id)
    end),
    'Stop session'
  )
  map(
    'd',
    selected(function(r)
      H.delete(list, r)
    end),
    'Delete session'
  )
  map(
    'K',
    selected(function(r)
      list.away(r, function(back)
        detail.open(r.id, back)
      end)
    end),
    'Session detail (q returns to the list)'
  )
  H.more(map, list)
end

-- helpers ------------------------------------------------------------------

--- The keys that do not act on one session.
function H.more(map, list)
  map('a', function()
    if #api_approvals.approvals() == 0 then
      return util.notify('nothing is waiting for an answer')
    end
    local record = list.selected()
    list.close()
    approve.open(record and record.id)
  end, 'Answer a pending approval')
  map('c', function()
    clear.ended(list.ask_usage)
  end, 'Clear ended sessions (asks once for those with unmerged work)')
  map('n', function()
    H.new_session(list)
  end, 'New session')
  map('p', function()
    local options = config.options
    options.list.preview = not options.list.preview
    list.render()
  end, 'Toggle the preview of the selected session')
  map('q', list.close, 'Close list')
  map('<Esc>', list.close, 'Close list')
  for _, key in ipairs({ 'j', '<Down>' }) do
    map(key, function()
      list.move(1)
    end, 'Next session')
  end
  for _, key in ipairs({ 'k', '<Up>' }) do
    map(key, function()
      list.move(-1)
    end, 'Previous session')
  end
end

function H.with_selected(list, fn)
  return function()
    local record = list.selected()
    if not record then
      return
    end
    local ok, err = pcall(fn, record)
    if not ok then
      util.notify(tostring(err), vim.log.levels.ERROR)
    end
  end
end

--- Back where the list was opened from, the session's terminal shown: its
--- row's record is all that takes.
function H.open_selected(list, record)
  local target = list.prev_win()
  list.close()
  if target and vim.api.nvim_win_is_valid(target) then
    vim.api.nvim_set_current_win(target)
  end
  term.open(record)
end

function H.delete(list, record)
  local function attempt(force)
    -- A live one is stopped first (up to a few seconds): not waited for.
    local ok, err = pcall(api_sessions.delete, record.id, { force = force }, function(err)
      if not err then
        -- Its worktree may have gone with it: count them again.
        return list.ask_usage()
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

--- Pick an agent (installed ones first; the others are marked, and
--- refused with the hint) and a name, then start it and show it.
function H.new_session(list)
  local ok, info = pcall(rpc.request, rpc.methods.agents)
  local missing = {}
  for _, agent in ipairs(ok and info or {}) do
    if agent.error and agent.error ~= vim.NIL then
      missing[agent.name] = agent.error
    end
  end
  local agents = vim.tbl_keys(config.options.agents)
  table.sort(agents, function(a, b)
    if (missing[a] == nil) ~= (missing[b] == nil) then
      return missing[a] == nil
    end
    return a < b
  end)
  local target = list.prev_win()
  vim.ui.select(agents, {
    prompt = 'Agent',
    format_item = function(agent)
      return missing[agent] and (agent .. ' (not installed)') or agent
    end,
  }, function(agent)
    if not agent then
      return
    elseif missing[agent] then
      return util.notify(missing[agent], vim.log.levels.ERROR)
    end
    H.name_and_start(list, agent, target)
  end)
end

function H.name_and_start(list, agent, target)
  vim.ui.input({ prompt = 'Name (empty: pick one): ' }, function(name)
    if name == nil then
      return
    end
    H.pick_repo(function(cwd)
      list.close()
      if target and vim.api.nvim_win_is_valid(target) then
        vim.api.nvim_set_current_win(target)
      end
      local ok, err = pcall(function()
        term.open(start.start({ agent = agent, name = name ~= '' and name or nil, cwd = cwd }))
      end)
      if not ok then
        util.notify(tostring(err), vim.log.levels.ERROR)
      end
    end)
  end)
end

--- Where the new session works: here, or the repository of a recent
--- session (asked only when there is another one); `done(cwd|nil)`.
function H.pick_repo(done)
  local here = vim.fs.root(vim.fn.getcwd(), '.git') or vim.fn.getcwd()
  local repos, seen = {}, { [here] = true }
  for _, r in ipairs(sessions.all()) do
    if not r.host and r.repo and not seen[r.repo] then
      seen[r.repo] = true
      repos[#repos + 1] = r.repo
    end
  end
  if #repos == 0 then
    return done(nil)
  end
  local choices = vim.list_extend({ here }, repos)
  vim.ui.select(choices, {
    prompt = 'Repository',
    format_item = function(dir)
      return (dir == here and 'here: ' or '') .. vim.fn.fnamemodify(dir, ':~')
    end,
  }, function(dir)
    if dir then
      done(dir ~= here and dir or nil)
    end
  end)
end

return M
