-- Session templates: presets from the config or saved from a session,
-- started with :LuluStart @name; a template's prompt is typed once the
-- agent is ready for input (its screen drew and held still).
local h = require('harness')
local T = h.new_set()

local FAKE = h.root .. '/tests/fake-claude'

local function setup(child)
  h.repo(child.cwd)
  child.setup({
    agents = { claude = { cmd = { FAKE } } },
    templates = {
      review = {
        agent = 'claude',
        args = { '--permission-mode', 'plan' },
        worktree = { setup = { 'sh', '-c', 'echo prepared > setup.txt' } },
        prompt = 'Review the diff against main',
      },
      env = { agent = 'shell', args = { '-c', 'echo tpl=$TPL_VAR; sleep 30' }, env = { TPL_VAR = 'from-template' } },
    },
  })
  child.capture_notify()
end

T[':LuluStart @review starts with its args and setup; its prompt arrives once the agent is ready'] = function(child)
  setup(child)
  child.run('LuluStart @review name=r')
  local r = child.wait('local r = require("lulu").get("r"); return r.status == "running" and r', 5000, 'r running')
  child.wait_screen(r.id, 'permission mode: plan', 5000, 'its args')
  h.eq(vim.fn.readfile(r.worktree .. '/setup.txt'), { 'prepared' }, 'its worktree setup ran')
  child.wait_screen(r.id, 'I heard: Review the diff against main', 5000, 'its prompt, typed once ready')
  -- Typed after the agent's prompt was drawn, not into its banner.
  h.matches(child.screen(r.id), 'permission mode: plan\n> Review the diff', 'at the prompt')

  child.run('LuluStart @env name=e')
  local e = child.lua('return require("lulu").get("e")')
  child.wait_screen(e.id, 'tpl=from%-template', 5000, 'its env')
end

T[':LuluTemplate save keeps a session as a template; unknown ones say which exist'] = function(child)
  setup(child)
  local s = child.lua(
    'return require("lulu").start({ agent = "claude", name = "c", args = { "--permission-mode", "acceptEdits" } })'
  )
  child.wait('return require("lulu").get("c").status == "running"', 5000, 'c running')
  child.cmd('LuluTemplate save mine c')
  h.matches(child.lua('return _G.notes[#_G.notes].msg'), 'saved template @mine %(claude%)', 'saved')
  h.eq(
    child.lua('return require("lulu").templates().mine'),
    { agent = 'claude', args = { '--permission-mode', 'acceptEdits' }, worktree = true },
    'kept in the store'
  )
  child.run('LuluStart @mine name=c2')
  local c2 = child.wait('local r = require("lulu").get("c2"); return r.status == "running" and r', 5000, 'c2')
  child.wait_screen(c2.id, 'permission mode: acceptEdits', 5000, 'started as the saved session was')
  h.ok(s.id ~= c2.id, 'a new session')
  h.ok(
    vim.tbl_contains(child.lua('return require("lulu.commands").complete_start("@", "LuluStart @")'), '@mine'),
    'completes saved templates'
  )
  child.run('LuluStart @nosuch')
  h.matches(
    child.lua('return _G.notes[#_G.notes].msg'),
    'no template named "nosuch" %(known: env, mine, review%)',
    'an unknown template names the known ones'
  )
  -- With no arguments, it lists them (no E471).
  child.cmd('LuluTemplate')
  h.matches(child.lua('return _G.notes[#_G.notes].msg'), '@mine: claude', 'listed')
end

