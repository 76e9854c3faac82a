-- The shape of lua/lulu: every file shows its dependencies (each `require`
-- of a lulu module a top-level `local x = require('lulu.y')` before the
-- first function), the require graph has no cycle, layers never point up,
-- and no file or function is too long to read. Read from the files, so a
-- new module is held to it the day it is written.
local h = require('harness')
local T = h.new_set()
-- No case here needs a child Neovim but the last, which makes its own.
rawset(T, '_no_child', true)

local LUA = h.root .. '/lua'

--- The layers, bottom first. A module may require modules of its own layer
--- or below, never above: the transport never names a window, the UI hears
--- the host through `lulu.bus`. A pattern ending in `.*` takes a folder.
local LAYERS = {
  -- Leaves: helpers, options, the wire format, the subscription table.
  {
    'base',
    {
      'lulu.util',
      'lulu.config',
      'lulu.protocol',
      'lulu.bus',
      'lulu.calls',
      'lulu.highlights',
      'lulu.outside',
      'lulu.context',
      'lulu.keys',
    },
  },
  -- The editor's copies of what the hosts hold.
  { 'state', { 'lulu.sessions', 'lulu.approvals', 'lulu.status' } },
  -- Finding, starting and talking to hosts; their events coming in.
  { 'transport', { 'lulu.build', 'lulu.host', 'lulu.host.*', 'lulu.remote', 'lulu.rpc', 'lulu.events' } },
  -- Terminal buffers, fed by the host, and the tab that tiles them.
  { 'view', { 'lulu.chat', 'lulu.chat.*', 'lulu.term', 'lulu.term.*', 'lulu.ui.grid' } },
  -- The bodies of the public functions that show nothing.
  { 'api', { 'lulu.api.*' } },
  { 'ui', { 'lulu.ui.*', 'lulu.persist' } },
  { 'commands', { 'lulu.commands', 'lulu.commands.*', 'lulu.health' } },
  -- The public API.
  { 'top', { 'lulu' } },
}

--- Functions allowed over 60 lines, each with why: files another change
--- owns for now. The list only shrinks (an entry no longer long fails).
local LONG_FUNCTIONS = {}

local MAX_FILE, MAX_FUNCTION = 400, 60

-- reading Lua ---------------------------------------------------------------

local OPS = { '...', '..', '==', '~=', '<=', '>=', '::', '//', '<<', '>>' }

--- The end of a long bracket (`[[`, `[==[`) opening at `i`, or nil.
local function long_bracket(src, i)
  local level = src:match('^%[(=*)%[', i)
  if not level then
    return nil
  end
  local _, stop = src:find(']' .. level .. ']', i, true)
  return stop or #src
end

--- The end of the short string opening at `i`.
local function short_string(src, i)
  local quote, j = src:sub(i, i), i + 1
  while j <= #src do
    local c = src:sub(j, j)
    if c == '\\' then
      j = j + 2
    elseif c == quote or c == '\n' then
      return j
    else
      j = j + 1
    end
  end
  return #src
end

