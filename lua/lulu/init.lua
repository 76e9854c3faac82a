---@mod lulu Run and steer many AI coding agents from Neovim.
---
--- The public Lua API (see `:h lulu-api`). Every function that needs the
--- host starts it on first use; errors are raised as Lua errors with a
--- one-line message.
local M = {}
local H = {}

local rpc = require('lulu.rpc')
local sessions = require('lulu.sessions')

--- Optional: lulu works with the defaults without it.
---@param opts table|nil see `:h lulu-config`
function M.setup(opts)
  require('lulu.config').setup(opts)
end

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
  local worktree = opts.worktree
  local copy, setup
  if type(worktree) == 'table' then
    copy, setup = worktree.copy, worktree.setup
    worktree = worktree.enabled
  end
  local cols, rows = require('lulu.term').size_for()
  local host = opts.host
  local agent = opts.agent or (host and 'shell') or H.default_agent()
  local agent_config = require('lulu.config').options.agents[agent] or {}
  if host then
    local remote = require('lulu.config').options.hosts[host]
    if not remote then
      error(('no host named %q (config hosts)'):format(host), 0)
    end
    agent_config = vim.tbl_deep_extend('force', agent_config, (remote.agents or {})[agent] or {})
  end
  local cwd
  if host then
    -- A path on that machine: `~` is its home, and it is not checked here.
    cwd = opts.cwd or '~'
  else
    cwd = opts.cwd and vim.fs.normalize(vim.fn.fnamemodify(vim.fn.expand(opts.cwd), ':p')) or vim.fn.getcwd()
  end
  local spec = {
    agent = agent,
    name = opts.name,
    cwd = cwd,
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
  local function made(record)
    record.host = host
    sessions.update(record)
    return record
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
    return made(require('lulu.remote').request(host, rpc.methods.start, spec))
  end
  return made(rpc.request(rpc.methods.start, spec))
end

--- The sandbox a start asks for, in full (paths expanded), or nil: the
--- start's choice, else its agent's, else config `sandbox.backend`.
function H.sandbox(choice, agent_choice, remote)
  local defaults = require('lulu.config').options.sandbox
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
      return remote and p or vim.fs.normalize(vim.fn.expand(p))
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
  return vim.tbl_extend('force', all, require('lulu.config').options.templates)
end

--- Template names without asking the host (completion must not wait on
--- it): the config's, and the saved ones as last read or saved here.
function M._template_names()
  local names = vim.tbl_keys(require('lulu.config').options.templates)
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
  local r = M.get(ref)
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
      end, i < #specs and H.stagger_ms or 0)
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
    if host and not require('lulu.remote').connected(host) then
      -- Started once its host is connected (the ones after it follow).
      return require('lulu.remote').when_ready(host, attempt, function(err)
        errors[#errors + 1] = { index = i, message = err }
        next_one()
      end)
    end
    attempt()
  end
  step(1)
end

H.stagger_ms = 100

--- Save the live sessions as a named set (default `'default'`): agent,
--- name, args, directory, branch and base, and which are in the grid.
--- Returns how many were saved.
function M.save(name)
  local grid = {}
  local tab = require('lulu.ui.grid').tab()
  if tab then
    for _, win in ipairs(vim.api.nvim_tabpage_list_wins(tab)) do
      grid[vim.w[win].lulu_grid_session or ''] = true
    end
  end
  local specs = {}
  for _, r in ipairs(M.list()) do
    if sessions.is_live(r) then
      table.insert(
        specs,
        1,
        vim.tbl_extend('force', H.again(r), { conversation = r.conversation, in_grid = grid[r.id] or false })
      )
    end
  end
  if #specs == 0 then
    error('no live sessions to save', 0)
  end
  rpc.request(rpc.methods.save, name or 'default', specs)
  return #specs
end

--- Start a saved set again, about 100 ms apart, each in its own branch and
--- worktree as before (an ended session of the same name makes way).
--- `on_done(records, errors)` as for |lulu.start_many()|.
function M.restore(name, on_done)
  local specs = rpc.request(rpc.methods.snapshot, name or 'default')
  local grid = false
  local starts = {}
  for _, spec in ipairs(specs) do
    grid = grid or spec.in_grid
    starts[#starts + 1] = {
      agent = spec.agent,
      name = spec.name,
      args = H.resume_args(spec),
      cwd = spec.cwd,
      worktree = spec.worktree,
      base = spec.base,
      reuse = true,
      resume = H.resumes() and spec.conversation or nil,
      sandbox = spec.sandbox,
      host = spec.host,
    }
  end
  M.start_many(starts, function(records, errors)
    if grid and #records > 0 then
      require('lulu.ui.grid').open()
    end
    if on_done then
      on_done(records, errors)
    end
  end)
end

--- Whether restores resume each agent's conversation (`persist.resume`, or
--- its old name `persist.claude_continue`).
function H.resumes()
  local persist = require('lulu.config').options.persist
  if persist.claude_continue ~= nil then
    return persist.claude_continue
  end
  return persist.resume
end

--- A saved Claude session whose conversation id was never seen (saved by
--- an older lulu) still continues its directory's latest conversation.
function H.resume_args(spec)
  local args = vim.deepcopy(spec.args or {})
  if H.resumes() and spec.agent == 'claude' and not spec.conversation and not vim.tbl_contains(args, '--continue') then
    table.insert(args, 1, '--continue')
  end
  return args
end

--- Start an ended session again with the same name, branch and worktree,
--- its agent resuming its own conversation (`claude --resume`, `codex
--- resume`, `gemini --resume`). Returns the new record.
---@return lulu.Session
function M.resume(ref)
  local r = M.get(ref)
  if sessions.is_live(r) then
    error(("session '%s' is still running; resume is for an ended session"):format(r.name), 0)
  end
  if not r.conversation then
    error(
      ("session '%s': its agent (%s) never named its conversation, so there is none to resume; :LuluStart it afresh"):format(
        r.name,
        r.agent
      ),
      0
    )
  end
  return M.start(vim.tbl_extend('force', H.again(r), { reuse = true, resume = r.conversation }))
end

--- What starts session `r` again as it was: agent, name, args, its
--- repository (its worktree is found again there), branch base.
function H.again(r)
  return {
    agent = r.agent,
    name = r.name,
    args = r.args or {},
    cwd = r.repo or r.cwd,
    worktree = r.worktree ~= nil,
    base = r.worktree and r.base or nil,
    -- Confined again as it was; one that was not follows today's config.
    sandbox = r.sandbox,
    host = r.host,
  }
end

--- Names of the saved sets, newest first.
function M.saved()
  return rpc.request(rpc.methods.snapshots)
end

--- All sessions, newest first (fresh from the host). Remote hosts'
--- sessions come as they were last told (never waiting on the network);
--- each carries `host`.
---@return lulu.Session[]
function M.list()
  sessions.replace(rpc.request(rpc.methods.list), nil)
  return vim.deepcopy(sessions.all())
end

---@param ref string id, name, or `host:name`
---@return lulu.Session
function M.get(ref)
  local known = sessions.find(H.ref(ref))
  local record = rpc.request(rpc.methods.get, ref)
  record.host = known and known.host
  sessions.update(record)
  return record
end

--- Type `text` into a session as a person would, then Enter. With
--- `opts.context`, its placeholders ({file}, {position}, {selection},
--- {diagnostics}, {quickfix}) are filled from the current buffer (lines
--- `opts.range = { first, last }` selected), as this session sees them.
---@param opts {context: boolean|nil, range: integer[]|nil}|nil
function M.send(ref, text, opts)
  vim.validate('text', text, 'string')
  if opts and opts.context then
    local range = opts.range or {}
    local ctx = require('lulu.context').capture(0, range[1], range[2])
    text = require('lulu.context').expand(text, ctx, M.get(ref))
  end
  rpc.request(rpc.methods.send, H.ref(ref), text)
end

--- Stop a session: SIGHUP/SIGTERM, SIGKILL after 3 s (`force`: at once).
---@param opts {force: boolean}|nil
function M.stop(ref, opts)
  return rpc.request(rpc.methods.stop, H.ref(ref), { force = opts and opts.force or false })
end

--- Delete a session's record and log (stopping it first if live).
---@param opts {force: boolean}|nil
---@param on_done fun(err: string|nil)|nil
function M.delete(ref, opts, on_done)
  H.ask(on_done, rpc.methods.delete, H.ref(ref), { force = opts and opts.force or false })
end

--- Show a session's terminal in the current window.
function M.open(ref)
  return require('lulu.term').open(M.get(ref))
end

--- The session's terminal buffer (created hidden if it has none yet).
---@return integer bufnr
function M.buffer(ref)
  return require('lulu.term').ensure(M.get(ref))
end

--- Everything about a session: `{ record, events = { {at, kind, detail} },
--- output = { last lines, plain text } }`.
function M.detail(ref)
  local known = sessions.find(H.ref(ref))
  local detail = rpc.request(rpc.methods.detail, ref)
  if type(detail) == 'table' then
    detail.host = known and known.host
  end
  return detail
end

--- The session's changes against its base (commits, edits, new files) as
--- one unified diff.
---@param on_done fun(err: string|nil, diff: string|nil)|nil
---@return string|nil
function M.diff(ref, on_done)
  return H.ask(on_done, rpc.methods.diff, H.ref(ref))
end

--- Land the session's branch on its base branch in the main worktree.
--- Returns `{ ok = true, commit }`, or on conflict (aborted, base unchanged)
--- `{ ok = false, files, conflicts = { {path, line, theirs} }, message }`,
--- each conflict at its line in the session's version of the file. A
--- squash commit carries the session's commit messages, or `opts.message`.
---@param strategy 'merge'|'squash'|'rebase'|nil
---@param opts {message: string|nil}|nil
---@param on_done fun(err: string|nil, result: table|nil)|nil
function M.merge(ref, strategy, opts, on_done)
  if opts and opts.message then
    return H.ask(on_done, rpc.methods.merge, H.ref(ref), strategy or 'merge', { message = opts.message })
  end
  return H.ask(on_done, rpc.methods.merge, H.ref(ref), strategy or 'merge')
end

--- The git activity of the sessions' branches, newest first: `{ {at, repo,
--- session, branch, kind, commit, subject, files} }` (|:LuluActivity|).
function M.activity()
  return rpc.request(rpc.methods.activity)
end

--- The files a session changed against its base (committed or not):
--- `{ {path, status = 'A'|'M'|'D'|'R', added, removed} }`.
function M.review_files(ref, on_done)
  return H.ask(on_done, rpc.methods.review_files, H.ref(ref))
end

--- Comment on lines of a file of the session's worktree; kept with the
--- session until |lulu.send_review()|.
---@param comment {path: string, line: integer, end_line: integer|nil, text: string}
function M.comment(ref, comment)
  vim.validate('comment', comment, 'table')
  rpc.request(rpc.methods.comment_add, H.ref(ref), comment)
end

--- Remove one review comment (by its `id`, as |lulu.comments()| gives it).
function M.uncomment(ref, id)
  rpc.request(rpc.methods.comment_remove, H.ref(ref), id)
end

--- The session's review comments, by file and line.
function M.comments(ref, on_done)
  return H.ask(on_done, rpc.methods.comments, H.ref(ref))
end

--- Send the session's review comments to its agent as one prompt with
--- `path:line` references, then forget them. Returns how many were sent.
function M.send_review(ref)
  local comments = M.comments(ref)
  if #comments == 0 then
    error('no review comments to send (gc on a line of a reviewed file adds one)', 0)
  end
  M.send(ref, require('lulu.ui.branch').prompt(comments))
  rpc.request(rpc.methods.comment_clear, H.ref(ref))
  return #comments
end

--- Rebase the session's branch onto its base, in its worktree. `step`:
--- `'start'` (default), `'continue'` once conflicts are resolved, or
--- `'abort'`. Returns `{ ok = true, commit }` or, stopped at conflicts,
--- `{ ok = false, files, conflicts = { {path, line} }, message }` (lines of
--- the markers in the worktree's files).
---@param step 'start'|'continue'|'abort'|nil
---@param on_done fun(err: string|nil, result: table|nil)|nil
function M.rebase(ref, step, on_done)
  return H.ask(on_done, rpc.methods.rebase, H.ref(ref), step or 'start')
end

--- Trust the `.lulu.json` of the repository at `dir` (default: the current
--- directory) as it is now; a later change needs trusting again.
---@param on_done fun(err: string|nil, trusted: table|nil)|nil
---@return {path: string, sha256: string}|nil
function M.trust(dir, on_done)
  return H.ask(on_done, rpc.methods.trust, dir or vim.fn.getcwd())
end

--- Remove the worktrees (and branches) of ended sessions whose work is all
--- on their base. The sessions stay in the list. With `{ dry_run = true }`
--- only says which would go. Returns `{ { name, branch, worktree }, ... }`.
function M.prune(opts, on_done)
  return H.ask(on_done, rpc.methods.prune, { dry_run = opts and opts.dry_run or false })
end

--- The pre-warmed shells: `{ size, idle, ready, spawning, claimed, replaced,
--- pids, shell }` (`ready`: idle shells that have shown their prompt).
function M.pool_status()
  return rpc.request(rpc.methods.pool)
end

--- Pending approvals, oldest first; with `{ history = true }` the record of
--- past decisions, newest first.
---@param opts {history: boolean, limit: integer}|nil
function M.approvals(opts)
  if opts and opts.history then
    return rpc.request(rpc.methods.approvals, { history = true, limit = opts.limit })
  end
  -- Remote hosts' questions as last told (their ids `host:N`).
  local remote = vim.tbl_filter(function(a)
    return a.host ~= nil
  end, require('lulu.approvals').pending())
  return vim.list_extend(rpc.request(rpc.methods.approvals), remote)
end

--- Answer a pending approval. With a deny, `opts.message` is told to the
--- agent as the reason (say what to do instead). With an allow of a file
--- tool, `opts.content` is the file as you accept it (the agent runs the
--- input that makes exactly that).
---@param id integer
---@param decision 'allow'|'deny'|'always_allow'|'always_deny'
---@param opts {message: string|nil, content: string|nil}|nil
function M.decide(id, decision, opts)
  opts = opts or {}
  if opts.message or opts.content then
    rpc.request(rpc.methods.decide, id, decision, { message = opts.message, content = opts.content })
  else
    rpc.request(rpc.methods.decide, id, decision)
  end
end

--- Review a file tool's question as a diff: the file now and after the
--- change, the "after" side editable (|lulu-review|).
---@param id integer approval id
function M.review(id)
  require('lulu.ui.review').open(id)
end

--- The rules, in the order they are tried.
function M.rules()
  return rpc.request(rpc.methods.rules)
end

---@class lulu.Rule
---@field action 'allow'|'deny'|'ask'
---@field tool string|nil exact name, or /regex/
---@field path string|nil glob, relative to the session root
---@field command string|nil regex over a shell command
---@field cwd string|nil glob over the session's directory
---@field agent string|nil
---@field scope string|nil a repository root: only sessions inside it
---@field reason string|nil told to the agent on deny

--- Add a rule (last, or at `opts.index`, 0 = first); returns it with its id.
--- A bad glob or regex is refused with the parser's message.
---@param rule lulu.Rule
---@param opts {index: integer}|nil
function M.add_rule(rule, opts)
  vim.validate('rule', rule, 'table')
  local id = rpc.request(rpc.methods.add_rule, rule, opts or vim.empty_dict())
  return vim.tbl_extend('force', { id = id }, rule)
end

function M.remove_rule(id)
  rpc.request(rpc.methods.remove_rule, id)
end

--- Move a rule to `index` (0 = first).
function M.move_rule(id, index)
  rpc.request(rpc.methods.move_rule, id, index)
end

-- helpers ------------------------------------------------------------------

function H.ref(ref)
  if type(ref) ~= 'string' or ref == '' then
    error('a session name or id is required', 0)
  end
  return ref
end

function H.default_agent()
  local config = require('lulu.config').options
  if config.default_agent then
    return config.default_agent
  end
  for _, name in ipairs({ 'claude', 'codex', 'gemini' }) do
    local cmd = config.agents[name] and config.agents[name].cmd
    if cmd and vim.fn.executable(cmd[1]) == 1 then
      return name
    end
  end
  return 'shell'
end

M._default_agent = H.default_agent

--- A short status for a statusline: live sessions, those waiting for you
--- and questions pending, e.g. `lulu 3 ◆1 ⚠2`; empty when no session is
--- live and nothing is pending. Computed when sessions change, so it is
--- cheap to call on every redraw (`User LuluStatus` fires when it changes).
---@return string
function M.statusline()
  return require('lulu.status').line()
end

--- `method(...)` answered now (its result returned, its error raised), or
--- with `on_done` without waiting: `on_done(err, result)` once the host
--- has answered (|lulu-async|).
function H.ask(on_done, method, ...)
  if not on_done then
    return rpc.request(method, ...)
  end
  vim.validate('on_done', on_done, 'function')
  local n, args = select('#', ...), { ... }
  for i = 1, n do
    if args[i] == nil then
      args[i] = vim.NIL
    end
  end
  rpc.call(method, args, on_done)
end

return M
