---@mod lulu.ui.approve The approval dialog (:LuluApprove): the oldest
--- pending question with |vim.ui.select()|, so any picker that replaces it
--- works; one dialog at a time, the next one after an answer
--- (`approvals.chain`). Reads the queue and marks the question it shows in
--- `lulu.approvals`; answers through `lulu.api.approvals`; a file change's
--- review is `lulu.ui.review`'s.
local M = {}
local H = {}

local api_approvals = require('lulu.api.approvals')
local approvals = require('lulu.approvals')
local config = require('lulu.config')
local review = require('lulu.ui.review')
local util = require('lulu.util')

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

--- Open the oldest pending approval (of `session_id`, when given, if it has
--- one). Only one dialog at a time.
---@param session_id string|nil
function M.open(session_id)
  if approvals.dialog then
    return
  end
  local approval = approvals.oldest(session_id)
  if not approval then
    util.notify('no pending approvals')
    return
  end
  approvals.dialog = approval.id
  local more = approvals.count() > 1 and (' (+%d more)'):format(approvals.count() - 1) or ''
  local doubt = approval.doubt and approval.doubt ~= vim.NIL and (' [not allowed by rules: %s]'):format(approval.doubt)
    or ''
  vim.ui.select(H.items(approval), {
    prompt = ('%s · %s: %s%s%s'):format(approval.session_name, approval.tool, approval.summary, doubt, more),
    kind = 'lulu_approval',
    format_item = function(item)
      return item.label
    end,
  }, function(item)
    approvals.dialog = nil
    -- Gone from the queue meanwhile: answered elsewhere, withdrawn or expired.
    if item and approvals.is_pending(approval.id) then
      H.chosen(approval, item)
    end
  end)
end

-- helpers ------------------------------------------------------------------

--- The choices this question can take.
function H.items(approval)
  local items = {}
  for _, choice in ipairs(M.choices) do
    local covers = choice.field and approval[choice.field]
    if not choice.field or (covers and covers ~= vim.NIL) then
      local label = type(covers) == 'string' and ('%s: %s'):format(choice.label, covers) or choice.label
      items[#items + 1] =
        { label = label, decision = choice.decision, ask_message = choice.ask_message, review = choice.review }
    end
  end
  return items
end

function H.chosen(approval, item)
  if item.review then
    return review.offer(approval)
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
end

function H.answer(approval, decision, opts)
  local ok, err = pcall(api_approvals.decide, approval.id, decision, opts)
  if not ok then
    util.notify(tostring(err), vim.log.levels.WARN)
  end
  if config.options.approvals.chain then
    -- The answered one may still be queued until its resolution arrives.
    vim.schedule(function()
      if approvals.count() > 0 then
        M.open()
      end
    end)
  end
end

return M
