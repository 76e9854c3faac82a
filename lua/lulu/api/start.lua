---@mod lulu.api.start The bodies of the public functions that start
--- sessions (|lulu-api|): one, several a moment apart, from a template;
--- the templates themselves; the default agent. Builds the host's start
--- spec from the options and config, at the size of the current window
--- (`lulu.term`), and keeps the new record in `lulu.sessions`. Shows
--- nothing; owns the names of the templates saved here.
local M = {}
local H = {}

local api_sessions = require('lulu.api.sessions')
local config = require('lulu.config')
local remote = require('lulu.remote')
local rpc = require('lulu.rpc')
local sessions = require('lulu.sessions')
local term = require('lulu.term')

---@class lulu.StartOpts
---@field agent string|nil claude, codex, gemini, shell or a configured name
---@field name string|nil defaults to a short unique word
---@field cwd string|nil defaults to the current directory
---@field args string[]|nil appended to the agent's argv
---@field env table<string,string>|nil extra environment
---@field worktree boolean|nil true: a worktree is required; false: run in cwd
---@field base string|nil branch or commit the session's branch starts from
---@field resume string|nil the agent's own conversation id to resume
---@field template string|nil a template's name (config `templates`, or saved)
---@field prompt string|nil typed once the agent is ready for input
---@field restart 'on-failure'|'never'|nil start it again when it fails (with back-off)
---@field restart_limit integer|nil restarts allowed in an hour (default 5)
---@field limits {memory: string|nil, cpu: number|nil, pids: integer|nil}|nil for its whole process tree
---@field sandbox 'bwrap'|false|table|nil confine it (`:h lulu-sandbox`); a table overrides config `sandbox`
---@field host string|nil a remote host of config `hosts` to run it on (`:h lulu-remote`)

--- Start a session. Returns its record once it is made (its worktree
--- too); the agent boots in the background. With `on_done`, returns at
--- once and calls `on_done(err, record)` then (|lulu-async|).
---@param opts lulu.StartOpts|nil
---@param on_done fun(err: string|nil, record: lulu.Session|nil)|nil
---@return lulu.Session|nil
function M.start(opts, on_done)
  opts = opts or {}
  vim.validate('opts', opts, 'table')
  vim.validate('on_done', on_done, 'function', true)
  if opts.template then
    opts = H.from_template(opts)
  end
  local host = opts.host
  local spec = H.spec(opts, host)
  local function made(record)
    record.host = host
    return sessions.started(record)
  end
  if on_done then
    -- Routed by its host, as no session names it yet.
    return rpc.call(rpc.methods.start, { spec }, function(err, record)
      if err then
        return on_done(err)
      end
      on_done(nil, made(record))
    end, host)
  end
  if host then
    return made(remote.request(host, rpc.methods.start, spec))
  end
  return made(rpc.request(rpc.methods.start, spec))
end

