-- What a new user trips over: strict rule lines, a statusline, ended
-- sessions that say so, a daemon stop that asks first, help that works.
local h = require('harness')
local T = h.new_set()

T[':LuluRules lines parse strictly: a misplaced action, an unknown word or a bad quote is an error naming it'] = function(
  child
)
  child.setup({})
  local parse = function(line)
    return child.lua('return { pcall(require("lulu.ui.rules").parse, ...) }', line)
  end
  local cases = {
    -- The trap of the old pre-filled `allow tool=`: a second action.
    { "allow tool=deny command='rm -rf' reason='never rm'", '"tool=deny": "deny" is an action' },
    { "allow deny command='rm -rf'", '"deny": the action goes first, once' },
    { 'allow tool=Bash colour=red', '"colour=red": expected key=value' },
    { 'allow tool=Bash nonsense', '"nonsense": expected key=value' },
    { "deny command='rm -rf", "bad rule: unclosed ' quote" },
    { 'allow tool=', '"tool=": tool has no value' },
    { 'allow tool=Bash tool=Read', '"tool=Read": tool is given twice' },
    { 'maybe tool=Bash', 'a rule starts with allow, deny or ask, not "maybe"' },
  }
  for _, case in ipairs(cases) do
    local result = parse(case[1])
    h.eq(result[1], false, case[1])
    h.matches(result[2], vim.pesc(case[2]), case[1])
  end
  h.eq(
    parse("deny command='rm -rf' reason='never rm'")[2],
    { action = 'deny', command = 'rm -rf', reason = 'never rm' },
    "the doc's own example"
  )
  -- Nothing is added from a bad line typed in the buffer.
  child.cmd('LuluRules')
  child.capture_notify()
  child.lua([[vim.ui.input = function(_, cb) cb("allow tool=deny command='rm -rf'") end]])
  child.lua('vim.api.nvim_input("a")')
  child.wait('return #_G.notes > 0', 2000, 'an error')
  h.matches(child.lua('return _G.notes[1].msg'), '"deny" is an action', 'told')
  h.eq(child.lua('return require("lulu").rules()'), {}, 'nothing added')
  -- A rule that allows a whole tool is added deliberately, with a warning.
  child.lua([[vim.ui.input = function(_, cb) cb("allow tool=Bash") end]])
  child.lua('vim.api.nvim_input("a")')
  child.wait('return #require("lulu").rules() == 1', 2000, 'added')
  child.wait('return #_G.notes > 1', 2000, 'a warning')
  h.matches(child.lua('return _G.notes[2].msg'), 'allows every Bash call', 'warned')
end

T['statusline(): live, waiting and pending counts, empty when idle; User LuluStatus when it changes'] = function(child)
  child.setup({ agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } } })
  child.lua([[
    _G.status_events = 0
    vim.api.nvim_create_autocmd('User', { pattern = 'LuluStatus', callback = function() _G.status_events = _G.status_events + 1 end })
  ]])
  h.eq(child.lua('return require("lulu").statusline()'), '', 'empty with nothing running')
  child.lua('require("lulu").start({ agent = "shell", name = "one", worktree = false })')
  child.wait('return require("lulu").statusline() == "lulu 1"', 5000, 'one live')
  h.ok(child.lua('return _G.status_events') >= 1, 'User LuluStatus fired')
  local c = child.lua('return require("lulu").start({ agent = "claude", name = "two", worktree = false })')
  child.lua('require("lulu").buffer(...)', c.id)
  child.wait('return require("lulu").get("two").status == "running"', 5000, 'claude running')
  child.lua('require("lulu").send("two", "run: echo hi")')
  child.wait('return require("lulu").statusline() == "lulu 2 ⚠1"', 8000, 'a pending approval')
  child.lua('require("lulu").decide(require("lulu").approvals()[1].id, "allow")')
  child.wait('return require("lulu").statusline() == "lulu 2 ◆1"', 8000, 'claude waiting after its turn')
end

