---@mod lulu.host This machine's lulu host: the embedded one (a job of
--- this Neovim, on stdio) or the daemon (on its socket, shared by editors):
--- found, started, connected, watched. `lulu.rpc` sends what goes to it;
--- `lulu.remote` does the same for hosts on other machines.
local M = {}
local H = {}

local rpc = require('lulu.rpc')

--- The channel, when connected (nil: not started, or gone).
function M.channel()
  return H.chan
end

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
  local building = require('lulu.build').describe()
  if building then
    return nil, building
  end
  if vim.fn.executable('cargo') == 0 then
    return nil,
      ('host binary not found and cargo is not installed: install Rust (rustup.rs) and run %s/scripts/build, or set bin = "/path/to/lulu"'):format(
        M.root()
      )
  end
  return nil,
    ('host binary not found; build it: %s/scripts/build (or cd there && cargo build --release)'):format(M.root())
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

--- The daemon's socket: `$XDG_RUNTIME_DIR/lulu/lulu.sock`, else
--- `/tmp/lulu-<uid>/lulu.sock` (as the binary computes it).
function M.socket_path()
  local bin = M.bin()
  local said = bin and H.binary_status(bin)
  return said and said.socket or nil
end

--- What the binary says of the daemon it would join: its socket, this
--- binary's build and version, the running daemon's pid (`lulu daemon
--- --status --json`; nothing about it is worked out here). `done(said)`
--- when given (nil: the binary could not say); else it waits, as the Lua
--- API and :checkhealth do.
function H.binary_status(bin, done)
  local cmd = { bin, 'daemon', '--status', '--json' }
  local function parse(result)
    local ok, said = pcall(vim.json.decode, result.stdout or '')
    if result.code == 0 and ok and type(said) == 'table' and said.socket then
      H.said = said
      return said
    end
    return nil,
      ('%s could not say where its daemon listens (daemon --status --json exited with %s); set `bin` to a lulu binary'):format(
        bin,
        tostring(result.code)
      )
  end
  if done then
    vim.system(
      cmd,
      { text = true },
      vim.schedule_wrap(function(result)
        done(parse(result))
      end)
    )
    return
  end
  return parse(vim.system(cmd, { text = true }):wait(5000))
end

--- Which host this editor uses now: 'embedded' or 'daemon'.
function M.mode()
  return H.mode or require('lulu.config').options.host.mode
end

--- Run `on_ready()` once the host is up, without blocking the editor: a
--- daemon that is not running is started in the background and connected
--- to when it listens; meanwhile the editor goes on, and every command
--- given is queued behind it. `on_error(message)` if it never comes.
function M.when_ready(on_ready, on_error)
  if H.chan then
    return on_ready()
  end
  if require('lulu.config').options.host.mode ~= 'daemon' then
    -- An embedded host is a job of this editor: starting it does not wait.
    local ok, err = pcall(M.ensure)
    if not ok then
      return on_error(tostring(err))
    end
    return on_ready()
  end
  if H.waiting then
    table.insert(H.waiting, { on_ready, on_error })
    return
  end
  local bin, why = M.bin()
  if not bin then
    return on_error(why)
  end
  H.waiting = { { on_ready, on_error } }
  H.attach_daemon_async(bin, function(err)
    local waiting = H.waiting or {}
    H.waiting = nil
    for _, w in ipairs(waiting) do
      if err then
        w[2](err)
      else
        w[1]()
      end
    end
  end)
end

--- The host channel, starting the host if needed (blocking: for the Lua
--- API; commands use |M.when_ready()|). Raises a clean error.
---@return integer
function M.ensure()
  if H.chan then
    return H.chan
  end
  if H.waiting then
    -- A command is bringing the daemon up: wait for that one.
    local failed
    table.insert(H.waiting, {
      function() end,
      function(err)
        failed = err
      end,
    })
    vim.wait(30000, function()
      return H.chan ~= nil or failed ~= nil
    end, 10)
    if H.chan then
      return H.chan
    end
    error(failed or 'the lulu daemon did not come up within 30 s', 0)
  end
  local bin, why = M.bin()
  if not bin then
    error(why, 0)
  end
  if require('lulu.config').options.host.mode == 'daemon' then
    return H.attach_daemon(bin)
  end
  H.mode = 'embedded'
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
  local hello_ok, reply = pcall(vim.rpcrequest, chan, rpc.methods.hello, H.hello())
  if not hello_ok then
    H.chan = nil
    -- Let it finish saying why (its last stderr line) before we report.
    vim.fn.jobwait({ chan }, 1000)
    pcall(vim.fn.jobstop, chan)
    error(('host did not start: %s'):format(rpc.clean(reply, H.stderr)), 0)
  end
  if reply.version ~= rpc.version then
    require('lulu.util').notify(
      ('host is version %s but the plugin is %s; rebuild it (cargo build --release)'):format(reply.version, rpc.version),
      vim.log.levels.WARN
    )
  end
  H.ready = true
  require('lulu.events').host_started()
  return chan
