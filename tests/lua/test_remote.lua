-- Remote hosts over a real ssh (sshd on 127.0.0.1, keys and known_hosts
-- made by the test): sessions run in the remote user's own daemon and are
-- driven from this Neovim as local ones are.
local h = require('harness')
local remote = require('remote')
local T = h.new_set()

local function setup(child, r, extra)
  child.setup(vim.tbl_deep_extend('force', {
    hosts = {
      devbox = {
        ssh = r.host,
        ssh_args = r.args,
        bin = r.bin,
        agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } },
      },
    },
  }, extra or {}))
  child.capture_notify()
  child.fake_select()
end

local function started(child, ref)
  return child.wait(
    'local r = require("lulu.sessions").find(...); return r and r.status == "running" and r',
    15000,
    ref .. ' running',
    ref
  )
end

T['a remote host: start, type, approve, lose the link, reconnect to the same screen, review, stop'] = function(child)
  local r = remote.sshd(child)
  local repo = h.repo(r.dir .. '/src/app')
  setup(child, r)

  child.cmd('LuluStart devbox:shell name=rsh cwd=' .. repo)
  local sh = started(child, 'devbox:rsh')
  h.eq(sh.host, 'devbox', 'the record names its host')
  h.matches(sh.worktree, '^' .. vim.pesc(repo) .. '/%.lulu/worktrees/rsh$', 'a worktree in the remote repository')
  local there = remote.list(r)
  h.eq(#there, 1, "it lives in the remote daemon's store")
  h.eq(there[1].name, 'rsh', 'by name')
  h.eq(child.lua('return #vim.tbl_filter(function(s) return not s.host end, require("lulu").list())'), 0, 'not here')
  child.lua('require("lulu").send("devbox:rsh", "echo typed-$((20+3))")')
  child.wait_screen(sh.id, 'typed%-23', 8000, 'what was typed ran there')
  local lines = child.lua('return require("lulu.ui.list").layout({ require("lulu.sessions").find("devbox:rsh") }, 90)')
  h.matches(lines[2], '^   @devbox · shell', 'the list tags the row with its host')

  -- A question from the remote agent comes to this Neovim.
  child.cmd('LuluStart devbox:claude name=rc cwd=' .. repo)
  local claude = started(child, 'devbox:rc')
  child.lua('require("lulu").send("devbox:rc", "run: echo asked > asked.txt")')
  child.wait('return #require("lulu").approvals() == 1', 10000, 'the remote question')
  local question = child.lua('return require("lulu").approvals()[1]')
  h.matches(question.id, '^devbox:%d+$', 'its id names the host')
  h.eq(question.session_name, 'rc', 'and the session')
  child.lua('_G.answer = "Allow once"')
  child.cmd('LuluApprove')
  child.wait_screen(claude.id, '⎿ %(exit 0%)', 10000, 'the answer reached the remote agent')
  h.eq(vim.fn.readfile(claude.worktree .. '/asked.txt'), { 'asked' }, 'it ran there')

  -- The link drops: sessions keep running there; the row says so.
  local ssh_pid = child.lua('return require("lulu.remote").status("devbox").pid')
  vim.uv.kill(ssh_pid, 'sigkill')
  child.wait('return require("lulu.remote").status("devbox").state ~= "connected"', 5000, 'noticed')
  lines = child.lua('return require("lulu.ui.list").layout({ require("lulu.sessions").find("devbox:rsh") }, 90)')
  h.matches(lines[2], '@devbox %(disconnected%)', 'the row says disconnected')
  local alive = vim.tbl_filter(function(s)
    return s.name == 'rsh' and s.status == 'running'
  end, remote.list(r))
  h.eq(#alive, 1, 'the session kept running there')
  vim.system({ r.bin, 'send', 'rsh', 'echo while-away-$((5+5))' }):wait()

  -- It comes back by itself, and the terminal shows the same screen.
  child.wait('return require("lulu.remote").status("devbox").state == "connected"', 15000, 'reconnected')
  child.wait_screen(sh.id, 'typed%-23', 8000, 'the screen from before')
  child.wait_screen(sh.id, 'while%-away%-10', 8000, 'and what happened while away')
  child.lua('require("lulu").send("devbox:rsh", "echo back-$((40+2)) > made.txt; echo back-done")')
  child.wait_screen(sh.id, 'back%-done', 8000, 'typing works again')

  -- Its changes, reviewed here.
  local diff = child.lua('return require("lulu").diff("devbox:rsh")')
  h.matches(diff, 'made%.txt', 'the diff of its remote worktree')
  h.matches(diff, '%+back%-42', 'with the change')
  -- :LuluReview reads its files through the host, and :w writes there.
  child.run('LuluReview devbox:rsh')
  child.lua('require("lulu.ui.branch").show(vim.api.nvim_get_current_tabpage(), 1)')
  h.eq(child.lua('return vim.api.nvim_buf_get_name(0)'), 'lulu://devbox/rsh/made.txt', 'the remote side')
  h.eq(child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)'), { 'back-42' }, 'as it is there')
  child.lua('vim.api.nvim_buf_set_lines(0, 0, -1, false, { "edited here" })')
  child.cmd('write')
  h.eq(vim.fn.readfile(sh.worktree .. '/made.txt'), { 'edited here' }, 'written on the host')
  h.eq(child.lua('return vim.bo.modified'), false, 'and the buffer is saved')
  child.cmd('tabclose')

  child.lua('require("lulu").stop("devbox:rsh")')
  child.wait(
    'local s = require("lulu.sessions").find("devbox:rsh"); return s.status ~= "running" and s.status',
    10000,
    'stopped'
  )
  local ended = vim.tbl_filter(function(s)
    return s.name == 'rsh'
  end, remote.list(r))[1]
  h.ok(ended.status ~= 'running', 'ended there too: ' .. ended.status)
end

T['a new Neovim lists the remote sessions by itself; a saved set restores them on their host'] = function(child)
  local r = remote.sshd(child)
  local repo = h.repo(r.dir .. '/src/app')
  setup(child, r)
  child.cmd('LuluStart devbox:shell name=kept cwd=' .. repo)
  started(child, 'devbox:kept')
  child.cmd('LuluSave remote-set')
  child.lua('require("lulu").stop("devbox:kept", { force = true })')
  child.wait('return require("lulu.sessions").find("devbox:kept").status ~= "running"', 10000, 'stopped')

  local other = h.child({ env = child.env })
  child.defer(other.stop)
  setup(other, r)
  -- Any lulu command brings up the hosts too.
  other.lua('require("lulu").list()')
  local listed = other.wait(
    'local s = require("lulu.sessions").find("devbox:kept"); return s and s.status ~= "running" and s',
    15000,
    'the ended remote session, listed'
  )
  h.eq(listed.host, 'devbox', 'from its host')
  other.cmd('LuluRestore remote-set')
  local again = other.wait(
    'local s = require("lulu.sessions").find("devbox:kept"); return s and s.status == "running" and s',
    15000,
    'restored'
  )
  h.ok(again.id ~= listed.id, 'a new session')
  h.eq(again.worktree, listed.worktree, 'in its worktree on its host')
  local there = vim.tbl_filter(function(s)
    return s.name == 'kept' and s.status == 'running'
  end, remote.list(r))
  h.eq(#there, 1, 'running there')
end

T['a remote host with another lulu version, or out of reach, says so in one line'] = function(child)
  local r = remote.sshd(child)
  setup(child, r, {
    hosts = { nowhere = { ssh = 'lulu-remote', ssh_args = { '-F', r.args[2], '-p', '1' }, bin = r.bin } },
  })
  child.lua('require("lulu.protocol").version = "9.9.9"')
  child.cmd('LuluStart devbox:shell')
  child.wait('return #_G.notes > 0', 15000, 'an error')
  h.matches(
    child.lua('return _G.notes[1].msg'),
    'devbox runs lulu [%d.]+ but this editor has 9%.9%.9: install the same version there',
    'names both versions'
  )
  h.eq(child.lua('return require("lulu.remote").status("devbox").state'), 'failed', 'and stops trying')

  child.lua('_G.notes = {}')
  child.cmd('LuluStart nowhere:shell')
  child.wait('return #_G.notes > 0', 15000, 'an error')
  h.matches(
    child.lua('return _G.notes[1].msg'),
    '^lulu: nowhere: ssh: connect to host 127%.0%.0%.1 port 1: Connection refused$',
    "ssh's own reason, named by host"
  )
  child.lua('_G.notes = {}')
  child.cmd('LuluStart elsewhere:shell')
  h.matches(child.lua('return _G.notes[1].msg'), 'no host named "elsewhere"', 'an unknown host')
  h.matches(
    child.lua('return require("lulu.config").validate({ hosts = { box = { bin = "lulu" } } })[1]'),
    "^hosts must be a table of name = { ssh = 'user@host'",
    'a host without ssh'
  )
end

--- A remote end that answers as `lulu daemon --stdio` but is hostile: a
--- stand-in `ssh` on PATH runs a script that writes msgpack of its own.
local function hostile_remote(child)
  local bin = child.dir .. '/evil-bin'
  vim.fn.mkdir(bin, 'p')
  local script = child.dir .. '/evil.lua'
  local mode = child.dir .. '/evil-mode'
  vim.fn.writefile({
    ('local mode = vim.fn.readfile(%q)'):format(mode),
    'local function send(msg) io.stdout:write(vim.mpack.encode(msg)); io.stdout:flush() end',
    'local code = "require(\'lulu.events\').dispatch(...)"',
    'local what, chan = mode[1], tonumber(mode[2])',
    "if what == 'exec_lua' then send({ 2, 'nvim_exec_lua', { 'vim.g.pwned = \"exec_lua\"', { 1 } } })",
    "elseif what == 'command' then send({ 2, 'nvim_command', { 'let g:pwned = \"command\"' } })",
    "elseif what == 'request' then send({ 0, 1, 'nvim_exec_lua', { 'vim.g.pwned = \"request\"', { 1 } } })",
    "elseif what == 'unknown' then send({ 2, 'lulu.whatever', { 1 } })",
    "elseif what == 'event' then send({ 2, 'nvim_exec_lua', { code, { 'nosuch', { 1 } } } })",
    "elseif what == 'chan' then send({ 2, 'nvim_chan_send', { chan, 'echo PWNED_$((6*7))\\r' } })",
    "elseif what == 'huge' then io.stdout:write(string.char(0x93, 0x02, 0xa1, 0x78, 0xc6, 0x01, 0x10, 0, 0) .. string.rep('x', 17 * 1024 * 1024)); io.stdout:flush()",
    "elseif what == 'garbage' then io.stdout:write('\\193\\193'); io.stdout:flush()",
    'end',
    'vim.uv.sleep(20000)',
  }, script)
  vim.fn.writefile({ '#!/bin/sh', ('exec nvim --headless --clean -l %q'):format(script) }, bin .. '/ssh')
  vim.fn.setfperm(bin .. '/ssh', 'rwxr-xr-x')
  child.lua('vim.env.PATH = ... .. ":" .. vim.env.PATH', bin)
  return mode
end

T['a hostile remote end runs nothing in the editor: the link closes, the host is marked, local sessions go on'] = function(
  child
)
  child.setup({ hosts = { evil = { ssh = 'evil' } } })
  child.capture_notify()
  local mode = hostile_remote(child)
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "home", worktree = false })')
  local buf = child.lua('return require("lulu").buffer(...)', s.id)
  child.wait('return require("lulu").get("home").status == "running"', 5000, 'the local session')
  local chan = child.lua('return vim.bo[...].channel', buf)
  local cases = {
    exec_lua = 'code of its own',
    command = 'a notification "nvim_command"',
    request = 'a request "nvim_exec_lua"',
    unknown = 'a notification "lulu.whatever"',
    event = 'an unknown event "nosuch"',
    chan = 'output for a channel this host was not given',
    huge = 'over the bytes limit',
    garbage = 'not msgpack',
  }
  for what, said in pairs(cases) do
    vim.fn.writefile({ what, tostring(chan) }, mode)
    child.lua('_G.notes = {}; require("lulu.remote").connect("evil")')
    child.wait(
      'local s = require("lulu.remote").status("evil"); return s and s.state == "failed"',
      20000,
      what .. ': the host marked failed'
    )
    local status = child.lua('return require("lulu.remote").status("evil")')
    h.matches(status.error, vim.pesc(said), what .. ': the reason')
    h.matches(status.error, 'link closed', what .. ': the link closed')
    h.eq(child.lua('return vim.g.pwned'), vim.NIL, what .. ': nothing ran in the editor')
  end
  child.lua('require("lulu").send("home", "echo STILL_$((40+2))")')
  child.wait_screen(s.id, 'STILL_42', 5000, 'the local session goes on')
  h.ok(not child.screen(s.id):find('PWNED_42'), 'no remote output reached a local terminal')
end

return T
