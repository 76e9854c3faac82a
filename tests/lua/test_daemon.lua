-- host.mode = 'daemon': sessions outlive the editor, several editors attach
-- at once, and a daemon that dies is noticed. Every case has its own
-- XDG_RUNTIME_DIR, so its own daemon; each is stopped when the case ends.
local h = require('harness')
local T = h.new_set()

local BIN = os.getenv('LULU_BIN')

local function daemon_setup(child, extra)
  child.setup(vim.tbl_deep_extend('force', {
    host = { mode = 'daemon' },
    agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } },
  }, extra or {}))
  child.capture_notify()
end

--- Stop the case's daemon at the end, whatever happened.
local function reap_daemon(child)
  child.defer(function()
    vim.system({ BIN, 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
end

--- A second editor on the same daemon (same XDG dirs).
local function second(child)
  local other = h.child({ env = child.env })
  child.defer(other.stop)
  return other
end

local function daemon_pid(child)
  local out = vim.system({ BIN, 'daemon', '--status' }, { env = child.env, text = true }):wait().stdout
  return tonumber(out:match('pid (%d+)'))
end

local function shell(child, name)
  local s = child.lua('return require("lulu").start({ agent = "shell", name = ... })', name)
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.wait_screen(s.id, '[%$#]', 5000, name .. ' prompt')
  return s
end

T['sessions outlive Neovim; the next Neovim attaches, sees their screens and types into them'] = function(child)
  reap_daemon(child)
  h.repo(child.cwd)
  daemon_setup(child)
  local a = shell(child, 'a')
  local b = shell(child, 'b')
  child.lua('require("lulu").send("a", "echo marker-$((40+2))-a")')
  child.lua('require("lulu").send("b", "echo marker-$((40+2))-b")')
  child.wait_screen(a.id, 'marker%-42%-a', 5000)
  child.wait_screen(b.id, 'marker%-42%-b', 5000)
  local pids = { child.lua('return require("lulu").get("a").pid'), child.lua('return require("lulu").get("b").pid') }
  pcall(child.cmd, 'qa!')
  vim.fn.jobwait({ child.job }, 3000)
  vim.wait(500)
  for _, pid in ipairs(pids) do
    h.ok(h.alive(pid), ('session pid %d is still alive after :qa'):format(pid))
  end

  local again = second(child)
  daemon_setup(again)
  local names =
    again.lua([[return vim.tbl_map(function(s) return s.name .. ':' .. s.status end, require('lulu').list())]])
  h.eq(names, { 'b:running', 'a:running' }, 'the list shows both, newest first')
  again.lua('require("lulu").open("a")')
  again.wait_screen(a.id, 'marker%-42%-a', 5000, 'a’s screen, replayed')
  again.lua('require("lulu").open("b")')
  again.wait_screen(b.id, 'marker%-42%-b', 5000, 'b’s screen, replayed')
  again.lua('require("lulu").send("a", "echo typed-$((1+1))-again")')
  again.wait_screen(a.id, 'typed%-2%-again', 5000, 'new input works')
end

T['two editors at once: both see output, both type; an approval answered in one leaves the other'] = function(child)
  reap_daemon(child)
  daemon_setup(child)
  local other = second(child)
  daemon_setup(other)
  other.lua('require("lulu").list()') -- attached
  local s = child.lua('return require("lulu").start({ agent = "claude", name = "c" })')
  child.lua('require("lulu").open("c")')
  child.wait('return require("lulu").get("c").status == "running"', 5000, 'running')
  other.wait('return require("lulu.sessions").find("c") ~= nil', 5000, 'the other editor hears of it')
  other.lua('require("lulu").open("c")')
  child.lua('require("lulu").send("c", "echo from-one")')
  other.lua('require("lulu").send("c", "echo from-two")')
  for _, editor in ipairs({ child, other }) do
    editor.wait_screen(s.id, 'from%-one', 5000, 'output of the first editor’s input')
    editor.wait_screen(s.id, 'from%-two', 5000, 'output of the second editor’s input')
  end

  -- The other editor shows the question in a dialog nobody answers there.
  other.lua([[
    _G.dialogs = {}
    vim.ui.select = function(items, opts, on_choice) table.insert(_G.dialogs, on_choice) end
  ]])
  child.lua('require("lulu").send("c", "run: rm -rf build")')
  for _, editor in ipairs({ child, other }) do
    editor.wait('return #require("lulu.approvals").pending() == 1', 5000, 'the question reaches every editor')
  end
  other.cmd('LuluApprove')
  h.eq(other.lua('return #_G.dialogs'), 1, 'a dialog is open in the second editor')
  local id = child.lua('return require("lulu.approvals").pending()[1].id')
  child.lua('require("lulu").decide(..., "allow")', id)
  other.wait('return #require("lulu.approvals").pending() == 0', 5000, 'gone from the other editor')
  local notes = other.lua('return vim.tbl_map(function(n) return n.msg end, _G.notes)')
  h.matches(table.concat(notes, '\n'), 'answered elsewhere %(allow%)', 'told why its dialog is moot')
  -- Choosing in the moot dialog does nothing (and says nothing more).
  other.lua('_G.dialogs[1]({ decision = "deny" })')
  child.wait_screen(s.id, '⎿ %(exit 0%)', 5000, 'the allowed command ran')
end

T['a SIGKILLed daemon is reported at once; the next daemon marks its sessions failed'] = function(child)
  reap_daemon(child)
  h.repo(child.cwd)
  daemon_setup(child)
  shell(child, 'k')
  local worktree = child.lua('return require("lulu").get("k").worktree')
  local pid = daemon_pid(child)
  h.ok(pid, 'a daemon runs')
  vim.uv.kill(pid, 'sigkill')
  local t0 = vim.uv.hrtime()
  child.wait(
    [[return vim.iter(_G.notes):any(function(n) return n.msg:find('daemon exited', 1, true) end)]],
    2000,
    'told'
  )
  h.ok((vim.uv.hrtime() - t0) / 1e6 <= 2000, 'within 2 s')
  h.eq(child.lua('return require("lulu.sessions").find("k").status'), 'failed', 'shown failed at once')
  -- The next command starts a new daemon, which records how they ended.
  child.wait('return #require("lulu").list() == 1', 10000, 'a new daemon answers')
  local record = child.lua('return require("lulu").get("k")')
  h.eq({ record.status, record.failure_reason }, { 'failed', 'daemon exited' }, 'reconciled')
  h.ok(vim.uv.fs_stat(worktree) ~= nil, 'its worktree is untouched')
  h.ok(daemon_pid(child) ~= pid, 'a new daemon')
end

T['clients that vanish mid-request or send garbage leave the daemon unharmed'] = function(child)
  reap_daemon(child)
  daemon_setup(child)
  shell(child, 'keep')
  local socket = child.lua('return require("lulu.host").socket_path()')
  local function connect_and(write)
    local pipe = vim.uv.new_pipe(false)
    local done = false
    pipe:connect(socket, function(err)
      assert(not err, err)
      pipe:write(write, function()
        pipe:close()
        done = true
      end)
    end)
    h.wait_for(function()
      return done
    end, 2000, 'the raw client')
  end
  -- A request cut off half way (msgpack [0, 1, "lulu.session_start", [{...), then gone.
  connect_and('\148\000\001\178lulu.session_start\145\130')
  -- Bytes that are not msgpack-RPC at all.
  connect_and('GET / HTTP/1.1\r\n\r\n' .. ('\255'):rep(1000))
  -- A request whose answer nobody reads (the client closes at once).
  connect_and('\148\000\007\177lulu.session_list\144')
  -- An editor that says hello, then vanishes.
  connect_and('\148\000\002\170lulu.hello\145\128')
  vim.wait(300)
  h.eq(child.lua('return require("lulu").get("keep").status'), 'running', 'the session runs on')
  child.lua('require("lulu").send("keep", "echo still-$((3*3))")')
  child.wait_screen(child.lua('return require("lulu").get("keep").id'), 'still%-9', 5000, 'and the editor is served')
  h.eq(
    child.lua('return require("lulu.rpc").request(require("lulu.rpc").methods.daemon_status).clients'),
    1,
    'the vanished editor is forgotten'
  )
end

T['the daemon exits by itself when idle; :LuluDaemon status and stop'] = function(child)
  reap_daemon(child)
  daemon_setup(child, { daemon = { idle_exit = 1 } })
  child.lua('require("lulu").list()')
  child.cmd('LuluDaemon status')
  local notes = child.lua('return _G.notes')
  h.matches(notes[#notes].msg, '^lulu: lulu daemon pid %d+, 0 live session%(s%), 1 editor%(s%) attached', 'status')
  -- An attached editor keeps it; a detached one does not.
  vim.wait(1500)
  h.ok(daemon_pid(child), 'still there while an editor is attached')
  child.lua('require("lulu.host").stop()')
  h.wait_for(function()
    return daemon_pid(child) == nil
  end, 5000, 'idle exit')
  -- It starts again on demand; :LuluDaemon stop ends it.
  child.lua('require("lulu").list()')
  h.ok(daemon_pid(child), 'started again')
  child.cmd('LuluDaemon stop')
  h.eq(daemon_pid(child), nil, 'stopped')
end

T['a stalled editor does not hold up another; it is caught up from the host when it wakes'] = function(child)
  reap_daemon(child)
  daemon_setup(child, { scrollback = 2000 })
  local slow = second(child)
  daemon_setup(slow, { scrollback = 2000 })
  local s = shell(child, 'flood')
  slow.lua('require("lulu").open("flood")')
  slow.cmd('stopinsert')
  slow.wait_screen(s.id, '[%$#]', 5000, 'the slow editor shows it too')
  -- The slow editor stops reading for 4 s while 8 MiB go by.
  vim.rpcnotify(slow.job, 'nvim_exec_lua', 'vim.uv.sleep(4000)', {})
  local t0 = vim.uv.hrtime()
  local flood = [[head -c 8388608 /dev/zero | tr '\0' x | fold -w 100; echo flood-$((1+1))-done]]
  child.lua('require("lulu").send("flood", ...)', flood)
  child.wait_screen(s.id, 'flood%-2%-done', 20000, 'the awake editor got everything')
  local ms = (vim.uv.hrtime() - t0) / 1e6
  h.ok(ms < 4000, ('the awake editor was not held up by the stalled one (%d ms)'):format(ms))
  slow.wait_screen(s.id, 'flood%-2%-done', 20000, 'the stalled editor catches up')
  local lines = slow.lua('return #vim.api.nvim_buf_get_lines(require("lulu").buffer(...), 0, -1, false)', s.id)
  h.ok(lines < 30000, ('it was repainted from the scrollback, not fed all 8 MiB (%d lines)'):format(lines))
  local log = table.concat(vim.fn.readfile(child.env.XDG_STATE_HOME .. '/nvim/lulu/daemon.log'), '\n')
  h.matches(log, 'terminal fell behind; catching it up from the model', 'the daemon says what it did')
end

T["another user's connection to the daemon is refused"] = function(child)
  if vim.uv.getuid() ~= 0 or vim.fn.executable('setpriv') == 0 then
    io.stdout:write('  (skipped: needs root and setpriv to act as a second user)\n')
    return
  end
  -- A runtime dir a second user can reach (Neovim's own temp dir is 0700).
  local runtime = ('/tmp/lulu-daemon-uid-test-%d-%d'):format(vim.uv.os_getpid(), vim.uv.hrtime())
  vim.fn.mkdir(runtime, 'p', tonumber('755', 8))
  local outer = child
  outer.stop()
  child = h.child({ env = { XDG_RUNTIME_DIR = runtime } })
  reap_daemon(child)
  outer.defer(function()
    child.stop()
    vim.fn.delete(runtime, 'rf')
  end)
  daemon_setup(child)
  shell(child, 'mine')
  -- Open the door on purpose, so only the peer-credential check stands.
  vim.uv.fs_chmod(runtime .. '/lulu', tonumber('777', 8))
  vim.uv.fs_chmod(runtime .. '/lulu/lulu.sock', tonumber('777', 8))
  local env = vim.tbl_extend('force', child.env, { HOME = '/tmp' })
  local out = vim
    .system(
      { 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', BIN, 'send', 'mine', 'echo intruder' },
      { env = env, text = true }
    )
    :wait(10000)
  h.eq(out.code, 1, 'the stranger gets nowhere: ' .. out.stderr)
  h.matches(out.stderr, '^lulu: .*daemon', 'and is told so, in one line')
  h.wait_for(function()
    local log = io.open(child.env.XDG_STATE_HOME .. '/nvim/lulu/daemon.log'):read('*a')
    return log:find('editor connection from another user refused') ~= nil
  end, 3000, 'refused by uid and logged')
  vim.wait(300)
  h.ok(not child.screen(child.lua('return require("lulu").get("mine").id')):find('intruder'), 'nothing typed')
end

T['a daemon of another build is replaced when idle, and kept (with a warning) while sessions live'] = function(child)
  reap_daemon(child)
  -- Another build: the same program, copied (another size/mtime identity).
  local old = child.dir .. '/lulu-old'
  vim.uv.fs_copyfile(BIN, old)
  vim.uv.fs_chmod(old, tonumber('755', 8))
  vim.uv.fs_utime(old, 1000000000, 1000000000)
  local function old_daemon()
    h.eq(vim.system({ old, 'daemon' }, { env = child.env }):wait(20000).code, 0, 'the old daemon starts')
    return daemon_pid(child)
  end
  local first = old_daemon()
  daemon_setup(child)
  child.lua('require("lulu").list()')
  local now = daemon_pid(child)
  h.ok(now and now ~= first, 'replaced at once: nothing was running')
  h.eq(child.lua('return require("lulu.host").stale_daemon()'), false, 'the editor’s build now')

  child.lua('require("lulu.host").stop()') -- detach
  child.cmd('LuluDaemon stop')
  local second_pid = old_daemon()
  vim.system({ old, 'start', 'shell', '--name', 'busy' }, { env = child.env, cwd = child.cwd }):wait(20000)
  child.lua('require("lulu").list()')
  h.eq(daemon_pid(child), second_pid, 'kept: a session is live')
  h.eq(child.lua('return require("lulu.host").stale_daemon()'), true, 'known to be stale')
  local notes = child.lua('return vim.tbl_map(function(n) return n.msg end, _G.notes)')
  h.matches(table.concat(notes, '\n'), 'another build of lulu with 1 live session%(s%); :LuluDaemon restart', 'told')
  child.cmd('LuluDaemon restart')
  notes = child.lua('return vim.tbl_map(function(n) return n.msg end, _G.notes)')
  h.matches(notes[#notes], '1 session%(s%) still live; stop them first', 'restart refused while live')
end

T['two editors with different options: each starts sessions that follow its own'] = function(child)
  reap_daemon(child)
  h.repo(child.cwd)
  local function agent(word, shell)
    return { cmd = { shell, '-c', 'echo started-by-' .. word .. '; exec sleep 600' } }
  end
  daemon_setup(child, { agents = { probe = agent('first', '/bin/sh') }, worktree = { enabled = false } })
  local other = second(child)
  other.setup({
    host = { mode = 'daemon' },
    agents = { probe = agent('second', '/bin/bash') },
    worktree = { enabled = true },
  })
  -- What each is told of its agents (:checkhealth) is its own too.
  local function program(editor)
    return editor.lua([[
      for _, a in ipairs(require("lulu.rpc").request(require("lulu.rpc").methods.agents)) do
        if a.name == "probe" then return a.program end
      end
    ]])
  end
  h.eq(program(child), '/bin/sh', "the first editor's probe")
  h.eq(program(other), '/bin/bash', "the second editor's probe")
  -- The second editor said hello last; the first still gets its own options.
  local a = child.lua('return require("lulu").start({ agent = "probe", name = "from-first", cwd = ... })', child.cwd)
  local b = other.lua('return require("lulu").start({ agent = "probe", name = "from-second", cwd = ... })', child.cwd)
  child.lua('require("lulu").open(...)', a.id)
  child.wait_screen(a.id, 'started%-by%-first', 5000, "the first editor's agent command")
  other.lua('require("lulu").open(...)', b.id)
  other.wait_screen(b.id, 'started%-by%-second', 5000, "the second editor's agent command")
  h.eq(child.lua('return require("lulu").get("from-first").worktree == nil'), true, 'the first runs in place')
  h.matches(
    other.lua('return require("lulu").get("from-second").worktree'),
    '/%.lulu/worktrees/from%-second$',
    'the second has its worktree'
  )
end

--- `lulu <args>` from a shell with the case's environment.
local function cli(child, ...)
  local result = vim.system({ BIN, ... }, { env = child.env, cwd = child.cwd, text = true }):wait(20000)
  h.eq(result.code, 0, ('lulu %s: %s'):format(table.concat({ ... }, ' '), result.stderr))
  return result.stdout
end

T['commands given while the daemon comes up are queued behind it; one that never comes says why'] = function(child)
  reap_daemon(child)
  daemon_setup(child)
  h.eq(child.lua('return require("lulu.host").running()'), false, 'no daemon yet')
  child.cmd('LuluStart shell name=q1')
  child.cmd('LuluStart shell name=q2')
  h.eq(child.lua('return 1 + 1'), 2, 'the editor answers meanwhile')
  -- Its terminal is open already: what is typed now reaches it once it runs.
  child.lua([[vim.cmd.startinsert()]])
  child.lua([[vim.api.nvim_input('echo queued-$((6*7))<CR>')]])
  child.wait(
    'local ok, a = pcall(require("lulu").get, "q1"); local ok2, b = pcall(require("lulu").get, "q2");'
      .. ' return ok and ok2 and a.status == "running" and b.status == "running"',
    10000,
    'both ran once it was up'
  )
  -- Their starts are jobs that may finish in any order; they were asked in order.
  h.ok(child.lua('return require("lulu").get("q1").created_at <= require("lulu").get("q2").created_at'), 'in order')
  h.eq(child.lua('return vim.b.lulu_session'), child.lua('return require("lulu").get("q2").id'), 'the last one shown')
  child.wait_screen('q2', 'queued%-42', 5000, 'the keys typed while the daemon came up')

  local other = h.child()
  child.defer(other.stop)
  other.setup({ host = { mode = 'daemon' }, bin = '/bin/false' })
  other.capture_notify()
  other.cmd('LuluStart shell name=never')
  other.wait('return _G.notes[1] ~= nil', 5000, 'told')
  h.eq(
    other.lua('return _G.notes[1].msg'),
    'lulu: /bin/false could not say where its daemon listens (daemon --status --json exited with 1); set `bin` to a lulu binary',
    'why, in one line'
  )
end

T['lulu start/list/send/stop from a shell drive what Neovim sees; lulu attach joins and detaches'] = function(child)
  reap_daemon(child)
  h.repo(child.cwd)
  -- From the shell first: the daemon starts on demand.
  h.matches(
    cli(child, 'start', 'shell', '--name', 'sh1'),
    '^started sh1 %(shell %x+%) in .*/%.lulu/worktrees/sh1',
    'start'
  )
  daemon_setup(child)
  child.wait('return require("lulu").get("sh1").status == "running"', 5000, 'Neovim sees the shell’s session')
  local id = child.lua('return require("lulu").get("sh1").id')
  child.lua('require("lulu").open("sh1")')
  child.cmd('stopinsert')
  cli(child, 'send', 'sh1', 'echo', 'sent-from-$((6*7))')
  child.wait_screen(id, 'sent%-from%-42', 5000, 'what the shell sent, in Neovim')
  -- Started in Neovim, listed from the shell.
  shell(child, 'nv')
  local listed = vim.json.decode(cli(child, 'list', '--json'))
  local statuses = {}
  for _, s in ipairs(listed) do
    statuses[s.name] = s.status
  end
  h.eq(statuses, { sh1 = 'running', nv = 'running' }, 'lulu list --json, live')
  h.matches(cli(child, 'list'), 'nv%s+running%s+%d+s%s+shell', 'the table, with ages')
  h.matches(cli(child, 'list'), 'STATUS%s+IDLE%s+AGENT', 'the age column says what it counts')

  -- Attach from a real terminal (a PTY), type, detach with Ctrl-\ d.
  local screen = {}
  local job = vim.fn.jobstart({ BIN, 'attach', 'nv' }, {
    pty = true,
    env = child.env,
    width = 80,
    height = 24,
    on_stdout = function(_, data)
      vim.list_extend(screen, data)
    end,
  })
  child.defer(function()
    pcall(vim.fn.jobstop, job)
  end)
  local function seen(pattern)
    return table.concat(screen, '\n'):find(pattern) ~= nil
  end
  h.wait_for(function()
    return seen('[%$#]')
  end, 5000, 'the session’s screen in the attached terminal')
  vim.fn.chansend(job, 'echo attached-$((5+5))\r')
  h.wait_for(function()
    return seen('attached%-10')
  end, 5000, 'typed through the attached terminal')
  child.wait_screen(child.lua('return require("lulu").get("nv").id'), 'attached%-10', 5000, 'Neovim sees it too')
  vim.fn.chansend(job, '\28d')
  h.eq(vim.fn.jobwait({ job }, 5000)[1], 0, 'attach exits after the detach key')
  h.ok(seen('detached from nv; it keeps running'), 'says so')
  h.eq(child.lua('return require("lulu").get("nv").status'), 'running', 'still running')

  h.matches(cli(child, 'stop', 'sh1'), 'stopping sh1', 'stop')
  child.wait('return require("lulu").get("sh1").status == "completed"', 8000, 'Neovim sees it end')
  local result = vim.system({ BIN, 'send', 'nope', 'x' }, { env = child.env, text = true }):wait()
  h.eq(result.code, 1, 'an unknown session fails')
  h.matches(result.stderr, "^lulu: no session named 'nope'\n$", 'with a one-line reason, and no Vim hint')
end

return T
