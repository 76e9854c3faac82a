-- Many sessions at once: the grid's shape, its winbars, dispatch and broadcast.
local h = require('harness')
local T = h.new_set()

local function start_many(child, n, script)
  return child.lua(
    [[
    local n, script = ...
    local out = {}
    for i = 1, n do
      out[i] = require('lulu').start({ agent = 'shell', name = 's' .. i, args = { '-c', script } }).id
    end
    return out
  ]],
    n,
    script or 'sleep 60'
  )
end

T['the grid flows 1, 2, 3, 5, 7, 10, 12 sessions into equal panes'] = function(child)
  child.setup()
  child.cmd('set columns=160 lines=50')
  local cases = {
    [1] = { 1 },
    [2] = { 2 },
    [3] = { 2, 1 },
    [5] = { 3, 2 },
    [7] = { 3, 3, 1 },
    [10] = { 4, 4, 2 },
    [12] = { 4, 4, 4 },
  }
  local started = 0
  for _, n in ipairs({ 1, 2, 3, 5, 7, 10, 12 }) do
    child.lua(
      [[
      local from, to = ...
      for i = from, to do
        require('lulu').start({ agent = 'shell', name = 'g' .. i, args = { '-c', 'sleep 60' } })
      end
    ]],
      started + 1,
      n
    )
    started = n
    child.cmd('LuluGrid')
    -- Windows by row (top position), counted.
    local rows = child.lua([[
      local by_row, order = {}, {}
      for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        local row = vim.api.nvim_win_get_position(win)[1]
        if not by_row[row] then
          by_row[row] = {}
          table.insert(order, row)
        end
        table.insert(by_row[row], vim.api.nvim_win_get_width(win))
      end
      table.sort(order)
      return vim.tbl_map(function(r) return by_row[r] end, order)
    ]])
    h.eq(
      vim.tbl_map(function(r)
        return #r
      end, rows),
      cases[n],
      n .. ' sessions: panes per row'
    )
    for _, widths in ipairs(rows) do
      h.ok(
        math.max(unpack(widths)) - math.min(unpack(widths)) <= 1,
        n .. ' sessions: equal widths ' .. vim.inspect(widths)
      )
    end
    h.ok(child.lua('return vim.t.lulu_grid'), 'in the grid tab')
    h.eq(#child.lua('return vim.api.nvim_list_tabpages()'), 2, 'one grid tab, reused')
  end
  local bar = child.lua('return vim.wo.winbar')
  h.matches(bar, '%[shell%]%%%* %%#LuluName#g12', 'winbar: agent badge and name (newest first)')
  -- Drawn narrow, the bar keeps the name and cuts what follows it.
  local drawn = child.lua([[
    local r = vim.tbl_extend('force', require('lulu').get('g12'), {
      branch = 'lulu/a-very-long-branch-name-indeed', cost_usd = 0.027, waiting = true,
    })
    return vim.api.nvim_eval_statusline(require('lulu.ui.grid').winbar(r), { maxwidth = 24 }).str
  ]])
  h.ok(drawn:find('g12', 1, true), 'the name survives a narrow pane: ' .. drawn)
  h.ok(drawn:find('waiting', 1, true), 'and so does waiting: ' .. drawn)
end

T['the grid re-flows when a session ends'] = function(child)
  child.setup()
  local ids = start_many(child, 3)
  child.cmd('LuluGrid')
  h.eq(#child.lua('return vim.api.nvim_tabpage_list_wins(0)'), 3, 'three panes')
  child.lua('require("lulu").stop(...)', ids[2])
  child.wait('return #vim.api.nvim_tabpage_list_wins(0) == 2', 5000, 'two panes after a stop')
end

T['send reaches exactly the chosen sessions; broadcast every running one'] = function(child)
  child.setup()
  local ids = start_many(child, 3, 'while read line; do echo "got:$line"; done')
  local ended =
    child.lua('return require("lulu").start({ agent = "shell", name = "ended", args = { "-c", "true" } }).id')
  for _, id in ipairs(ids) do
    child.lua('require("lulu").buffer(...)', id)
    child.wait('return require("lulu").get(...).status == "running"', 5000, 'running', id)
  end
  child.wait('return require("lulu").get(...).status == "completed"', 5000, 'ended', ended)
  -- The prompt bar: type the text, tick s1 and s3, then Send.
  child.lua([[
    vim.ui.input = function(_, cb) cb('hello-chosen') end
    local script = { 's1', 's3', 'Send' }
    vim.ui.select = function(items, opts, cb)
      local want = table.remove(script, 1)
      for _, item in ipairs(items) do
        local label = opts.format_item(item)
        if label:find(want, 1, true) then return cb(item) end
      end
      cb(nil)
    end
  ]])
  -- The default key (mapleader is a backslash here).
  child.capture_notify()
  child.lua('vim.api.nvim_input("\\\\as")')
  local function screen(id)
    return table.concat(
      child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer(...), 0, -1, false)', id),
      '\n'
    )
  end
  h.wait_for(function()
    return screen(ids[1]):find('got:hello%-chosen') and screen(ids[3]):find('got:hello%-chosen')
  end, 5000, 's1 and s3 got it')
  vim.wait(300)
  h.ok(not screen(ids[2]):find('hello%-chosen'), 's2 did not')
  -- Broadcast: `all` is every running agent, so no plain shell; `all!`
  -- takes the shells too (never the ended one).
  child.cmd('LuluSend all hello-all')
  h.matches(child.lua('return _G.notes[#_G.notes].msg'), 'no running agent session', 'shells are left out')
  vim.wait(200)
  h.ok(not screen(ids[1]):find('hello%-all'), 'nothing typed into a shell')
  child.lua('table.remove(_G.notes)')
  child.cmd('LuluSend all! hello-all')
  h.wait_for(function()
    for _, id in ipairs(ids) do
      if not screen(id):find('got:hello%-all') then
        return false
      end
    end
    return true
  end, 5000, 'all three got the broadcast')
  local notes = child.lua('return _G.notes')
  h.eq(notes[1].msg, 'lulu: sent to s3, s1', 'the prompt bar reports its targets, newest first')
  h.eq(notes[2].msg, 'lulu: sent to s3, s2, s1', 'the broadcast reports its targets')
end

T['a hidden session stops streaming and is caught up intact when shown again'] = function(child)
  child.setup()
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "lazy" })')
  child.cmd('LuluOpen lazy')
  child.cmd('stopinsert')
  child.lua('require("lulu").send("lazy", "echo before-$((1+1))")')
  child.wait(
    'return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n"):find("before%-2")',
    5000,
    'shown output'
  )
  local old = child.lua('return vim.api.nvim_get_current_buf()')
  -- Hide it: the stream stops (no per-chunk RPC while nobody looks).
  child.cmd('enew')
  child.wait('return not require("lulu.term").streaming(...)', 2000, 'lazy once hidden', s.id)
  child.lua('require("lulu").send("lazy", "echo while-hidden-$((2+2))")')
  vim.wait(500)
  h.ok(
    not table
      .concat(child.lua('return vim.api.nvim_buf_get_lines(..., 0, -1, false)', old), '\n')
      :find('while%-hidden%-4'),
    'nothing streamed into the hidden buffer'
  )
  -- Shown again: caught up from the host's screen, the marker printed while hidden is there.
  child.cmd('LuluOpen lazy')
  child.cmd('stopinsert')
  child.wait(
    'return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n"):find("while%-hidden%-4")',
    5000,
    'marker after re-show'
  )
  h.matches(
    table.concat(child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'), '\n'),
    'before%-2',
    'earlier output intact'
  )
  h.ok(child.lua('return require("lulu.term").streaming(...)', s.id), 'streaming again')
  h.eq(child.lua('return vim.api.nvim_buf_get_name(0)'), 'lulu://lazy', 'same name')
  h.eq(child.lua('return vim.api.nvim_get_current_buf()'), old, 'the same buffer, caught up (not rebuilt)')
  -- Live streaming resumed.
  child.lua('require("lulu").send("lazy", "echo after-$((3+3))")')
  child.wait(
    'return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n"):find("after%-6")',
    5000,
    'live again'
  )
end

T['a start claims a pre-warmed shell and the pool refills'] = function(child)
  child.setup()
  child.lua('require("lulu").list()')
  local before =
    child.wait('local p = require("lulu").pool_status() return p.ready == 2 and p', 5000, 'two warm shells')
  h.eq(before.size, 2, 'default size')
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "warm" })')
  h.ok(vim.tbl_contains(before.pids, s.pid), 'the session is a shell that existed before the start')
  child.lua('require("lulu").open("warm")')
  child.cmd('stopinsert')
  child.lua('require("lulu").send("warm", "pwd; echo id=$LULU_SESSION")')
  child.wait(
    'return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n"):find("id=" .. ...)',
    5000,
    'in its directory, with its id',
    s.id
  )
  h.matches(
    table.concat(child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'), '\n'),
    vim.pesc(child.cwd),
    'moved to the session directory'
  )
  local after = child.wait('local p = require("lulu").pool_status() return p.idle == 2 and p', 5000, 'refilled')
  h.eq(after.claimed, 1, 'one claimed')
  h.ok(not vim.tbl_contains(after.pids, s.pid), 'a new shell took its place')
  -- An agent claims one too, and becomes the agent (same pid).
  local before_agent =
    child.wait('local p = require("lulu").pool_status() return p.ready >= 1 and p.pids', 5000, 'a warm shell')
  local agent = child.lua(
    'return require("lulu").start({ agent = "shell", name = "prog", args = { "-c", "echo launched-$$; sleep 30" } })'
  )
  h.ok(vim.tbl_contains(before_agent, agent.pid), 'pooled')
  child.wait(
    'return table.concat(vim.api.nvim_buf_get_lines(require("lulu").buffer("prog"), 0, -1, false), "\\n"):find("launched%-" .. ...)',
    5000,
    'the program runs as that very process',
    tostring(agent.pid)
  )
  -- With the pool off, starts spawn directly.
  child.setup({ pool = { size = 0 } })
  child.wait('return require("lulu").pool_status().idle == 0', 3000, 'pool off')
  local cold = child.lua('return require("lulu").start({ agent = "shell", name = "cold" })')
  h.ok(cold.pid ~= nil, 'still starts')
end

T['pool.recycle: a stopped shell session is reset and serves the next shell start'] = function(child)
  child.setup({ pool = { size = 1, recycle = true } })
  child.lua('require("lulu").list()')
  child.wait('return require("lulu").pool_status().ready == 1', 5000, 'a warm shell')
  local a = child.lua('return require("lulu").start({ agent = "shell", name = "a" })')
  child.lua('require("lulu").send("a", "cd /tmp; echo from-a")')
  child.wait_screen(a.id, 'from%-a', 5000, 'a runs')
  child.wait('return require("lulu").pool_status().ready == 1', 5000, 'refilled behind a')
  child.lua('require("lulu").stop("a")')
  child.wait('return require("lulu").get("a").status == "completed"', 5000, 'a completed')
  local pool = child.wait('local p = require("lulu").pool_status() return p.recycled == 1 and p', 3000, 'recycled')
  h.eq(pool.pids[1], a.pid, "a's shell waits first in the pool")
  h.eq(pool.idle, 1, 'the newest warm shell made room')
  local b = child.lua('return require("lulu").start({ agent = "shell", name = "b" })')
  h.eq(b.pid, a.pid, 'the next start took it')
  child.lua('require("lulu").send("b", "pwd; echo id=$LULU_SESSION")')
  child.wait_screen(b.id, 'id=' .. b.id, 5000, 'b works, as itself')
  h.matches(child.screen(b.id), vim.pesc(child.cwd), 'in its own directory')
  h.matches(
    table.concat(child.lua('return require("lulu").detail("a").output'), '\n'),
    'from%-a',
    "a's own output stays a's"
  )
  -- Killed (!) is never recycled.
  child.lua('require("lulu").stop("b", { force = true })')
  child.wait('return require("lulu").get("b").status ~= "running"', 5000, 'b ended')
  vim.wait(500)
  h.eq(child.lua('return require("lulu").pool_status().recycled'), 1, 'not recycled')
end

T['start_many spaces the starts and reports failures'] = function(child)
  child.setup()
  child.lua([[
    _G.done = nil
    local specs = {}
    for i = 1, 4 do
      specs[i] = { agent = 'shell', name = 'm' .. i, args = { '-c', 'sleep 60' } }
    end
    specs[3].agent = 'nope'
    require('lulu').start_many(specs, function(records, errors) _G.done = { records = records, errors = errors } end)
  ]])
  h.eq(child.lua('return _G.done'), vim.NIL, 'returns before they have all started')
  local done = child.wait('return _G.done', 5000, 'all started')
  h.eq(#done.records, 3, 'three started')
  h.eq(done.errors[1].index, 3, 'the bad one is named by index')
  h.matches(done.errors[1].message, "unknown agent 'nope'", 'with its error')
  -- ~100 ms apart, by their creation times.
  local times = vim.tbl_map(function(r)
    return r.created_at
  end, done.records)
  local gaps = child.lua(
    [[
    local util = require('lulu.util')
    local t = vim.tbl_map(util.parse_time, ...)
    return { t[2] - t[1], t[3] - t[2] }
  ]],
    times
  )
  for _, gap in ipairs(gaps) do
    h.ok(gap >= 0.09, ('starts %.3f s apart'):format(gap))
  end
end

T['a pane follows its output, as a tmux pane does'] = function(child)
  child.setup()
  child.cmd('set columns=120 lines=40')
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "flood", worktree = false })')
  child.lua('require("lulu").buffer(...)', s.id)
  child.wait('return require("lulu").get("flood").status == "running"', 5000, 'running')
  child.lua('require("lulu").send("flood", "seq 1 100")')
  child.wait_screen(s.id, '\n100\n', 5000, 'printed')
  child.cmd('LuluGrid')
  local function bottom()
    return child.lua([[
      for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
        if vim.w[win].lulu_grid_session then
          return vim.api.nvim_win_call(win, function()
            return { last_shown = vim.fn.line('w$'), last = vim.fn.line('$'), cursor = vim.fn.line('.') }
          end)
        end
      end
    ]])
  end
  child.wait('return true', 100, 'drawn')
  local at = bottom()
  h.eq(at.last_shown, at.last, 'the pane opens at the end, not the top')
  child.lua('require("lulu").send("flood", "echo NEW-$((40+2))")')
  child.wait_screen(s.id, 'NEW%-42', 5000, 'more output')
  vim.wait(300)
  at = bottom()
  h.eq(at.last_shown, at.last, 'and keeps showing the end as output comes')
  local shown = child.lua([[
    for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
      if vim.w[win].lulu_grid_session then
        local buf = vim.api.nvim_win_get_buf(win)
        return vim.api.nvim_win_call(win, function()
          return table.concat(vim.api.nvim_buf_get_lines(buf, vim.fn.line('w0') - 1, vim.fn.line('w$'), false), '\n')
        end)
      end
    end
  ]])
  h.matches(shown, 'NEW%-42', 'the new line is in view')
