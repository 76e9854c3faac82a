---@mod lulu.protocol The fixed words of the wire that a connection needs
--- before anything can be routed: the protocol version, the hello it
--- opens with, the few methods it sends itself (`lulu.rpc` has the full
--- method table, the one the host's tests read; these are checked against
--- it by tests/lua/test_layers.lua), and a host's error as one line. Requires
--- only `lulu.config` (the hello carries the options); touches nothing.
local M = {}
local H = {}

local config = require('lulu.config')

M.version = '0.1.0'

--- The methods a connection sends before anything is routed: its hello,
--- calls, a stale daemon's stop, and what it loads once connected (keys
--- and names as in `lulu.rpc.methods`).
M.methods = {
  hello = 'lulu.hello',
  call = 'lulu.call',
  daemon_stop = 'lulu.daemon_stop',
  list = 'lulu.session_list',
  approvals = 'lulu.approval_list',
}

--- What to do about a host error, in Vim terms, by its code (the host's
--- messages name only the problem: src/errors.rs).
M.hints = {
  no_session = 'see :LuluList',
  session_ended = ':LuluStart a new one, or :LuluResume it',
  name_taken = 'pick another name= or :LuluDelete it',
  max_sessions = ':LuluStop one',
  no_rule = 'see :LuluRules',
  no_snapshot = 'see :LuluRestore <Tab>',
  untrusted = ':LuluTrust',
}

--- A host error as one line: Neovim's wrapping ("Error invoking 'm' on
--- channel N:\n<msg>") dropped, the code turned into a hint; `stderr`'s
--- last line (a host that could not start) wins.
function M.clean(err, stderr)
  local msg = tostring(err)
  msg = msg:gsub("^.-Error invoking '[^']*' on channel %d+[^:]*:%s*", '')
  msg = msg:gsub('^Vim:', '')
  if stderr and #stderr > 0 then
    msg = stderr[#stderr]:gsub('^lulu: ', '')
  end
  msg = vim.trim(msg)
  local code, rest = msg:match('^%[([%l_]+)%] (.*)$')
  if code then
    msg = M.hints[code] and ('%s (%s)'):format(rest, M.hints[code]) or rest
  end
  return msg
end

--- What an editor says in its hello: its version and the options the host
--- acts on; `agent_overrides` (a remote host's own) over the configured ones.
function M.hello(agent_overrides)
  local opts = config.options
  local agents = {}
  for name, spec in pairs(vim.tbl_deep_extend('force', opts.agents, agent_overrides or {})) do
    agents[name] = {
      cmd = spec.cmd,
      args = spec.args or {},
      env = (spec.env and next(spec.env)) and spec.env or vim.empty_dict(),
      submit_delay = spec.submit_delay,
      acp = spec.acp and { cmd = spec.acp.cmd } or nil,
    }
  end
  return { version = M.version, config = H.host_options(opts, agents) }
end

-- helpers ------------------------------------------------------------------

--- The options a host acts on, as its hello carries them.
function H.host_options(opts, agents)
  return {
    max_sessions = opts.max_sessions,
    scrollback = opts.scrollback,
    agents = agents,
    approval_timeout = opts.approvals.timeout,
    worktree = opts.worktree.enabled,
    worktree_root = opts.worktree.root and vim.fn.fnamemodify(vim.fn.expand(opts.worktree.root), ':p') or nil,
    worktree_copy = opts.worktree.copy or {},
    worktree_setup = opts.worktree.setup,
    worktree_cleanup = opts.worktree.cleanup,
    worktree_branch = opts.worktree.branch,
    pool_size = opts.pool.size,
    pool_ready_timeout = opts.pool.ready_timeout,
    pool_recycle = opts.pool.recycle,
    pool_max_age = opts.pool.max_age,
    prices = next(opts.cost.prices) and opts.cost.prices or vim.empty_dict(),
  }
end

return M
