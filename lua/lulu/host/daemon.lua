---@mod lulu.host.daemon Joining the daemon: connect to its socket (starting
--- it when none answers), say hello, and replace it when it runs another
--- build and has no live session; blocking for the Lua API, in the
--- background for commands. Hands the channel back to `lulu.host`, which
--- owns it; watches a socket channel, which has no on_exit. Requires
--- `lulu.host.bin`, `lulu.protocol` and `lulu.util`.
local M = {}
local H = {}

local bin_info = require('lulu.host.bin')
local protocol = require('lulu.protocol')
local util = require('lulu.util')

--- Connect, blocking (the Lua API). Returns the channel, the daemon's
--- hello reply, and whether it runs another build; raises a clean error.
---@return integer chan, table reply, boolean stale
function M.attach(bin)
  local said, why = bin_info.status(bin)
  if not said then
    error(why, 0)
  end
  local chan, reply = H.connect(said)
  local stale = reply.build ~= said.build
  if stale and reply.live == 0 then
    H.stop(chan)
    vim.wait(10000, function()
      return vim.uv.fs_stat(said.socket) == nil
    end, 20)
    chan, reply = H.connect(said)
    stale = reply.build ~= said.build
  elseif stale then
    H.warn_stale(reply)
  end
  return chan, reply, stale
end

--- Connect without blocking: if it listens, at once; else start it (`lulu
--- daemon`, in the background) and connect when it is up; a stale idle
--- one is stopped first (its socket watched by a timer).
--- `done(err, chan, reply, stale)` once connected or given up.
function M.attach_async(bin, done, replaced)
  bin_info.status(bin, function(said, why)
    if not said then
      return done(why)
    end
    H.attach_known(bin, said, done, replaced)
  end)
end

--- A socket channel has no on_exit: notice a vanished daemon by polling
--- (cheap: no round trip); `on_gone()` then.
function M.watch(chan, on_gone)
  M.unwatch()
  H.timer = vim.uv.new_timer()
  H.timer:start(
    500,
    500,
    vim.schedule_wrap(function()
      if next(vim.api.nvim_get_chan_info(chan)) == nil then
        M.unwatch()
        on_gone()
      end
    end)
  )
end

function M.unwatch()
  H.timer = util.stop_timer(H.timer)
end

-- helpers ------------------------------------------------------------------

--- Connect to the daemon at `said.socket`, starting it if none answers.
function H.connect(said)
  local path = said.socket
  local ok, chan = pcall(vim.fn.sockconnect, 'pipe', path, { rpc = true })
  if not ok or chan <= 0 then
    bin_info.start_daemon()
    ok, chan = pcall(vim.fn.sockconnect, 'pipe', path, { rpc = true })
    if not ok or chan <= 0 then
      error(('cannot connect to the lulu daemon at %s: %s'):format(path, tostring(chan)), 0)
    end
  end
  local hello_ok, reply = pcall(vim.rpcrequest, chan, protocol.methods.hello, protocol.hello())
  if not hello_ok then
    pcall(vim.fn.chanclose, chan)
    error(
      ('the lulu daemon did not answer: %s (see %s/daemon.log)'):format(protocol.clean(reply), bin_info.state_dir()),
      0
    )
  end
  return chan, reply
end

--- Connect if it listens: the channel and its hello reply; nil when
--- nothing listens; nil and why when it listens but does not answer.
function H.try(said)
  local ok, chan = pcall(vim.fn.sockconnect, 'pipe', said.socket, { rpc = true })
  if not ok or chan <= 0 then
    return nil
  end
  local hello_ok, reply = pcall(vim.rpcrequest, chan, protocol.methods.hello, protocol.hello())
  if not hello_ok then
    pcall(vim.fn.chanclose, chan)
    return nil,
      ('the lulu daemon did not answer: %s (see %s/daemon.log)'):format(protocol.clean(reply), bin_info.state_dir())
  end
  return chan, reply
end

--- The rest of |M.attach_async()|, once the binary has said where.
function H.attach_known(bin, said, done, replaced)
  local function adopt(chan, reply)
    local stale = reply.build ~= said.build
    if stale and reply.live == 0 and not replaced then
      H.stop(chan)
      return H.when_gone(said.socket, function()
        M.attach_async(bin, done, true)
      end)
    end
    if stale then
      H.warn_stale(reply)
    end
    done(nil, chan, reply, stale)
  end
  local chan, reply = H.try(said)
  if chan then
    return adopt(chan, reply)
  elseif reply then
    return done(reply)
  end
  H.start(bin, said, adopt, done)
end

--- Start the daemon in the background, then connect (`adopt(chan,
--- reply)`), or `done(err)`.
function H.start(bin, said, adopt, done)
  vim.system(
    bin_info.daemon_args(bin),
    { text = true },
    vim.schedule_wrap(function(result)
      if result.code ~= 0 then
        local out = vim.trim((result.stdout or '') .. (result.stderr or ''))
        local last = (out:match('[^\n]*$') or out):gsub('^lulu: ', '')
        return done(
          last ~= '' and last or ('could not start the lulu daemon (%s exited with %d)'):format(bin, result.code)
        )
      end
      local started, why = H.try(said)
      if not started then
        return done(why or ('cannot connect to the lulu daemon at %s'):format(said.socket))
      end
      adopt(started, why)
    end)
  )
end

--- Ask a stale idle daemon to stop, and let go of it.
function H.stop(chan)
  pcall(vim.rpcrequest, chan, protocol.methods.daemon_stop)
  pcall(vim.fn.chanclose, chan)
end

--- `fn()` once `socket` is gone (or after 10 s), polled by a timer.
function H.when_gone(socket, fn)
  local timer, waited = vim.uv.new_timer(), 0
  timer:start(
    20,
    20,
    vim.schedule_wrap(function()
      waited = waited + 20
      if vim.uv.fs_stat(socket) == nil or waited >= 10000 then
        util.stop_timer(timer)
        fn()
      end
    end)
  )
end

function H.warn_stale(reply)
  util.notify(
    ('the daemon runs another build of lulu with %d live session(s); :LuluDaemon restart once they end'):format(
      reply.live
    ),
    vim.log.levels.WARN
  )
end

return M
