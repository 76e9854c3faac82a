---@mod lulu.commands.forge `:LuluPush` and `:LuluPR`: a session's branch to
--- its forge. Nothing waits for git or the forge (`lulu.api.forge` with a
--- callback).
local M = {}

local api_forge = require('lulu.api.forge')
local pr = require('lulu.ui.pr')
local run = require('lulu.commands.run')

--- `:LuluPush[!] {session} [remote]` (`!`: force, with a lease).
function M.push(cmd)
  run.guard(function()
    local ref, remote = cmd.fargs[1], cmd.fargs[2]
    if not ref or #cmd.fargs > 2 then
      error('usage: :LuluPush[!] {session} [remote]', 0)
    end
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
    local ref, remote = cmd.fargs[1], cmd.fargs[2]
    if not ref or #cmd.fargs > 2 then
      error('usage: :LuluPR {session} [remote]', 0)
    end
    api_forge.pr_draft(
      ref,
      run.answered(function(draft)
        pr.open(ref, remote, draft)
      end)
    )
  end)
end

return M
