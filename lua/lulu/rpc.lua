---@mod lulu.rpc Talking to lulu hosts: the method table, requests and
--- notifications routed to the host that has their session or question
--- (this machine's, `lulu.host`; or a remote one, `lulu.remote`), and the
--- host's errors as one line.
local M = {}
local H = {}

M.version = '0.1.0'

-- Mirrors the method table in src/rpc/protocol.rs.
M.methods = {
  hello = 'lulu.hello',
  call = 'lulu.call',
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
  review = 'lulu.approval_review',
  rules = 'lulu.rule_list',
  add_rule = 'lulu.rule_add',
  remove_rule = 'lulu.rule_remove',
  move_rule = 'lulu.rule_move',
  diff = 'lulu.session_diff',
  detail = 'lulu.session_detail',
  screen = 'lulu.session_screen',
  watch = 'lulu.session_watch',
  merge = 'lulu.session_merge',
  rebase = 'lulu.session_rebase',
  review_files = 'lulu.review_files',
  review_base = 'lulu.review_base',
  review_read = 'lulu.review_read',
  review_write = 'lulu.review_write',
  comment_add = 'lulu.comment_add',
  comments = 'lulu.comment_list',
  comment_clear = 'lulu.comment_clear',
  comment_remove = 'lulu.comment_remove',
  template_save = 'lulu.template_save',
  templates = 'lulu.template_list',
  activity = 'lulu.activity_list',
  trust = 'lulu.repo_trust',
  usage = 'lulu.worktree_usage',
  prune = 'lulu.worktree_prune',
  pool = 'lulu.pool_status',
  agents = 'lulu.agent_info',
  save = 'lulu.snapshot_save',
  snapshot = 'lulu.snapshot_get',
  snapshots = 'lulu.snapshot_list',
  daemon_status = 'lulu.daemon_status',
  daemon_stop = 'lulu.daemon_stop',
}

-- Methods whose first argument names a session, or a question: they go to
-- the host that has it (a remote one, |lulu-remote|), the reference turned
-- into that host's own.
H.by_session = {}
for _, key in ipairs({
  'get',
  'send',
  'write',
  'resize',
  'stop',
  'delete',
  'attach',
  'detach',
  'diff',
  'detail',
  'screen',
  'watch',
  'merge',
  'rebase',
  'review_files',
  'review_base',
  'review_read',
  'review_write',
  'comment_add',
  'comments',
  'comment_clear',
  'comment_remove',
}) do
  H.by_session[M.methods[key]] = true
end
H.by_question = { [M.methods.decide] = true, [M.methods.review] = true }

--- The remote host a request belongs to, and its first argument as that
--- host knows it; nil for the local host.
function H.route(method, first)
  if H.by_session[method] and type(first) == 'string' then
    local record = require('lulu.sessions').find(first)
    if record and record.host then
      return record.host, record.id
    end
    local host = first:match('^([%w_.-]+):')
    if host and require('lulu.remote').configured(host) then
      error(('no session %s on %s (see :LuluList)'):format(first:sub(#host + 2), host), 0)
    end
  elseif H.by_question[method] and type(first) == 'string' then
    local host, id = first:match('^(.+):(%d+)$')
    if host then
      return host, tonumber(id)
    end
  end
end

--- A request to the host; errors come back as Lua errors with the host's
--- one-line message.
function M.request(method, ...)
  local host, first = H.route(method, (...))
  if host then
    return require('lulu.remote').request(host, method, first, select(2, ...))
  end
  local chan = require('lulu.host').ensure()
  local ok, result = pcall(vim.rpcrequest, chan, method, ...)
  if not ok then
    error(M.clean(result), 0)
  end
  return result
end

-- Calls waiting for their answer: ticket -> { done, host }.
H.calls = {}
H.ticket = 0
-- Calls made and not answered yet, including those waiting for a host
-- to come up.
H.unanswered = 0

--- How many calls wait for their answer (what a spec waits on).
function M.unanswered()
  return H.unanswered
end

--- A request that does not wait: sent as a `lulu.call` notification,
--- its answer comes as a `reply` event and `done(err, result)` runs then
--- (`err`: the host's one-line message). Routed as |M.request()| is; the
--- host is started (or the daemon attached) first if needed. `args` is a
--- list without holes; `to_host` names a remote host for a request that
--- names no session of it (a start there).
---@param done fun(err: string|nil, result: any)
---@param to_host string|nil
function M.call(method, args, done, to_host)
  H.unanswered = H.unanswered + 1
  local answer = done
  done = function(...)
    H.unanswered = H.unanswered - 1
    return answer(...)
  end
  local routed, host, first = true, to_host, args[1]
  if not to_host then
    routed, host, first = pcall(H.route, method, args[1])
  end
  if not routed then
    return done(tostring(host))
  end
  H.ticket = H.ticket + 1
  local ticket = H.ticket
  if host then
    local remote_args = { first, unpack(args, 2) }
    H.calls[ticket] = { done = done, host = host }
    local sent, err = require('lulu.remote').call(host, ticket, method, remote_args)
    if not sent then
      H.calls[ticket] = nil
      done(err)
    end
    return
  end
  local local_host = require('lulu.host')
  local_host.when_ready(function()
    local chan = local_host.channel()
    H.calls[ticket] = { done = done }
    if not (chan and pcall(vim.rpcnotify, chan, M.methods.call, ticket, method, args)) then
      H.calls[ticket] = nil
      done('the lulu host is not running')
    end
  end, done)
end

--- The `reply` event: the answer to a call.
function M.on_reply(payload)
  local call = type(payload) == 'table' and H.calls[payload.ticket]
  if not call then
    return
  end
  H.calls[payload.ticket] = nil
  local err = payload.error ~= nil and M.clean(payload.error) or nil
  if err and call.host then
    err = ('%s: %s'):format(call.host, err)
  end
  -- Not from inside the event: Neovim runs a channel's events while a
  -- request on it waits, and a request made from one of them would nest
  -- inside that wait (Neovim closes the channel when their answers cross).
  vim.schedule(function()
    call.done(err, err == nil and payload.result or nil)
  end)
end

--- A host went away (`host` nil: this machine's): its calls will never
--- be answered, so they fail now.
function M.fail_calls(host, why)
  for ticket, call in pairs(H.calls) do
    if call.host == host then
      H.calls[ticket] = nil
      vim.schedule(function()
        call.done(why)
      end)
    end
  end
end

--- Fire and forget (keystrokes, resizes). Silently nothing if the host is down.
function M.notify(method, ...)
  local host, first = H.route(method, (...))
  if host then
    return require('lulu.remote').notify(host, method, first, select(2, ...))
  end
  local chan = require('lulu.host').channel()
  if chan then
    pcall(vim.rpcnotify, chan, method, ...)
  end
end

--- Neovim wraps remote errors as "Error invoking 'm' on channel N:\n<msg>";
--- keep the message.
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

--- A host error as one line: Neovim's wrapping dropped, the code turned
--- into a hint; `stderr`'s last line (a host that could not start) wins.
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

return M
