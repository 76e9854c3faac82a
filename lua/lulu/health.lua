---@mod lulu.health :checkhealth lulu: small checks, each one section or
--- one finding; they read and report, never change anything (the agents'
--- check asks the host, starting it as any lulu command would). Each
--- problem names what is missing and the fix.
local M = {}
local H = {}

local api_sessions = require('lulu.api.sessions')
local bin_info = require('lulu.host.bin')
local build = require('lulu.build')
local config = require('lulu.config')
local host = require('lulu.host')
local remote = require('lulu.remote')
local rpc = require('lulu.rpc')
local start = require('lulu.api.start')

local health = vim.health

function M.check()
  H.editor()
  local bin = H.binary()
  H.agents()
  H.confinement()
  H.remote_hosts()
  H.git()
  H.forges()
  H.store(bin)
end

-- helpers ------------------------------------------------------------------

function H.editor()
  health.start('lulu: editor')
  if vim.fn.has('nvim-0.10') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()))
  else
    health.error('Neovim ' .. tostring(vim.version()) .. ' is too old', { 'lulu needs Neovim 0.10 or newer' })
  end
  if #config.problems == 0 then
    health.ok('setup() options are valid')
  end
  for _, problem in ipairs(config.problems) do
    health.warn(problem)
  end
  local doc = bin_info.root() .. '/doc'
  if vim.uv.fs_stat(doc .. '/tags') then
    health.ok(('help tags found in %s'):format(doc))
  else
    health.warn(('no help tags in %s: :help lulu fails'):format(doc), {
      (':helptags %s (plugin managers do this when they install; a plain checkout has to)'):format(doc),
    })
  end
end

--- The binary, its version, the host it runs now; returns its path.
function H.binary()
  health.start('lulu: host binary')
  local bin, why = bin_info.find()
  local state = build.state()
  if not bin then
    if state and state.building then
      health.warn(why, { 'wait for it; lulu commands run once it is done' })
    else
      health.error(why)
    end
    return nil
  end
  if state and state.building then
    health.info(build.describe() .. '; the binary there is the previous one')
  end
  H.version(bin)
  H.running(bin)
  if host.running() then
    H.pool()
  end
  return bin
end

function H.version(bin)
  local out = vim.system({ bin, '--version' }, { text = true }):wait()
  local version = vim.trim(out.stdout or ''):match('^lulu (%S+)')
  local rebuild = ('rebuild it: cd %s && cargo build --release'):format(bin_info.root())
  if out.code ~= 0 or not version then
    health.error(('%s --version failed: %s'):format(bin, vim.trim(out.stderr or '')), { rebuild })
  elseif version ~= rpc.version then
    health.warn(('%s is version %s, the plugin is %s'):format(bin, version, rpc.version), { rebuild })
  else
    health.ok(('%s (version %s)'):format(bin, version))
  end
end

--- Which host runs now, if any.
function H.running(bin)
  if not host.running() and host.mode() == 'daemon' then
    local socket = bin_info.socket_path()
    health.info(
      vim.uv.fs_stat(socket)
          and ('a daemon listens on %s; this editor attaches on the first lulu command'):format(socket)
        or 'no daemon running (one starts on the first lulu command)'
    )
  elseif not host.running() then
    health.info('host not running (it starts on the first lulu command)')
  elseif host.mode() == 'daemon' then
    H.daemon(bin)
  else
    health.ok(('host running (pid %d)'):format(host.pid()))
  end
end

function H.daemon(bin)
  local ok, status = pcall(rpc.request, rpc.methods.daemon_status)
  if ok then
    health.ok(
      ('daemon running (pid %d) on %s: %d live session(s), %d editor(s) attached; log %s'):format(
        status.pid,
        status.socket,
        status.live,
        status.clients,
        status.log
      )
    )
  end
  if host.stale_daemon() then
    health.warn('the daemon runs another build of lulu than ' .. bin, {
      ':LuluDaemon restart once its sessions have ended',
    })
  end
end

