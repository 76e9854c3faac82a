---@mod lulu.rpc Finding, starting and talking to the lulu host.
local M = {}
local H = {}

M.version = '0.1.0'

-- Mirrors the method table in src/rpc/protocol.rs.
M.methods = {
  hello = 'lulu.hello',
  start = 'lulu.session_start',
  list = 'lulu.session_list',
  get = 'lulu.session_get',
  send = 'lulu.session_send',
  write = 'lulu.session_write',
  resize = 'lulu.session_resize',
  stop = 'lulu.session_stop',
  delete = 'lulu.session_delete',
  attach = 'lulu.session_attach',
  detach = 'lulu.session_detach',
  approvals = 'lulu.approval_list',
  decide = 'lulu.approval_decide',
  rules = 'lulu.rule_list',
  add_rule = 'lulu.rule_add',
  remove_rule = 'lulu.rule_remove',
  move_rule = 'lulu.rule_move',
  diff = 'lulu.session_diff',
  detail = 'lulu.session_detail',
  merge = 'lulu.session_merge',
  trust = 'lulu.repo_trust',
  usage = 'lulu.worktree_usage',
  prune = 'lulu.worktree_prune',
  pool = 'lulu.pool_status',
  agents = 'lulu.agent_info',
  save = 'lulu.snapshot_save',
  snapshot = 'lulu.snapshot_get',
  snapshots = 'lulu.snapshot_list',
}

--- The plugin's root directory (where Cargo.toml and target/ live).
function M.root()
  local source = debug.getinfo(1, 'S').source:sub(2)
  return vim.fn.fnamemodify(source, ':p:h:h:h')
end

--- The host binary: `bin` option, else the plugin's release build, else $PATH.
---@return string|nil path, string|nil why_not
function M.bin()
  local configured = require('lulu.config').options.bin
  if configured then
    if vim.fn.executable(configured) == 1 then
      return configured
    end
    return nil, ('bin = %q is not executable; fix the path or build it with `cargo build --release`'):format(configured)
  end
  local built = M.root() .. '/target/release/lulu'
  if vim.fn.executable(built) == 1 then
    return built
  end
  if vim.fn.executable('lulu') == 1 then
    return vim.fn.exepath('lulu')
  end
  return nil, ('host binary not found; build it: cd %s && cargo build --release'):format(M.root())
end

function M.data_dir()
  return vim.fn.stdpath('data') .. '/lulu'
end

function M.state_dir()
  return vim.fn.stdpath('state') .. '/lulu'
end

--- Is the host running?
function M.running()
  return H.chan ~= nil
end

--- The host's pid, when running.
function M.pid()
  return H.pid
end

--- The host channel, starting the host if needed. Raises a clean error.
---@return integer
function M.ensure()
  if H.chan then
    return H.chan
  end
  local bin, why = M.bin()
  if not bin then
    error(why, 0)
  end
  H.stderr = {}
  local cmd = { bin, 'host', '--data-dir', M.data_dir(), '--state-dir', M.state_dir() }
  local ok, chan = pcall(vim.fn.jobstart, cmd, {
    rpc = true,
    -- The host stops its sessions itself when our end of stdio closes;
    -- detached, the editor's exit does not kill it before it has.
    detach = true,
    on_stderr = function(_, lines)
      for _, line in ipairs(lines) do
        if line ~= '' then
          table.insert(H.stderr, line)
        end
      end
    end,
    on_exit = function(job, code)
      H.on_exit(job, code)
    end,
  })
  if not ok or chan <= 0 then
    error(('could not start %s: %s'):format(bin, ok and 'jobstart failed' or chan), 0)
  end
  H.chan = chan
  H.pid = vim.fn.jobpid(chan)
  local hello_ok, reply = pcall(vim.rpcrequest, chan, M.methods.hello, H.hello())
  if not hello_ok then
    H.chan = nil
    -- Let it finish saying why (its last stderr line) before we report.
    vim.fn.jobwait({ chan }, 1000)
    pcall(vim.fn.jobstop, chan)
    error(('host did not start: %s'):format(H.clean(reply, H.stderr)), 0)
  end
  if reply.version ~= M.version then
    require('lulu.util').notify(
      ('host is version %s but the plugin is %s; rebuild it (cargo build --release)'):format(reply.version, M.version),
      vim.log.levels.WARN
    )
  end
  H.ready = true
  require('lulu.events').host_started()
  return chan
end

--- A request to the host; errors come back as Lua errors with the host's
--- one-line message.
function M.request(method, ...)
  local chan = M.ensure()
  local ok, result = pcall(vim.rpcrequest, chan, method, ...)
  if not ok then
    error(H.clean(result), 0)
  end
  return result
end

--- Fire and forget (keystrokes, resizes). Silently nothing if the host is down.
function M.notify(method, ...)
  if H.chan then
    pcall(vim.rpcnotify, H.chan, method, ...)
  end
end

--- Send the current options to a running host (setup() after start).
function M.reconfigure()
  if H.chan then
    local ok, err = pcall(vim.rpcrequest, H.chan, M.methods.hello, H.hello())
    if not ok then
      require('lulu.util').notify('options not applied: ' .. H.clean(err), vim.log.levels.ERROR)
    end
  end
end

--- Stop the host (tests, :checkhealth). Its sessions end with it.
function M.stop()
  if H.chan then
    local chan = H.chan
    H.chan, H.ready = nil, false
    vim.fn.chanclose(chan)
  end
end

-- helpers ------------------------------------------------------------------

function H.hello()
  local opts = require('lulu.config').options
  local agents = {}
  for name, spec in pairs(opts.agents) do
    agents[name] = {
      cmd = spec.cmd,
      args = spec.args or {},
      env = (spec.env and next(spec.env)) and spec.env or vim.empty_dict(),
      submit_delay = spec.submit_delay,
    }
  end
  return {
    version = M.version,
    config = {
      max_sessions = opts.max_sessions,
      scrollback = opts.scrollback,
      agents = agents,
      approval_timeout = opts.approvals.timeout,
      worktree = opts.worktree.enabled,
      worktree_root = opts.worktree.root and vim.fn.fnamemodify(vim.fn.expand(opts.worktree.root), ':p') or nil,
      worktree_copy = opts.worktree.copy or {},
      worktree_setup = opts.worktree.setup,
      worktree_cleanup = opts.worktree.cleanup,
      pool_size = opts.pool.size,
      prices = next(opts.cost.prices) and opts.cost.prices or vim.empty_dict(),
    },
  }
end

function H.on_exit(job, code)
  -- A host that never answered hello was reported by ensure() already; one
  -- we stopped (or replaced) on purpose is not news either.
  if not H.ready or job ~= H.chan then
    return
  end
  H.ready = false
  local was_ours = H.chan ~= nil
  H.chan = nil
  H.pid = nil
  local detail = H.stderr and H.stderr[#H.stderr]
  require('lulu.events').host_exited(code, was_ours and detail or nil)
end

--- Neovim wraps remote errors as "Error invoking 'm' on channel N:\n<msg>";
--- keep the message.
function H.clean(err, stderr)
  local msg = tostring(err)
  msg = msg:gsub("^.-Error invoking '[^']*' on channel %d+[^:]*:%s*", '')
  msg = msg:gsub('^Vim:', '')
  if stderr and #stderr > 0 then
    msg = stderr[#stderr]:gsub('^lulu: ', '')
  end
  return vim.trim(msg)
end

return M
