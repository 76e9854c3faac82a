---@mod lulu.api.git The bodies of the public functions on a session's branch
--- (|lulu-api|): its diff, merge and rebase, the review of its files and
--- the comments for its agent, trusting a repository's `.lulu.json`,
--- pruning merged worktrees, the git activity feed. Git runs on the host;
--- with `on_done` none of them waits (|lulu-async|). Shows nothing.
local M = {}

local api_sessions = require('lulu.api.sessions')
local rpc = require('lulu.rpc')

local ref = api_sessions.ref

--- The session's changes against its base (commits, edits, new files) as
--- one unified diff.
---@param on_done fun(err: string|nil, diff: string|nil)|nil
---@return string|nil
function M.diff(session, on_done)
  return rpc.ask(on_done, rpc.methods.diff, ref(session))
end

--- Land the session's branch on its base branch in the main worktree.
--- Returns `{ ok = true, commit }`, or on conflict (aborted, base unchanged)
--- `{ ok = false, files, conflicts = { {path, line, theirs} }, message }`,
--- each conflict at its line in the session's version of the file. A
--- squash commit carries the session's commit messages, or `opts.message`.
---@param strategy 'merge'|'squash'|'rebase'|nil
---@param opts {message: string|nil}|nil
---@param on_done fun(err: string|nil, result: table|nil)|nil
function M.merge(session, strategy, opts, on_done)
  if opts and opts.message then
    return rpc.ask(on_done, rpc.methods.merge, ref(session), strategy or 'merge', { message = opts.message })
  end
  return rpc.ask(on_done, rpc.methods.merge, ref(session), strategy or 'merge')
end

--- Rebase the session's branch onto its base, in its worktree. `step`:
--- `'start'` (default), `'continue'` once conflicts are resolved, or
--- `'abort'`. Returns `{ ok = true, commit }` or, stopped at conflicts,
--- `{ ok = false, files, conflicts = { {path, line} }, message }` (lines of
--- the markers in the worktree's files).
---@param step 'start'|'continue'|'abort'|nil
---@param on_done fun(err: string|nil, result: table|nil)|nil
function M.rebase(session, step, on_done)
  return rpc.ask(on_done, rpc.methods.rebase, ref(session), step or 'start')
end

--- The git activity of the sessions' branches, newest first: `{ {at, repo,
--- session, branch, kind, commit, subject, files} }` (|:LuluActivity|).
function M.activity()
  return rpc.request(rpc.methods.activity)
end

--- The files a session changed against its base (committed or not):
--- `{ {path, status = 'A'|'M'|'D'|'R', added, removed} }`.
function M.review_files(session, on_done)
  return rpc.ask(on_done, rpc.methods.review_files, ref(session))
end

--- Comment on lines of a file of the session's worktree; kept with the
--- session until |lulu.send_review()|.
---@param comment {path: string, line: integer, end_line: integer|nil, text: string}
function M.comment(session, comment)
  vim.validate('comment', comment, 'table')
  rpc.request(rpc.methods.comment_add, ref(session), comment)
end

--- Remove one review comment (by its `id`, as |lulu.comments()| gives it).
function M.uncomment(session, id)
  rpc.request(rpc.methods.comment_remove, ref(session), id)
end

--- The session's review comments, by file and line.
function M.comments(session, on_done)
  return rpc.ask(on_done, rpc.methods.comments, ref(session))
end

--- Send the session's review comments to its agent as one prompt with
--- `path:line` references, then forget them. Returns how many were sent.
function M.send_review(session)
  local comments = M.comments(session)
  if #comments == 0 then
    error('no review comments to send (gc on a line of a reviewed file adds one)', 0)
  end
  api_sessions.send(session, M.prompt(comments))
  rpc.request(rpc.methods.comment_clear, ref(session))
  return #comments
end

--- The prompt that carries `comments` to the agent.
function M.prompt(comments)
  local lines = { 'Review comments on your changes (path:line, in your worktree):' }
  for _, c in ipairs(comments) do
    lines[#lines + 1] = ('- %s: %s'):format(M.where(c), (c.text:gsub('\n', ' ')))
  end
  lines[#lines + 1] = 'Please address each of them.'
  return table.concat(lines, '\n')
end

--- Where a comment is: `path:line` or `path:first-last`.
function M.where(c)
  return c.end_line > c.line and ('%s:%d-%d'):format(c.path, c.line, c.end_line) or ('%s:%d'):format(c.path, c.line)
end

--- Trust the `.lulu.json` of the repository at `dir` (default: the current
--- directory) as it is now; a later change needs trusting again.
---@param on_done fun(err: string|nil, trusted: table|nil)|nil
---@return {path: string, sha256: string}|nil
function M.trust(dir, on_done)
  return rpc.ask(on_done, rpc.methods.trust, dir or vim.fn.getcwd())
end

--- Remove the worktrees (and branches) of ended sessions whose work is all
--- on their base. The sessions stay in the list. With `{ dry_run = true }`
--- only says which would go. Returns `{ { name, branch, worktree }, ... }`.
function M.prune(opts, on_done)
  return rpc.ask(on_done, rpc.methods.prune, { dry_run = opts and opts.dry_run or false })
end

return M
