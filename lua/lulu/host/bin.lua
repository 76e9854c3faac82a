---@mod lulu.host.bin The host binary: which one runs (the `bin` option, the
--- plugin's own release build, else $PATH), where its data and state go,
--- and what it says of the daemon it would join (`lulu daemon --status
--- --json`: nothing about the daemon is worked out here). Requires
--- `lulu.build` (a binary still building explains its absence),
--- `lulu.config` and `lulu.util`; starts no host.
local M = {}

local build = require('lulu.build')
local config = require('lulu.config')
local util = require('lulu.util')

M.root = util.root

--- The host binary: `bin` option, else the plugin's release build, else $PATH.
---@return string|nil path, string|nil why_not
function M.find()
  local configured = config.options.bin
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
  local building = build.describe()
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

--- What `bin` says of the daemon it would join: its socket, this binary's
--- build and version, the running daemon's pid. `done(said, why)` when
--- given (said nil: the binary could not say); else it waits, as the Lua
--- API and :checkhealth do.
function M.status(bin, done)
  local cmd = { bin, 'daemon', '--status', '--json' }
  local function parse(result)
    local ok, said = pcall(vim.json.decode, result.stdout or '')
    if result.code == 0 and ok and type(said) == 'table' and said.socket then
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

--- The daemon's socket: `$XDG_RUNTIME_DIR/lulu/lulu.sock`, else
--- `/tmp/lulu-<uid>/lulu.sock` (as the binary computes it).
function M.socket_path()
  local bin = M.find()
  local said = bin and M.status(bin)
  return said and said.socket or nil
end

--- `lulu daemon <args>` (start, --stop, --status); returns its output line.
function M.daemon_command(args)
  local bin, why = M.find()
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

--- Start the daemon (`lulu daemon --idle-exit N`), waiting for it to
--- listen; returns its output line.
function M.start_daemon()
  return M.daemon_command({ '--idle-exit', tostring(config.options.daemon.idle_exit) })
end

--- The command that starts a daemon, for running it in the background.
function M.daemon_args(bin)
  local idle_exit = tostring(config.options.daemon.idle_exit)
  return { bin, 'daemon', '--data-dir', M.data_dir(), '--state-dir', M.state_dir(), '--idle-exit', idle_exit }
end

return M