end

--- Send the current options to a running host (setup() after start).
function M.reconfigure()
  if H.chan then
    local ok, err = pcall(vim.rpcrequest, H.chan, rpc.methods.hello, H.hello())
    if not ok then
      require('lulu.util').notify('options not applied: ' .. rpc.clean(err), vim.log.levels.ERROR)
    end
  end
end

--- Stop the host (tests, :checkhealth). Its sessions end with it; a
--- daemon's go on (this editor only detaches).
function M.stop()
  if H.chan then
    local chan = H.chan
    H.chan, H.ready = nil, false
    H.stop_watch()
    vim.fn.chanclose(chan)
    require('lulu.rpc').fail_calls(nil, 'the lulu host was stopped')
  end
end

--- `lulu daemon <args>` (start, --stop, --status); returns its output line.
function M.daemon_command(args)
  local bin, why = M.bin()
  if not bin then
    error(why, 0)
  end
  local cmd = { bin, 'daemon', '--data-dir', M.data_dir(), '--state-dir', M.state_dir() }
  vim.list_extend(cmd, args or {})
  local result = vim.system(cmd, { text = true }):wait(20000)
  local out = vim.trim((result.stdout or '') .. (result.stderr or ''))
  if result.code ~= 0 then
    local last = (out:match('[^\n]*$') or out):gsub('^lulu: ', '')
    error(last, 0)
  end
  return out
end

--- The daemon's build differs from the binary this editor would start.
function M.stale_daemon()
  return H.stale == true
end

-- daemon mode ------------------------------------------------------------------

--- Connect to the daemon, starting it if none answers; replace it when it
--- runs another build and has no live session.
function H.attach_daemon(bin)
  H.mode = 'daemon'
  local said, why = H.binary_status(bin)
  if not said then
    error(why, 0)
  end
  local chan, reply = H.connect_daemon(bin)
  H.stale = reply.build ~= H.said.build
  if H.stale and reply.live == 0 then
    pcall(vim.rpcrequest, chan, rpc.methods.daemon_stop)
    pcall(vim.fn.chanclose, chan)
    vim.wait(10000, function()
      return vim.uv.fs_stat(H.said.socket) == nil
    end, 20)
    chan, reply = H.connect_daemon(bin)
    H.stale = reply.build ~= H.said.build
  elseif H.stale then
    require('lulu.util').notify(
      ('the daemon runs another build of lulu with %d live session(s); :LuluDaemon restart once they end'):format(
        reply.live
      ),
      vim.log.levels.WARN
    )
  end
  H.chan = chan
  H.pid = reply.pid
  H.ready = true
  H.watch(chan)
  require('lulu.events').host_started()
  return chan
end

function H.connect_daemon(bin)
  local path = H.said.socket
  local ok, chan = pcall(vim.fn.sockconnect, 'pipe', path, { rpc = true })
  if not ok or chan <= 0 then
    M.daemon_command({ '--idle-exit', tostring(require('lulu.config').options.daemon.idle_exit) })
    ok, chan = pcall(vim.fn.sockconnect, 'pipe', path, { rpc = true })
    if not ok or chan <= 0 then
      error(('cannot connect to the lulu daemon at %s: %s'):format(path, tostring(chan)), 0)
    end
  end
  local hello_ok, reply = pcall(vim.rpcrequest, chan, rpc.methods.hello, H.hello())
  if not hello_ok then
    pcall(vim.fn.chanclose, chan)
    error(('the lulu daemon did not answer: %s (see %s/daemon.log)'):format(rpc.clean(reply), M.state_dir()), 0)
  end
  return chan, reply
end

--- The daemon, attached without blocking: connect if it listens, else
--- start it (`lulu daemon`, in the background) and connect when it is up;
--- a stale idle one is stopped first (its socket watched by a timer).
--- `done(err)` once attached (err = nil) or given up.
function H.attach_daemon_async(bin, done, replaced)
  H.binary_status(bin, function(said, why)
    if not said then
      return done(why)
    end
    H.attach_daemon_known(bin, done, replaced)
  end)
