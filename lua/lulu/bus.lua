---@mod lulu.bus The subscription table: how news from the hosts reaches the
--- modules that show it. Lower modules (the transport, the caches)
--- publish; a UI module subscribes when it loads, so a module never loaded
--- (whose windows cannot be open) is simply not told. Requires only
--- `lulu.util`; owns the table of subscribers and nothing else.
---
--- Topics and what they carry:
---   `changed`          sessions or questions changed (at most once per
---                      event-loop turn: |lulu.status.changed()|)
---   `screen`           a watched session's screen (the `screen` event)
---   `chat`             entries of an ACP session's conversation
---                      (`{ session, from, entries }`)
---   `session_status`   a record whose status just changed
---   `exit`             a record that just ended (after its last output)
---   `deleted`          a session id that was deleted
---   `activity`         an item of the git activity feed
---   `approval_review`  a question whose file change is reviewed at once
---                      (`approvals.review = 'auto'`)
---   `approval_resolved` id, outcome: a question answered or gone
---   `host_exited`      this machine's host went away
---   `host_lost`, `host_back`  a remote host's name, gone or connected again
local M = {}
local H = {}

local util = require('lulu.util')

---@type table<string, {name: string, fn: function}[]>
H.subscribers = {}

--- Call `fn(...)` with what each `topic` publishes. `name` (the module's)
--- makes it once: subscribing again under the same name replaces it.
---@param topic string
---@param name string
---@param fn function
function M.subscribe(topic, name, fn)
  local list = H.subscribers[topic] or {}
  H.subscribers[topic] = list
  for _, sub in ipairs(list) do
    if sub.name == name then
      sub.fn = fn
      return
    end
  end
  list[#list + 1] = { name = name, fn = fn }
end

--- Tell every subscriber of `topic`, in the order they subscribed. One
--- that fails is reported and the others are still told. Returns how many
--- were told (0: no module that shows it is loaded).
---@param topic string
---@return integer
function M.publish(topic, ...)
  local subscribers = H.subscribers[topic] or {}
  for _, sub in ipairs(subscribers) do
    local ok, err = pcall(sub.fn, ...)
    if not ok then
      util.notify(('%s (%s) failed: %s'):format(topic, sub.name, err), vim.log.levels.ERROR)
    end
  end
  return #subscribers
end

return M
