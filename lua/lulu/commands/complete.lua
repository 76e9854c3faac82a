---@mod lulu.commands.complete Completion of the :Lulu* commands' arguments:
--- session names, agents and templates, saved sets, prompts. Never waits
--- on the host: it reads the editor's copies (`lulu.sessions`, the
--- template names known here), but for the saved sets.
local M = {}

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
    return vim.tbl_map(function(dir)
      return 'cwd=' .. dir
    end, vim.fn.getcompletion(lead:sub(5), 'dir'))
  end
  return vim.tbl_filter(function(item)
    return vim.startswith(item, lead)
  end, items)
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
