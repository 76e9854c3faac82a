-- lulu: commands and <Plug> mappings only; everything loads on first use.
if vim.g.loaded_lulu then
  return
end
vim.g.loaded_lulu = true

if vim.fn.has('nvim-0.10') == 0 then
  vim.api.nvim_echo({ { 'lulu needs Neovim 0.10 or newer', 'ErrorMsg' } }, true, {})
  return
end

local function cmd(name)
  return function(opts)
    require('lulu.commands')[name](opts)
  end
end

local function complete(name)
  return function(...)
    return require('lulu.commands')[name](...)
  end
end

local command = vim.api.nvim_create_user_command
command('LuluStart', cmd('start'), {
  nargs = '*',
  complete = complete('complete_start'),
  desc = 'lulu: start a session ([agent] [name=..] [cwd=..] [-- args])',
})
command('LuluList', cmd('list'), { nargs = 0, desc = 'lulu: toggle the session list' })
command('LuluOpen', cmd('open'), {
  nargs = 1,
  complete = complete('complete_sessions'),
  desc = "lulu: open a session's terminal",
})
command('LuluStop', cmd('stop'), {
  nargs = 1,
  bang = true,
  complete = complete('complete_sessions'),
  desc = 'lulu: stop a session (! kills at once)',
})
command('LuluDelete', cmd('delete'), {
  nargs = 1,
  bang = true,
  complete = complete('complete_sessions'),
  desc = 'lulu: delete a session (stops it first)',
})
command('LuluSend', cmd('send'), {
  nargs = '+',
  range = true,
  bang = true,
  complete = complete('complete_send'),
  desc = 'lulu: type text into a session (or all agents; all! with shells) and press Enter; with a range, send the lines as a reference',
})
command('LuluPrompt', cmd('prompt'), {
  nargs = '?',
  range = true,
  complete = complete('complete_prompts'),
  desc = 'lulu: send a named prompt ({selection}, {diagnostics}, ...) to sessions you pick',
})

command('LuluDiff', cmd('diff'), {
  nargs = 1,
  complete = complete('complete_sessions'),
  desc = "lulu: a session's changes against its base",
})
command('LuluMerge', cmd('merge'), {
  nargs = '+',
  complete = complete('complete_merge'),
  desc = "lulu: land a session's branch on its base (merge, squash or rebase)",
})
command('LuluPush', cmd('push'), {
  nargs = '+',
  bang = true,
  complete = complete('complete_sessions'),
  desc = "lulu: push a session's branch (upstream set; ! forces, with a lease)",
})
command('LuluPR', cmd('pr'), {
  nargs = '+',
  complete = complete('complete_sessions'),
  desc = "lulu: push a session's branch and open a pull request (gh) or merge request (glab)",
})
command('LuluActivity', cmd('activity'), {
  nargs = 0,
  desc = "lulu: live feed of the sessions' branches: commits, merges, rebases, conflicts",
})
command('LuluTemplate', cmd('template'), {
  nargs = '*',
  complete = complete('complete_template'),
  desc = 'lulu: save a session as a template (:LuluStart @name), or list them',
})
command('LuluReview', cmd('review'), {
  nargs = '+',
  complete = complete('complete_sessions'),
  desc = "lulu: review a session's changes: files, diffs, comments for its agent (or: send)",
})
command('LuluRebase', cmd('rebase'), {
  nargs = '+',
  complete = complete('complete_rebase'),
  desc = "lulu: rebase a session's branch onto its base in its worktree (then continue|abort)",
})
command('LuluGrid', cmd('grid'), { nargs = 0, desc = 'lulu: every live session in one tab' })
command('LuluNext', cmd('next'), { nargs = 0, desc = 'lulu: jump to the next session waiting for you' })
command('LuluSave', cmd('save'), {
  nargs = '?',
  complete = complete('complete_saved'),
  desc = 'lulu: save the live sessions to start again later',
})
command('LuluRestore', cmd('restore'), {
  nargs = '?',
  complete = complete('complete_saved'),
  desc = 'lulu: start a saved set of sessions again',
})
command('LuluResume', cmd('resume'), {
  nargs = 1,
  complete = complete('complete_resumable'),
  desc = 'lulu: start an ended session again, its agent resuming its conversation',
})
command('LuluPrune', cmd('prune'), {
  nargs = 0,
  desc = 'lulu: remove worktrees of ended sessions whose branches are merged',
})
command('LuluTrust', cmd('trust'), {
  nargs = 0,
  desc = "lulu: trust this repository's .lulu.json (it may run commands)",
})
command('LuluHost', cmd('host'), {
  nargs = '*',
  complete = function(lead, line)
    local words = vim.split(line, '%s+', { trimempty = true })
    local items = (#words <= 1 or (#words == 2 and lead ~= '')) and { 'connect', 'disconnect' }
      or require('lulu.remote').names()
    return vim.tbl_filter(function(c)
      return vim.startswith(c, lead)
    end, items)
  end,
  desc = 'lulu: remote hosts (connect, disconnect)',
})

command('LuluDaemon', cmd('daemon'), {
  nargs = 1,
  bang = true,
  complete = function(lead)
    return vim.tbl_filter(function(c)
      return vim.startswith(c, lead)
    end, { 'status', 'stop', 'restart' })
  end,
  desc = 'lulu: the background daemon (host.mode = "daemon"): status, stop or restart',
})
command('LuluApprove', cmd('approve'), { nargs = 0, desc = 'lulu: answer the oldest pending approval' })
command('LuluRules', cmd('rules'), {
  nargs = '*',
  complete = function(lead, line)
    if line:match('^%S+%s+%S+%s') then
      return vim.fn.getcompletion(lead, 'file')
    end
    return vim.tbl_filter(function(word)
      return vim.startswith(word, lead)
    end, { 'export', 'import' })
  end,
  desc = 'lulu: edit approval rules (or: export {file}, import {file})',
})

vim.keymap.set('n', '<Plug>(lulu-approve)', function()
  require('lulu.commands').approve()
end, { desc = 'lulu: answer the oldest pending approval' })
vim.keymap.set('n', '<Plug>(lulu-send)', function()
  require('lulu.ui.dispatch').send()
end, { desc = 'lulu: type a prompt and send it to chosen sessions' })
-- In Visual mode: the selected lines, as a reference each agent reads.
local function selected_lines()
  local first, last = vim.fn.line('v'), vim.fn.line('.')
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes('<Esc>', true, false, true), 'nx', false)
  return math.min(first, last), math.max(first, last)