T["restart = 'on-failure' starts a failing session again with growing waits, up to its limit; a stop never"] = function(
  child
)
  child.setup({
    agents = { flaky = { cmd = { '/bin/sh', '-c', 'echo run; exit 3' }, restart = 'on-failure', restart_limit = 3 } },
  })
  child.capture_notify()
  child.lua('require("lulu").start({ agent = "flaky", name = "f", worktree = false })')
  local first = child.wait('local r = require("lulu").get("f"); return r.restarting and r', 5000, 'restarting')
  h.eq({ first.restarting.attempt, first.restarting.limit }, { 1, 3 }, 'the first of three')
  local row = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("f") }, 80)')[2]
  h.matches(row, '^   restarting %(1/3%) in [01]s · exited with code 3', 'the row says so')
  child.wait('local r = require("lulu").get("f"); return r.restarting and r.restarting.attempt == 2', 5000, 'again')
  local last = child.wait(
    'local r = require("lulu").get("f"); return r.failure_reason:find("gave up", 1, true) and r',
    15000,
    'gave up'
  )
  h.eq(last.restarting, nil, 'no restart to come')
  h.eq(last.failure_reason, 'exited with code 3; gave up after 3 restarts in an hour', 'the reason says why')
  local history = child.lua([[
    return vim.tbl_map(function(e) return e.detail end, vim.tbl_filter(function(e)
      return e.kind == 'restart'
    end, require("lulu").detail("f").events))
  ]])
  h.eq(#history, 4, 'each attempt in the history: ' .. vim.inspect(history))
  h.matches(history[1], 'failed %(exited with code 3%); restart 1/3 after 1s$', 'the first')
  h.matches(history[2], 'restart 2/3 after 2s$', 'a longer wait')
  h.matches(history[3], 'restart 3/3 after 4s$', 'longer still')
  h.eq(history[4], 'gave up after 3 restarts in an hour', 'and the end')

  -- Stopped by the user: it completes and stays so.
  child.setup({ agents = { steady = { cmd = { '/bin/sh', '-c', 'sleep 30' }, restart = 'on-failure' } } })
  child.lua('require("lulu").start({ agent = "steady", name = "s", worktree = false })')
  child.wait('return require("lulu").get("s").status == "running"', 5000, 's running')
  child.lua('require("lulu").stop("s")')
  child.wait('return require("lulu").get("s").status == "completed"', 5000, 'stopped')
  vim.wait(1500)
  h.eq(child.lua('return require("lulu").get("s").restarting'), vim.NIL, 'not restarted')
  h.eq(child.lua('return require("lulu").get("s").status'), 'completed', 'still completed')
end

T['a session over its memory limit fails saying so; a limited one shows what it uses'] = function(child)
  local bin = os.getenv('LULU_BIN')
  local mechanism = vim.trim(vim.system({ bin, 'limits-info' }, { text = true }):wait().stdout or '')
  if not mechanism:find('memory', 1, true) or mechanism:find('^setrlimit') then
    h.skip('no cgroup with a memory controller lulu may write here: ' .. mechanism)
  end
  local hog = 'x = bytearray(300 * 1024 * 1024); import time; time.sleep(10)'
  child.setup({
    agents = {
      hog = { cmd = { 'python3', '-c', hog }, limits = { memory = '64M' } },
      calm = { cmd = { '/bin/sh', '-c', 'sleep 30' }, limits = { memory = '64M', pids = 64 } },
    },
  })
  child.lua('require("lulu").start({ agent = "hog", name = "hog", worktree = false })')
  local hogged =
    child.wait('local r = require("lulu").get("hog"); return r.status == "failed" and r', 10000, 'the hog fails')
  h.eq(hogged.failure_reason, 'memory limit (64M) reached', 'saying why (' .. mechanism .. ')')

  child.lua('require("lulu").start({ agent = "calm", name = "calm", worktree = false })')
  child.wait('return require("lulu").get("calm").memory ~= nil', 5000, 'its memory counted')
  local row = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("calm") }, 100)')[2]
  h.matches(row, 'mem %d+ [KM]iB/64M', 'the row shows use and limit')
  local detail = child.lua('return require("lulu.ui.detail").lines(require("lulu").detail("calm"))')
  h.matches(table.concat(detail, '\n'), 'limits: memory 64M, pids 64 · using ', 'K shows them')
end

return T