T['an ended session says so in its buffer; one ended out of sight is told'] = function(child)
  child.setup({})
  child.capture_notify()
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "shown", worktree = false })')
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.wait_screen(s.id, '[%$#]', 5000, 'prompt')
  child.lua('require("lulu").send("shown", "exit 3")')
  child.wait_screen(s.id, '%[lulu: failed · exited with code 3 · %d%d:%d%d%]', 5000, 'the final line')
  -- Opened again later (replayed from its log), it still says so.
  child.cmd('enew')
  child.lua('vim.api.nvim_buf_delete(require("lulu").buffer(...), { force = true })', s.id)
  child.lua('require("lulu").open(...)', s.id)
  child.wait_screen(s.id, '%[lulu: failed · exited with code 3', 5000, 'the final line after a replay')
  -- A session that ends while hidden is told in a notification.
  child.cmd('enew')
  child.lua('require("lulu").start({ agent = "shell", name = "hidden", worktree = false })')
  child.wait('return require("lulu").get("hidden").status == "running"', 5000, 'running')
  child.lua('require("lulu").send("hidden", "exit 0")')
  child.wait(
    [[return vim.iter(_G.notes):any(function(n) return n.msg:find('session hidden completed (exit 0)', 1, true) end)]],
    5000,
    'told it completed'
  )
end