end
vim.keymap.set('x', '<Plug>(lulu-send-selection)', function()
  require('lulu.ui.dispatch').send_selection(selected_lines())
end, { desc = 'lulu: send the selected lines (and a prompt) to chosen sessions' })
vim.keymap.set('n', '<Plug>(lulu-prompt)', function()
  require('lulu.commands').prompt({ fargs = {}, range = 0 })
end, { desc = 'lulu: send a named prompt to chosen sessions' })
vim.keymap.set('x', '<Plug>(lulu-prompt)', function()
  local first, last = selected_lines()
  require('lulu.commands').prompt({ fargs = {}, range = 2, line1 = first, line2 = last })
end, { desc = 'lulu: send a named prompt about the selection to chosen sessions' })
vim.keymap.set('n', '<Plug>(lulu-broadcast)', function()
  require('lulu.ui.dispatch').broadcast()
end, { desc = 'lulu: type a prompt and send it to every running session' })
vim.keymap.set('n', '<Plug>(lulu-grid)', function()
  require('lulu.commands').grid()
end, { desc = 'lulu: every live session in one tab' })
vim.keymap.set('n', '<Plug>(lulu-next-waiting)', function()
  require('lulu.commands').next()
end, { desc = 'lulu: jump to the next session waiting for you' })
vim.keymap.set('n', '<Plug>(lulu-list)', function()
  require('lulu.commands').list()
end, { desc = 'lulu: toggle the session list' })
vim.keymap.set('n', '<Plug>(lulu-start)', function()
  require('lulu.commands').start({ args = '' })
end, { desc = 'lulu: start a session with the default agent' })

local group = vim.api.nvim_create_augroup('lulu', { clear = true })
-- Default keys wait for the user's config (setup() may change them).
if vim.v.vim_did_enter == 1 then
  require('lulu.keys').apply()
else
  vim.api.nvim_create_autocmd('VimEnter', {
    group = group,
    once = true,
    callback = function()
      require('lulu.keys').apply()
    end,
  })
end
require('lulu.highlights').setup()
vim.api.nvim_create_autocmd('ColorScheme', {
  group = group,
  callback = function()
    require('lulu.highlights').setup()
  end,
})
vim.api.nvim_create_autocmd({ 'FocusLost', 'FocusGained' }, {
  group = group,
  callback = function(args)
    require('lulu.outside').focused = args.event == 'FocusGained'
  end,
})
vim.api.nvim_create_autocmd({ 'WinResized', 'VimResized' }, {
  group = group,
  callback = function(args)
    if args.event == 'VimResized' and package.loaded['lulu.ui.grid'] then
      require('lulu.ui.grid').equalize()
    end
    if package.loaded['lulu.term'] then
      require('lulu.term').resize_visible()
    end
  end,
})
vim.api.nvim_create_autocmd('BufWinEnter', {
  group = group,
  callback = function(args)
    if vim.b[args.buf].lulu_session and package.loaded['lulu.term'] then
      vim.schedule(require('lulu.term').resize_visible)
    end
  end,
})
