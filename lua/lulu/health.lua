---@mod lulu.health :checkhealth lulu
local M = {}
local H = {}

--- Whether any session is configured to start sandboxed.
function H.sandbox_wanted()
  local o = require('lulu.config').options
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

function M.check()
  local health = vim.health
  local rpc = require('lulu.rpc')
  local config = require('lulu.config')

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
  local doc = require('lulu.host').root() .. '/doc'
  if vim.uv.fs_stat(doc .. '/tags') then
    health.ok(('help tags found in %s'):format(doc))
  else
    health.warn(('no help tags in %s: :help lulu fails'):format(doc), {
      (':helptags %s (plugin managers do this when they install; a plain checkout has to)'):format(doc),
    })
  end

  health.start('lulu: host binary')
  local bin, why = require('lulu.host').bin()
  local build = require('lulu.build').state()
  if not bin and build and build.building then
    health.warn(why, { 'wait for it; lulu commands run once it is done' })
  elseif not bin then
    health.error(why)
  else
    if build and build.building then
      health.info(require('lulu.build').describe() .. '; the binary there is the previous one')
    end
    local out = vim.system({ bin, '--version' }, { text = true }):wait()
    local version = vim.trim(out.stdout or ''):match('^lulu (%S+)')
    if out.code ~= 0 or not version then
      health.error(('%s --version failed: %s'):format(bin, vim.trim(out.stderr or '')), {
        ('rebuild it: cd %s && cargo build --release'):format(require('lulu.host').root()),
      })
    elseif version ~= rpc.version then
      health.warn(('%s is version %s, the plugin is %s'):format(bin, version, rpc.version), {
        ('rebuild it: cd %s && cargo build --release'):format(require('lulu.host').root()),
      })
    else
      health.ok(('%s (version %s)'):format(bin, version))
    end
    if not require('lulu.host').running() and require('lulu.host').mode() == 'daemon' then
      local socket = require('lulu.host').socket_path()
      health.info(
        vim.uv.fs_stat(socket)
            and ('a daemon listens on %s; this editor attaches on the first lulu command'):format(socket)
          or 'no daemon running (one starts on the first lulu command)'
      )
    elseif not require('lulu.host').running() then
      health.info('host not running (it starts on the first lulu command)')
    elseif require('lulu.host').mode() == 'daemon' then
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
      if require('lulu.host').stale_daemon() then
        health.warn('the daemon runs another build of lulu than ' .. bin, {
          ':LuluDaemon restart once its sessions have ended',
        })
      end
    else
      health.ok(('host running (pid %d)'):format(require('lulu.host').pid()))
    end
    if require('lulu.host').running() then
      local ok, pool = pcall(require('lulu').pool_status)
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
  end

  health.start('lulu: agents')
  local ok_info, agents = pcall(rpc.request, rpc.methods.agents)
  if not ok_info then
    health.error('cannot ask the host about agents: ' .. tostring(agents))
    agents = {}
  end
  for _, agent in ipairs(agents) do
    local i = agent.integration
    local wired = {}
    for _, what in ipairs({ 'approvals', 'cost', 'attention' }) do
      wired[#wired + 1] = (i[what] and '+' or '-') .. what
    end
    local integration = table.concat(wired, ' ')
    local wanted = agent.name == require('lulu')._default_agent()
      or (require('lulu.config').configured_agents or {})[agent.name]
    if agent.error and wanted then
      health.warn(('%s: %s'):format(agent.name, agent.error))
    elseif agent.error then
      -- Neither the default nor given a command: one you may never use.
      health.info(('%s (optional, not installed): %s'):format(agent.name, agent.error))
    else
      local version = ''
      if agent.version_flag then
        local out = vim.system({ agent.program, agent.version_flag }, { text = true, timeout = 3000 }):wait()
        local line = vim.trim(((out.stdout or '') ~= '' and out.stdout or out.stderr or ''):match('[^\n]*') or '')
        version = out.code == 0 and line ~= '' and (' ' .. line) or ' (version unknown)'
      end
      health.ok(('%s: %s%s [%s]'):format(agent.name, agent.program, version, integration))
      -- The version its adapter was proven with (tests/lua/test_real_agents.lua).
      local proven = agent.proven_with
      if proven and version ~= '' and not version:find(proven, 1, true) then
        health.warn(('%s:%s is not the version lulu was proven with (%s)'):format(agent.name, version, proven), {
          ('what lulu relies on may differ: %s'):format(agent.relies_on),
          ('if approvals, cost or waiting misbehave, install %s %s or update lulu'):format(agent.name, proven),
        })
      end
      local args = (require('lulu.config').options.agents[agent.name] or {}).args or {}
      if agent.name == 'claude' and not vim.tbl_contains(args, '--permission-mode') then
        health.info(
          "claude: in Claude Code's default `auto` permission mode many tools run without asking, so fewer "
            .. "approvals reach Neovim; agents.claude.args = { '--permission-mode', 'default' } shows them all"
        )
      end
    end
  end
  health.info(('default agent: %s'):format(require('lulu')._default_agent()))
  local bin_for_limits = require('lulu.host').bin()
  if bin_for_limits then
    local out = vim.system({ bin_for_limits, 'limits-info' }, { text = true, timeout = 3000 }):wait()
    local line = vim.trim(out.stdout or '')
    if out.code == 0 and line ~= '' then
      local report = line:find('^setrlimit') and health.warn or health.ok
      report('session limits (agents.*.limits, templates, start): ' .. line)
    end
    local probe = vim.system({ bin_for_limits, 'sandbox-info' }, { text = true, timeout = 5000 }):wait()
    local said = vim.trim(probe.stdout or '')
    if probe.code == 0 then
      health.ok('sandbox: ' .. said)
    elseif said ~= '' then
      local wanted = H.sandbox_wanted()
      local report = wanted and health.error or health.info
      report('sandbox: ' .. said, wanted and { 'sessions with sandbox set will not start until this is fixed' } or nil)
    end
  end

  local hosts = require('lulu.remote')
  if #hosts.names() > 0 then
    health.start('lulu: remote hosts')
    if vim.fn.executable('ssh') == 0 then
      health.error('ssh not found on PATH', { 'install an OpenSSH client; remote hosts connect through it' })
    end
    for _, name in ipairs(hosts.names()) do
      local s = hosts.status(name)
      if s and s.state == 'connected' then
        health.ok(('%s: connected (lulu %s)'):format(name, s.version))
      elseif s and s.error then
        health.warn(('%s: %s'):format(name, s.state), { s.error, ':LuluHost connect ' .. name })
      else
        health.info(('%s: not connected yet (:LuluHost connect %s)'):format(name, name))
      end
    end
  end

  health.start('lulu: git')
  if vim.fn.executable('git') == 1 then
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
  else
    health.warn('git not found on PATH', { 'sessions then run in place, without worktrees; install git' })
  end

  health.start('lulu: store')
  local data = require('lulu.host').data_dir()
  if vim.fn.mkdir(data, 'p') == 0 and vim.fn.isdirectory(data) == 0 then
    health.error(('cannot create %s'):format(data))
  elseif vim.fn.filewritable(data) ~= 2 then
    health.error(('%s is not writable'):format(data), { 'fix its permissions' })
  else
    health.ok(('data dir %s is writable'):format(data))
  end
  if bin then
    local out = vim.system({ bin, 'list', '--json', '--data-dir', data }, { text = true }):wait()
    if out.code == 0 then
      local ok, records = pcall(vim.json.decode, out.stdout)
      health.ok(('%s/lulu.db opens (%d sessions)'):format(data, ok and #records or 0))
      for line in vim.gsplit(vim.trim(out.stderr or ''), '\n', { trimempty = true }) do
        health.warn(line, { 'the row is kept as it is; fix or delete it with sqlite3 ' .. data .. '/lulu.db' })
      end
    else
      health.error(vim.trim(out.stderr or 'lulu list failed'))
    end
  end
end

return M