T[':LuluDaemon stop asks before ending live sessions; :LuluDaemon! stop does not'] = function(child)
  child.defer(function()
    vim.system({ os.getenv('LULU_BIN'), 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
  child.setup({ host = { mode = 'daemon' } })
  child.capture_notify()
  child.lua('require("lulu").start({ agent = "shell", name = "keepme", worktree = false })')
  child.wait('return require("lulu").get("keepme").status == "running"', 5000, 'running')
  child.lua([[_G.asked = {}; vim.fn.confirm = function(q) table.insert(_G.asked, q); return 2 end]])
  child.cmd('LuluDaemon stop')
  h.matches(child.lua('return _G.asked[1]'), 'end 1 live session%(s%): keepme%?', 'asked, naming them')
  h.eq(child.lua('return require("lulu").get("keepme").status'), 'running', 'cancelled: still running')
  child.cmd('LuluDaemon! stop')
  h.eq(#child.lua('return _G.asked'), 1, 'the bang does not ask')
  local status = vim.system({ os.getenv('LULU_BIN'), 'daemon', '--status' }, { env = child.env, text = true }):wait()
  h.matches(status.stdout, 'no lulu daemon is running', 'stopped')
end

T['the grid re-flows when the editor is resized; a pane never gives its session less than 20x5'] = function(child)
  child.setup({})
  child.cmd('set columns=160 lines=50')
  for i = 1, 4 do
    child.lua('require("lulu").start({ agent = "shell", name = ..., worktree = false })', 'g' .. i)
  end
  child.cmd('LuluGrid')
  local widths = [[
    local out = {}
    for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
      out[#out + 1] = vim.api.nvim_win_get_width(win)
    end
    table.sort(out)
    return out
  ]]
  child.cmd('set columns=60')
  child.lua('vim.api.nvim_exec_autocmds("VimResized", {})')
  local narrow = child.lua(widths)
  h.ok(narrow[#narrow] - narrow[1] <= 1, 'equal panes after shrinking ' .. vim.inspect(narrow))
  child.cmd('set columns=200')
  child.lua('vim.api.nvim_exec_autocmds("VimResized", {})')
  local wide = child.lua(widths)
  h.ok(wide[#wide] - wide[1] <= 1, 'equal panes after growing back ' .. vim.inspect(wide))
  -- Squeezed to 30 columns for two panes a row: the PTY stays 20 wide.
  child.cmd('set columns=30')
  child.lua('vim.api.nvim_exec_autocmds("VimResized", {})')
  local id = child.lua('return require("lulu").get("g1").id')
  child.lua('require("lulu").send("g1", "stty size")')
  child.wait_screen(id, '%d+ 20', 5000, 'stty reports 20 columns')
end

T['the list: K then q returns to the same row; n marks agents that are not installed; d recounts worktrees'] = function(
  child
)
  h.repo(child.cwd)
  child.setup({ agents = { ghost = { cmd = { 'no-such-agent-binary' } } } })
  child.capture_notify()
  for _, name in ipairs({ 'a1', 'a2', 'a3' }) do
    child.lua('require("lulu").start({ agent = "shell", name = ..., args = { "-c", "sleep 60" } })', name)
  end
  child.cmd('LuluList')
  child.wait('return vim.bo.filetype == "lulu_list"', 2000, 'list')
  child.lua('vim.api.nvim_input("j")')
  child.wait('return require("lulu.ui.list").selected().name == "a2"', 2000, 'second row')
  child.lua('vim.api.nvim_input("K")')
  child.wait('return vim.bo.filetype == "lulu_detail"', 3000, 'detail')
  child.lua('vim.api.nvim_input("q")')
  child.wait('return vim.bo.filetype == "lulu_list"', 3000, 'q goes back to the list')
  h.eq(child.lua('return require("lulu.ui.list").selected().name'), 'a2', 'on the same row')
  -- n: the missing agent is marked, listed last, and refused with the hint.
  child.lua([[
    vim.ui.select = function(items, opts, on_choice)
      _G.offered = vim.tbl_map(opts.format_item, items)
      vim.schedule(function() on_choice('ghost') end)
    end
  ]])
  child.lua('vim.api.nvim_input("n")')
  child.wait('return _G.offered ~= nil', 2000, 'agents offered')
  local offered = child.lua('return _G.offered')
  h.eq(offered[#offered], 'ghost (not installed)', 'marked, last')
  child.wait('return #_G.notes > 0', 2000, 'refused')
  h.matches(child.lua('return _G.notes[#_G.notes].msg'), 'ghost not found on PATH %(install it', 'with the hint')
  -- d: the footer's worktree count follows.
  child.wait('return (require("lulu.events").usage or {}).count == 3', 8000, 'three worktrees counted')
  child.lua('require("lulu").delete("a3", { force = true })')
  child.wait('return (require("lulu.events").usage or {}).count == 2', 8000, 'recounted after the delete')
end

T['Terminal mode: lulu keys in its terminals only, a question shown in a float naming the real key'] = function(child)
  child.setup({ agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } } })
  child.capture_notify()
  local s = child.lua('return require("lulu").start({ agent = "claude", name = "t", worktree = false })')
  child.lua('require("lulu").open(...)', s.id)
  child.wait_screen(s.id, '> ', 5000, 'prompt')
  local buf = child.lua('return require("lulu").buffer(...)', s.id)
  h.eq(
    child.lua('return vim.fn.maparg("<C-\\\\>l", "t", false, true).buffer', buf),
    1,
    '<C-\\>l is mapped, buffer-local'
  )
  child.cmd('terminal')
  h.eq(child.lua('return vim.fn.maparg("<C-\\\\>l", "t")'), '', 'not in other terminals')
  child.cmd('bwipeout!')
  child.lua('require("lulu").open(...)', s.id)
  child.wait(
    'if vim.api.nvim_get_mode().mode ~= "t" then vim.cmd.startinsert() end return vim.api.nvim_get_mode().mode == "t"',
    5000,
    'Terminal mode'
  )
  child.lua('require("lulu").send("t", "run: echo from-terminal-mode")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'asked')
  child.wait('return #_G.notes > 0', 2000, 'notified')
  h.matches(
    child.lua('return _G.notes[1].msg'),
    '%(<C%-\\>a, \\aa or :LuluApprove%)',
    'names the Terminal-mode key first'
  )
  local floats = child.lua([[
    local texts = {}
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= '' then
        texts[#texts + 1] = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false), ' ')
      end
    end
    return texts
  ]])
  h.matches(table.concat(floats, '|'), 't asks to use Bash', 'shown in a float')
  -- The key leaves Terminal mode and opens the dialog.
  child.fake_select()
  child.lua('_G.answer = "Allow once"')
  child.wait(
    'if vim.api.nvim_get_mode().mode ~= "t" then vim.cmd.startinsert() end return vim.api.nvim_get_mode().mode == "t"',
    5000,
    'in Terminal mode'
  )
  child.lua('vim.api.nvim_input("<C-\\\\>a")')
  child.wait('return #_G.prompts > 0', 5000, 'the dialog opened from Terminal mode')
  child.wait_screen(s.id, '⎿ from%-terminal%-mode', 8000, 'answered from the key')
  -- The same key in Normal mode in the session's buffer.
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.wait('return vim.api.nvim_get_mode().mode == "nt"', 3000, 'Normal mode in the terminal')
  child.lua('_G.prompts = {}; _G.answer = "Allow once"')
  child.lua('require("lulu").send("t", "run: echo from-normal-mode")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'asked again')
  child.lua('vim.api.nvim_input("<C-\\\\>a")')
  child.wait('return #_G.prompts > 0', 5000, 'the dialog opened from Normal mode')
  child.wait_screen(s.id, '⎿ from%-normal%-mode', 8000, 'answered')
  -- In Normal mode the hint names the leader key as typed.
  child.cmd('stopinsert')
  child.cmd('enew')
  child.lua('vim.g.mapleader = ","')
  child.lua('require("lulu").send("t", "run: echo again")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'asked again')
  child.wait('return #_G.notes > 1', 2000, 'notified again')
  h.matches(child.lua('return _G.notes[#_G.notes].msg'), '%(,aa or :LuluApprove%)', 'the leader spelled out')
end

T['notify.terminal: a question while Neovim is not focused tells the terminal, once focused it does not'] = function(
  child
)
  child.setup({ agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } }, notify = { terminal = true } })
  local s = child.lua('return require("lulu").start({ agent = "claude", name = "away", worktree = false })')
  child.lua('require("lulu").buffer(...)', s.id)
  child.wait('return require("lulu").get("away").status == "running"', 5000, 'running')
  child.lua('vim.api.nvim_exec_autocmds("FocusLost", {})')
  child.lua('require("lulu").send("away", "run: echo x")')
  child.wait('return require("lulu.outside").told == 1', 8000, 'the terminal was told')
  h.eq(
    child.lua('return require("lulu.outside").sequence("a\27]0;evil\7 b")'),
    '\27]777;notify;lulu;a ]0;evil  b\27\\\27]9;lulu: a ]0;evil  b\27\\\7',
    'agent text cannot end the sequence early'
  )
  -- C1 controls (raw bytes and as UTF-8), DEL and bidi marks: none survive.
  local told =
    child.lua('return require("lulu.outside").sequence("x\\194\\156]52;c;ZXZpbA==\\7\\156\\157\\127\\226\\128\\174y")')
  local body = told:match('^\27%]777;notify;lulu;(.-)\27\\')
  h.ok(body and body:find('^x') and body:find('y$'), 'the text is kept: ' .. vim.inspect(told))
  for _, code in ipairs(vim.fn.str2list(body)) do
    h.ok(
      code >= 0x20 and code ~= 0x7f and not (code >= 0x80 and code <= 0x9f) and code ~= 0x202e,
      'printable: ' .. code
    )
  end
  child.lua('require("lulu").decide(require("lulu").approvals()[1].id, "allow")')
  child.lua('vim.api.nvim_exec_autocmds("FocusGained", {})')
  child.lua('require("lulu").send("away", "run: echo y")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'asked again')
  h.eq(child.lua('return require("lulu.outside").told'), 1, 'not told while focused')
end

T[':help lulu works once help tags exist; :checkhealth lulu says how when they do not'] = function(child)
  local doc = h.root .. '/doc'
  vim.fn.system({ vim.v.progpath, '--headless', '--clean', '-c', 'helptags ' .. doc, '-c', 'qa!' })
  child.cmd('set rtp+=' .. h.root)
  child.cmd('helptags ALL')
  child.cmd('help lulu')
  h.matches(child.lua('return vim.api.nvim_buf_get_name(0)'), 'lulu%.txt$', ':help lulu opens the doc')
  child.cmd('close')
  child.cmd('checkhealth lulu')
  local text = table.concat(child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'), '\n')
  h.matches(text, 'help tags found in ' .. vim.pesc(doc), 'checkhealth sees the tags')
end

return T
