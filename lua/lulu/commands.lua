---@mod lulu.commands Bodies and completion of the :Lulu* commands, as
--- plugin/lulu.lua calls them (`require('lulu.commands')[name]`): one table
--- gathered from the modules that each do one kind of command.
local M = {}

local complete = require('lulu.commands.complete')
local forge = require('lulu.commands.forge')
local git = require('lulu.commands.git')
local host = require('lulu.commands.host')
local parse = require('lulu.commands.parse')
local session = require('lulu.commands.session')
local sets = require('lulu.commands.sets')

for _, part in ipairs({ parse, session, sets, host, git, forge, complete }) do
  for name, fn in pairs(part) do
    assert(M[name] == nil, 'two commands named ' .. name)
    M[name] = fn
  end
end

return M
