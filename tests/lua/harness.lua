-- A small test harness in the spirit of mini.test: ordered cases, a fresh
-- child Neovim per case (own XDG dirs, own temp cwd), asserts that explain.
local M = {}

M.root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h')

--- A set of cases that remembers the order they were written in.
function M.new_set()
  local order = {}
  return setmetatable({}, {
    __newindex = function(t, name, fn)
      order[#order + 1] = name
      rawset(t, name, fn)
    end,
    __index = { _order = order },
  })
end

local function fmt(v)
  return type(v) == 'string' and ('%q'):format(v) or vim.inspect(v)
end

function M.eq(got, want, what)
  if not vim.deep_equal(got, want) then
    error(('%s\n  got:  %s\n  want: %s'):format(what or 'values differ', fmt(got), fmt(want)), 2)
  end
end

function M.ok(cond, what)
  if not cond then
    error(what or 'expected a true value', 2)
  end
  return cond
end

function M.matches(str, pattern, what)
  if type(str) ~= 'string' or not str:find(pattern) then
    error(('%s\n  %s\n  does not match %q'):format(what or 'no match', fmt(str), pattern), 2)
  end
end

--- A child Neovim driven over RPC.
---@param opts {env: table|nil, init: string|nil}|nil init: another checkout's minimal_init.lua
function M.child(opts)
  opts = opts or {}
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. '/work', 'p')
  local env = {
    XDG_DATA_HOME = dir .. '/data',
    XDG_STATE_HOME = dir .. '/state',
    XDG_CONFIG_HOME = dir .. '/config',
    XDG_CACHE_HOME = dir .. '/cache',
    XDG_RUNTIME_DIR = dir .. '/run',
    HOME = dir .. '/home',
    SHELL = '/bin/sh',
  }
  vim.fn.mkdir(env.HOME, 'p')
  vim.fn.mkdir(env.XDG_RUNTIME_DIR, 'p', tonumber('700', 8))
  for k, v in pairs(opts.env or {}) do
    env[k] = v
  end
  local job = vim.fn.jobstart({
    vim.v.progpath,
    '--embed',
    '--headless',
    '--clean',
    '-n',
    '-u',
    opts.init or (M.root .. '/scripts/minimal_init.lua'),
    '--cmd',
    'set columns=100 lines=40',
  }, { rpc = true, env = env, cwd = dir .. '/work' })
  assert(job > 0, 'could not start a child nvim')
  local child = { job = job, dir = dir, cwd = dir .. '/work', env = env }

  --- Run Lua in the child; `...` are its arguments.
  function child.lua(code, ...)
    return vim.rpcrequest(job, 'nvim_exec_lua', code, { ... })
  end

  function child.cmd(command)
    return vim.rpcrequest(job, 'nvim_command', command)
  end

  --- Run an Ex command and wait until the calls it made are answered
  --- (commands do not wait for the host: |lulu-async|).
  function child.run(command, timeout)
    child.cmd(command)
    child.wait('return require("lulu.rpc").unanswered() == 0', timeout or 10000, command .. ' to be answered')
  end

  --- Poll `code` (Lua returning a value) in the child until it is truthy.
  function child.wait(code, timeout, what, ...)
    local last
    local args = { ... }
    local ok = vim.wait(timeout or 5000, function()
      local ok_call, value = pcall(child.lua, code, unpack(args))
      last = ok_call and value or ('error: ' .. tostring(value))
      return ok_call and value and value ~= vim.NIL
    end, 20)
    if not ok then
      error(('timed out waiting for %s (last: %s)'):format(what or code, fmt(last)), 2)
    end
    return last
  end

  --- setup() in the child. Specs run the embedded host (sessions end with
  --- the child) unless they ask for `host = { mode = 'daemon' }`.
  function child.setup(extra)
    local opts =
      vim.tbl_deep_extend('force', { bin = os.getenv('LULU_BIN'), host = { mode = 'embedded' } }, extra or {})
    child.lua('require("lulu").setup(...)', opts)
  end

  --- The child's notifications, in order (captured by vim.notify override).
  function child.capture_notify()
    child.lua([[
      _G.notes = {}
      vim.notify = function(msg, level) table.insert(_G.notes, { msg = msg, level = level }) end
    ]])
  end

  --- The user, as vim.ui.select sees them: answer with the choice whose
  --- label starts with _G.answer (nothing when none does), and remember each
  --- prompt in _G.prompts.
  function child.fake_select()
    child.lua([[
      _G.prompts = {}
      vim.ui.select = function(items, opts, on_choice)
        table.insert(_G.prompts, opts.prompt)
        for _, item in ipairs(items) do
          local label = opts.format_item and opts.format_item(item) or item
          if vim.startswith(label, _G.answer or '') then
            return vim.schedule(function() on_choice(item) end)
          end
        end
        vim.schedule(function() on_choice(nil) end)
      end
    ]])
  end

  --- The text of a session's terminal buffer.
  function child.screen(id)
    return table.concat(
      child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer(...), 0, -1, false)', id),
      '\n'
    )
  end

  function child.wait_screen(id, pattern, timeout, what)
    local ok = vim.wait(timeout or 8000, function()
      return child.screen(id):find(pattern) ~= nil
    end, 50)
    if not ok then
      error(('timed out waiting for %s on the screen:\n%s'):format(what or pattern, child.screen(id)), 2)
    end
  end

  local deferred = {}
  --- Run `fn` when the case ends (after the child quits).
  function child.defer(fn)
    deferred[#deferred + 1] = fn
  end

  function child.stop()
    pcall(vim.rpcrequest, job, 'nvim_command', 'qa!')
    vim.fn.jobwait({ job }, 2000)
    pcall(vim.fn.jobstop, job)
    local pending = deferred
    deferred = {}
    for i = #pending, 1, -1 do
      pcall(pending[i])
    end
  end

  return child
end

--- `git -C dir ...`, raising with git's message on failure.
function M.git(dir, ...)
  local result = vim.system({ 'git', '-C', dir, ... }, { text = true }):wait()
  if result.code ~= 0 then
    error(('git %s: %s'):format(table.concat({ ... }, ' '), result.stderr), 2)
  end
  return vim.trim(result.stdout)
end

--- A repository at `dir` on branch main with one commit (shared.txt).
function M.repo(dir)
  vim.fn.mkdir(dir, 'p')
  M.git(dir, 'init', '--quiet', '--initial-branch=main')
  M.git(dir, 'config', 'user.name', 'Test')
  M.git(dir, 'config', 'user.email', 'test@localhost')
  vim.fn.writefile({ 'base' }, dir .. '/shared.txt')
  M.git(dir, 'add', '.')
  M.git(dir, 'commit', '--quiet', '-m', 'initial')
  return dir
end

--- Is a process still there (and not a zombie)?
function M.alive(pid)
  local stat = io.open('/proc/' .. pid .. '/stat')
  if not stat then
    return false
  end
  local line = stat:read('*l') or ''
  stat:close()
  local state = line:match('^%d+ %b() (%a)')
  return state ~= nil and state ~= 'Z', state
end

--- CPU seconds (user + system) a process has used.
function M.cpu(pid)
  local stat = io.open('/proc/' .. pid .. '/stat'):read('*l')
  local fields = vim.split(stat:gsub('^.*%) ', ''), ' ')
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

--- Resident memory of a process, in MiB.
function M.rss(pid)
  for line in io.lines('/proc/' .. pid .. '/status') do
    local kib = line:match('^VmRSS:%s+(%d+)')
    if kib then
      return tonumber(kib) / 1024
    end
  end
  return 0
end

--- End the case as skipped, with a reason the summary repeats.
function M.skip(reason)
  error({ skip = reason }, 0)
end

--- Wait until `fn()` is true; `state` (optional) says what was seen
--- instead, for the error.
function M.wait_for(fn, timeout, what, state)
  if not vim.wait(timeout or 5000, fn, 20) then
    error('timed out waiting for ' .. (what or 'condition') .. (state and (': ' .. state()) or ''), 2)
  end
end

return M
