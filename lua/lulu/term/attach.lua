---@mod lulu.term.attach How a terminal buffer is named and attached to its
--- session: the attach request (a notification, so the editor never waits
--- on the host) with its options, and the line that says how it ended.
--- Owns nothing.
local M = {}

local host = require('lulu.host')
local rpc = require('lulu.rpc')
local sessions = require('lulu.sessions')
local util = require('lulu.util')

--- Ask the host to paint and stream session `id` into `chan`. A
--- notification: the editor never waits on the host (a remote one is a
--- network round trip away), and the paint arrives as terminal output. (The
--- host sizes the PTY as the attach arrives, so a resize sent after it is
--- never overtaken.) With no host up, a request starts one first.
function M.attach(id, chan, cols, rows, opts)
  local record = sessions.find(id)
  local args = { rpc.methods.attach, id, chan, cols or vim.NIL, rows or vim.NIL, opts }
  if (record and record.host) or host.channel() then
    rpc.notify(unpack(args))
  else
    rpc.request(unpack(args))
  end
end

--- How a terminal attaches: its scrollback, and the editor's colours (the
--- host tells them to a program that asks while no terminal shows it).
function M.opts(buf, resume)
  local opts = { resume = resume, scrollback = M.scrollback(buf) }
  local normal = vim.api.nvim_get_hl(0, { name = 'Normal', link = false })
  if normal.fg and normal.bg then
    opts.fg, opts.bg = ('#%06x'):format(normal.fg), ('#%06x'):format(normal.bg)
  end
  return opts
end

--- The lines of scrollback a terminal buffer keeps.
function M.scrollback(buf)
  local lines = vim.bo[buf].scrollback
  return lines > 0 and lines or 10000
end

--- Name `buf` after its session (`lulu://name`), taking the name back
--- from a stale buffer that holds it.
function M.name(buf, record)
  local name = 'lulu://' .. record.name
  local old = -1
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(b) == name then
      old = b
    end
  end
  if old > 0 and not vim.api.nvim_buf_is_loaded(old) then
    -- The session's unloaded (:bdelete) buffer: replace it.
    pcall(vim.api.nvim_buf_delete, old, { force = true })
  elseif old > 0 then
    -- Another buffer holds the name (a host that exited left it).
    name = name .. '#' .. record.id
  end
  vim.api.nvim_buf_set_name(buf, name)
end

--- How a session ended, as the last line of its terminal (the host writes
--- the same line after the output of an ended session it replays).
---@param record lulu.Session
---@return string
function M.ended_line(record)
  local how = record.failure_reason
  if not how or how == vim.NIL then
    how = ('exit %s'):format(record.exit_code ~= vim.NIL and record.exit_code or '?')
  end
  local at = util.parse_time(record.updated_at)
  local clock = at and os.date('%H:%M', math.floor(at)) or ''
  return ('[lulu: %s · %s · %s]'):format(record.status, how, clock)
end

return M
