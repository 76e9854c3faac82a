---@mod lulu.commands.git The commands on a session's branch: diff, merge,
--- rebase, review, prune, trust. Git runs on the host; none waits for it
--- (`lulu.api.git` with a callback); conflicts go to the quickfix list.
local M = {}
local H = {}

local api_git = require('lulu.api.git')
local api_sessions = require('lulu.api.sessions')
local branch = require('lulu.ui.branch')
local complete = require('lulu.commands.complete')
local run = require('lulu.commands.run')
local sessions = require('lulu.sessions')
local util = require('lulu.util')

function M.diff(cmd)
  run.guard(function()
    local ref = run.one(cmd)
    api_git.diff(
      ref,
      run.answered(function(text)
        H.show_diff(ref, text)
      end)
    )
  end)
end

--- A session's diff in a new tab.
function H.show_diff(ref, text)
  local buf = util.tab_buffer('lulu://diff/' .. ref, 'nofile')
  local lines = text == '' and { '(no changes against the base)' } or vim.split(text, '\n', { trimempty = true })
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].filetype = 'diff'
  vim.keymap.set('n', 'q', '<cmd>close<cr>', { buffer = buf, nowait = true, desc = 'Close the diff' })
end

function M.merge(cmd)
  run.guard(function()
    local ref, strategy = cmd.fargs[1], cmd.fargs[2] or 'merge'
    if not ref or #cmd.fargs > 2 then
      error('usage: :LuluMerge {session} [merge|squash|rebase]', 0)
    end
    api_git.merge(
      ref,
      strategy,
      nil,
      run.answered(function(result)
        if result.ok then
          util.notify(('merged %s (%s) at %s'):format(ref, strategy, result.commit:sub(1, 10)))
          return
        end
        local record = H.record(ref)
        H.conflicts(record, result, function(hunk)
          return ('conflicts with %s (%d line(s) of it there)'):format(record.base or 'the base', hunk.theirs or 0)
        end, 'lulu: merge conflicts of ' .. ref, ':LuluRebase ' .. ref)
      end)
    )
  end)
end

--- `:LuluReview {session} [send]`.
function M.review(cmd)
  run.guard(function()
    local ref, sub = cmd.fargs[1], cmd.fargs[2]
    if not ref or #cmd.fargs > 2 or (sub and sub ~= 'send') then
      error('usage: :LuluReview {session} [send]', 0)
    end
    if sub == 'send' then
      local n = api_git.send_review(ref)
      util.notify(('sent %d comment(s) to %s'):format(n, ref))
      return
    end
    branch.open(ref)
  end)
end

--- `:LuluRebase {session} [continue|abort]`.
function M.rebase(cmd)
  run.guard(function()
    local ref, step = cmd.fargs[1], cmd.fargs[2] or 'start'
    if not ref or #cmd.fargs > 2 or not vim.tbl_contains({ 'start', 'continue', 'abort' }, step) then
      error('usage: :LuluRebase {session} [continue|abort]', 0)
    end
    api_git.rebase(
      ref,
      step,
      run.answered(function(result)
        local record = H.record(ref)
        if result.ok then
          if step == 'abort' then
            util.notify(('rebase of %s aborted; its branch is as it was'):format(ref))
          else
            util.notify(('rebased %s onto %s at %s'):format(ref, record.base or 'its base', result.commit:sub(1, 10)))
          end
          return
        end
        H.conflicts(record, result, function()
          return 'conflict markers: resolve, then :LuluRebase ' .. ref .. ' continue'
        end, 'lulu: rebase conflicts of ' .. ref, ':LuluRebase ' .. ref .. ' continue')
      end)
    )
  end)
end

--- A session's record as the editor has it (kept current by the host's
--- events), asked of the host only when the editor has none.
function H.record(ref)
  return sessions.find(ref) or api_sessions.get(ref)
end

--- Conflicts to the quickfix list, at their hunks in the session's
--- worktree; the host's message with what to do in Vim.
function H.conflicts(record, result, describe, title, hint)
  local dir = record.worktree or record.repo or ''
  local items = {}
  for _, hunk in ipairs(result.conflicts or {}) do
    items[#items + 1] = { filename = dir .. '/' .. hunk.path, lnum = hunk.line, text = describe(hunk) }
  end
  vim.fn.setqflist({}, ' ', { title = title, items = items })
  util.notify(('%s (%s; see :copen)'):format(result.message, hint), vim.log.levels.ERROR)
end

function M.prune()
  run.guard(function()
    api_git.prune({ dry_run = true }, run.answered(H.confirm_prune))
  end)
end

--- Ask before removing what a dry run of the prune found.
function H.confirm_prune(doomed)
  if #doomed == 0 then
    util.notify('nothing to prune: no ended session has a merged, clean worktree')
    return
  end
  local names = vim.tbl_map(function(d)
    return d.name
  end, doomed)
  local prompt = ('Remove %d worktree(s) and branch(es): %s?'):format(#doomed, table.concat(names, ', '))
  vim.ui.select({ 'Remove', 'Cancel' }, { prompt = prompt }, function(choice)
    if choice ~= 'Remove' then
      return
    end
    run.guard(function()
      api_git.prune(nil, run.answered(H.pruned))
    end)
  end)
end

function H.pruned(removed)
  local where = vim.tbl_map(function(d)
    return d.worktree
  end, removed)
  util.notify(('removed %d worktree(s): %s'):format(#removed, table.concat(where, ', ')))
end

function M.trust()
  run.guard(function()
    api_git.trust(
      nil,
      run.answered(function(trusted)
        util.notify(('trusted %s (sha256 %s)'):format(trusted.path, trusted.sha256:sub(1, 12)))
      end)
    )
  end)
end

function M.complete_merge(lead, line)
  if #vim.split(line, '%s+', { trimempty = true }) + (lead == '' and 1 or 0) <= 2 then
    return complete.complete_sessions(lead)
  end
  return vim.tbl_filter(function(s)
    return vim.startswith(s, lead)
  end, { 'merge', 'squash', 'rebase' })
end

function M.complete_rebase(lead, line)
  if #vim.split(line, '%s+', { trimempty = true }) + (lead == '' and 1 or 0) <= 2 then
    return complete.complete_sessions(lead)
  end
  return vim.tbl_filter(function(s)
    return vim.startswith(s, lead)
  end, { 'continue', 'abort' })
end

return M
