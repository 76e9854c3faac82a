---@mod lulu.api.saved The bodies of the public functions that save the live
--- sessions as a named set and start them again (|lulu-api|), and resume
--- an ended one: same name, branch and worktree, its agent resuming its own
--- conversation. Reads which sessions the grid shows (`lulu.ui.grid`) and
--- opens it again on restore; starts through `lulu.api.start`.
local M = {}
local H = {}

local api_sessions = require('lulu.api.sessions')
local config = require('lulu.config')
local grid = require('lulu.ui.grid')
local rpc = require('lulu.rpc')
local sessions = require('lulu.sessions')
local start = require('lulu.api.start')

--- Save the live sessions as a named set (default `'default'`): agent,
--- name, args, directory, branch and base, and which are in the grid.
--- Returns how many were saved.
function M.save(name)
  local in_grid = {}
  local tab = grid.tab()
  if tab then
    for _, win in ipairs(vim.api.nvim_tabpage_list_wins(tab)) do
      in_grid[vim.w[win].lulu_grid_session or ''] = true
    end
  end
  local specs = {}
  for _, r in ipairs(api_sessions.list()) do
    if sessions.is_live(r) then
      table.insert(
        specs,
        1,
        vim.tbl_extend('force', H.again(r), { conversation = r.conversation, in_grid = in_grid[r.id] or false })
      )
    end
  end
  if #specs == 0 then
    error('no live sessions to save', 0)
  end
  rpc.request(rpc.methods.save, name or 'default', specs)
  return #specs
end

--- Start a saved set again, about 100 ms apart, each in its own branch and
--- worktree as before (an ended session of the same name makes way).
--- `on_done(records, errors)` as for |lulu.start_many()|.
function M.restore(name, on_done)
  local specs = rpc.request(rpc.methods.snapshot, name or 'default')
  local in_grid = false
  local starts = {}
  for _, spec in ipairs(specs) do
    in_grid = in_grid or spec.in_grid
    starts[#starts + 1] = {
      agent = spec.agent,
      name = spec.name,
      args = H.resume_args(spec),
      cwd = spec.cwd,
      worktree = spec.worktree,
      base = spec.base,
      reuse = true,
      resume = H.resumes() and spec.conversation or nil,
      sandbox = spec.sandbox,
      host = spec.host,
    }
  end
  start.start_many(starts, function(records, errors)
    if in_grid and #records > 0 then
      grid.open()
    end
    if on_done then
      on_done(records, errors)
    end
  end)
end

--- Names of the saved sets, newest first.
function M.saved()
  return rpc.request(rpc.methods.snapshots)
end

--- Start an ended session again with the same name, branch and worktree,
--- its agent resuming its own conversation (`claude --resume`, `codex
--- resume`, `gemini --resume`). Returns the new record.
---@return lulu.Session
function M.resume(ref)
  local r = api_sessions.get(ref)
  if sessions.is_live(r) then
    error(("session '%s' is still running; resume is for an ended session"):format(r.name), 0)
  end
  if not r.conversation then
    error(
      ("session '%s': its agent (%s) never named its conversation, so there is none to resume; :LuluStart it afresh"):format(
        r.name,
        r.agent
      ),
      0
    )
  end
  return start.start(vim.tbl_extend('force', H.again(r), { reuse = true, resume = r.conversation }))
end

-- helpers ------------------------------------------------------------------

--- Whether restores resume each agent's conversation (`persist.resume`, or
--- its old name `persist.claude_continue`).
function H.resumes()
  local persist = config.options.persist
  if persist.claude_continue ~= nil then
    return persist.claude_continue
  end
  return persist.resume
end

--- A saved Claude session whose conversation id was never seen (saved by
--- an older lulu) still continues its directory's latest conversation.
function H.resume_args(spec)
  local args = vim.deepcopy(spec.args or {})
  local continue = config.trait(spec.agent).continue
  if H.resumes() and continue and not spec.conversation and not vim.tbl_contains(args, continue) then
    table.insert(args, 1, continue)
  end
  return args
end

--- What starts session `r` again as it was: agent, name, args, its
--- repository (its worktree is found again there), branch base.
function H.again(r)
  return {
    agent = r.agent,
    name = r.name,
    args = r.args or {},
    cwd = r.repo or r.cwd,
    worktree = r.worktree ~= nil,
    base = r.worktree and r.base or nil,
    -- Confined again as it was; one that was not follows today's config.
    sandbox = r.sandbox,
    host = r.host,
  }
end

return M
