---@mod lulu.keys Default keys for the <Plug> mappings.
---
--- A default is mapped only when the user allows it (`keys.{name}`, false
--- disables), has not mapped the <Plug> themselves, and the key is free.
--- Requires only `lulu.config`; its Terminal-mode keys run lulu's
--- commands (so it names no window of its own).
local M = {}

local config = require('lulu.config')

M.plugs = {
  approve = '<Plug>(lulu-approve)',
  send = '<Plug>(lulu-send)',
}

function M.apply()
  local keys = config.options.keys
  for name, plug in pairs(M.plugs) do
    local lhs = keys[name]
    if lhs and vim.fn.hasmapto(plug, 'n') == 0 and vim.fn.maparg(lhs, 'n') == '' then
      vim.keymap.set('n', lhs, plug, { desc = 'lulu: ' .. name })
    end
  end
end

--- lulu's own actions from Terminal mode, in lulu's terminal buffers only
--- (other terminals, and the keys agents need, are left alone): `<C-\>`
--- then a letter, a prefix Neovim itself uses only before CTRL-N and
--- CTRL-O. A key you mapped in Terminal mode yourself is not taken.
M.terminal = {
  term_list = {
    desc = 'the session list',
    run = function()
      vim.cmd('LuluList')
    end,
  },
  term_approve = {
    desc = 'answer an approval',
    run = function()
      vim.cmd('LuluApprove')
    end,
  },
  term_next = {
    desc = 'the next session waiting for you',
    run = function()
      vim.cmd('LuluNext')
    end,
  },
}

--- The same keys work in Normal mode in those buffers, so one key works
--- wherever you are in a session (a `<leader>` map typed in Terminal mode
--- would go to the agent).
---@param buf integer a lulu terminal buffer
function M.terminal_maps(buf)
  local keys = config.options.keys
  for name, action in pairs(M.terminal) do
    local lhs = keys[name]
    if lhs and vim.fn.maparg(lhs, 't') == '' then
      vim.keymap.set('t', lhs, function()
        vim.cmd.stopinsert()
        vim.schedule(action.run)
      end, { buffer = buf, desc = 'lulu: ' .. action.desc })
    end
    if lhs and vim.fn.maparg(lhs, 'n') == '' then
      vim.keymap.set('n', lhs, action.run, { buffer = buf, desc = 'lulu: ' .. action.desc })
    end
  end
end

--- A key as the user types it: `<leader>` spelled as their leader.
---@param lhs string
function M.display(lhs)
  local leader = vim.g.mapleader
  if leader == nil or leader == '' then
    leader = '\\'
  elseif leader == ' ' then
    leader = '<Space>'
  end
  local localleader = vim.g.maplocalleader
  if localleader == nil or localleader == '' then
    localleader = '\\'
  end
  return (lhs:gsub('<[Ll]eader>', leader):gsub('<[Ll]ocal[Ll]eader>', localleader))
end

return M
