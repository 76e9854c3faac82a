-- The demo's init: lulu from this checkout, default options, and a stand-in
-- for Claude Code when the real `claude` is not installed.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
vim.opt.rtp:prepend(root)
vim.o.termguicolors = true

-- `acp`: the test suite's stand-in ACP agent (a chat buffer, :h lulu-acp).
local opts = { agents = { acp = { acp = { cmd = { 'python3', root .. '/tests/fake-acp' } } } } }
local fake_claude = vim.fn.executable('claude') == 0
if fake_claude then
  opts.agents.claude = { cmd = { root .. '/tests/fake-claude' } }
end
require('lulu').setup(opts)

vim.keymap.set('n', '<leader>l', '<Plug>(lulu-list)')
vim.api.nvim_create_autocmd('VimEnter', {
  once = true,
  callback = function()
    local fake = fake_claude and ' (fake claude)' or ''
    vim.api.nvim_echo({
      { 'lulu: ', 'Title' },
      { ':LuluStart shell | :LuluStart claude | :LuluStart acp | :LuluList' .. fake, 'Normal' },
    }, false, {})
  end,
})