--- The warm shells.
function H.pool()
  local ok, pool = pcall(api_sessions.pool_status)
  if ok and pool.given_up and pool.given_up ~= vim.NIL then
    health.warn('pool: ' .. pool.given_up, {
      'make your shell rc files faster, raise pool.ready_timeout, or turn the pool off: pool = { size = 0 }',
    })
  elseif ok and (pool.failures or 0) > 0 then
    health.warn(
      ('pool: %d warm shell(s) in a row failed to come up; next try in %ds'):format(
        pool.failures,
        pool.retry_in ~= vim.NIL and pool.retry_in or 0
      ),
      { 'a shell slow to show its prompt is hung up and retried later (pool.ready_timeout)' }
    )
  elseif ok and pool.size > 0 then
    health.ok(
      ('pool: %d of %d shells warm (%s); %d claimed, %d replaced'):format(
        pool.idle,
        pool.size,
        pool.shell,
        pool.claimed,
        pool.replaced
      )
    )
  elseif ok then
    health.info('pool: off (pool.size = 0)')
  end
end

--- Each agent as the host finds it: installed, its version, what lulu
--- wires into it.
function H.agents()
  health.start('lulu: agents')
  local ok_info, agents = pcall(rpc.request, rpc.methods.agents)
  if not ok_info then
    health.error('cannot ask the host about agents: ' .. tostring(agents))
    agents = {}
  end
  for _, agent in ipairs(agents) do
    local wanted = agent.name == start.default_agent() or (config.configured_agents or {})[agent.name]
    if agent.error and wanted then
      health.warn(('%s: %s'):format(agent.name, agent.error))
    elseif agent.error then
      -- Neither the default nor given a command: one you may never use.
      health.info(('%s (optional, not installed): %s'):format(agent.name, agent.error))
    else
      H.agent(agent)
    end
  end
  health.info(('default agent: %s'):format(start.default_agent()))
end

