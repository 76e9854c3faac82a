---@mod lulu.commands.complete Completion of the :Lulu* commands' arguments:
--- session names, agents and templates, saved sets, prompts. Never waits
--- on the host: it reads the editor's copies (`lulu.sessions`, the
--- template names known here), but for the saved sets.
local M = {}
local H = {}

local config = require('lulu.config')
local saved = require('lulu.api.saved')
local sessions = require('lulu.sessions')
local start = require('lulu.api.start')

function M.complete_sessions(lead)
  local names = {}
  for _, record in ipairs(sessions.all()) do
    if vim.startswith(record.name, lead) then
      names[#names + 1] = record.name
    end
  end
  return names
end

--- Ended sessions whose agent named a conversation.
function M.complete_resumable(lead)
  local names = {}
  for _, record in ipairs(sessions.all()) do
    if record.conversation and not sessions.is_live(record) and vim.startswith(record.name, lead) then
      names[#names + 1] = record.name
    end
  end
  return names
end

function M.complete_send(lead, line)
  if #vim.split(line, '%s+', { trimempty = true }) <= 2 and not line:match('%S+%s+%S+%s') then
    local names = M.complete_sessions(lead)
    if vim.startswith('all!', lead) then
      table.insert(names, 1, 'all!')
    end
    if vim.startswith('all', lead) then
      table.insert(names, 1, 'all')
    end
    return names
  end
  return {}
end

function M.complete_start(lead, line)
  if line:find(' %-%- ') then
    return vim.fn.getcompletion(lead, 'file')
  end
  for key, values in pairs({ worktree = { 'on', 'off' }, sandbox = { 'bwrap', 'off' } }) do
    if lead:match('^' .. key .. '=') then
      return vim.tbl_filter(
        function(s)
          return vim.startswith(s, lead)
        end,
        vim.tbl_map(function(v)
          return key .. '=' .. v
        end, values)
      )
    end
  end
  local items = { 'name=', 'cwd=', 'worktree=', 'base=', 'sandbox=', 'prompt=', '--' }
  local words = vim.split(line, '%s+', { trimempty = true })
  local first = #words == 1 or (#words == 2 and lead ~= '')
  if first then
    local agents = vim.tbl_keys(config.options.agents)
    table.sort(agents)
    -- Templates (`@name`), never waiting on the host.
    local templates = vim.tbl_map(function(t)
      return '@' .. t
    end, start.template_names())
    items = vim.list_extend(vim.list_extend(agents, templates), items)
  end
  if lead:match('^cwd=') then
    return H.complete_cwd(lead:sub(5))
  end
  if lead:match('^base=') then
    return H.complete_base(lead:sub(6), line:match('cwd=(%S+)'))
  end
  return vim.tbl_filter(function(item)
    return vim.startswith(item, lead)
  end, items)
end

--- `cwd=`: the repositories of recent sessions (newest first, from the
--- sessions lulu keeps), then directories.
function H.complete_cwd(lead)
  local out, seen = {}, {}
  for _, r in ipairs(sessions.all()) do
    local repo = not r.host and r.repo
    if repo and not seen[repo] then
      seen[repo] = true
      local short = vim.fn.fnamemodify(repo, ':~')
      if vim.startswith(short, lead) or vim.startswith(repo, lead) then
        out[#out + 1] = 'cwd=' .. short
      end
    end
  end
  for _, dir in ipairs(vim.fn.getcompletion(lead, 'dir')) do
    out[#out + 1] = 'cwd=' .. dir
  end
  return out
end

--- `base=`: the local branches of the repository the session starts in.
--- (git reads refs only; no program of the repository runs.)
function H.complete_base(lead, cwd)
  local dir = vim.fn.expand(cwd or vim.fn.getcwd())
  local cmd =
    { 'git', '-c', 'core.fsmonitor=false', '-C', dir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/' }
  local done = vim.system(cmd, { text = true }):wait(2000)
  local out = {}
  for _, branch in ipairs(vim.split(done.code == 0 and done.stdout or '', '\n', { trimempty = true })) do
    if vim.startswith(branch, lead) then
      out[#out + 1] = 'base=' .. branch
    end
  end
  return out
end

function M.complete_template(lead, line)
  local words = vim.split(line, '%s+', { trimempty = true })
  local n = #words + (lead == '' and 1 or 0)
  if n == 2 then
    return vim.tbl_filter(function(s)
      return vim.startswith(s, lead)
    end, { 'save', 'list' })
  end
  if n == 4 then
    return M.complete_sessions(lead)
  end
  return {}
end

function M.complete_saved(lead)
  local ok, names = pcall(saved.saved)
  return vim.tbl_filter(function(n)
    return vim.startswith(n, lead)
  end, ok and names or {})
end

function M.complete_prompts(lead)
  local names = vim.tbl_filter(function(n)
    return vim.startswith(n, lead)
  end, vim.tbl_keys(config.options.prompts))
  table.sort(names)
  return names
end

return M
