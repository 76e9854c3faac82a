---@mod lulu.ui.rules The :LuluRules buffer, and rules as JSON files.
---
--- One rule per line, in the order they are tried (the number first; `#id`
--- names the rule):
---   1. #3  allow  tool=Bash command='^npm test$'
---   2. #4  allow  tool=Bash argv='["rm","-f","notes old.txt"]'   (exact words, as "always" stores)
--- `a` adds (typed in the same form), `d` deletes, `K`/`J` move the rule
--- under the cursor up or down, `r` reloads, `q` closes. Owns that
--- buffer; asks the host through `lulu.api.approvals`.
local M = {}
local H = {}

local api_approvals = require('lulu.api.approvals')
local util = require('lulu.util')

H.ns = vim.api.nvim_create_namespace('lulu_rules')
H.fields = { 'tool', 'path', 'command', 'argv', 'cwd', 'agent', 'scope', 'reason' }
M.header = 'lulu rules · tried top to bottom, first match wins · a add · d delete · K/J move · r reload · q close'

--- `allow tool=Bash command='^ls'` -> rule table.
---@param line string
---@return lulu.Rule
function M.parse(line)
  local ok, words = pcall(util.words, line)
  if not ok then
    error(('bad rule: %s'):format(words), 0)
  end
  local action = table.remove(words, 1)
  if not H.actions[action or ''] then
    error(('a rule starts with allow, deny or ask, not %q'):format(action or ''), 0)
  end
  local rule = { action = action }
  for _, word in ipairs(words) do
    local key, value = word:match('^(%w+)=(.*)$')
    if H.actions[word] then
      error(('%q: the action goes first, once (a rule is `%s key=value ...`)'):format(word, action), 0)
    elseif not key or not vim.tbl_contains(H.fields, key) then
      error(('%q: expected key=value with key one of %s'):format(word, table.concat(H.fields, ', ')), 0)
    elseif value == '' then
      error(('%q: %s has no value'):format(word, key), 0)
    elseif H.actions[value] and key ~= 'reason' then
      error(('%q: %q is an action; a rule starts with it (`%s ...`)'):format(word, value, value), 0)
    elseif rule[key] then
      error(('%q: %s is given twice'):format(word, key), 0)
    end
    rule[key] = key == 'argv' and H.argv(word, value) or value
  end
  return rule
end

--- `argv='["rm","-f"]'`: a JSON list of words.
function H.argv(word, value)
  local ok, list = pcall(vim.json.decode, value)
  local words = ok and type(list) == 'table' and vim.islist(list) and #list > 0
  for _, item in ipairs(words and list or {}) do
    words = words and type(item) == 'string'
  end
  if not words then
    error(('%q: argv is a JSON list of words, like argv=\'["npm","test"]\''):format(word), 0)
  end
  return list
end

H.actions = { allow = true, deny = true, ask = true }

--- An allow that no command, path or directory narrows: it decides every
--- call of its tool (only added deliberately, here, with a warning).
---@param rule lulu.Rule
function M.tool_wide(rule)
  return rule.action == 'allow' and not (rule.path or rule.command or rule.argv or rule.cwd)
end

