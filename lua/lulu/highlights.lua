---@mod lulu.highlights Highlight groups, all linked to standard ones (set
--- again on ColorScheme by plugin/lulu.lua). Requires nothing.
local M = {}

M.links = {
  LuluStarting = 'DiagnosticWarn',
  LuluRunning = 'DiagnosticInfo',
  LuluRunningDim = 'NonText',
  LuluCompleted = 'DiagnosticOk',
  LuluFailed = 'DiagnosticError',
  -- A foreground only: the row's background (a float's, a winbar's) shows.
  LuluName = 'Identifier',
  LuluMeta = 'Comment',
  LuluAge = 'Comment',
  LuluReason = 'DiagnosticError',
  LuluPending = 'DiagnosticWarn',
  LuluWaiting = 'DiagnosticHint',
  LuluCost = 'Number',
  LuluSelected = 'CursorLine',
  LuluBorder = 'FloatBorder',
  LuluPreview = 'NormalFloat',
  LuluTitle = 'FloatTitle',
  LuluFooter = 'FloatFooter',
  -- A review comment shown on its line.
  LuluComment = 'DiagnosticInfo',
}

function M.setup()
  for group, link in pairs(M.links) do
    vim.api.nvim_set_hl(0, group, { link = link, default = true })
  end
end

return M
