---@mod lulu.commands.forge `:LuluPush` and `:LuluPR`: a session's branch to
--- its forge. Nothing waits for git or the forge (`lulu.api.forge` with a
--- callback).
local M = {}
local H = {}

local api_forge = require('lulu.api.forge')
local pr = require('lulu.ui.pr')
local run = require('lulu.commands.run')

--- `:LuluPush[!] {session} [remote]` (`!`: force, with a lease).
function M.push(cmd)
  run.guard(function()
    local ref, remote = H.session_and_remote(cmd, ':LuluPush[!] {session} [remote]')
    api_forge.push(
      ref,
      { remote = remote, force = cmd.bang or nil },
      run.answered(function(result)
        pr.told(ref, result)
      end)
    )
  end)
end

--- `:LuluPR {session} [remote]`: the draft in a buffer; `:w` opens it.
function M.pr(cmd)
  run.guard(function()
    local ref, remote = H.session_and_remote(cmd, ':LuluPR {session} [remote]')
    api_forge.pr_draft(
      ref,
      run.answered(function(draft)
        pr.open(ref, remote, draft)
      end)
    )
  end)
end

--- `{session} [remote]`, or an error naming `usage`.
function H.session_and_remote(cmd, usage)
  if #cmd.fargs < 1 or #cmd.fargs > 2 then
    error('usage: ' .. usage, 0)
  end
  return cmd.fargs[1], cmd.fargs[2]
end

return M