--- The rule as a line `parse` reads back.
---@param rule lulu.Rule
function M.format(rule)
  local parts = { ('#%d'):format(rule.id), ('%-5s'):format(rule.action) }
  for _, key in ipairs(H.fields) do
    if rule[key] then
      local value = key == 'argv' and vim.json.encode(rule[key]) or rule[key]
      parts[#parts + 1] = key .. '=' .. H.quote(value)
    end
  end
  return table.concat(parts, '  ')
end

function M.open()
  local rules = api_approvals.rules()
  local buf = vim.fn.bufnr('lulu://rules')
  if buf == -1 then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, 'lulu://rules')
    vim.bo[buf].filetype = 'lulu_rules'
    vim.bo[buf].bufhidden = 'wipe'
    H.maps(buf)
  end
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
    vim.api.nvim_win_set_height(0, math.min(math.max(#rules + 2, 5), 15))
  else
    vim.api.nvim_set_current_win(win)
  end
  H.render(buf, rules)
end

--- Write the rules (without ids) to a JSON file; returns how many.
function M.export(path)
  local rules = api_approvals.rules()
  for _, rule in ipairs(rules) do
    rule.id = nil
  end
  local file = assert(io.open(path, 'w'), 'cannot write ' .. path)
  file:write(vim.json.encode(rules), '\n')
  file:close()
  return #rules
end

--- Append the rules of a JSON file (a list of rule tables); returns how many.
--- Every rule is checked by the host; the first bad one stops the import.
function M.import(path)
  local file = io.open(path, 'r')
  if not file then
    error('cannot read ' .. path, 0)
  end
  local ok, rules = pcall(vim.json.decode, file:read('*a'))
  file:close()
  if not ok or type(rules) ~= 'table' or not vim.islist(rules) then
    error(path .. ' is not a JSON list of rules', 0)
  end
  for i, rule in ipairs(rules) do
    rule.id = nil
    local added, err = pcall(api_approvals.add_rule, rule)
    if not added then
      error(('rule %d of %s: %s (%d imported before it)'):format(i, path, err, i - 1), 0)
    end
  end
  return #rules
end

-- helpers ------------------------------------------------------------------

function H.quote(value)
  if value ~= '' and not value:find('[%s\'"\\]') then
    return value
  end
  return "'" .. value:gsub("'", [['\'']]) .. "'"
end

function H.render(buf, rules)
  H.rules = rules
  local lines = { M.header }
  for i, rule in ipairs(rules) do
    lines[#lines + 1] = ('%d. %s'):format(i, M.format(rule))
  end
  if #rules == 0 then
    lines[2] = 'no rules: every permission question reaches you (a adds one)'
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.api.nvim_buf_clear_namespace(buf, H.ns, 0, -1)
  vim.api.nvim_buf_set_extmark(buf, H.ns, 0, 0, { end_col = #lines[1], hl_group = 'LuluMeta' })
  for i, rule in ipairs(rules) do
    local group = ({ allow = 'LuluCompleted', deny = 'LuluFailed', ask = 'LuluStarting' })[rule.action]
    local start = #(('%d. #%d'):format(i, rule.id)) + 2
    vim.api.nvim_buf_set_extmark(buf, H.ns, i, start, { end_col = start + #rule.action, hl_group = group })
  end
end

--- The rule under the cursor.
function H.current()
  local line = vim.api.nvim_win_get_cursor(0)[1]
  return H.rules and H.rules[line - 1], line - 2
end

function H.refresh(buf)
  H.render(buf, api_approvals.rules())
end

function H.maps(buf)
  local function map(lhs, fn, desc)
    vim.keymap.set('n', lhs, function()
      local ok, err = pcall(fn)
      if not ok then
        util.notify(tostring(err), vim.log.levels.ERROR)
      end
    end, { buffer = buf, nowait = true, silent = true, desc = desc })
  end
  map('a', function()
    vim.ui.input({ prompt = 'New rule (allow|deny|ask key=value ...): ' }, function(input)
      if input and vim.trim(input) ~= '' then
        H.add(buf, input)
      end
    end)
  end, 'Add a rule below the cursor')
  map('d', function()
    local rule = H.current()
    if rule then
      api_approvals.remove_rule(rule.id)
      H.refresh(buf)
    end
  end, 'Delete the rule')
  for lhs, delta in pairs({ K = -1, J = 1 }) do
    map(lhs, function()
      local rule, index = H.current()
      if rule then
        local target = math.min(math.max(index + delta, 0), #H.rules - 1)
        api_approvals.move_rule(rule.id, target)
        H.refresh(buf)
        vim.api.nvim_win_set_cursor(0, { target + 2, 0 })
      end
    end, delta < 0 and 'Move the rule up' or 'Move the rule down')
  end
  map('r', function()
    H.refresh(buf)
  end, 'Reload')
  map('q', function()
    vim.cmd.close()
  end, 'Close')
end

--- Add the rule typed as `input` below the cursor; an allow of a whole
--- tool says so.
function H.add(buf, input)
  local ok, err = pcall(function()
    local _, index = H.current()
    local rule = M.parse(input)
    local added = api_approvals.add_rule(rule, { index = math.max(index + 1, 0) })
    local id = type(added) == 'table' and added.id or added
    H.refresh(buf)
    if M.tool_wide(rule) then
      local order = 0
      for i, r in ipairs(H.rules or {}) do
        order = r.id == id and i or order
      end
      util.notify(
        ('rule #%s (tried %d of %d) allows every %s call in every session, whatever it runs or writes'):format(
          id,
          order,
          #(H.rules or {}),
          rule.tool or 'tool'
        ),
        vim.log.levels.WARN
      )
    end
  end)
  if not ok then
    util.notify(tostring(err), vim.log.levels.ERROR)
  end
end

return M