--- Where the token at `i` ends, and its kind (nil: nothing to keep).
local function scan(src, i)
  local c = src:sub(i, i)
  if src:sub(i, i + 1) == '--' then
    return long_bracket(src, i + 2) or (src:find('\n', i, true) or #src + 1) - 1, nil
  elseif c == '"' or c == "'" then
    return short_string(src, i), 'string'
  elseif c == '[' and src:match('^%[=*%[', i) then
    return long_bracket(src, i), 'string'
  elseif c:match('[%a_]') then
    return select(2, src:find('^[%w_]+', i)), 'name'
  elseif c:match('%d') then
    return select(2, src:find('^[%w_.]+', i)), 'number'
  elseif c:match('%s') then
    return select(2, src:find('^%s+', i)), nil
  end
  for _, op in ipairs(OPS) do
    if src:sub(i, i + #op - 1) == op then
      return i + #op - 1, 'op'
    end
  end
  return i, 'op'
end

--- Lua source as tokens `{ kind, text, line, col }`, comments dropped.
local function tokenize(src)
  local tokens, i, line, line_start = {}, 1, 1, 1
  while i <= #src do
    local stop, kind = scan(src, i)
    local text = src:sub(i, stop)
    if kind then
      tokens[#tokens + 1] = { kind = kind, text = text, line = line, col = i - line_start + 1 }
    end
    for pos in text:gmatch('()\n') do
      line, line_start = line + 1, i + pos
    end
    i = stop + 1
  end
  return tokens
end

--- Every Lua file of lua/lulu: `{ module, path, source, tokens }`.
local function modules()
  local found = {}
  for name, kind in vim.fs.dir(LUA .. '/lulu', { depth = 10 }) do
    if kind == 'file' and name:match('%.lua$') then
      local path = LUA .. '/lulu/' .. name
      local module = ('lulu/' .. name):gsub('%.lua$', ''):gsub('/init$', ''):gsub('/', '.')
      local source = table.concat(vim.fn.readfile(path), '\n')
      found[#found + 1] = { module = module, path = 'lua/lulu/' .. name, source = source, tokens = tokenize(source) }
    end
  end
  table.sort(found, function(a, b)
    return a.module < b.module
  end)
  return found
end

local function is(token, kind, text)
  return token ~= nil and token.kind == kind and (text == nil or token.text == text)
end

local function unquote(token)
  return (token.text:gsub('^%[=*%[', ''):gsub('%]=*%]$', ''):gsub('^["\']', ''):gsub('["\']$', ''))
end

--- The lulu modules a file requires: `{ module, line, top }` each; `top`:
--- a statement of its own, `local x = require('lulu.y')` at the start of a
--- line, before the first function. A name built at run time is `module
--- = false`.
local function requires(file)
  local found, first_function = {}, math.huge
  local t = file.tokens
  for k, token in ipairs(t) do
    if is(token, 'name', 'function') then
      first_function = math.min(first_function, k)
    end
    if is(token, 'name', 'require') and not is(t[k - 1], 'op', '.') and not is(t[k - 1], 'op', ':') then
      local paren = is(t[k + 1], 'op', '(') or is(t[k + 1], 'op', ',')
      local name = paren and t[k + 2] or t[k + 1]
      if is(name, 'string') and vim.startswith(unquote(name), 'lulu') then
        local closed = not paren or is(t[k + 3], 'op', ')')
        local statement = is(t[k - 3], 'name', 'local')
          and t[k - 3].col == 1
          and is(t[k - 2], 'name')
          and is(t[k - 1], 'op', '=')
          and is(t[k + 1], 'op', '(')
          and closed
          and not (t[k + 4] and t[k + 4].line == t[k + 3].line)
        found[#found + 1] = {
          module = closed and unquote(name),
          line = token.line,
          top = statement and k < first_function,
        }
      end
    end
  end
  return found
end

--- The lulu require graph: `{ [module] = { [required] = line } }`.
local function graph(files)
  local edges = {}
  for _, file in ipairs(files) do
    edges[file.module] = {}
    for _, r in ipairs(requires(file)) do
      if r.module then
        edges[file.module][r.module] = edges[file.module][r.module] or r.line
      end
    end
  end
  return edges
end

--- Every cycle a depth-first walk meets, each as `a -> b -> a`.
local function cycles(edges)
  local found, seen, state, stack = {}, {}, {}, {}
  local function visit(node)
    state[node] = 'open'
    stack[#stack + 1] = node
    local targets = vim.tbl_keys(edges[node] or {})
    table.sort(targets)
    for _, next_node in ipairs(targets) do
      if state[next_node] == 'open' then
        local from = #stack
        while stack[from] ~= next_node do
          from = from - 1
        end
        local cycle = vim.list_slice(stack, from)
        cycle[#cycle + 1] = next_node
        local text = table.concat(cycle, ' -> ')
        if not seen[text] then
          seen[text] = true
          found[#found + 1] = text
        end
      elseif not state[next_node] and edges[next_node] then
        visit(next_node)
      end
    end
    stack[#stack] = nil
    state[node] = 'done'
  end
  local nodes = vim.tbl_keys(edges)
  table.sort(nodes)
  for _, node in ipairs(nodes) do
    if not state[node] then
      visit(node)
    end
  end
  return found
end

--- A module's layer: its index in LAYERS and its name (nil: none).
local function layer_of(module)
  for index, layer in ipairs(LAYERS) do
    for _, pattern in ipairs(layer[2]) do
      local folder = pattern:match('^(.*)%.%*$')
      if module == pattern or (folder and vim.startswith(module, folder .. '.')) then
        return index, layer[1]
      end
    end
  end
end

--- The functions of a file: `{ line, last, name }` each. A block opens
--- at `function`, `do`, `if` and `repeat`, and closes at `end` or `until`.
local function functions(file)
  local found, open = {}, {}
  local t = file.tokens
  for k, token in ipairs(t) do
    if token.kind == 'name' then
      local word = token.text
      if word == 'function' then
        local name = is(t[k + 1], 'name') and t[k + 1].text or nil
        if is(t[k + 2], 'op', '.') or is(t[k + 2], 'op', ':') then
          name = name .. t[k + 2].text .. (t[k + 3] and t[k + 3].text or '')
        end
        open[#open + 1] = { line = token.line, name = name or 'function' }
      elseif word == 'do' or word == 'if' or word == 'repeat' then
        open[#open + 1] = false
      elseif (word == 'end' or word == 'until') and #open > 0 then
        local block = table.remove(open)
        if block then
          block.last = token.line
          found[#found + 1] = block
        end
      end
    end
  end
  return found
end

local function report(problems, what)
  if #problems > 0 then
    error(('%s:\n  %s'):format(what, table.concat(problems, '\n  ')), 0)
  end
end

-- cases ---------------------------------------------------------------------

T['every require of a lulu module is a top-level local before the first function, of a module that exists'] = function()
  local files = modules()
  local exists = {}
  for _, file in ipairs(files) do
    exists[file.module] = true
  end
  local problems = {}
  for _, file in ipairs(files) do
    for _, r in ipairs(requires(file)) do
      if not r.module then
        problems[#problems + 1] = ('%s:%d: a require whose module is built at run time'):format(file.path, r.line)
      elseif not r.top then
        problems[#problems + 1] = ("%s:%d: require('%s') is not a top-level `local x = require(...)` before the first function"):format(
          file.path,
          r.line,
          r.module
        )
      elseif not exists[r.module] then
        problems[#problems + 1] = ("%s:%d: require('%s'): no such module under lua/lulu"):format(
          file.path,
          r.line,
          r.module
        )
      end
    end
  end
  report(problems, ('%d require(s) hidden or broken'):format(#problems))
end

T['the require graph of lua/lulu has no cycle'] = function()
  report(cycles(graph(modules())), 'require cycles')
end

T['layers never point up: each module is in a layer and requires only its own or lower ones'] = function()
  local problems = {}
  for module, targets in pairs(graph(modules())) do
    local from, from_name = layer_of(module)
    if not from then
      problems[#problems + 1] = ('%s is in no layer (add it to LAYERS in tests/lua/test_layers.lua)'):format(module)
    end
    for target, line in pairs(targets) do
      local to, to_name = layer_of(target)
      if from and to and to > from then
        problems[#problems + 1] = ('%s (%s) requires %s (%s), a layer above it, at line %d'):format(
          module,
          from_name,
          target,
          to_name,
          line
        )
      end
    end
  end
  table.sort(problems)
  report(problems, 'layers pointing up')
end

T['no file under lua/lulu is over 400 lines'] = function()
  local problems = {}
  for _, file in ipairs(modules()) do
    local lines = #vim.split(file.source, '\n')
    if lines > MAX_FILE then
      problems[#problems + 1] = ('%s: %d lines'):format(file.path, lines)
    end
  end
  report(problems, 'files over ' .. MAX_FILE .. ' lines')
end

T['no agent is named outside lulu.config (the host’s adapters know the rest)'] = function()
  local problems = {}
  for _, file in ipairs(modules()) do
    if file.module ~= 'lulu.config' then
      for _, token in ipairs(file.tokens) do
        if token.kind == 'string' and vim.tbl_contains({ 'claude', 'codex', 'gemini' }, unquote(token)) then
          problems[#problems + 1] = ('%s:%d names %s'):format(file.path, token.line, token.text)
        end
      end
    end
  end
  report(problems, 'agents named (ask config.trait or the host instead)')
end

T['no function under lua/lulu is over 60 lines (but the few listed, which must stay long to stay listed)'] = function()
  local problems, listed = {}, vim.deepcopy(LONG_FUNCTIONS)
  for _, file in ipairs(modules()) do
    for _, fn in ipairs(functions(file)) do
      local length, key = fn.last - fn.line + 1, ('%s %s'):format(file.module, fn.name)
      if length > MAX_FUNCTION and listed[key] then
        listed[key] = nil
      elseif length > MAX_FUNCTION then
        problems[#problems + 1] = ('%s:%d: %s is %d lines'):format(file.path, fn.line, fn.name, length)
      end
    end
  end
  for key in pairs(listed) do
    problems[#problems + 1] = ('%s is listed in LONG_FUNCTIONS but is no longer long: drop it'):format(key)
  end
  table.sort(problems)
  report(problems, 'functions over ' .. MAX_FUNCTION .. ' lines')
end

T['the spec reads what it should: a hidden require, a cycle and a long function are all seen'] = function()
  local source = table.concat({
    "local a = require('lulu.a')",
    'local function f()',
    "  return require('lulu.b').x",
    'end',
    "local c = require('lulu.c') -- after a function",
    '--[[ a comment naming require("lulu.d") ]]',
    'local s = \'require("lulu.e")\'',
    'return { f = f, a = a, c = c, s = s }',
  }, '\n')
  local found = requires({ tokens = tokenize(source) })
  h.eq(
    vim.tbl_map(function(r)
      return { r.module, r.line, r.top }
    end, found),
    { { 'lulu.a', 1, true }, { 'lulu.b', 3, false }, { 'lulu.c', 5, false } },
    'requires, and which are at the top'
  )
  h.eq(
    cycles({ ['lulu.a'] = { ['lulu.b'] = 1 }, ['lulu.b'] = { ['lulu.c'] = 1 }, ['lulu.c'] = { ['lulu.a'] = 1 } }),
    { 'lulu.a -> lulu.b -> lulu.c -> lulu.a' },
    'a cycle, named'
  )
  local body = { 'local M = {}', 'function M.long()', '  if x then', '  end' }
  for i = 1, 60 do
    body[#body + 1] = ('  local v%d = [[ end ]]'):format(i)
  end
  vim.list_extend(body, { 'end', 'return M' })
  local long = functions({ tokens = tokenize(table.concat(body, '\n')) })
  h.eq(long, { { line = 2, last = 65, name = 'M.long' } }, 'a function and its length')
end

T['any lulu module can be required alone, before setup(), and starts nothing'] = function()
  local child = h.child()
  local ok, err = pcall(function()
    child.capture_notify()
    local names = vim.tbl_map(function(file)
      return file.module
    end, modules())
    local result = child.lua(
      [[
      local before = { chans = #vim.api.nvim_list_chans(), bufs = #vim.api.nvim_list_bufs(),
        wins = #vim.api.nvim_list_wins(), tabs = #vim.api.nvim_list_tabpages() }
      local failed = {}
      for _, name in ipairs(...) do
        -- Alone: nothing of lulu loaded before it.
        for loaded in pairs(package.loaded) do
          if loaded == 'lulu' or vim.startswith(loaded, 'lulu.') then
            package.loaded[loaded] = nil
          end
        end
        local ok, err = pcall(require, name)
        if not ok then
          failed[#failed + 1] = name .. ': ' .. tostring(err)
        end
      end
      return { failed = failed, before = before, after = { chans = #vim.api.nvim_list_chans(),
        bufs = #vim.api.nvim_list_bufs(), wins = #vim.api.nvim_list_wins(),
        tabs = #vim.api.nvim_list_tabpages() }, running = require('lulu.host').running(), notes = _G.notes }
    ]],
      names
    )
    h.eq(result.failed, {}, 'every module loads')
    h.eq(result.after, result.before, 'no channel, buffer, window or tab made')
    h.eq(result.running, false, 'no host started')
    h.eq(result.notes, {}, 'nothing said')
  end)
  child.stop()
  if not ok then
    error(err, 0)
  end
end

T['the few methods lulu.protocol names (below lulu.rpc) are the ones in rpc.lua, the table the host checks'] = function()
  local child = h.child()
  local ok, err = pcall(function()
    local names = child.lua([[
      local rpc, protocol = require('lulu.rpc'), require('lulu.protocol')
      local differ = {}
      for key, method in pairs(protocol.methods) do
        if rpc.methods[key] ~= method then
          differ[#differ + 1] = ('%s: %s in lulu.protocol, %s in lulu.rpc'):format(key, method, tostring(rpc.methods[key]))
        end
      end
      return { differ = differ, version = rpc.version == protocol.version }
    ]])
    h.eq(names.differ, {}, 'the same names')
    h.ok(names.version, 'the same version')
  end)
  child.stop()
  if not ok then
    error(err, 0)
  end
end

return T
