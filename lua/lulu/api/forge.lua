---@mod lulu.api.forge The bodies of the public functions that take a
--- session's branch to its forge (|lulu-repos|): push it, draft a pull
--- request, open it. Git and `gh`/`glab` run on the host; with `on_done`
--- none of them waits (|lulu-async|). Shows nothing.
local M = {}

local api_sessions = require('lulu.api.sessions')
local rpc = require('lulu.rpc')

local ref = api_sessions.ref

--- Push the session's branch to `opts.remote` (default `origin`), its
--- upstream set; `opts.force`: with a lease on what the remote had.
--- Returns `{ remote, branch }`.
---@param opts {remote: string|nil, force: boolean|nil}|nil
---@param on_done fun(err: string|nil, result: table|nil)|nil
function M.push(session, opts, on_done)
  return rpc.ask(on_done, rpc.methods.push, ref(session), opts or vim.empty_dict())
end

--- A pull request's draft: `{ title, body }` from the session's commits
--- and its review's comments.
---@param on_done fun(err: string|nil, draft: table|nil)|nil
function M.pr_draft(session, on_done)
  return rpc.ask(on_done, rpc.methods.pr_draft, ref(session))
end

--- Push, then open a pull request (GitHub, `gh`) or merge request
--- (GitLab, `glab`). Returns `{ remote, branch, url, existed }`, or
--- without the CLI `{ remote, branch, hint }` (pushed all the same).
---@param opts {title: string, body: string, remote: string|nil}
---@param on_done fun(err: string|nil, result: table|nil)|nil
function M.pr(session, opts, on_done)
  return rpc.ask(on_done, rpc.methods.pr, ref(session), opts)
end

return M
