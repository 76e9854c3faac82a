-- The host's screen model: terminals painted from it at any size, answers
-- for terminals nobody shows, the list's live preview.
local h = require('harness')
local T = h.new_set()

--- The non-blank lines of a session's buffer, without lulu's own ended line.
local function buffer_lines(child, id)
  local lines = child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer(...), 0, -1, false)', id)
  local out = {}
  for _, line in ipairs(lines) do
    line = line:gsub('%s+$', '')
    if line ~= '' and not vim.startswith(line, '[lulu: ') then
      out[#out + 1] = line
    end
  end
  return out
end

--- The model's screen, as the host holds it.
local function model_lines(child, id)
  local screen = child.lua('return require("lulu.rpc").request(require("lulu.rpc").methods.screen, ...)', id)
  local out = {}
  for _, line in ipairs(screen.lines) do
    if line ~= '' then
      out[#out + 1] = line
    end
  end
  return out, screen
end

local function last(lines, n)
  return vim.list_slice(lines, math.max(#lines - n + 1, 1), #lines)
end

local bash = { cmd = { 'bash', '--norc', '--noprofile', '-i' }, submit_delay = 0 }

T['a resize to 25 columns and back loses no line when the session is shown again'] = function(child)
  child.setup({ agents = { bash = bash } })
  child.cmd('set columns=200')
  local s1 = child.lua('return require("lulu").start({ agent = "bash", name = "s1" })')
  local s2 = child.lua('return require("lulu").start({ agent = "shell", name = "s2" })')
  child.lua('require("lulu").open(...)', s1.id)
  child.cmd('stopinsert')
  child.wait_screen(s1.id, 'bash[^\n]*[%$#]', 8000, 'the bash prompt')
  child.lua('require("lulu").send("s1", "echo one; echo two; echo three")')
  child.wait_screen(s1.id, '\nthree\n', 5000, 'the three lines')
  -- The narrowing lands in the host's model (the text rewraps there)
  -- before the widening, however slow the machine.
  local function model_shows(pattern, what)
    child.wait(
      [[local id, pattern = ...
        local s = require("lulu.rpc").request(require("lulu.rpc").methods.screen, id)
        return ("\n" .. table.concat(s.lines, "\n") .. "\n"):find(pattern) ~= nil]],
      5000,
      what,
      s1.id,
      pattern
    )
  end
  child.cmd('set columns=25')
  model_shows('\ntwo; echo three\n', 'the command rewrapped at 25 columns')
  child.cmd('set columns=200')
  vim.wait(300)
  child.lua('require("lulu").open(...)', s2.id)
  child.cmd('stopinsert')
  child.lua('require("lulu").open(...)', s1.id)
  child.cmd('stopinsert')
  child.wait_screen(s1.id, 'echo one', 5000, 'repainted')
  local text = '\n' .. table.concat(buffer_lines(child, s1.id), '\n') .. '\n'
  for _, word in ipairs({ 'one', 'two', 'three' }) do
    h.ok(text:find('\n' .. word .. '\n', 1, true), word .. ' is still there:\n' .. text)
  end
end

T['trailing blanks a program wrote survive a repaint, as in :terminal (issue 33, 5)'] = function(child)
  child.setup()
  local script = [[printf 'the lazy dog \n'; printf 'erased  \033[2D\033[K\n'; printf 'two  \n'; exec sleep 60]]
  -- The anchor: Neovim's own terminal.
  child.lua('vim.cmd.terminal({ args = { ... } })', "sh -c '" .. script:gsub("'", "'\\''") .. "'")
  child.wait('return vim.tbl_contains(vim.api.nvim_buf_get_lines(0, 0, -1, false), "two  ")', 5000, ':terminal')
  local native = child.lua('return vim.api.nvim_buf_get_lines(0, 0, 3, false)')
  h.eq(native, { 'the lazy dog ', 'erased', 'two  ' }, ':terminal keeps what was written')
  child.cmd('enew')
  local s =
    child.lua('return require("lulu").start({ agent = "shell", name = "blanks", args = { "-c", ... } })', script)
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.wait_screen(s.id, 'two', 5000, 'printed')
  local function first3()
    return child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer(...), 0, 3, false)', s.id)
  end
  h.eq(first3(), native, 'the stream')
  -- Painted from the host's model: at another size, and after a reopen.
  child.cmd('set columns=60')
  child.wait(
    'return require("lulu.term").buffer_of(...) ~= ' .. child.lua('return vim.api.nvim_get_current_buf()'),
    3000,
    'repainted',
    s.id
  )
  child.wait_screen(s.id, 'two', 5000, 'painted')
  h.eq(first3(), native, 'a repaint at 60 columns')
end

T['a window scrolled back stays where it was when the terminal is painted afresh'] = function(child)
  child.setup()
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "reader", worktree = false })')
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.lua('require("lulu").send("reader", "seq 1 300")')
  child.wait_screen(s.id, '\n300\n', 5000, 'printed')
  -- The reader goes back to line "120" (Normal mode, not following).
  child.lua([[
    local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
    for i, l in ipairs(lines) do
      if l == '120' then vim.api.nvim_win_set_cursor(0, { i, 0 }) end
    end
  ]])
  local old = child.lua('return vim.api.nvim_get_current_buf()')
  child.cmd('vsplit')
  child.wait('return vim.api.nvim_get_current_buf() ~= ' .. old, 3000, 'painted afresh at the new size')
  vim.wait(600)
  h.eq(child.lua('return vim.api.nvim_get_current_line()'), '120', 'the reader is still at 120')
end

T['Terminal mode stays across a resize, and the keys typed next reach the session'] = function(child)
  child.setup()
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "typist", worktree = false })')
  child.lua('require("lulu").open(...)', s.id)
  child.wait_screen(s.id, '[$#] ?\n', 5000, 'the prompt')
  child.lua('vim.cmd.startinsert()')
  child.wait('return vim.api.nvim_get_mode().mode == "t"', 3000, 'Terminal mode')
  local old = child.lua('return vim.api.nvim_get_current_buf()')
  child.lua('vim.o.columns = 70')
  child.wait('return vim.api.nvim_get_current_buf() ~= ' .. old, 3000, 'painted afresh at the new size')
  child.wait('return vim.api.nvim_get_mode().mode == "t"', 3000, 'Terminal mode again')
  child.lua([[vim.api.nvim_feedkeys('echo typed-$((40+2))\r', 't', false)]])
  child.wait_screen(s.id, '\ntyped%-42', 5000, 'the keys reached the shell')
