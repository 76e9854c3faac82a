---@mod lulu.commands.run How a command's body runs: one session argument,
--- errors as one notify line, after the host (or the build) is ready:
--- a binary still building (`lulu.build`), the daemon or a remote host
--- coming up (`lulu.host`, `lulu.remote`) hold the command, never the
--- editor.
local M = {}
local H = {}

local build = require('lulu.build')
local config = require('lulu.config')
local host = require('lulu.host')
local remote = require('lulu.remote')
local util = require('lulu.util')

--- The one session a command names (`:LuluDiff {session}`).
function M.one(cmd)
  if #cmd.fargs ~= 1 then
    error(('%s takes one session name or id'):format(cmd.name), 0)
  end
  return cmd.fargs[1]
end

--- The callback of an API call that does not wait: `fn(result)` once the
--- host answers; its error (or one `fn` raises) as a one-line notify.
function M.answered(fn)
  return function(err, result)
    if err then
      return util.notify(err, vim.log.levels.ERROR)
    end
    local ok, failed = pcall(fn, result)
    if not ok then
      util.notify(tostring(failed), vim.log.levels.ERROR)
    end
  end
end

--- Commands report errors as one notify line, never a stack trace.
--- Run a command's body: errors become one notification; while the host
--- builds or the daemon comes up it runs afterwards (`opts.local_only`:
--- it needs no host connection, e.g. :LuluDaemon). `opts.waiting` is
--- called when it waits for a build; `opts.failed` when it never runs or
--- fails.
function M.guard(fn, opts)
  opts = opts or {}
  local function again()
    M.guard(fn, opts)
  end
  local function fail(err)
    if opts.failed then
      opts.failed()
    end
    H.error(tostring(err))
  end
  local waiting = H.building(again)
  if waiting then
    if opts.waiting then
      opts.waiting()
    end
    return
  end
  if opts.host and not remote.connected(opts.host) then
    -- A remote host connects in the background; this runs once it has.
    return remote.when_ready(opts.host, function()
      M.guard(fn, { host = opts.host, local_only = true, failed = opts.failed })
    end, fail)
  end
  if not opts.local_only and not host.running() and config.options.host.mode == 'daemon' then
    -- Bringing the daemon up does not hold the editor: this runs once it is.
    return host.when_ready(again, fail)
  end
  local ok, err = pcall(fn)
  if not ok then
    fail(err)
  end
end

-- helpers ------------------------------------------------------------------

function H.error(err)
  util.notify(err, vim.log.levels.ERROR)
end

--- The host binary is building, or must be (none, or older than its
--- sources): say so, run `again` once it is built, and return true.
function H.building(again)
  -- The host is still building: say so, and do this once it is built.
  local state = not host.running() and build.state()
  if state and state.building and not host.bin() then
    util.notify(build.describe() .. '; this runs when it is done')
    build.when_done(again)
    return true
  end
  -- No binary at all (a `dir` plugin lazy.nvim never built, a package
  -- without `scripts/build`): build it now, if Rust is here, and do this
  -- once it is built.
  if not host.running() and not (state and state.failed) and not host.bin() and build.start() then
    util.notify(build.describe() .. ' (first use); this runs when it is done')
    build.when_done(again)
    return true
  end
  -- A build older than the plugin's sources (updated, never rebuilt).
  if not host.running() and not (state and state.building) and build.stale() and build.start() then
    util.notify(build.describe() .. ' (its sources changed); this runs when it is done')
    build.when_done(again)
    return true
  end
  return false
end

return M
