---@mod lulu.rpc Talking to lulu hosts: the method table, and requests and
--- notifications routed to the host that has their session or question
--- (this machine's, `lulu.host`; or a remote one, `lulu.remote`), errors
--- as one line. Requires the transport below it (`lulu.host`,
--- `lulu.remote`, `lulu.calls`, `lulu.protocol`) and reads `lulu.sessions`
--- to route; owns nothing but the table.
local M = {}
local H = {}

local calls = require('lulu.calls')
local host_link = require('lulu.host')
local protocol = require('lulu.protocol')
local remote = require('lulu.remote')
local sessions = require('lulu.sessions')

M.version = protocol.version
M.hints = protocol.hints
M.clean = protocol.clean
M.unanswered = calls.unanswered
M.on_reply = calls.on_reply
M.fail_calls = calls.fail

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
  chat = 'lulu.session_chat',
  push = 'lulu.session_push',
  pr = 'lulu.session_pr',
  pr_draft = 'lulu.pr_draft',
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
  'chat',
  'push',
  'pr',
  'pr_draft',
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
    local record = sessions.find(first)
    if record and record.host then
      return record.host, record.id
    end
    local host = first:match('^([%w_.-]+):')
    if host and remote.configured(host) then
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
    return remote.request(host, method, first, select(2, ...))
  end
  local chan = host_link.ensure()
  local ok, result = pcall(vim.rpcrequest, chan, method, ...)
  if not ok then
    error(M.clean(result), 0)
  end
  return result
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
  done = calls.counted(done)
  local routed, host, first = true, to_host, args[1]
  if not to_host then
    routed, host, first = pcall(H.route, method, args[1])
  end
  if not routed then
    return done(tostring(host))
  end
  local ticket = calls.ticket()
  if host then
    local remote_args = { first, unpack(args, 2) }
    calls.wait(ticket, done, host)
    local sent, err = remote.call(host, ticket, method, remote_args)
    if not sent then
      calls.drop(ticket)
      done(err)
    end
    return
  end
  host_link.when_ready(function()
    local chan = host_link.channel()
    calls.wait(ticket, done)
    if not (chan and pcall(vim.rpcnotify, chan, M.methods.call, ticket, method, args)) then
      calls.drop(ticket)
      done('the lulu host is not running')
    end
  end, done)
end

--- `method(...)` answered now (its result returned, its error raised), or
--- with `on_done` without waiting: `on_done(err, result)` once the host
--- has answered (|lulu-async|).
function M.ask(on_done, method, ...)
  if not on_done then
    return M.request(method, ...)
  end
  vim.validate('on_done', on_done, 'function')
  local n, args = select('#', ...), { ... }
  for i = 1, n do
    if args[i] == nil then
      args[i] = vim.NIL
    end
  end
  M.call(method, args, on_done)
end

--- Fire and forget (keystrokes, resizes). Silently nothing if the host is down.
function M.notify(method, ...)
  local host, first = H.route(method, (...))
  if host then
    return remote.notify(host, method, first, select(2, ...))
  end
  local chan = host_link.channel()
  if chan then
    pcall(vim.rpcnotify, chan, method, ...)
  end
end

return M
