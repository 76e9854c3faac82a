---@mod lulu.approvals Pending approvals: notify, queue, one dialog at a time.
---
--- Agents' permission questions that no rule answers arrive from the host as
--- `approval` events. Each is announced once; `:LuluApprove` answers the
--- oldest with |vim.ui.select()|, so any picker that replaces it works.
local M = {}
local H = {}

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

--- The choices offered, in order, and what each sends to the host. An
--- "always" choice is offered only when the host can make a rule as narrow
--- as the question (`field`); "Deny with a message…" asks for the reason
--- the agent is told.
M.choices = {
  { label = 'Review…', review = true, field = 'review' },
  { label = 'Allow once', decision = 'allow' },
  { label = 'Deny', decision = 'deny' },
  { label = 'Deny with a message…', decision = 'deny', ask_message = true },
  { label = 'Always allow', decision = 'always_allow', field = 'always' },
  { label = 'Always deny', decision = 'always_deny', field = 'always_deny' },
}

---@return lulu.Approval[]
function M.pending()
  return vim.deepcopy(H.queue)
end

--- The host raised a question.
---@param approval lulu.Approval
function M.added(approval)
  table.insert(H.queue, approval)
  local config = require('lulu.config').options.approvals
  if approval.review and config.review == 'auto' and not H.dialog then
    -- Shown at once as a diff; the dialog is not needed.
    H.review(approval)
    return
  end
  if config.notify then
    local keys = require('lulu.config').options.keys
    -- Over a terminal the message line is drawn over at once, and in
    -- Terminal mode only the Terminal-mode key works.
    local terminal = vim.bo.buftype == 'terminal'
    local ways = {}
    for _, key in ipairs({ terminal and keys.term_approve or false, keys.approve }) do
      if key then
        ways[#ways + 1] = require('lulu.keys').display(key)
      end
    end
    local hint = #ways > 0 and (' (%s or :LuluApprove)'):format(table.concat(ways, ', ')) or ' (:LuluApprove)'
    local message = ('%s asks to use %s: %s%s'):format(approval.session_name, approval.tool, approval.summary, hint)
    util.notify(message, vim.log.levels.WARN)
    require('lulu.outside').tell(
      ('%s asks to use %s: %s'):format(approval.session_name, approval.tool, approval.summary)
    )
    if terminal then
      util.toast('lulu: ' .. message, 'DiagnosticWarn')
    end
  end
end

--- Answered (here or elsewhere), withdrawn or expired.
---@param outcome string|nil allow, deny, withdrawn, expired, session ended
function M.resolved(id, outcome)
  if package.loaded['lulu.ui.review'] then
    require('lulu.ui.review').resolved(id, outcome)
  end
  for i, approval in ipairs(H.queue) do
    if approval.id == id then
      table.remove(H.queue, i)
      -- Another editor attached to the daemon answered the question this
      -- one is showing (our own answer closes the dialog before it is sent).
      if H.dialog == id and (outcome == 'allow' or outcome == 'deny') then
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

--- Open the oldest pending approval (of `session_id`, when given, if it has
--- one). Only one dialog at a time.
---@param session_id string|nil
function M.open(session_id)
  if H.dialog then
    return
  end
  local approval = H.queue[1]
  for _, candidate in ipairs(H.queue) do
    if candidate.session_id == session_id then
      approval = candidate
      break
    end
  end
  if not approval then
    util.notify('no pending approvals')
    return
  end
  H.dialog = approval.id
  local items = {}
  for _, choice in ipairs(M.choices) do
    local covers = choice.field and approval[choice.field]
    if not choice.field or (covers and covers ~= vim.NIL) then
      local label = type(covers) == 'string' and ('%s: %s'):format(choice.label, covers) or choice.label
      items[#items + 1] =
        { label = label, decision = choice.decision, ask_message = choice.ask_message, review = choice.review }
    end
  end
  local more = #H.queue > 1 and (' (+%d more)'):format(#H.queue - 1) or ''
  local doubt = approval.doubt and approval.doubt ~= vim.NIL and (' [not allowed by rules: %s]'):format(approval.doubt)
    or ''
  vim.ui.select(items, {
    prompt = ('%s · %s: %s%s%s'):format(approval.session_name, approval.tool, approval.summary, doubt, more),
    kind = 'lulu_approval',
    format_item = function(item)
      return item.label
    end,
  }, function(item)
    H.dialog = nil
    -- Gone from the queue meanwhile: answered elsewhere, withdrawn or expired.
    local still_pending = vim.iter(H.queue):any(function(a)
      return a.id == approval.id
    end)
    if not item or not still_pending then
      return
    end
    if item.review then
      return H.review(approval)
    end
    if item.ask_message then
      vim.ui.input({ prompt = 'Tell the agent (what to do instead): ' }, function(message)
        if message == nil then
          -- Cancelled: the question stays pending.
          return
        end
        H.answer(approval, item.decision, { message = message })
      end)
      return
    end
    H.answer(approval, item.decision)
  end)
end

function H.review(approval)
  local ok, err = pcall(require('lulu.ui.review').open, approval.id)
  if not ok then
    util.notify(('cannot review %s: %s'):format(approval.summary, tostring(err)), vim.log.levels.ERROR)
  end
end

function H.answer(approval, decision, opts)
  local ok, err = pcall(require('lulu').decide, approval.id, decision, opts)
  if not ok then
    util.notify(tostring(err), vim.log.levels.WARN)
  end
  if require('lulu.config').options.approvals.chain then
    -- The answered one may still be queued until its resolution arrives.
    vim.schedule(function()
      if H.queue[1] then
        M.open()
      end
    end)
  end
end

return M
