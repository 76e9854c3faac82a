---@mod lulu.calls Calls waiting for their answer: the tickets of requests
--- sent as `lulu.call` notifications (|lulu.rpc.call()|), answered by
--- `reply` events or failed when their host goes. Requires only
--- `lulu.protocol`; owns the table of waiting calls.
local M = {}
local H = {}

local protocol = require('lulu.protocol')

-- ticket -> { done, host }
H.calls = {}
H.ticket = 0
-- Calls made and not answered yet, including those waiting for a host to
-- come up.
H.unanswered = 0

--- How many calls wait for their answer (what a spec waits on).
function M.unanswered()
  return H.unanswered
end

--- `done`, counted as unanswered until it runs.
---@param done function
---@return function
function M.counted(done)
  H.unanswered = H.unanswered + 1
  return function(...)
    H.unanswered = H.unanswered - 1
    return done(...)
  end
end

--- A new ticket.
function M.ticket()
  H.ticket = H.ticket + 1
  return H.ticket
end

--- Wait for the answer to `ticket` (from `host`, nil: this machine's).
function M.wait(ticket, done, host)
  H.calls[ticket] = { done = done, host = host }
end

--- Stop waiting for `ticket` (it was never sent).
function M.drop(ticket)
  H.calls[ticket] = nil
end

--- The `reply` event: the answer to a call.
function M.on_reply(payload)
  local call = type(payload) == 'table' and H.calls[payload.ticket]
  if not call then
    return
  end
  H.calls[payload.ticket] = nil
  local err = payload.error ~= nil and protocol.clean(payload.error) or nil
  if err and call.host then
    err = ('%s: %s'):format(call.host, err)
  end
  -- Not from inside the event: Neovim runs a channel's events while a
  -- request on it waits, and a request made from one of them would nest
  -- inside that wait (Neovim closes the channel when their answers cross).
  vim.schedule(function()
    call.done(err, err == nil and payload.result or nil)
  end)
end

--- A host went away (`host` nil: this machine's): its calls will never
--- be answered, so they fail now.
function M.fail(host, why)
  for ticket, call in pairs(H.calls) do
    if call.host == host then
      H.calls[ticket] = nil
      vim.schedule(function()
        call.done(why)
      end)
    end
  end
end

return M
