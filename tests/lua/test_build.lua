-- Installing as Neovim users install: scripts/build is what a plugin
-- manager runs (lazy.nvim kills its build step after 120 s). From a clean
-- checkout, with a target directory of its own: a cold build.
local h = require('harness')
local T = h.new_set()

T['the first command builds a missing host; scripts/build returns at once under a 120 s kill; commands run once it is done'] = function(
  child
)
  local clone = child.dir .. '/clone'
  h.eq(vim.system({ 'git', 'clone', '--quiet', h.root, clone }):wait().code, 0, 'a clean checkout')
  -- The case's HOME is a fresh one: cargo and rustup still need theirs.
  local home = os.getenv('HOME')
  local env = vim.tbl_extend('force', child.env, {
    CARGO_HOME = os.getenv('CARGO_HOME') or (home .. '/.cargo'),
    RUSTUP_HOME = os.getenv('RUSTUP_HOME') or (home .. '/.rustup'),
  })
  -- An editor with that checkout as its plugin and no binary yet (a `dir`
  -- plugin lazy.nvim never builds): its first command starts the build.
  local editor = h.child({ env = env, init = clone .. '/scripts/minimal_init.lua' })
  child.defer(editor.stop)
  editor.lua('require("lulu").setup({ host = { mode = "embedded" } })')
  editor.capture_notify()
  editor.cmd('LuluStart shell name=after-build worktree=off')
  h.matches(
    editor.lua('return _G.notes[1].msg'),
    'the lulu host is building %(log: .*build%.log%) %(first use%); this runs when it is done',
    'the command starts the build and says so'
  )
  local state = env.XDG_STATE_HOME .. '/nvim/lulu'
  h.wait_for(function()
    return vim.uv.fs_stat(state .. '/build.running') ~= nil
  end, 30000, 'the build under way')
  -- scripts/build itself, as a plugin manager runs it (killed after 120 s):
  -- it returns at once, joining the build.
  local t0 = vim.uv.hrtime()
  local again = vim.system({ 'timeout', '120', clone .. '/scripts/build' }, { env = env, text = true }):wait()
  local seconds = (vim.uv.hrtime() - t0) / 1e9
  h.eq(again.code, 0, 'scripts/build: ' .. (again.stderr or ''))
  h.matches(again.stdout, 'already building the host %(%d+s so far', 'a second run joins it')
  h.ok(seconds < 30, ('returns at once (%.1f s)'):format(seconds))
  local pid = tonumber((io.open(state .. '/build.running'):read('*l') or ''):match('^(%d+)'))
  h.ok(pid and h.alive(pid), 'the build runs on after its starter is gone')
  local session = tonumber(io.open('/proc/' .. pid .. '/stat'):read('*l'):match('^%d+ %b() %a %d+ %d+ (%d+)'))
  h.eq(session, pid, 'in a session of its own: no manager can kill it with its process group')
  for _, name in ipairs({ 'build.log', 'build.running' }) do
    h.eq(bit.band(vim.uv.fs_stat(state .. '/' .. name).mode, 63), 0, name .. ' is private')
  end
  local ok, health = pcall(
    editor.lua,
    [[
    vim.cmd('checkhealth lulu')
    return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  ]]
  )
  h.ok(ok and health:find('still building', 1, true), 'so does :checkhealth lulu')
  editor.cmd('silent! tabclose')
  -- It finishes on its own; the command that waited runs.
  h.wait_for(function()
    return not h.alive(pid)
  end, 20 * 60 * 1000, 'the build to finish')
  editor.wait(
    [[return vim.iter(_G.notes):any(function(n) return n.msg == 'lulu: the lulu host is built' end)]],
    5000,
    'told it is built'
  )
  editor.wait('return require("lulu").get("after-build").status == "running"', 10000, 'the queued start ran')
  editor.wait('return vim.b.lulu_session ~= nil', 10000, 'and its terminal is shown')
  -- The checkout updated and never rebuilt (a manager that skipped the
  -- build step): a new editor's first command rebuilds, then runs.
  vim.system({ 'touch', '-d', 'now + 2 seconds', clone .. '/src/lib.rs' }):wait()
  local later = h.child({ env = env, init = clone .. '/scripts/minimal_init.lua' })
  child.defer(later.stop)
  later.lua('require("lulu").setup({ host = { mode = "embedded" } })')
  later.capture_notify()
  later.cmd('LuluStart shell name=after-update worktree=off')
  h.matches(
    later.lua('return _G.notes[1].msg'),
    '%(its sources changed%); this runs when it is done',
    'a build older than its sources is rebuilt first'
  )
  later.wait('return require("lulu").get("after-update").status == "running"', 10 * 60 * 1000, 'then the start ran')
  local version = vim.system({ clone .. '/target/release/lulu', '--version' }, { text = true }):wait()
  h.matches(version.stdout, '^lulu %d', 'a working binary')
  h.ok(vim.uv.fs_stat(clone .. '/doc/tags'), 'help tags made')
end

return T