--- Does a start with `opts` make a terminal session on this machine, so
--- that its terminal can open before the host answers? (Not a template's,
--- which the host may have to be asked for, nor an ACP agent's.)
---@param opts lulu.StartOpts
function M.shows_terminal(opts)
  if opts.host or opts.template then
    return false
  end
  local agent_config = config.options.agents[opts.agent or M.default_agent()]
  return not (agent_config and agent_config.acp)
end

--- Start several sessions about 100 ms apart, so a dozen agents do not all
--- boot at the same instant. Returns at once; `on_done(records, errors)`
--- runs when the last has started (errors: `{ index, message }` each).
---@param specs lulu.StartOpts[]
---@param on_done fun(records: lulu.Session[], errors: {index: integer, message: string}[])|nil
function M.start_many(specs, on_done)
  vim.validate('specs', specs, 'table')
  local records, errors = {}, {}
  local function step(i)
    if i > #specs then
      if on_done then
        on_done(records, errors)
      end
      return
    end
    local function next_one()
      vim.defer_fn(function()
        step(i + 1)
      end, i < #specs and M.stagger_ms or 0)
    end
    local function attempt()
      local ok, result = pcall(M.start, specs[i])
      if ok then
        records[#records + 1] = result
      else
        errors[#errors + 1] = { index = i, message = tostring(result) }
      end
      next_one()
    end
    local host = specs[i].host
    if host and not remote.connected(host) then
      -- Started once its host is connected (the ones after it follow).
      return remote.when_ready(host, attempt, function(err)
        errors[#errors + 1] = { index = i, message = err }
        next_one()
      end)
    end
    attempt()
  end
  step(1)
end

--- Milliseconds between the starts of |M.start_many()|.
M.stagger_ms = 100

--- Every template: the config's `templates`, and those saved with
--- |:LuluTemplate| (the config's win on a clash). `{ name = spec }`.
function M.templates()
  local all = {}
  local ok, saved = pcall(rpc.request, rpc.methods.templates)
  for name, json in pairs(ok and saved or {}) do
    local decoded, spec = pcall(vim.json.decode, json)
    if decoded and type(spec) == 'table' then
      all[name] = spec
    end
  end
  H.saved_templates = vim.tbl_keys(all)
  return vim.tbl_extend('force', all, config.options.templates)
end

--- Template names without asking the host (completion must not wait on
--- it): the config's, and the saved ones as last read or saved here.
function M.template_names()
  local names = vim.tbl_keys(config.options.templates)
  for _, name in ipairs(H.saved_templates or {}) do
    if not vim.tbl_contains(names, name) then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  return names
end

--- Save a live (or ended) session's agent, args and worktree choice as
--- template `name`. Returns the template.
function M.save_template(name, ref)
  local r = api_sessions.get(ref)
  local spec = {
    agent = r.agent,
    args = (r.args and #r.args > 0) and r.args or nil,
    worktree = r.worktree ~= nil,
    -- A confined session's template confines too; a remote one runs there.
    sandbox = r.sandbox,
    host = r.host,
  }
  rpc.request(rpc.methods.template_save, name, spec)
  H.saved_templates = H.saved_templates or {}
  if not vim.tbl_contains(H.saved_templates, name) then
    table.insert(H.saved_templates, name)
  end
  return spec
end

--- The agent a start without one runs: config `default_agent`, else the
--- first of claude, codex and gemini found on $PATH, else a shell.
function M.default_agent()
  local options = config.options
  if options.default_agent then
    return options.default_agent
  end
  for _, name in ipairs(config.preference) do
    local cmd = options.agents[name] and options.agents[name].cmd
    if cmd and vim.fn.executable(cmd[1]) == 1 then
      return name
    end
  end
  return 'shell'
end

-- helpers ------------------------------------------------------------------

--- The host's start spec for `opts` (on remote host `host`, if any).
function H.spec(opts, host)
  local worktree, copy, setup = opts.worktree, nil, nil
  if type(worktree) == 'table' then
    copy, setup = worktree.copy, worktree.setup
    worktree = worktree.enabled
  end
  local cols, rows = term.size_for()
  local agent = opts.agent or (host and 'shell') or M.default_agent()
  local agent_config = H.agent_config(agent, host)
  return {
    agent = agent,
    name = opts.name,
    cwd = H.cwd(opts.cwd, host),
    args = opts.args or {},
    env = (opts.env and next(opts.env)) and opts.env or vim.empty_dict(),
    worktree = worktree,
    base = opts.base,
    reuse = opts.reuse,
    resume = opts.resume,
    prompt = opts.prompt,
    worktree_copy = copy,
    worktree_setup = setup,
    restart = opts.restart or agent_config.restart,
    restart_limit = opts.restart_limit or agent_config.restart_limit,
    limits = opts.limits or agent_config.limits,
    sandbox = H.sandbox(opts.sandbox, agent_config.sandbox, host ~= nil),
    cols = cols,
    rows = rows,
  }
end

--- An agent's options, a remote host's own for it over the config's.
function H.agent_config(agent, host)
  local agent_config = config.options.agents[agent] or {}
  if not host then
    return agent_config
  end
  local remote_spec = config.options.hosts[host]
  if not remote_spec then
    error(('no host named %q (config hosts)'):format(host), 0)
  end
  return vim.tbl_deep_extend('force', agent_config, (remote_spec.agents or {})[agent] or {})
end

--- Where a session starts: `cwd` in full, else the current directory. On a
--- remote host, a path on that machine (`~`, its home, by default), not
--- checked here.
function H.cwd(cwd, host)
  if host then
    return cwd or '~'
  end
  return cwd and vim.fs.normalize(vim.fn.fnamemodify(vim.fn.expand(cwd), ':p')) or vim.fn.getcwd()
end

--- The sandbox a start asks for, in full (paths expanded), or nil: the
--- start's choice, else its agent's, else config `sandbox.backend`.
function H.sandbox(choice, agent_choice, remote_host)
  local defaults = config.options.sandbox
  if choice == nil then
    choice = agent_choice
  end
  if choice == nil then
    choice = defaults.backend
  end
  if not choice then
    return nil
  end
  local spec = type(choice) == 'table' and choice or {}
  local function paths(list)
    return vim.tbl_map(function(p)
      -- On a remote host `~` is that host's: it expands it.
      return remote_host and p or vim.fs.normalize(vim.fn.expand(p))
    end, list or {})
  end
  local network = spec.network
  if network == nil then
    network = defaults.network
  end
  return {
    backend = type(choice) == 'string' and choice or spec.backend or defaults.backend or 'bwrap',
    ro = paths(spec.ro or defaults.ro),
    rw = paths(spec.rw or defaults.rw),
    hide = paths(spec.hide or defaults.hide),
    network = network,
  }
end

--- Start options from template `opts.template`, under what `opts` says.
function H.from_template(opts)
  local spec = M.templates()[opts.template]
  if not spec then
    local names = vim.tbl_keys(M.templates())
    table.sort(names)
    error(
      ('no template named %q (%s)'):format(
        opts.template,
        #names > 0 and ('known: ' .. table.concat(names, ', ')) or 'config templates, or :LuluTemplate save'
      ),
      0
    )
  end
  local merged = vim.tbl_extend('force', vim.deepcopy(spec), opts)
  merged.template = nil
  merged.args = vim.list_extend(vim.deepcopy(spec.args or {}), opts.args or {})
  merged.env = vim.tbl_extend('force', spec.env or {}, opts.env or {})
  return merged
end

return M
