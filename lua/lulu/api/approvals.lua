---@mod lulu.api.approvals The bodies of the public functions on agents'
--- questions and the rules that answer them (|lulu-api|): the pending
--- questions and past decisions, answering one, and the rules in order.
--- Asks the host (|lulu.rpc|); reads remote hosts' questions from
--- `lulu.approvals`. Shows nothing.
local M = {}

local approvals = require('lulu.approvals')
local rpc = require('lulu.rpc')

--- Pending approvals, oldest first; with `{ history = true }` the record of
--- past decisions, newest first.
---@param opts {history: boolean, limit: integer}|nil
function M.approvals(opts)
  if opts and opts.history then
    return rpc.request(rpc.methods.approvals, { history = true, limit = opts.limit })
  end
  -- Remote hosts' questions as last told (their ids `host:N`).
  local remote = vim.tbl_filter(function(a)
    return a.host ~= nil
  end, approvals.pending())
  return vim.list_extend(rpc.request(rpc.methods.approvals), remote)
end

--- Answer a pending approval. With a deny, `opts.message` is told to the
--- agent as the reason (say what to do instead). With an allow of a file
--- tool, `opts.content` is the file as you accept it (the agent runs the
--- input that makes exactly that).
---@param id integer
---@param decision 'allow'|'deny'|'always_allow'|'always_deny'
---@param opts {message: string|nil, content: string|nil}|nil
function M.decide(id, decision, opts)
  opts = opts or {}
  if opts.message or opts.content then
    rpc.request(rpc.methods.decide, id, decision, { message = opts.message, content = opts.content })
  else
    rpc.request(rpc.methods.decide, id, decision)
  end
end

--- The rules, in the order they are tried.
function M.rules()
  return rpc.request(rpc.methods.rules)
end

---@class lulu.Rule
---@field action 'allow'|'deny'|'ask'
---@field tool string|nil exact name, or /regex/
---@field path string|nil glob, relative to the session root
---@field command string|nil regex over a shell command
---@field cwd string|nil glob over the session's directory
---@field agent string|nil
---@field scope string|nil a repository root: only sessions inside it
---@field reason string|nil told to the agent on deny

--- Add a rule (last, or at `opts.index`, 0 = first); returns it with its id.
--- A bad glob or regex is refused with the parser's message.
---@param rule lulu.Rule
---@param opts {index: integer}|nil
function M.add_rule(rule, opts)
  vim.validate('rule', rule, 'table')
  local id = rpc.request(rpc.methods.add_rule, rule, opts or vim.empty_dict())
  return vim.tbl_extend('force', { id = id }, rule)
end

function M.remove_rule(id)
  rpc.request(rpc.methods.remove_rule, id)
end

--- Move a rule to `index` (0 = first).
function M.move_rule(id, index)
  rpc.request(rpc.methods.move_rule, id, index)
end

return M
