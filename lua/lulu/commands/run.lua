---@mod lulu.commands.run How a command's body runs: one session argument,
--- errors as one notify line, after the host (or the build) is ready.
local M = {}

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
--- it needs no host connection, e.g. :LuluDaemon).
function M.guard(fn, opts)
  local host = require('lulu.host')
  local build = require('lulu.build')
  -- The host is still building: say so, and do this once it is built.
  local state = not host.running() and build.state()
  if state and state.building and not host.bin() then
    util.notify(build.describe() .. '; this runs when it is done')
    return build.when_done(function()
      M.guard(fn, opts)
    end)
  end
  -- No binary at all (a `dir` plugin lazy.nvim never built, a package
  -- without `scripts/build`): build it now, if Rust is here, and do this
  -- once it is built.
  if not host.running() and not (state and state.failed) and not host.bin() and build.start() then
    util.notify(build.describe() .. ' (first use); this runs when it is done')
    return build.when_done(function()
      M.guard(fn, opts)
    end)
  end
  -- A build older than the plugin's sources (updated, never rebuilt).
  if not host.running() and not (state and state.building) and build.stale() and build.start() then
    util.notify(build.describe() .. ' (its sources changed); this runs when it is done')
    return build.when_done(function()
      M.guard(fn, opts)
    end)
  end
  local hosts = require('lulu.remote')
  if opts and opts.host and not hosts.connected(opts.host) then
    -- A remote host connects in the background; this runs once it has.
    return hosts.when_ready(opts.host, function()
      M.guard(fn, { host = opts.host, local_only = true })
    end, function(err)
      util.notify(err, vim.log.levels.ERROR)
    end)
  end
  if
    not (opts and opts.local_only)
    and not require('lulu.host').running()
    and require('lulu.config').options.host.mode == 'daemon'
  then
    -- Bringing the daemon up does not hold the editor: this runs once it is.
    return require('lulu.host').when_ready(function()
      M.guard(fn, opts)
    end, function(err)
      util.notify(err, vim.log.levels.ERROR)
    end)
  end
  local ok, err = pcall(fn)
  if not ok then
    util.notify(tostring(err), vim.log.levels.ERROR)
  end
end

return M