end

T['a session in two windows of different sizes shows the host screen in both'] = function(child)
  child.setup()
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "twice", worktree = false })')
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.wait_screen(s.id, '[$#] ?\n', 5000, 'the prompt')
  child.cmd('vsplit')
  child.cmd('vertical resize 30')
  vim.wait(300)
  child.lua('require("lulu").send("twice", "printf \'%0100d\\\\n\' 7; echo done-$((1+1))")')
  child.wait_screen(s.id, 'done%-2', 5000, 'printed')
  vim.wait(300)
  local got = child.lua(
    [[
    local rpc = require('lulu.rpc')
    local host = rpc.request(rpc.methods.screen, ...).lines
    local lines = vim.api.nvim_buf_get_lines(require('lulu').buffer(...), 0, -1, false)
    while #lines > 0 and lines[#lines] == '' do table.remove(lines) end
    local mine = {}
    for i = math.max(1, #lines - #host + 1), #lines do mine[#mine + 1] = (lines[i]:gsub('%s+$', '')) end
    return { host = host, mine = mine }
  ]],
    s.id
  )
  h.eq(got.mine, got.host, 'the buffer ends with exactly the host screen')
end

T['a session that wrote 20 MiB reopens with exactly its last screen'] = function(child)
  child.setup()
  -- 20 MiB of numbered lines, far past any scrollback, then a last screen.
  local script =
    [[i=0; while [ $i -lt 2048 ]; do seq -f "line-$i-%05g-padding-padding-padding-padding-padding-padding-padding-padding-padding" 1 100; i=$((i+1)); done; echo tail-of-the-flood; exec sleep 60]]
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "big", args = { "-c", ... } })', script)
  -- Hidden all along: only the model sees the bytes.
  child.wait(
    [[local s = require("lulu.rpc").request(require("lulu.rpc").methods.screen, ...)
      return table.concat(s.lines, "\n"):find("tail%-of%-the%-flood") ~= nil]],
    60000,
    'the flood to end',
    s.id
  )
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.wait_screen(s.id, 'tail%-of%-the%-flood', 5000, 'the last line')
  local model, screen = model_lines(child, s.id)
  -- (Opened within a moment of the flood, it may start as a flooded
  -- terminal: the screen first, then its history and the screen again:
  -- settled once the history is in and the screen after it.)
  h.wait_for(function()
    local lines = buffer_lines(child, s.id)
    return #lines > 5000 and vim.deep_equal(last(lines, #model), model)
  end, 10000, 'the buffer to settle')
  h.eq(last(buffer_lines(child, s.id), #model), model, 'the buffer ends with the model screen')
  h.eq(screen.alternate, false, 'primary screen')
  -- The scrollback came with it: far more than one screen, at most 10000 rows.
  local count = #buffer_lines(child, s.id)
  h.ok(count > 5000 and count <= 10000 + 40, ('scrollback painted (%d lines)'):format(count))
end

T['a full-screen app reopens in the alternate screen, and leaving it shows the shell again'] = function(child)
  child.setup()
  local script =
    [[echo before-the-app; printf '\033[?1049h\033[H\033[2J'; echo in-the-app; printf '\033[5;10Hat-row-5'; read x; printf '\033[?1049l'; echo after-the-app; exec sleep 60]]
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "app", args = { "-c", ... } })', script)
  child.wait(
    [[local s = require("lulu.rpc").request(require("lulu.rpc").methods.screen, ...)
      return s.alternate and table.concat(s.lines, "\n"):find("at%-row%-5") ~= nil]],
    5000,
    'the app on the alternate screen',
    s.id
  )
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.wait_screen(s.id, 'at%-row%-5', 5000, 'the app painted')
  local lines = child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer(...), 0, -1, false)', s.id)
  h.eq(lines[1], 'in-the-app', 'the app at the top')
  h.eq(lines[5], '         at-row-5', 'at its row and column')
  h.ok(not table.concat(lines, '\n'):find('before%-the%-app'), 'the shell is hidden under it')
  child.lua('require("lulu").send("app", "")')
  child.wait_screen(s.id, 'after%-the%-app', 5000, 'back from the app')
  h.eq(buffer_lines(child, s.id), { 'before-the-app', 'after-the-app' }, 'the primary screen as it was')
