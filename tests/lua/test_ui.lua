-- The face of lulu: commands, the floating list, the fake claude, health.
local h = require('harness')
local T = h.new_set()

local function float_lines(child)
  return child.lua([[
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      local buf = vim.api.nvim_win_get_buf(win)
      if vim.bo[buf].filetype == 'lulu_list' then
        return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
      end
    end
  ]])
end

local function float_hl_groups(child, line)
  return child.lua(
    [[
    local buf
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.bo[vim.api.nvim_win_get_buf(win)].filetype == 'lulu_list' then buf = vim.api.nvim_win_get_buf(win) end
    end
    local groups = {}
    local marks = vim.api.nvim_buf_get_extmarks(buf, -1, { ..., 0 }, { ..., -1 }, { details = true })
    for _, m in ipairs(marks) do
      groups[#groups + 1] = m[4].hl_group or m[4].line_hl_group
    end
    return groups
  ]],
    line
  )
end

T[':LuluStart parses agent, name=, cwd= and -- args'] = function(child)
  child.setup()
  local cases = {
    { '', {} },
    { 'shell', { agent = 'shell' } },
    { 'shell name=x cwd=/tmp', { agent = 'shell', name = 'x', cwd = '/tmp' } },
    { [[shell -- -c 'echo "a b"' \$x]], { agent = 'shell', args = { '-c', 'echo "a b"', '$x' } } },
  }
  for _, case in ipairs(cases) do
    h.eq(child.lua('return require("lulu.commands").parse_start(...)', case[1]), case[2], case[1])
  end
  local errors = {
    { 'nope', 'unknown agent "nope"' },
    { 'shell colour=red', 'unknown option colour=' },
    { 'shell stray', 'pass agent arguments after %-%-' },
    { 'shell prompt=say hi', 'quote a prompt= of several words %(prompt="say hi"%)' },
    { "shell -- 'open", 'unclosed' },
  }
  for _, case in ipairs(errors) do
    local result = child.lua('return { pcall(require("lulu.commands").parse_start, ...) }', case[1])
    h.eq(result[1], false, case[1])
    h.matches(result[2], case[2], case[1])
  end
end

T[':LuluStart opens the session; errors are one notify line'] = function(child)
  child.setup()
  child.capture_notify()
  child.run("LuluStart shell name=first -- -c 'echo started-ok; sleep 30'")
  child.wait(
    [[return vim.b.lulu_session ~= nil and
    table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n'):find('started%-ok')]],
    5000,
    'session shown in the window'
  )
  h.eq(child.lua('return vim.api.nvim_buf_get_name(0)'), 'lulu://first', 'buffer name')
  child.run('LuluStart shell name=first')
  child.cmd('LuluStop nope')
  local notes = child.lua('return _G.notes')
  h.eq(#notes, 2, 'two notifications')
  h.eq(notes[1].msg, "lulu: a session named 'first' already exists (pick another name= or :LuluDelete it)", 'duplicate')
  h.eq(notes[1].level, vim.log.levels.ERROR, 'level')
  h.eq(notes[2].msg, "lulu: no session named 'nope' (see :LuluList)", 'unknown, with what to do in Vim')
  h.ok(not notes[1].msg:find('\n'), 'one line')
end

T[':LuluStart opens its terminal at once: keys typed before the host answers reach the session'] = function(child)
  child.setup()
  child.capture_notify()
  -- An early terminal, typed into before any session exists: the keys wait.
  child.lua([[
    _G.early = require('lulu.term.buffer').early(vim.api.nvim_get_current_win())
    vim.cmd.startinsert()
  ]])
  child.lua([[vim.api.nvim_input('echo early-$((40+2))<CR>')]])
  child.wait('return #_G.early.queued > 0', 2000, 'keys queued while no session exists')
  -- The session is made: its terminal is the early one, and the keys go.
  local s = child.lua([[
    local s = require('lulu').start({ agent = 'shell', name = 'early' })
    require('lulu.term').open(s, _G.early)
    return s
  ]])
  h.eq(child.lua('return require("lulu").buffer(...)', s.id), child.lua('return _G.early.buf'), 'the early buffer')
  child.wait(
    [[return table.concat(vim.api.nvim_buf_get_lines(_G.early.buf, 0, -1, false), '\n'):find('early%-42')]],
    5000,
    'the keys typed early ran in the session'
  )
  h.eq(child.lua('return vim.api.nvim_buf_get_name(_G.early.buf)'), 'lulu://early', 'named as the session')

  -- A start that fails after its terminal opened gives each window back
  -- what it showed (a split keeps both windows), in Normal mode, the error
  -- said once.
  child.cmd('enew')
  child.lua([[vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'my notes' }) _G.mine = vim.api.nvim_get_current_buf()]])
  child.cmd('vsplit')
  child.run('LuluStart shell cwd=/nonexistent')
  child.wait('return #_G.notes > 0', 5000, 'the error')
  h.eq(child.lua('return #vim.api.nvim_tabpage_list_wins(0)'), 2, 'both windows still there')
  h.eq(child.lua('return vim.api.nvim_get_current_buf() == _G.mine'), true, 'the window shows the buffer it showed')
  h.eq(child.lua('return vim.api.nvim_get_mode().mode'), 'n', 'Terminal mode left')
  h.eq(#child.lua('return _G.notes'), 1, 'one notification')
  h.matches(child.lua('return _G.notes[1].msg'), '^lulu: .*/nonexistent', 'names the directory')
  child.wait(
    [[return #vim.tbl_filter(function(b)
      return vim.bo[b].buftype == 'terminal' and vim.b[b].lulu_session == nil
    end, vim.api.nvim_list_bufs()) == 0]],
    2000,
    'no early terminal left'
  )
end

T['session names complete in commands'] = function(child)
  child.setup()
  child.lua('require("lulu").start({ agent = "shell", name = "alpha" })')
  child.lua('require("lulu").start({ agent = "shell", name = "beta" })')
  h.eq(child.lua('return vim.fn.getcompletion("LuluStop a", "cmdline")'), { 'alpha' }, 'stop')
  h.eq(child.lua('return vim.fn.getcompletion("LuluOpen ", "cmdline")'), { 'beta', 'alpha' }, 'open, newest first')
  h.eq(child.lua('return vim.fn.getcompletion("LuluSend a", "cmdline")'), { 'all', 'all!', 'alpha' }, 'send')
  local agents = child.lua('return vim.fn.getcompletion("LuluStart ", "cmdline")')
  h.ok(vim.tbl_contains(agents, 'shell') and vim.tbl_contains(agents, 'name='), vim.inspect(agents))
end

T['the list float shows rows newest first, two lines each'] = function(child)
  child.setup()
  child.lua('require("lulu").start({ agent = "shell", name = "oldest", args = { "-c", "exit 3" } })')
  child.wait('return require("lulu").get("oldest").status == "failed"')
  child.lua('require("lulu").start({ agent = "shell", name = "middle", args = { "-c", "exit 0" } })')
  child.wait('return require("lulu").get("middle").status == "completed"')
  child.lua('require("lulu").start({ agent = "shell", name = "newest", args = { "-c", "echo hi; sleep 30" } })')
  child.wait('return require("lulu").get("newest").status == "running"')
  child.cmd('LuluList')
  local lines = child.wait(
    [[
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      local buf = vim.api.nvim_win_get_buf(win)
      if vim.bo[buf].filetype == 'lulu_list' then
        local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
        return #lines == 6 and lines
      end
    end
  ]],
    3000,
    'six lines in the float'
  )
  h.matches(lines[1], '^ ● Running   newest%s+%d+s $', 'row 1')
  h.matches(lines[2], '^   shell · /.*/work$', 'row 1 detail: agent and cwd')
  h.matches(lines[3], '^ ✓ Completed middle%s+%d+s $', 'row 2')
  h.matches(lines[5], '^ ✗ Failed    oldest%s+%d+s $', 'row 3')
  h.eq(lines[6], '   exited with code 3', 'row 3 detail: the reason')
  h.eq(
    vim.fn.strdisplaywidth(lines[1]),
    child.lua([[
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.bo[vim.api.nvim_win_get_buf(win)].filetype == 'lulu_list' then return vim.api.nvim_win_get_width(win) end
    end
  ]]),
    'age is right-aligned to the float edge'
  )
  local groups = float_hl_groups(child, 4)
  h.ok(vim.tbl_contains(groups, 'LuluFailed') and vim.tbl_contains(groups, 'LuluName'), vim.inspect(groups))
  h.eq(float_hl_groups(child, 5), { 'LuluReason' }, 'reason highlight')
  h.eq(child.lua('return vim.api.nvim_get_hl(0, { name = "LuluCompleted" }).link'), 'DiagnosticOk', 'standard links')

  -- `s` stops the selected (top) row: it turns Completed in place.
  child.lua('vim.api.nvim_input("s")')
  child.wait(
    [[
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      local buf = vim.api.nvim_win_get_buf(win)
      if vim.bo[buf].filetype == 'lulu_list' then
        return vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1]:find('Completed newest')
      end
    end
  ]],
    5000,
    'top row completed in place'
  )
  h.matches(float_lines(child)[5], 'Failed    oldest', 'order unchanged')

  -- j moves a whole row; <CR> opens it in the window the list came from.
  child.lua('vim.api.nvim_input("j")')
  child.wait('return vim.api.nvim_win_get_cursor(0)[1] == 3', 2000, 'cursor on row 2')
  child.lua('vim.api.nvim_input("<CR>")')
  child.wait('return vim.api.nvim_buf_get_name(0) == "lulu://middle"', 3000, 'middle opened')
  h.eq(float_lines(child), vim.NIL, 'list closed')
end

T['K shows a session in detail: record, events, its screen'] = function(child)
  child.setup()
  child.lua(
    'require("lulu").start({ agent = "shell", name = "broken", args = { "-c", "echo compiling; echo \\"error: bad thing\\" >&2; exit 3" } })'
  )
  child.wait('return require("lulu").get("broken").status == "failed"', 5000, 'failed')
  child.cmd('LuluList')
  child.wait('return vim.bo.filetype == "lulu_list"', 2000, 'list')
  child.lua('vim.api.nvim_input("K")')
  local lines = child.wait(
    'return vim.bo.filetype == "lulu_detail" and vim.api.nvim_buf_get_lines(0, 0, -1, false)',
    3000,
    'detail float'
  )
  local text = table.concat(lines, '\n')
  h.matches(lines[1], '^broken · shell · failed: exited with code 3 · exit 3$', 'headline')
  h.matches(text, 'argv: /bin/sh %-c echo compiling', 'argv')
  h.matches(text, '── events ──\n%d+:%d+:%d+  started', 'history: started')
  h.matches(text, 'exited%s+exit code 3', 'history: exited')
  h.matches(text, 'started %d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d %(%d+s ago%)', 'local time and age, not RFC 3339')
  h.matches(text, '── screen ──\ncompiling\nerror: bad thing', 'its screen as plain text')
  child.lua('vim.api.nvim_input("q")')
  child.wait('return vim.bo.filetype ~= "lulu_detail"', 2000, 'q closes')
end

T['the list updates live and q closes it'] = function(child)
  child.setup()
  child.cmd('LuluList')
  local lines =
    child.wait('local l = vim.api.nvim_buf_get_lines(0, 0, -1, false) return #l > 1 and l', 2000, 'empty list')
  h.matches(lines[2], 'No sessions yet', 'empty state')
  child.lua('require("lulu").start({ agent = "shell", name = "late", args = { "-c", "sleep 30" } })')
  child.wait('return vim.api.nvim_buf_get_lines(0, 0, 1, false)[1]:find("late")', 3000, 'new row appears')
  child.lua('vim.api.nvim_input("q")')
  child.wait('return vim.bo.filetype ~= "lulu_list"', 2000, 'closed')
  child.cmd('LuluList')
  child.wait('return vim.bo.filetype == "lulu_list"', 2000, 'reopened')
  child.cmd('LuluList')
  child.wait('return vim.bo.filetype ~= "lulu_list"', 2000, 'toggled closed')
end

T['the list footer fits its width; a with nothing pending stays; c clears ended sessions'] = function(child)
  child.setup()
  child.capture_notify()
  local function footer()
    return child.lua([[
      local footer = vim.api.nvim_win_get_config(0).footer
      return type(footer) == 'table' and table.concat(vim.tbl_map(function(c) return c[1] end, footer)) or footer
    ]])
  end
  child.lua('require("lulu").start({ agent = "shell", name = "done1", worktree = false, args = { "-c", "true" } })')
  child.lua('require("lulu").start({ agent = "shell", name = "done2", worktree = false, args = { "-c", "true" } })')
  child.lua('require("lulu").start({ agent = "shell", name = "live", worktree = false, args = { "-c", "sleep 30" } })')
  child.wait('return require("lulu").get("done2").status == "completed"', 5000, 'ended')
  for _, columns in ipairs({ 80, 60, 40 }) do
    child.lua('vim.o.columns = ...', columns)
    child.cmd('LuluList')
    child.wait('return vim.bo.filetype == "lulu_list"', 2000, 'list')
    local width = child.lua('return vim.api.nvim_win_get_width(0)')
    local text = footer()
    h.ok(vim.fn.strdisplaywidth(text) <= width - 2, ('%d columns: the footer fits: %q'):format(columns, text))
    h.ok(text:find('q'), 'the keys are still there')
    child.lua('vim.api.nvim_input("q")')
    child.wait('return vim.bo.filetype ~= "lulu_list"', 2000, 'closed')
  end
  child.lua('vim.o.columns = 100')
  child.cmd('LuluList')
  child.wait('return vim.bo.filetype == "lulu_list"', 2000, 'list')
  child.lua('vim.api.nvim_input("a")')
  child.wait('return #_G.notes > 0', 2000, 'told')
  h.eq(child.lua('return _G.notes[#_G.notes].msg'), 'lulu: nothing is waiting for an answer', 'said so')
  h.eq(child.lua('return vim.bo.filetype'), 'lulu_list', 'and the list stays')
  child.lua('vim.api.nvim_input("c")')
  child.wait('return #require("lulu").list() == 1', 5000, 'ended sessions cleared')
  h.eq(child.lua('return require("lulu").list()[1].name'), 'live', 'the live one stays')
  child.wait('return _G.notes[#_G.notes].msg:find("cleared 2")', 2000, 'told how many')
end

T['open.insert = false opens a session in Normal mode'] = function(child)
  child.setup({ open = { insert = false } })
  child.lua('require("lulu").start({ agent = "shell", name = "calm", worktree = false, args = { "-c", "sleep 30" } })')
  child.wait('return require("lulu").get("calm").status == "running"', 5000, 'running')
  child.cmd('LuluOpen calm')
  child.wait('return vim.b.lulu_session ~= nil', 3000, 'opened')
  h.eq(child.lua('return vim.api.nvim_get_mode().mode'), 'nt', 'Normal mode (in a terminal buffer)')
  child.cmd('enew')
  child.lua('require("lulu").setup({ open = { insert = true } })')
  child.cmd('LuluOpen calm')
  child.wait('return vim.api.nvim_get_mode().mode == "t"', 3000, 'Terminal mode by default')
end

T['the list layout truncates long names and keeps ages aligned'] = function(child)
  local records = {
    {
      id = '1',
      name = ('n'):rep(100),
      agent = 'claude',
      status = 'starting',
      cwd = '/tmp',
      last_activity_at = '2026-01-01T00:00:00.000Z',
      created_at = '2026-01-01T00:00:00.000Z',
    },
  }
  local now = 1767225600 + 125 -- 2026-01-01T00:02:05Z
  local lines = child.lua('return require("lulu.ui.list").layout(...)', records, 40, now)
  h.eq(vim.fn.strdisplaywidth(lines[1]), 40, 'width')
  h.matches(lines[1], '^ ◌ Starting  n+… 2m $', 'truncated with the age kept')
end

T['the fake claude runs as the claude agent'] = function(child)
  child.setup({
    agents = { claude = { cmd = { h.root .. '/tests/fake-claude' }, args = { '--permission-mode', 'default' } } },
  })
  child.run('LuluStart claude name=c1')
  child.wait(
    'return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n"):find("Welcome to Claude Code")',
    5000,
    'banner'
  )
  child.lua('require("lulu").send("c1", "hello there")')
  child.wait(
    'return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n"):find("I heard: hello there")',
    5000,
    'reply'
  )
  child.lua('require("lulu").send("c1", "two\\nlines")')
  child.wait(
    'return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n"):find("I heard: two")',
    5000,
    'paste reply'
  )
  child.lua('require("lulu").send("c1", "/exit")')
  child.wait('return require("lulu").get("c1").status == "completed"', 5000, 'completed')
  local r = child.lua('return require("lulu").get("c1")')
  -- lulu's hook settings go right after the command, before the user's args.
  h.eq(r.argv[1], h.root .. '/tests/fake-claude', 'program')
  h.eq(r.argv[2], '--settings', 'settings flag')
  h.matches(r.argv[3], '/sessions/' .. r.id .. '/claude%-settings%.json$', 'settings file in the state dir')
  h.eq({ r.argv[4], r.argv[5] }, { '--permission-mode', 'default' }, 'user args last')
end

T['a default agent is the first one installed, else shell'] = function(child)
  child.setup()
  h.eq(child.lua('return require("lulu")._default_agent()'), 'shell', 'nothing installed')
  child.setup({ agents = { codex = { cmd = { h.root .. '/tests/fake-claude' } } } })
  h.eq(child.lua('return require("lulu")._default_agent()'), 'codex', 'codex installed')
end

T[':checkhealth lulu shows each agent with its version and integration'] = function(child)
  child.setup({ agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } } })
  child.wait('return require("lulu").pool_status().idle == 2', 5000, 'pool warm')
  child.cmd('checkhealth lulu')
  local text = table.concat(child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'), '\n')
  h.matches(
    text,
    'OK claude: [^\n]*fake%-claude 2%.1%.330 %(Claude Code%) %[%+approvals %+cost %+attention%]',
    'claude'
  )
  h.ok(not text:find('not the version lulu was proven with', 1, true), 'the proven version: no warning')
  h.matches(text, 'pool: 2 of 2 shells warm', 'pool')
  -- Another version: a warning naming what may differ and the fix.
  child.lua('vim.env.FAKE_CLAUDE_VERSION = "2.2.0"')
  child.cmd('bwipeout | checkhealth lulu')
  text = table.concat(child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'), '\n')
  h.matches(
    text,
    'WARNING claude: 2%.2%.0 %(Claude Code%) is not the version lulu was proven with %(2%.1%.330%)',
    'the warning'
  )
  h.matches(text, 'what lulu relies on may differ: its hook payloads and decisions', 'what may differ')
  h.matches(text, 'install claude 2%.1%.330 or update lulu', 'the fix')
end

T[':checkhealth lulu reports binary, agents and store'] = function(child)
  child.setup({ agents = { claude = { cmd = { 'claude' }, colour = 'red' } } })
  child.cmd('checkhealth lulu')
  local text = table.concat(child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'), '\n')
  h.matches(text, 'OK [^\n]*lulu %(version 0%.1%.0%)', 'binary')
  h.matches(text, 'unknown option agents%.claude%.colour', 'config warning')
  h.matches(text, 'claude: claude not found on PATH', 'missing agent')
  h.matches(text, 'WARNING claude: claude not found', 'one you configured: a warning')
  if vim.fn.executable('gemini') == 0 then
    h.matches(text, '\n%- gemini %(optional, not installed%)', 'a built-in you never named: info')
  end
  h.matches(text, 'OK shell: /bin/sh %[%-approvals %-cost %-attention%]', 'shell found, no integration')
  h.matches(text, 'lulu%.db opens %(0 sessions%)', 'store')
  h.ok(not text:find('ERROR'), 'no errors')
end

T['setup() is optional and warns about unknown keys'] = function(child)
  child.capture_notify()
  h.eq(child.lua('return vim.fn.exists(":LuluStart")'), 2, 'commands exist before setup')
  h.eq(child.lua('return package.loaded["lulu"] == nil'), true, 'nothing loaded until used')
  child.lua('require("lulu").setup({ max_sessoins = 3, keys = { approve = false } })')
  local notes = child.lua('return _G.notes')
  h.eq(#notes, 1, 'one warning')
  h.matches(notes[1].msg, 'unknown option max_sessoins', 'typo named')
end

T['the vimdoc defaults block matches config.lua'] = function(child)
  local doc = io.open(h.root .. '/doc/lulu.txt'):read('*a')
  local block = doc:match('%*lulu%-defaults%*%s*\n>lua\n(.-)\n<')
  h.ok(block, 'defaults block in doc/lulu.txt')
  local code = block:gsub('\n    ', '\n'):gsub('^    ', '')
  local from_doc = child.lua('return loadstring("return " .. ...)()', code)
  local defaults = child.lua('return require("lulu.config").defaults')
  h.eq(from_doc, defaults, 'doc defaults')
end

T['the vimdoc has unique, resolvable tags'] = function(child)
  local dir = child.dir .. '/doc'
  vim.fn.mkdir(dir, 'p')
  vim.uv.fs_copyfile(h.root .. '/doc/lulu.txt', dir .. '/lulu.txt')
  local result = child.lua('return { pcall(vim.cmd.helptags, ...) }', dir)
  h.eq(result[1], true, 'helptags: ' .. tostring(result[2]))
  local tags = io.open(dir .. '/tags'):read('*a')
  for _, tag in ipairs({ 'lulu', 'lulu-config', ':LuluStart', 'lulu.start()', '<Plug>(lulu-list)' }) do
    h.ok(tags:find('\n' .. vim.pesc(tag) .. '\t') or tags:find('^' .. vim.pesc(tag) .. '\t'), 'tag ' .. tag)
  end
end

return T
