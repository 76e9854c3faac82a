---@mod lulu.config Defaults, the options in force, and their validation.
--- `setup()` only merges and checks (|lulu.setup()| applies them). Owns
--- `options`; requires only `lulu.util`; touches nothing else.
local M = {}
local H = {}

local util = require('lulu.util')

-- The defaults block in doc/lulu.txt is checked against this table by
-- tests/lua/test_config.lua; change both together.
---@class lulu.Config
M.defaults = {
  bin = nil, -- path to the lulu binary; default: <plugin root>/target/release/lulu, then $PATH
  max_sessions = 12,
  default_agent = nil, -- nil: first of claude, codex, gemini found on $PATH, else 'shell'
  agents = { -- per agent: cmd (argv list), args (appended), env (table); new names add agents
    claude = { cmd = { 'claude' } },
    codex = { cmd = { 'codex' } },
    gemini = { cmd = { 'gemini' } },
    -- ACP agents (:h lulu-acp): a chat buffer, lulu's rules and review
    ['gemini-acp'] = { acp = { cmd = { 'gemini', '--acp' } } },
    ['claude-acp'] = { acp = { cmd = { 'claude-agent-acp' } } },
    ['codex-acp'] = { acp = { cmd = { 'codex-acp' } } },
    shell = { cmd = nil },
  },
  worktree = { enabled = true, root = nil, copy = {}, setup = nil, cleanup = 'keep', branch = 'lulu/{name}' },
  pool = { size = 2, ready_timeout = 5, recycle = false, max_age = 1800 }, -- recycle: a stopped plain shell goes back to the pool
  scrollback = 10000, -- rows of output the host keeps per session
  list = { preview = true }, -- the selected session's screen under the list (p toggles)
  open = { insert = true }, -- :LuluOpen and <CR> in the list enter Terminal mode (false: stay in Normal mode)
  approvals = { timeout = 600, chain = true, notify = true, review = 'ask' }, -- review = 'auto': file changes open as a diff at once
  notify = { terminal = false }, -- true: a desktop notification (OSC 777/9) and a bell when Neovim is not focused
  keys = { -- false disables one
    approve = '<leader>aa',
    send = '<leader>as',
    term_list = '<C-\\>l', -- in lulu's terminals, Terminal mode
    term_approve = '<C-\\>a',
    term_next = '<C-\\>n',
  },
  cost = { prices = {} },
  -- Confine sessions' process trees (:h lulu-sandbox). backend = 'bwrap'
  -- sandboxes every session; agents.NAME.sandbox or sandbox= per start.
  sandbox = { backend = nil, ro = {}, rw = {}, hide = { '~/.ssh', '~/.gnupg', '~/.aws' }, network = true },
  -- Remote hosts (:h lulu-remote): { name = { ssh = 'me@devbox', bin =
  -- 'lulu', ssh_args = {}, agents = {} } }; :LuluStart name:claude.
  hosts = {},
  host = { mode = 'daemon' }, -- 'daemon': sessions outlive Neovim; 'embedded': they end with it
  daemon = { idle_exit = 600 }, -- seconds with no session and no editor before the daemon exits
  persist = { autosave = false, prompt_on_exit = false, resume = true },
  -- Session presets for :LuluStart @name: { agent, args, env, worktree =
  -- true|false|{ copy, setup }, base, prompt }.
  templates = {},
  -- Named prompts for :LuluPrompt; {file}, {position}, {selection},
  -- {diagnostics}, {quickfix} are filled from where you are.
  prompts = {
    explain = 'Explain what this code does, and anything surprising in it:\n{selection}',
    fix = 'Fix these diagnostics in {file}:\n{diagnostics}',
    review = 'Review this code for bugs and risky edge cases; list them before changing anything:\n{selection}',
    tests = 'Write tests for this code, in the style of the tests already in the repository:\n{selection}',
  },
}

---@type lulu.Config
M.options = vim.deepcopy(M.defaults)

