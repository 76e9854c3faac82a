---@mod lulu.keys Default keys for the <Plug> mappings.
---
--- A default is mapped only when the user allows it (`keys.{name}`, false
--- disables), has not mapped the <Plug> themselves, and the key is free.
local M = {}

M.plugs = {
  approve = '<Plug>(lulu-approve)',
  send = '<Plug>(lulu-send)',
}

function M.apply()
  local keys = require('lulu.config').options.keys
  for name, plug in pairs(M.plugs) do
    local lhs = keys[name]
    if lhs and vim.fn.hasmapto(plug, 'n') == 0 and vim.fn.maparg(lhs, 'n') == '' then
      vim.keymap.set('n', lhs, plug, { desc = 'lulu: ' .. name })
    end
  end
end

return M
