---@mod lulu.approvals Pending approvals: the editor's queue of them, and
--- each announced once.
---
--- Agents' permission questions that no rule answers arrive from the host as
--- `approval` events. Each is announced once (a notice, the terminal's
--- desktop notification, a float over a terminal); `:LuluApprove` answers
--- the oldest (`lulu.ui.approve`). Owns the queue and which question a
--- dialog shows; requires `lulu.bus`, `lulu.config`, `lulu.keys`,
--- `lulu.outside` and `lulu.util`. A file change to review at once
--- (`approvals.review = 'auto'`) is published as `approval_review`; the
--- UI opens it.
local M = {}
local H = {}

local bus = require('lulu.bus')
local config = require('lulu.config')
local keys = require('lulu.keys')
local outside = require('lulu.outside')
local util = require('lulu.util')

---@class lulu.Approval
---@field id integer
---@field session_id string
---@field session_name string
---@field agent string
---@field tool string
---@field summary string
---@field always string|nil what "Always allow" adds; nil when no rule that narrow exists
---@field always_deny string|nil what "Always deny" adds
---@field doubt string|nil why allow rules could not allow it
---@field review boolean|nil a file change that can be reviewed as a diff
---@field editable boolean|nil an edited version can be given back to the agent
---@field created_at string

---@type lulu.Approval[] oldest first
H.queue = {}

--- The id of the question a dialog shows now (nil: none).
---@type integer|string|nil
M.dialog = nil

---@return lulu.Approval[]
function M.pending()
  return vim.deepcopy(H.queue)
end

--- How many questions are pending.
function M.count()
  return #H.queue
end

--- The oldest pending question (of `session_id`, when given, if it has one).
---@return lulu.Approval|nil
function M.oldest(session_id)
  for _, candidate in ipairs(H.queue) do
    if candidate.session_id == session_id then
      return candidate
    end
  end
  return H.queue[1]
end

--- Is question `id` still pending?
function M.is_pending(id)
  return vim.iter(H.queue):any(function(a)
    return a.id == id
  end)
end

--- The host raised a question.
---@param approval lulu.Approval
function M.added(approval)
  table.insert(H.queue, approval)
  local options = config.options.approvals
  if approval.review and options.review == 'auto' and not M.dialog then
    -- Shown at once as a diff (by the UI, when it is loaded); the dialog is
    -- not needed.
    if bus.publish('approval_review', approval) > 0 then
      return
    end
  end
  if options.notify then
    H.announce(approval)
  end
end

--- Answered (here or elsewhere), withdrawn or expired.
---@param outcome string|nil allow, deny, withdrawn, expired, session ended
function M.resolved(id, outcome)
  bus.publish('approval_resolved', id, outcome)
  for i, approval in ipairs(H.queue) do
    if approval.id == id then
      table.remove(H.queue, i)
      -- Another editor attached to the daemon answered the question this
      -- one is showing (our own answer closes the dialog before it is sent).
      if M.dialog == id and (outcome == 'allow' or outcome == 'deny') then
        util.notify(
          ('%s: %s was answered elsewhere (%s)'):format(approval.session_name, approval.tool, outcome),
          vim.log.levels.INFO
        )
      end
      return
    end
  end
end

--- The host started afresh: nothing it had pending survives.
--- The questions of one host (`nil`: the local one) are now `pending`.
function M.reset(pending, host)
  local kept = {}
  for _, approval in ipairs(H.queue) do
    if approval.host ~= host then
      kept[#kept + 1] = approval
    end
  end
  H.queue = vim.list_extend(kept, pending or {})
end

-- helpers ------------------------------------------------------------------

--- Say that `approval` waits: a notice naming the keys that answer it, the
--- terminal told when Neovim is not focused, a float over a terminal.
function H.announce(approval)
  local mapped = config.options.keys
  -- Over a terminal the message line is drawn over at once, and in
  -- Terminal mode only the Terminal-mode key works.
  local terminal = vim.bo.buftype == 'terminal'
  local ways = {}
  for _, key in ipairs({ terminal and mapped.term_approve or false, mapped.approve }) do
    if key then
      ways[#ways + 1] = keys.display(key)
    end
  end
  local hint = #ways > 0 and (' (%s or :LuluApprove)'):format(table.concat(ways, ', ')) or ' (:LuluApprove)'
  local message = ('%s asks to use %s: %s%s'):format(approval.session_name, approval.tool, approval.summary, hint)
  util.notify(message, vim.log.levels.WARN)
  outside.tell(('%s asks to use %s: %s'):format(approval.session_name, approval.tool, approval.summary))
  if terminal then
    util.toast('lulu: ' .. message, 'DiagnosticWarn')
  end
end

return M