end

T['a second editor on the daemon sees the same screen'] = function(child)
  child.setup({ host = { mode = 'daemon' } })
  child.defer(function()
    vim.system({ os.getenv('LULU_BIN'), 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
  local s = child.lua(
    'return require("lulu").start({ agent = "shell", name = "shared", args = { "-c", ... } })',
    [[for i in $(seq 1 300); do printf '\033[3%dmrow %d\033[0m\n' $((i % 8)) $i; done; printf 'prompt> '; exec sleep 60]]
  )
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.wait_screen(s.id, 'prompt>', 5000, 'the first editor')
  local other = h.child({ env = child.env })
  child.defer(other.stop)
  other.setup({ host = { mode = 'daemon' } })
  other.lua('require("lulu").open("shared")')
  other.cmd('stopinsert')
  other.wait_screen(s.id, 'prompt>', 5000, 'the second editor')
  h.eq(last(buffer_lines(other, s.id), 30), last(buffer_lines(child, s.id), 30), 'the same last rows')
end

--- A script that asks its terminal for its primary device attributes and
--- writes what came back to `out` (waiting first for a line when `wait`).
local function asks(out, wait)
  return ([[%sstty -echo -icanon min 0 time 20; printf '\033[c'; r=$(dd bs=64 count=1 2>/dev/null); printf '%%s' "$r" | od -An -c | tr -s ' ' > %s; exec sleep 60]]):format(
    wait and 'read x; ' or '',
    out
  )
end

T['the host answers a hidden session’s terminal queries, once, and not once a terminal shows it'] = function(child)
  child.setup()
  local hidden = child.cwd .. '/hidden.txt'
  child.lua('require("lulu").start({ agent = "shell", name = "q1", args = { "-c", ... } })', asks(hidden))
  h.wait_for(function()
    return vim.uv.fs_stat(hidden) ~= nil and vim.fn.readfile(hidden)[1] ~= nil
  end, 5000, 'the hidden session got its reply')
  local reply = table.concat(vim.fn.readfile(hidden), '')
  h.ok(reply:find('%[ %? 6 c'), 'answered by the host: ' .. reply)
  local _, count = reply:gsub(' c', '')
  h.eq(count, 1, 'exactly one answer: ' .. reply)

  -- Shown: Neovim's own terminal answers, and the host keeps out of it.
  local shown = child.cwd .. '/shown.txt'
  local s =
    child.lua('return require("lulu").start({ agent = "shell", name = "q2", args = { "-c", ... } })', asks(shown, true))
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  vim.wait(300)
  child.lua('require("lulu").send("q2", "")')
  h.wait_for(function()
    return vim.uv.fs_stat(shown) ~= nil and vim.fn.readfile(shown)[1] ~= nil
  end, 5000, 'the shown session got its reply')
  reply = table.concat(vim.fn.readfile(shown), '')
  h.ok(not reply:find('6 c'), 'not the host: ' .. reply)
  _, count = reply:gsub(' c', '')
  h.eq(count, 1, 'exactly one answer: ' .. reply)
end

T['the list previews the selected session’s screen live; p hides it'] = function(child)
  child.setup()
  child.cmd('set columns=120 lines=50')
  local a = child.lua(
    'return require("lulu").start({ agent = "shell", name = "pa", args = { "-c", ... } })',
    [[echo alpha-screen; exec sleep 60]]
  )
  local b = child.lua('return require("lulu").start({ agent = "shell", name = "pb" })')
  child.wait('return require("lulu").get("pa").status == "running"', 5000, 'pa running')
  child.cmd('LuluList')
  -- Newest first: pb is selected; its prompt shows.
  child.wait(
    'local l = require("lulu.ui.preview").lines() return l and table.concat(l, "\\n"):find("[%$#]")',
    5000,
    'pb in the preview'
  )
  child.lua('vim.api.nvim_feedkeys("j", "x", false)')
  child.wait(
    'return table.concat(require("lulu.ui.preview").lines() or {}, "\\n"):find("alpha%-screen")',
    5000,
    'pa in the preview'
  )
  -- Live: what the selected session prints next appears.
  child.lua('vim.api.nvim_feedkeys("k", "x", false)')
  child.lua('require("lulu").send(...)', b.id, 'echo beta-$((40+2))')
  child.wait(
    'return table.concat(require("lulu.ui.preview").lines() or {}, "\\n"):find("beta%-42")',
    5000,
    'live output in the preview'
  )
  child.lua('vim.api.nvim_feedkeys("p", "x", false)')
  h.eq(child.lua('return require("lulu.ui.preview").is_open()'), false, 'p hides it')
  child.lua('vim.api.nvim_feedkeys("p", "x", false)')
  h.eq(child.lua('return require("lulu.ui.preview").is_open()'), true, 'p shows it again')
  child.lua('vim.api.nvim_feedkeys("q", "x", false)')
  h.eq(child.lua('return require("lulu.ui.preview").is_open()'), false, 'closed with the list')
  h.ok(a.id, 'started')
end

T['a dialog on the screen marks the session waiting when its hooks say nothing; its work again clears it'] = function(
  child
)
  -- A "claude" that only draws: no hook ever fires.
  local script =
    [[printf '\342\234\273 Working (esc to interrupt)\n'; sleep 2; printf '\033[2J\033[H Bash command\n touch x\n Do you want to proceed?\n \342\235\257 1. Yes\n   2. No\n'; sleep 4; printf '\033[2J\033[H\342\234\273 Working again (esc to interrupt)\n'; exec sleep 60]]
  child.setup({ agents = { claude = { cmd = { '/bin/sh', '-c', script } } } })
  child.lua('require("lulu").start({ agent = "claude", name = "drawn" })')
  child.wait('return require("lulu").get("drawn").status == "running"', 5000, 'running')
  h.eq(child.lua('return require("lulu").get("drawn").waiting'), vim.NIL, 'working: not waiting')
  local record =
    child.wait('local r = require("lulu").get("drawn") return r.waiting and r', 8000, 'waiting from the screen')
  h.eq(record.waiting_source, 'screen', 'said by the screen, not a hook')
  -- Answered in its own terminal (no hook says so): it works again.
  child.wait('return require("lulu").get("drawn").waiting == nil', 8000, 'cleared by the screen')
  vim.wait(2500)
  h.eq(child.lua('return require("lulu").get("drawn").waiting'), vim.NIL, 'and stays cleared while it works')
end

T['a flood, a full-screen app and back end as the unthrottled stream would'] = function(child)
  child.setup()
  child.cmd('set columns=120 lines=40')
  local script =
    [[seq -f 'flood line %06g' 1 200000; printf '\033[?1049h\033[Hin the app\n'; sleep 0.3; printf '\033[?1049l'; echo after-the-app; exec sleep 60]]
  -- The reference: Neovim's own terminal, which takes every byte.
  child.lua('vim.cmd.enew() vim.fn.jobstart({ "sh", "-c", ... }, { term = true })', script)
  local native = child.lua('return vim.api.nvim_get_current_buf()')
  child.cmd('enew')
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "flood", args = { "-c", ... } })', script)
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.wait_screen(s.id, 'after%-the%-app', 60000, 'lulu: back from the app')
  h.wait_for(function()
    local lines = child.lua('return vim.api.nvim_buf_get_lines(..., 0, -1, false)', native)
    return table.concat(lines, '\n'):find('after%-the%-app') ~= nil
  end, 60000, ':terminal: back from the app')
  vim.wait(300)
  local function tail(buf)
    local lines = child.lua('return vim.api.nvim_buf_get_lines(..., 0, -1, false)', buf)
    local out = {}
    for i = #lines, 1, -1 do
      local l = lines[i]:gsub('%s+$', '')
      if l ~= '' then
        table.insert(out, 1, l)
        if #out == 9000 then
          break
        end
      end
    end
    return out
  end
  local want, got = tail(native), tail(child.lua('return require("lulu").buffer(...)', s.id))
  h.eq(#got, #want, 'as many lines')
  for i = 1, #want do
    if got[i] ~= want[i] then
      h.eq(got[i], want[i], ('line %d of the last %d'):format(i, #want))
    end
  end
  local log = table.concat(vim.fn.readfile(child.env.XDG_STATE_HOME .. '/nvim/lulu/host.log'), '\n')
  -- (Fell behind, or attached once the flood was under way.)
  h.ok(
    log:find('catching it up from the model') or log:find('attached during a flood'),
    'the flood was caught up, not streamed: ' .. log
  )
end

T['a terminal opened during a flood starts with the screen, and has the whole history once it calms'] = function(child)
  child.setup()
  child.cmd('set columns=120 lines=40')
  -- One long flood, stopped by Ctrl-C (the shell traps it and goes on).
  local script = [[trap : INT; seq -f 'flood line %012.0f' 1 1000000000; echo after-the-flood; exec sleep 60]]
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "flood", args = { "-c", ... } })', script)
  -- Hidden until the flood is under way, then opened in the middle of it.
  child.wait(
    [[local s = require("lulu.rpc").request(require("lulu.rpc").methods.screen, ...)
      local n = tonumber(table.concat(s.lines, "\n"):match("flood line (%d+)") or 0)
      return n >= 100000]],
    30000,
    'the flood under way',
    s.id
  )
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  vim.wait(1000)
  child.lua('local rpc = require("lulu.rpc") rpc.notify(rpc.methods.write, ..., "\3")', s.id)
  child.wait_screen(s.id, 'after%-the%-flood', 30000, 'the end of the flood')
  local buf = child.lua('return require("lulu").buffer(...)', s.id)
  local function lines()
    return vim.tbl_map(function(l)
      return (l:gsub('%s+$', ''))
    end, child.lua('return vim.api.nvim_buf_get_lines(..., 0, -1, false)', buf))
  end
  local function the_end(all)
    for i = #all, 1, -1 do
      if all[i]:find('after%-the%-flood') then
        return i
      end
    end
  end
  -- The catch-up comes once the flood has calmed, soon after its end.
  h.wait_for(
    function()
      local all = lines()
      local at = the_end(all)
      return at and at > 9002 and all[at - 9001]:match('^flood line %d+$') ~= nil
    end,
    10000,
    'the history painted',
    function()
      local all = lines()
      local at = the_end(all) or 0
      return ('%d lines, the end at %d: %s'):format(
        #all,
        at,
        vim.inspect({ all[1], all[2], all[at - 9001], all[at - 1] })
      )
    end
  )
  -- As the whole stream would have left it: 9,000 lines in order, none
  -- missing or doubled, before the one Ctrl-C cut (and its ^C).
  local all = lines()
  local at = the_end(all)
  local first = tonumber(all[at - 9001]:match('^flood line (%d+)$'))
  for i = 1, 8999 do
    local want = ('flood line %012d'):format(first + i)
    if all[at - 9001 + i] ~= want then
      h.eq(all[at - 9001 + i], want, ('line %d of the last 9000'):format(i))
    end
  end
  local log = table.concat(vim.fn.readfile(child.env.XDG_STATE_HOME .. '/nvim/lulu/host.log'), '\n')
  h.matches(log, 'attached during a flood', 'the terminal started flooded, not painted whole')
end

T['12 sessions in a 4x3 grid, hidden, sent a command, opened full width: its output is there'] = function(child)
  child.setup({ agents = { bash = bash } })
  child.cmd('set columns=100 lines=40')
  child.lua([[
    for i = 1, 12 do
      require('lulu').start({ agent = 'bash', name = 'g' .. i })
    end
  ]])
  child.cmd('LuluGrid')
  for i = 1, 12 do
    local id = child.lua('return require("lulu").get(...).id', 'g' .. i)
    child.wait_screen(id, 'bash[^\n]*[%$#]', 10000, 'g' .. i .. ' prompt')
  end
  -- Panes of ~24 columns; then the grid goes away.
  child.cmd('tabclose')
  local g5 = child.lua('return require("lulu").get("g5").id')
  child.wait('return not require("lulu.term").streaming(...)', 3000, 'g5 hidden', g5)
  child.lua('require("lulu").send("g5", "echo sent-to-$((2+3))-while-hidden")')
  child.wait(
    [[return table.concat(require("lulu.rpc").request(require("lulu.rpc").methods.screen, ...).lines, "\n"):find("\nsent%-to%-5%-while%-hidden") ~= nil]],
    5000,
    'the command ran',
    g5
  )
  child.cmd('only')
  child.lua('require("lulu").open(...)', g5)
  child.cmd('stopinsert')
  child.wait_screen(g5, '\nsent%-to%-5%-while%-hidden', 5000, 'its output line in the full-width buffer')
end

T['a hidden session asking for colours is told those of the editor that showed it last'] = function(child)
  child.setup()
  child.cmd('hi Normal guifg=#a0b0c0 guibg=#102030')
  local out = child.cwd .. '/colour.txt'
  local script = ([[read x; stty -echo -icanon min 0 time 20; printf '\033]11;?\007'; r=$(dd bs=64 count=1 2>/dev/null); printf '%%s' "$r" | od -An -c | tr -d ' \n' > %s; exec sleep 60]]):format(
    out
  )
  local s =
    child.lua('return require("lulu").start({ agent = "shell", name = "colours", args = { "-c", ... } })', script)
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.cmd('enew')
  child.wait('return not require("lulu.term").streaming(...)', 3000, 'hidden', s.id)
  -- The detach reaches the session's task through its queue, while typed
  -- keys go straight to the PTY: give the detach a moment to land, or the
  -- query is answered by Neovim's own terminal (its default colours).
  vim.wait(500)
  child.lua('require("lulu").send("colours", "")')
  h.wait_for(function()
    return vim.uv.fs_stat(out) ~= nil and vim.fn.readfile(out)[1] ~= nil
  end, 5000, 'the reply')
  h.matches(table.concat(vim.fn.readfile(out), ''), 'rgb:1010/2020/3030', 'the editor background')
end

return T