end

--- The rest of |H.attach_daemon_async()|, once the binary has said where.
function H.attach_daemon_known(bin, done, replaced)
  local function adopt(chan, reply)
    H.mode = 'daemon'
    H.stale = reply.build ~= H.said.build
    if H.stale and reply.live == 0 and not replaced then
      pcall(vim.rpcrequest, chan, rpc.methods.daemon_stop)
      pcall(vim.fn.chanclose, chan)
      local timer, waited = vim.uv.new_timer(), 0
      timer:start(
        20,
        20,
        vim.schedule_wrap(function()
          waited = waited + 20
          if vim.uv.fs_stat(H.said.socket) == nil or waited >= 10000 then
            require('lulu.util').stop_timer(timer)
            H.attach_daemon_async(bin, done, true)
          end
        end)
      )
      return
    end
    if H.stale then
      require('lulu.util').notify(
        ('the daemon runs another build of lulu with %d live session(s); :LuluDaemon restart once they end'):format(
          reply.live
        ),
        vim.log.levels.WARN
      )
    end
    H.chan, H.pid, H.ready = chan, reply.pid, true
    H.watch(chan)
    require('lulu.events').host_started()
    done(nil)
  end
  local function try()
    local ok, chan = pcall(vim.fn.sockconnect, 'pipe', H.said.socket, { rpc = true })
    if not ok or chan <= 0 then
      return nil
    end
    local hello_ok, reply = pcall(vim.rpcrequest, chan, rpc.methods.hello, H.hello())
    if not hello_ok then
      pcall(vim.fn.chanclose, chan)
      return nil, ('the lulu daemon did not answer: %s (see %s/daemon.log)'):format(rpc.clean(reply), M.state_dir())
    end
    return chan, reply
  end
  local chan, reply = try()
  if chan then
    return adopt(chan, reply)
  elseif reply then
    return done(reply)
  end
  local idle_exit = tostring(require('lulu.config').options.daemon.idle_exit)
  local cmd = { bin, 'daemon', '--data-dir', M.data_dir(), '--state-dir', M.state_dir(), '--idle-exit', idle_exit }
  vim.system(
    cmd,
    { text = true },
    vim.schedule_wrap(function(result)
      if result.code ~= 0 then
        local out = vim.trim((result.stdout or '') .. (result.stderr or ''))
        local last = (out:match('[^\n]*$') or out):gsub('^lulu: ', '')
        return done(
          last ~= '' and last or ('could not start the lulu daemon (%s exited with %d)'):format(bin, result.code)
        )
      end
      local started, why = try()
      if not started then
        return done(why or ('cannot connect to the lulu daemon at %s'):format(H.said.socket))
      end
      adopt(started, why)
    end)
  )
end

--- A socket channel has no on_exit: notice a vanished daemon by polling
--- (cheap: no round trip).
function H.watch(chan)
  H.stop_watch()
  H.timer = vim.uv.new_timer()
  H.timer:start(
    500,
    500,
    vim.schedule_wrap(function()
      if H.chan ~= chan then
        return H.stop_watch()
      end
      if next(vim.api.nvim_get_chan_info(chan)) == nil then
        H.stop_watch()
        H.chan, H.pid, H.ready = nil, nil, false
        require('lulu.events').host_exited(1, 'the lulu daemon exited')
      end
    end)
  )
end

function H.stop_watch()
  H.timer = require('lulu.util').stop_timer(H.timer)
end

-- helpers ------------------------------------------------------------------

function H.hello()
  return M.hello_payload()
end

--- What an editor says in its hello: its version and the options the host
--- acts on; `agents` (a remote host's own) over the configured ones.
function M.hello_payload(agent_overrides)
  local opts = require('lulu.config').options
  local agents = {}
  for name, spec in pairs(vim.tbl_deep_extend('force', opts.agents, agent_overrides or {})) do
    agents[name] = {
      cmd = spec.cmd,
      args = spec.args or {},
      env = (spec.env and next(spec.env)) and spec.env or vim.empty_dict(),
      submit_delay = spec.submit_delay,
    }
  end
  return {
    version = rpc.version,
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
      pool_ready_timeout = opts.pool.ready_timeout,
      pool_recycle = opts.pool.recycle,
      pool_max_age = opts.pool.max_age,
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

return M