end

--- The lines of session `name`'s buffer, trailing blank lines dropped.
local function buffer_lines(child, name)
  return child.lua(
    [[
    local lines = vim.api.nvim_buf_get_lines(require('lulu').buffer(...), 0, -1, false)
    while #lines > 0 and lines[#lines] == '' do table.remove(lines) end
    return lines
  ]],
    name
  )
end

--- Every line of `want` once, in order, in `lines`; the last is a prompt.
local function holds_once(lines, want, what)
  local text = table.concat(lines, '\n')
  local at = 0
  for _, line in ipairs(want) do
    local found = {}
    for i, got in ipairs(lines) do
      -- (A typed command follows its prompt.)
      if got == line or (line:find(' ') and vim.endswith(got, ' ' .. line)) then
        found[#found + 1] = i
      end
    end
    h.eq(#found, 1, ('%s: %q once in\n%s'):format(what, line, text))
    h.ok(found[1] > at, ('%s: %q in order in\n%s'):format(what, line, text))
    at = found[1]
  end
  h.matches(lines[#lines], '[$#] ?$', what .. ': ends at the prompt')
end

T['a hidden session shown at another size keeps every line (issue 33, 1)'] = function(child)
  child.setup()
  child.cmd('set columns=160 lines=45')
  child.lua([[
    for i = 1, 12 do
      require('lulu').start({ agent = 'shell', name = 'g' .. i, worktree = false })
    end
  ]])
  child.wait(
    [[for i = 1, 12 do
        if require('lulu').get('g' .. i).status ~= 'running' then return false end
      end
      return true]],
    10000,
    'twelve shells'
  )
  child.cmd('LuluGrid')
  child.wait_screen('g1', '[$#] ?\n', 8000, 'g1 prompt in its pane')
  -- The grid goes; a line is typed into g1 while nobody shows it.
  child.cmd('tabnew | tabonly')
  child.wait('return not require("lulu.term").streaming(...)', 3000, 'g1 lazy once hidden', 'g1')
  child.lua('require("lulu").send("g1", "echo HIDDEN_$((40+2)); echo SECOND")')
  child.wait(
    [[return vim.tbl_contains(require('lulu.rpc').request(require('lulu.rpc').methods.screen, 'g1').lines, 'SECOND')]],
    5000,
    'the host saw it'
  )
  -- Shown again at the whole editor's size.
  child.cmd('set columns=80 lines=24')
  child.lua('require("lulu").open("g1")')
  child.cmd('stopinsert')
  child.wait('return vim.tbl_contains(vim.api.nvim_buf_get_lines(0, 0, -1, false), "SECOND")', 5000, 'shown')
  vim.wait(300)
  holds_once(buffer_lines(child, 'g1'), { 'echo HIDDEN_$((40+2)); echo SECOND', 'HIDDEN_42', 'SECOND' }, 'g1')
end

local function tmux(socket, ...)
  return vim.system({ 'tmux', '-L', socket, ... }, { text = true }):wait()
end

T['grid panes show the host screen exactly after the UI is resized (issue 33, 3 and 4)'] = function(child)
  if vim.fn.executable('tmux') == 0 then
    error('tmux is not installed (scripts/ensure-tools installs it)')
  end
  local socket = 'lulu-grid-' .. vim.fn.getpid()
  local listen = child.dir .. '/nvim.sock'
  local init = child.dir .. '/init.lua'
  vim.fn.writefile({
    ('vim.opt.rtp:prepend(%q)'):format(h.root),
    ('require("lulu").setup({ bin = %q, host = { mode = "embedded" } })'):format(os.getenv('LULU_BIN')),
  }, init)
  local env = {}
  for k, v in pairs(child.env) do
    env[#env + 1] = k .. '=' .. v
  end
  env[#env + 1] = 'SHELL=/bin/bash'
  local cmd = ('env %s nvim --clean -u %s --listen %s'):format(
    table.concat(vim.tbl_map(vim.fn.shellescape, env), ' '),
    init,
    listen
  )
  tmux(socket, 'new-session', '-d', '-x', '160', '-y', '45', '-c', child.cwd, cmd)
  local ui
  local ok, err = pcall(function()
    h.wait_for(function()
      return vim.uv.fs_stat(listen) ~= nil
    end, 5000, 'the editor in tmux')
    ui = vim.fn.sockconnect('pipe', listen, { rpc = true })
    local function lua(code, ...)
      return vim.rpcrequest(ui, 'nvim_exec_lua', code, { ... })
    end
    lua([[
      for i = 1, 4 do
        require('lulu').start({ agent = 'shell', name = 'p' .. i, worktree = false })
      end
    ]])
    h.wait_for(function()
      return lua([[
        for i = 1, 4 do
          local rpc = require('lulu.rpc')
          local lines = rpc.request(rpc.methods.screen, 'p' .. i).lines
          if not (lines[1] and lines[#lines]:find('[$#] ?$')) then return false end
        end
        return true
      ]])
    end, 10000, 'four prompts')
    lua([[
      for i = 1, 4 do
        require('lulu').send('p' .. i, ("printf 'BANNER-%d\\n'; seq 1 30"):format(i))
      end
      vim.cmd('LuluGrid')
    ]])
    local function panes()
      return lua([[
        local out = {}
        for i = 1, 4 do
          local lines = vim.api.nvim_buf_get_lines(require('lulu').buffer('p' .. i), 0, -1, false)
          while #lines > 0 and lines[#lines] == '' do table.remove(lines) end
          out[i] = lines
        end
        return out
      ]])
    end
    local want = { 'BANNER-1' }
    for n = 1, 30 do
      want[#want + 1] = tostring(n)
    end
    local function check(when)
      h.wait_for(function()
        local all = panes()
        for i = 1, 4 do
          if not (all[i][#all[i]] or ''):find('[$#] ?$') or not vim.tbl_contains(all[i], '30') then
            return false
          end
        end
        return true
      end, 8000, 'every pane at its prompt ' .. when)
      vim.wait(400)
      for i, lines in ipairs(panes()) do
        want[1] = 'BANNER-' .. i
        holds_once(lines, want, ('pane %d %s'):format(i, when))
      end
      -- As the user sees it: each pane ends with 30 and the prompt.
      local shown = tmux(socket, 'capture-pane', '-p', '-t', '0').stdout or ''
      local _, ends = shown:gsub('\n30 *│30 *\n[^\n]*[$#][^\n]*│[^\n]*[$#]', '')
      h.eq(ends, 2, 'two rows of panes, each ending at 30 and the prompt ' .. when .. ':\n' .. shown)
    end
    check('at 160x45')
    tmux(socket, 'resize-window', '-t', '0', '-x', '100', '-y', '30')
    vim.wait(600)
    check('at 100x30')
    tmux(socket, 'resize-window', '-t', '0', '-x', '160', '-y', '45')
    vim.wait(600)
    check('back at 160x45')
  end)
  if ui then
    pcall(vim.fn.chanclose, ui)
  end
  tmux(socket, 'kill-server')
  if not ok then
    error(err, 0)
  end
end

return T