--- An installed agent: its version (and whether lulu was proven with it).
function H.agent(agent)
  local wired = {}
  for _, what in ipairs({ 'approvals', 'cost', 'attention' }) do
    wired[#wired + 1] = (agent.integration[what] and '+' or '-') .. what
  end
  local version = ''
  if agent.version_flag then
    local out = vim.system({ agent.program, agent.version_flag }, { text = true, timeout = 3000 }):wait()
    local line = vim.trim(((out.stdout or '') ~= '' and out.stdout or out.stderr or ''):match('[^\n]*') or '')
    version = out.code == 0 and line ~= '' and (' ' .. line) or ' (version unknown)'
  end
  health.ok(('%s: %s%s [%s]'):format(agent.name, agent.program, version, table.concat(wired, ' ')))
  -- The version its adapter was proven with (tests/lua/test_real_agents.lua).
  local proven = agent.proven_with
  if proven and version ~= '' and not version:find(proven, 1, true) then
    health.warn(('%s:%s is not the version lulu was proven with (%s)'):format(agent.name, version, proven), {
      ('what lulu relies on may differ: %s'):format(agent.relies_on),
      ('if approvals, cost or waiting misbehave, install %s %s or update lulu'):format(agent.name, proven),
    })
  end
  local args = (config.options.agents[agent.name] or {}).args or {}
  local hint = config.trait(agent.name).hint
  local advice = hint and hint(args)
  if advice then
    health.info(advice)
  end
end

--- What this machine can do to confine sessions: resource limits, sandbox.
function H.confinement()
  local bin = bin_info.find()
  if not bin then
    return
  end
  local out = vim.system({ bin, 'limits-info' }, { text = true, timeout = 3000 }):wait()
  local line = vim.trim(out.stdout or '')
  if out.code == 0 and line ~= '' then
    local report = line:find('^setrlimit') and health.warn or health.ok
    report('session limits (agents.*.limits, templates, start): ' .. line)
  end
  local probe = vim.system({ bin, 'sandbox-info' }, { text = true, timeout = 5000 }):wait()
  local said = vim.trim(probe.stdout or '')
  if probe.code == 0 then
    health.ok('sandbox: ' .. said)
  elseif said ~= '' then
    local wanted = H.sandbox_wanted()
    local report = wanted and health.error or health.info
    report('sandbox: ' .. said, wanted and { 'sessions with sandbox set will not start until this is fixed' } or nil)
  end
end

--- Whether any session is configured to start sandboxed.
function H.sandbox_wanted()
  local o = config.options
  if o.sandbox.backend then
    return true
  end
  for _, spec in pairs(o.agents) do
    if type(spec) == 'table' and spec.sandbox then
      return true
    end
  end
  return false
end

function H.remote_hosts()
  if #remote.names() == 0 then
    return
  end
  health.start('lulu: remote hosts')
  if vim.fn.executable('ssh') == 0 then
    health.error('ssh not found on PATH', { 'install an OpenSSH client; remote hosts connect through it' })
  end
  for _, name in ipairs(remote.names()) do
    local s = remote.status(name)
    if s and s.state == 'connected' then
      health.ok(('%s: connected (lulu %s)'):format(name, s.version))
    elseif s and s.error then
      health.warn(('%s: %s'):format(name, s.state), { s.error, ':LuluHost connect ' .. name })
    else
      health.info(('%s: not connected yet (:LuluHost connect %s)'):format(name, name))
    end
  end
end

function H.git()
  health.start('lulu: git')
  if vim.fn.executable('git') == 0 then
    return health.warn('git not found on PATH', { 'sessions then run in place, without worktrees; install git' })
  end
  local version = vim.trim(vim.system({ 'git', '--version' }, { text = true }):wait().stdout or '')
  local major, minor = version:match('(%d+)%.(%d+)')
  if major and (tonumber(major) > 2 or (tonumber(major) == 2 and tonumber(minor) >= 38)) then
    health.ok(version)
  else
    health.warn(version .. ' is older than 2.38', {
      'recognising squash-merged branches needs git 2.38+',
      "and so does safe.bareRepository, which keeps a session's git from taking a directory the agent wrote for a repository",
    })
  end
end

--- gh and glab, for :LuluPR: found, and logged in (read from their own
--- files: `gh auth token`, `glab auth status` with a short timeout).
function H.forges()
  health.start('lulu: pull requests (:LuluPR)')
  local checks = {
    { 'gh', { 'gh', 'auth', 'token' }, 'GitHub: install gh (https://cli.github.com)', 'gh auth login' },
    {
      'glab',
      { 'glab', 'auth', 'status' },
      'GitLab: install glab (https://gitlab.com/gitlab-org/cli)',
      'glab auth login',
    },
  }
  for _, c in ipairs(checks) do
    local name, auth, install, login = c[1], c[2], c[3], c[4]
    if vim.fn.executable(name) == 0 then
      health.info(
        ('%s not found: :LuluPR only pushes to %s remotes (%s)'):format(
          name,
          name == 'gh' and 'GitHub' or 'GitLab',
          install
        )
      )
    else
      local done = vim.system(auth, { text = true }):wait(3000)
      if done.code == 0 then
        health.ok(('%s found and logged in'):format(name))
      else
        health.warn(('%s found but not logged in'):format(name), { login })
      end
    end
  end
end

--- The data directory and the store in it, as the binary reads it.
function H.store(bin)
  health.start('lulu: store')
  local data = bin_info.data_dir()
  if vim.fn.isdirectory(data) == 0 then
    health.info(('%s does not exist yet (the host makes it when it first starts)'):format(data))
    return
  elseif vim.fn.filewritable(data) ~= 2 then
    health.error(('%s is not writable'):format(data), { 'fix its permissions' })
  else
    health.ok(('data dir %s is writable'):format(data))
  end
  if not bin then
    return
  end
  local out = vim.system({ bin, 'list', '--json', '--data-dir', data }, { text = true }):wait()
  if out.code ~= 0 then
    return health.error(vim.trim(out.stderr or 'lulu list failed'))
  end
  local ok, records = pcall(vim.json.decode, out.stdout)
  health.ok(('%s/lulu.db opens (%d sessions)'):format(data, ok and #records or 0))
  for line in vim.gsplit(vim.trim(out.stderr or ''), '\n', { trimempty = true }) do
    health.warn(line, { 'the row is kept as it is; fix or delete it with sqlite3 ' .. data .. '/lulu.db' })
  end
end

return M
