---@mod lulu.ui.dispatch The prompt bar: type once, send to chosen sessions
--- (a checklist through |vim.ui.select()|), each getting its own context
--- (`lulu.context`). Sends through `lulu.api.sessions`.
local M = {}
local H = {}

local api_sessions = require('lulu.api.sessions')
local context = require('lulu.context')
local util = require('lulu.util')

--- Ask for a prompt, then for its targets (a checklist through repeated
--- vim.ui.select), then send it to each.
function M.send()
  vim.ui.input({ prompt = 'lulu prompt: ' }, function(text)
    if text and vim.trim(text) ~= '' then
      M.choose_and_send(text)
    end
  end)
end

--- Lines `first..last` of the current buffer (and what you type, if
--- anything) to the sessions you pick, as a reference each agent reads.
function M.send_selection(first, last)
  local ctx = context.capture(0, first, last)
  vim.ui.input({ prompt = 'lulu: about these lines (optional): ' }, function(text)
    if text ~= nil then
      M.choose_and_send(context.message(text, ctx), ('lines %d-%d'):format(first, last))
    end
  end)
end

--- Ask for a prompt and send it to every running session.
function M.broadcast()
  vim.ui.input({ prompt = 'lulu broadcast: ' }, function(text)
    if text and vim.trim(text) ~= '' then
      M.to_all(text)
    end
  end)
end

--- Send `text` to every running agent session (plain shells too with
--- `opts.shells`: `all!`); returns how many got it. `text` may be a
--- function of the session's record (a context written for it).
---@param opts? { shells?: boolean }
function M.to_all(text, opts)
  local shells = opts and opts.shells
  local running = vim.tbl_filter(function(r)
    return shells or not H.plain_shell(r)
  end, H.running())
  local chosen = {}
  for _, r in ipairs(running) do
    chosen[r.id] = true
  end
  if #running == 0 then
    util.notify('no running agent session (`all!` includes plain shells)', vim.log.levels.WARN)
    return 0
  end
  return H.deliver(text, running, chosen)
end

--- Pick the targets (one running session: it) and send `text` (a string,
--- or a function of the target's record); `label` names it in the picker.
function M.choose_and_send(text, label)
  local running = H.running()
  if #running == 0 then
    return util.notify('no running session to send to', vim.log.levels.WARN)
  end
  local chosen = {}
  if #running == 1 then
    chosen[running[1].id] = true
    return H.deliver(text, running, chosen)
  end
  H.pick(text, running, chosen, label)
end

-- helpers ------------------------------------------------------------------

--- A plain shell (the built-in `shell` agent): typed text there runs as a
--- command, so `all` leaves it out.
function H.plain_shell(record)
  return record.agent == 'shell'
end

function H.running()
  return vim.tbl_filter(function(r)
    return r.status == 'running'
  end, api_sessions.list())
end

--- One round of the checklist: toggling re-opens it; "Send" finishes.
function H.pick(text, running, chosen, label)
  local items = { { send = true } }
  for _, r in ipairs(running) do
    items[#items + 1] = { record = r }
  end
  local count = vim.tbl_count(chosen)
  vim.ui.select(items, {
    prompt = ('Send %s to:'):format(label or ('%q'):format(text)),
    kind = 'lulu_targets',
    format_item = function(item)
      if item.send then
        return count == 0 and 'Send (pick sessions first)' or ('Send to %d session(s)'):format(count)
      end
      return ('[%s] %s (%s)'):format(chosen[item.record.id] and 'x' or ' ', item.record.name, item.record.agent)
    end,
  }, function(item)
    if not item then
      return
    end
    if item.send then
      if count == 0 then
        return H.pick(text, running, chosen, label)
      end
      return H.deliver(text, running, chosen)
    end
    chosen[item.record.id] = not chosen[item.record.id] or nil
    H.pick(text, running, chosen, label)
  end)
end

function H.deliver(text, running, chosen)
  local sent = {}
  for _, r in ipairs(running) do
    if chosen[r.id] then
      local ok, err = pcall(function()
        api_sessions.send(r.id, type(text) == 'function' and text(r) or text)
      end)
      if ok then
        sent[#sent + 1] = r.name
      else
        util.notify(tostring(err), vim.log.levels.ERROR)
      end
    end
  end
  util.notify(('sent to %s'):format(#sent > 0 and table.concat(sent, ', ') or 'nobody'))
  return #sent
end

return M
