---@mod lulu Run and steer many AI coding agents from Neovim.
---
--- The public Lua API (see `:h lulu-api`), thin: the bodies are in
--- `lulu.api.*` (asking the host) and in the modules that show things
--- (`lulu.term`, `lulu.ui.review`). Every function that needs the host
--- starts it on first use; errors are raised as Lua errors with a one-line
--- message. Loading it loads the UI that hears the hosts' events.
---
--- The layers, bottom first (each requires only its own and lower ones;
--- tests/lua/test_layers.lua holds the list): base (util, config,
--- protocol, bus, calls, ...), state (sessions, approvals, status),
--- transport (host, remote, rpc, events), view (term, ui.grid), api
--- (api/*), ui (ui/*, persist), commands (commands/*, health), and this.
local M = {}
local H = {}

local api_approvals = require('lulu.api.approvals')
local api_forge = require('lulu.api.forge')
local api_git = require('lulu.api.git')
local api_sessions = require('lulu.api.sessions')
local config = require('lulu.config')
local host = require('lulu.host')
local keys = require('lulu.keys')
local persist = require('lulu.persist')
local review = require('lulu.ui.review')
local saved = require('lulu.api.saved')
local start = require('lulu.api.start')
local status = require('lulu.status')
local term = require('lulu.term')

--- Optional: lulu works with the defaults without it.
---@param opts table|nil see `:h lulu-config`
function M.setup(opts)
  config.setup(opts)
  if vim.v.vim_did_enter == 1 then
    keys.apply()
  end
  host.reconfigure()
  persist.apply()
end

-- Starting sessions (|lulu.start()|, templates).
M.start = start.start
M.start_many = start.start_many
M.templates = start.templates
M.save_template = start.save_template
M._template_names = start.template_names
M._default_agent = start.default_agent

-- Saved sets, and resuming an ended session.
M.save = saved.save
M.restore = saved.restore
M.saved = saved.saved
M.resume = saved.resume

-- Sessions as the host has them.
M.list = api_sessions.list
M.get = api_sessions.get
M.send = api_sessions.send
M.stop = api_sessions.stop
M.delete = api_sessions.delete
M.detail = api_sessions.detail
M.pool_status = api_sessions.pool_status

--- Show a session's terminal in the current window. `ref` is a name or id,
--- or a record (as |lulu.start()| or |lulu.list()| gave it): then it is
--- shown as it is, without asking the host again.
---@param ref string|lulu.Session
function M.open(ref)
  return term.open(H.record(ref))
end

--- The session's terminal buffer (created hidden if it has none yet);
--- `ref` as for |lulu.open()|.
---@param ref string|lulu.Session
---@return integer bufnr
function M.buffer(ref)
  return term.ensure(H.record(ref))
end

-- A session's branch: its diff, merge, rebase, review and comments.
M.diff = api_git.diff
M.merge = api_git.merge
M.rebase = api_git.rebase
M.activity = api_git.activity
M.review_files = api_git.review_files
M.comment = api_git.comment
M.uncomment = api_git.uncomment
M.comments = api_git.comments
M.send_review = api_git.send_review
M.trust = api_git.trust
M.prune = api_git.prune

-- A session's branch to its forge (|lulu-repos|).
M.push = api_forge.push
M.pr_draft = api_forge.pr_draft
M.pr = api_forge.pr

-- Agents' questions, and the rules that answer them.
M.approvals = api_approvals.approvals
M.decide = api_approvals.decide
M.rules = api_approvals.rules
M.add_rule = api_approvals.add_rule
M.remove_rule = api_approvals.remove_rule
M.move_rule = api_approvals.move_rule

--- Review a file tool's question as a diff: the file now and after the
--- change, the "after" side editable (|lulu-review|).
---@param id integer approval id
function M.review(id)
  review.open(id)
end

--- A short status for a statusline: live sessions, those waiting for you
--- and questions pending, e.g. `lulu 3 ◆1 ⚠2`; empty when no session is
--- live and nothing is pending. Computed when sessions change, so it is
--- cheap to call on every redraw (`User LuluStatus` fires when it changes).
---@return string
function M.statusline()
  return status.line()
end

-- helpers ------------------------------------------------------------------

--- A session's record: the one given, or the host's for a name or id.
function H.record(ref)
  if type(ref) == 'table' and ref.id then
    return ref
  end
  return api_sessions.get(ref)
end

return M