--- What the editor side knows of the built-in agents, beside their
--- defaults above (the host's adapters know the rest): the one place in
--- Lua that names them. `refs`: it reads `@path#Lstart-Lend` references;
--- `continue`: the flag that continues its directory's last conversation;
--- `hint`: advice for :checkhealth given its configured args (or nil).
M.known = {
  claude = {
    refs = true,
    continue = '--continue',
    hint = function(args)
      if not vim.tbl_contains(args, '--permission-mode') then
        return "claude: in Claude Code's default `auto` permission mode many tools run without asking, so fewer "
          .. "approvals reach Neovim; agents.claude.args = { '--permission-mode', 'default' } shows them all"
      end
    end,
  },
  codex = {},
  gemini = {},
}
--- The agents a start without one looks for on $PATH, in this order.
M.preference = { 'claude', 'codex', 'gemini' }

--- What the editor side knows of agent `name` (an empty table: nothing).
function M.trait(name)
  return M.known[name] or {}
end

--- What the last setup() found wrong, one line each.
---@type string[]
M.problems = {}

---@param opts table|nil
---@return string[] problems one line each, naming the option and the fix
function M.validate(opts)
  local problems = {}
  H.walk(problems, opts or {}, M.defaults, '')
  local o = vim.tbl_deep_extend('force', M.defaults, opts or {})
  if o.persist.claude_continue ~= nil then
    problems[#problems + 1] =
      'persist.claude_continue is deprecated: use persist.resume (it resumes every agent); it is still read for now'
  end
  for _, checks in ipairs({ H.plain(o), H.tables(o), H.pool(o), H.rest(o) }) do
    for _, check in ipairs(checks) do
      if not check[2] then
        problems[#problems + 1] = ('%s must be %s'):format(check[1], check[3])
      end
    end
  end
  return problems
end

--- Merge `opts` over the defaults (the caller applies them: |lulu.setup()|).
---@param opts table|nil
function M.setup(opts)
  vim.validate('opts', opts, 'table', true)
  local problems = M.validate(opts)
  for _, problem in ipairs(problems) do
    util.notify(problem, vim.log.levels.WARN)
  end
  M.options = vim.tbl_deep_extend('force', vim.deepcopy(M.defaults), opts or {})
  -- The agents the user named with a command of their own (health warns
  -- when one of those is missing; a built-in one is optional).
  M.configured_agents = {}
  for name, spec in pairs(type(opts) == 'table' and type(opts.agents) == 'table' and opts.agents or {}) do
    M.configured_agents[name] = type(spec) == 'table' and spec.cmd ~= nil or nil
  end
  M.problems = problems
end

-- helpers ------------------------------------------------------------------

--- Unknown keys, down the tables whose keys are lulu's.
function H.walk(problems, given, defaults, prefix)
  for key, value in pairs(given) do
    local path = prefix .. tostring(key)
    if prefix == 'agents.' then
      H.check_agent(problems, path, key, value)
    elseif defaults[key] == nil and not H.nil_defaults[path] then
      problems[#problems + 1] = ('unknown option %s'):format(path)
    elseif type(defaults[key]) == 'table' and type(value) == 'table' and not H.free_tables[path] then
      H.walk(problems, value, defaults[key], path .. '.')
    end
  end
end

--- `{ option, ok, what it must be }` for the plain values.
function H.plain(o)
  return {
    { 'max_sessions', type(o.max_sessions) == 'number' and o.max_sessions >= 1, 'a number >= 1' },
    {
      'scrollback',
      type(o.scrollback) == 'number' and o.scrollback >= 1,
      'a number of rows >= 1 (at most 100000 are kept)',
    },
    { 'bin', o.bin == nil or type(o.bin) == 'string', 'a path string' },
    { 'list.preview', type(o.list.preview) == 'boolean', 'true or false' },
    { 'open.insert', type(o.open.insert) == 'boolean', 'true or false' },
    { 'default_agent', o.default_agent == nil or o.agents[o.default_agent] ~= nil, 'the name of a configured agent' },
    { 'host.mode', o.host.mode == 'embedded' or o.host.mode == 'daemon', "'embedded' or 'daemon'" },
  }
end

--- The tables whose keys are the user's: hosts, prices.
function H.tables(o)
  return {
    {
      'hosts',
      type(o.hosts) == 'table' and vim.iter(pairs(o.hosts)):all(function(k, h)
        return type(k) == 'string'
          and k:match('^[%w_.-]+$') ~= nil
          and type(h) == 'table'
          and type(h.ssh) == 'string'
          and (h.bin == nil or type(h.bin) == 'string')
          and (h.ssh_args == nil or vim.islist(h.ssh_args))
          and (h.agents == nil or type(h.agents) == 'table')
          and (h.autoconnect == nil or type(h.autoconnect) == 'boolean')
      end),
      "a table of name = { ssh = 'user@host', bin = 'lulu', ssh_args = { ... }, agents = { ... } } (names: letters, digits, -, _, .)",
    },
    { 'sandbox.backend', o.sandbox.backend == nil or o.sandbox.backend == 'bwrap', "nil or 'bwrap'" },
    { 'sandbox.network', type(o.sandbox.network) == 'boolean', 'true or false' },
    {
      'daemon.idle_exit',
      type(o.daemon.idle_exit) == 'number' and o.daemon.idle_exit >= 1,
      'a number of seconds >= 1',
    },
    {
      'cost.prices',
      type(o.cost.prices) == 'table' and vim.iter(pairs(o.cost.prices)):all(function(_, p)
        return type(p) == 'table'
          and type(p.input) == 'number'
          and type(p.output) == 'number'
          and type(p.cache_write) == 'number'
          and type(p.cache_read) == 'number'
      end),
      'a table of model prefix = { input =, output =, cache_write =, cache_read = } (USD per million tokens)',
    },
  }
end

--- The warm shells.
function H.pool(o)
  return {
    {
      'pool.size',
      type(o.pool.size) == 'number' and o.pool.size >= 0 and o.pool.size <= 6,
      'a number from 0 (off) to 6',
    },
    { 'pool.recycle', type(o.pool.recycle) == 'boolean', 'true or false' },
    {
      'pool.max_age',
      type(o.pool.max_age) == 'number' and o.pool.max_age >= 1,
      'seconds (>= 1) a recycled shell may have lived',
    },
    {
      'pool.ready_timeout',
      type(o.pool.ready_timeout) == 'number' and o.pool.ready_timeout > 0 and o.pool.ready_timeout <= 600,
      'seconds (0 < n <= 600) a warm shell may take to show its prompt',
    },
  }
end

--- Templates, prompts, approvals, persistence and worktrees.
function H.rest(o)
  return {
    {
      'templates',
      type(o.templates) == 'table' and vim.iter(pairs(o.templates)):all(function(k, t)
        return type(k) == 'string'
          and type(t) == 'table'
          and (t.agent == nil or o.agents[t.agent] ~= nil)
          and (t.args == nil or vim.islist(t.args))
          and (t.prompt == nil or type(t.prompt) == 'string')
          and (t.worktree == nil or type(t.worktree) == 'boolean' or type(t.worktree) == 'table')
      end),
      "a table of name = { agent = <a configured agent>, args = {...}, env = {...}, worktree = true|false|{ copy, setup }, prompt = '...' }",
    },
    {
      'prompts',
      type(o.prompts) == 'table' and vim.iter(pairs(o.prompts)):all(function(k, v)
        return type(k) == 'string' and type(v) == 'string'
      end),
      "a table of name = 'prompt text' (with {file}, {selection}, {diagnostics}, ...)",
    },
    {
      'approvals.review',
      o.approvals.review == 'ask' or o.approvals.review == 'auto',
      "'ask' (offer Review… in the dialog) or 'auto' (open file changes as a diff at once)",
    },
    { 'persist.resume', type(o.persist.resume) == 'boolean', 'true or false' },
    {
      'persist.autosave',
      o.persist.autosave == false or (type(o.persist.autosave) == 'number' and o.persist.autosave >= 1),
      'false or a number of seconds >= 1',
    },
    unpack(H.worktree(o)),
  }
end

function H.worktree(o)
  return {
    {
      'worktree.branch',
      type(o.worktree.branch) == 'string' and o.worktree.branch:find('{name}', 1, true) ~= nil,
      "a branch name template holding {name} (and maybe {agent}, {date}), like 'agent/{name}'",
    },
    {
      'worktree.cleanup',
      o.worktree.cleanup == 'keep' or o.worktree.cleanup == 'delete_if_merged',
      "'keep' or 'delete_if_merged'",
    },
    {
      'worktree.copy',
      type(o.worktree.copy) == 'table' and vim.iter(o.worktree.copy):all(function(g)
        return type(g) == 'string'
      end),
      "a list of globs like { '.env', '.env.*' }",
    },
    {
      'worktree.setup',
      o.worktree.setup == nil or (type(o.worktree.setup) == 'table' and #o.worktree.setup > 0 and vim
        .iter(o.worktree.setup)
        :all(function(w)
          return type(w) == 'string'
        end)),
      "an argv list like { 'npm', 'ci' }",
    },
  }
end

--- Agent keys the host understands; anything else in an agent table is a typo.
H.agent_keys = {
  cmd = true,
  acp = true,
  args = true,
  env = true,
  submit_delay = true,
  restart = true,
  restart_limit = true,
  limits = true,
  sandbox = true,
}

-- Options whose default is nil: they exist although the defaults table
-- cannot show them.
H.nil_defaults = {
  bin = true,
  default_agent = true,
  ['worktree.root'] = true,
  ['worktree.setup'] = true,
  ['sandbox.backend'] = true,
  -- The old name of `persist.resume` (Claude only); still read.
  ['persist.claude_continue'] = true,
}
-- Tables whose keys are the user's own (model names, file globs).
H.free_tables = {
  hosts = true,
  ['cost.prices'] = true,
  ['worktree.copy'] = true,
  prompts = true,
  templates = true,
  ['sandbox.ro'] = true,
  ['sandbox.rw'] = true,
  ['sandbox.hide'] = true,
}

function H.check_agent(problems, path, name, spec)
  if type(spec) ~= 'table' then
    problems[#problems + 1] = ('%s must be a table like { cmd = { "%s" } }'):format(path, name)
    return
  end
  for k in pairs(spec) do
    if not H.agent_keys[k] then
      problems[#problems + 1] = ('unknown option %s.%s (known: cmd, acp, args, env, submit_delay, restart, restart_limit, limits, sandbox)'):format(
        path,
        k
      )
    end
  end
  if spec.sandbox ~= nil and spec.sandbox ~= false and spec.sandbox ~= 'bwrap' then
    problems[#problems + 1] = ("%s.sandbox must be 'bwrap' or false"):format(path)
  end
  if spec.acp ~= nil and (type(spec.acp) ~= 'table' or type(spec.acp.cmd) ~= 'table' or #spec.acp.cmd == 0) then
    problems[#problems + 1] = ("%s.acp must be a table like { cmd = { 'gemini', '--acp' } }"):format(path)
  end
  if spec.cmd ~= nil and (type(spec.cmd) ~= 'table' or #spec.cmd == 0) then
    problems[#problems + 1] = ('%s.cmd must be a non-empty list like { "%s" }'):format(path, name)
  end
end

return M
