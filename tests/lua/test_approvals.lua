-- Approvals end to end: the fake claude runs lulu's hook command from its
-- --settings file exactly as Claude Code does; rules and the user answer.
local h = require('harness')
local T = h.new_set()

local function setup(child)
  child.setup({ agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } } })
  child.capture_notify()
  child.fake_select()
end

local function claude(child, name)
  local s = child.lua('return require("lulu").start({ agent = "claude", name = ... })', name)
  child.lua('require("lulu").buffer(...)', s.id)
  child.wait('return require("lulu").get(...).status == "running"', 5000, name .. ' running', s.id)
  return s
end

local function wait_screen(child, id, pattern, what)
  child.wait_screen(id, pattern, 8000, what)
end

local function pending(child)
  return child.lua('return require("lulu").approvals()')
end

T['an allow rule answers without a prompt'] = function(child)
  setup(child)
  child.lua('require("lulu").add_rule({ action = "allow", tool = "Bash", command = "^echo " })')
  local s = claude(child, 'a')
  child.lua('require("lulu").send("a", "run: echo allowed-by-rule")')
  wait_screen(child, s.id, '⎿ allowed%-by%-rule', 'the command ran')
  h.eq(child.lua('return _G.prompts'), {}, 'no prompt')
  h.eq(pending(child), {}, 'nothing pending')
  local history = child.lua('return require("lulu").approvals({ history = true })')
  h.eq(history[1].decision, 'allow', 'recorded decision')
  h.eq(history[1].decided_by, 'rule:1', 'decided by the rule')
  h.eq(history[1].summary, 'echo allowed-by-rule', 'summary')
end

T['a deny rule blocks with its reason'] = function(child)
  setup(child)
  child.lua('require("lulu").add_rule({ action = "deny", command = "rm\\\\s+-rf", reason = "no rm -rf in here" })')
  local s = claude(child, 'd')
  child.lua('require("lulu").send("d", "run: rm -rf build")')
  wait_screen(child, s.id, 'denied by hook: no rm %-rf in here', 'denied with the reason')
  h.eq(child.lua('return _G.prompts'), {}, 'no prompt')
end

T['an unmatched request asks the user, and the answer reaches the agent'] = function(child)
  setup(child)
  local s = claude(child, 'u')
  child.lua('require("lulu").send("u", "run: echo asked > asked.txt")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'a pending approval')
  -- The list row shows it.
  child.wait('return require("lulu.sessions").find("u").pending_approvals == 1', 3000, 'pending count on the record')
  local lines = child.lua('return require("lulu.ui.list").layout({ require("lulu.sessions").find("u") }, 60)')
  h.matches(lines[1], '⚠ 1  %d+s $', 'list marker')
  local notes = child.lua('return _G.notes')
  h.matches(notes[#notes].msg, '^lulu: u asks to use Bash: echo asked > asked%.txt', 'notification')
  child.lua('_G.answer = "Allow once"')
  child.cmd('LuluApprove')
  wait_screen(child, s.id, '⎿ %(exit 0%)', 'the command ran')
  h.ok(vim.uv.fs_stat(child.cwd .. '/asked.txt'), 'its file exists')
  h.matches(
    child.lua('return _G.prompts[1]'),
    '^u · Bash: echo asked > asked%.txt',
    'prompt names session, tool and command'
  )
  h.eq(pending(child), {}, 'nothing pending')
  h.eq(child.lua('return require("lulu.sessions").find("u").pending_approvals'), 0, 'count back to 0')

  child.lua('require("lulu").send("u", "run: echo nope")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'second approval')
  child.lua('_G.answer = "Deny"')
  child.cmd('LuluApprove')
  wait_screen(child, s.id, 'denied: denied by the user in Neovim', 'deny reached the agent')
  local history = child.lua('return require("lulu").approvals({ history = true })')
  h.eq(history[1].decision, 'deny', 'recorded deny')
  h.matches(history[1].decided_by, '^user %(editor %d+%)$', 'by the user, naming the editor')
  h.eq(history[2].decision, 'allow', 'recorded allow')
  h.matches(history[2].decided_by, '^user', 'by the user')
end

T['Always allow adds a rule that answers the next identical request'] = function(child)
  setup(child)
  local s = claude(child, 'al')
  child.lua('require("lulu").send("al", "run: echo again")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'a pending approval')
  child.lua('_G.answer = "Always allow"')
  child.cmd('LuluApprove')
  wait_screen(child, s.id, '⎿ again', 'first run')
  local rules = child.lua('return require("lulu").rules()')
  h.eq(#rules, 1, 'one rule added')
  h.eq(
    { rules[1].action, rules[1].tool, rules[1].argv },
    { 'allow', 'Bash', { 'echo', 'again' } },
    'the rule: its exact words'
  )
  child.lua('require("lulu").send("al", "run: echo again")')
  h.wait_for(function()
    local _, n = child.screen(s.id):gsub('⎿ again', '')
    return n == 2
  end, 8000, 'second run without a prompt')
  h.eq(#child.lua('return _G.prompts'), 1, 'asked once only')
  -- A different command is still asked.
  child.lua('require("lulu").send("al", "run: echo other")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'other command pending')
end

T['two sessions get their own answers'] = function(child)
  setup(child)
  local a = claude(child, 'left')
  local b = claude(child, 'right')
  child.lua('require("lulu").send("left", "run: echo from-left")')
  child.lua('require("lulu").send("right", "run: echo from-right")')
  child.wait('return #require("lulu").approvals() == 2', 8000, 'two pending')
  local list = pending(child)
  local by_session = {}
  for _, p in ipairs(list) do
    by_session[p.session_name] = p
  end
  h.eq(by_session.left.session_id, a.id, 'left asks for left')
  h.eq(by_session.right.summary, 'echo from-right', 'right asks for right')
  -- Deny the right one first, then allow the left one.
  child.lua('require("lulu").decide(...)', by_session.right.id, 'deny')
  child.lua('require("lulu").decide(...)', by_session.left.id, 'allow')
  wait_screen(child, a.id, '⎿ from%-left', 'left ran')
  wait_screen(child, b.id, 'denied: denied by the user', 'right denied')
  h.ok(not child.screen(a.id):find('denied'), 'left saw no denial')
  h.ok(not child.screen(b.id):find('⎿ from%-right'), 'right did not run')
end

T['invalid rules are refused with the parser message'] = function(child)
  setup(child)
  local cases = {
    { { action = 'allow', path = 'src/[' }, 'invalid path glob "src/%[": unclosed character class' },
    { { action = 'allow', command = '(' }, 'invalid command regex "%("' },
    { { action = 'maybe', tool = 'Bash' }, 'unknown variant `maybe`' },
    { { action = 'allow' }, 'a rule needs at least one of' },
    { { action = 'allow', colour = 'red' }, 'unknown field `colour`' },
  }
  for _, case in ipairs(cases) do
    local result = child.lua('return { pcall(require("lulu").add_rule, ...) }', case[1])
    h.eq(result[1], false, vim.inspect(case[1]))
    h.matches(result[2], case[2], vim.inspect(case[1]))
  end
  h.eq(child.lua('return require("lulu").rules()'), {}, 'nothing stored')
end

local HOOK_INPUT = vim.json.encode({
  session_id = 'x',
  transcript_path = '/tmp/x.jsonl',
  cwd = '/tmp',
  hook_event_name = 'PermissionRequest',
  permission_mode = 'default',
  tool_name = 'Bash',
  tool_input = { command = 'echo sneaky' },
})

local function run_hook(env)
  local t0 = vim.uv.hrtime()
  local result = vim.system({ os.getenv('LULU_BIN'), 'hook', 'claude' }, { env = env, stdin = HOOK_INPUT }):wait()
  return result, (vim.uv.hrtime() - t0) / 1e6
end

T['a hook with a wrong token is refused and logged'] = function(child)
  setup(child)
  local s = claude(child, 'tok')
  local socket = ('%s/lulu/host-%d.sock'):format(
    child.env.XDG_RUNTIME_DIR,
    child.lua('return require("lulu.host").pid()')
  )
  h.ok(vim.uv.fs_stat(socket), 'socket in $XDG_RUNTIME_DIR/lulu')
  local result = run_hook({ LULU_SOCKET = socket, LULU_SESSION = s.id, LULU_TOKEN = ('0'):rep(32) })
  h.eq({ result.code, result.stdout }, { 0, '' }, 'no opinion printed')
  h.eq(pending(child), {}, 'nothing raised')
  local log = io.open(child.env.XDG_STATE_HOME .. '/nvim/lulu/host.log'):read('*a')
  h.matches(log, 'hook with a wrong token refused', 'logged')
  h.ok(not log:find(('0'):rep(32)), 'the token is not logged')
  -- The socket is private.
  local stat = vim.uv.fs_stat(socket)
  h.eq(bit.band(stat.mode, 511), 384, 'socket mode 0600')
  h.eq(bit.band(vim.uv.fs_stat(vim.fs.dirname(socket)).mode, 511), 448, 'directory mode 0700')
end

T['with the host gone the hook answers at once with no opinion'] = function(child)
  setup(child)
  local s = claude(child, 'gone')
  local host = child.lua('return require("lulu.host").pid()')
  local socket = ('%s/lulu/host-%d.sock'):format(child.env.XDG_RUNTIME_DIR, host)
  vim.uv.kill(host, 'sigkill')
  h.wait_for(function()
    return not h.alive(host)
  end, 3000, 'host gone')
  local result, ms = run_hook({ LULU_SOCKET = socket, LULU_SESSION = s.id, LULU_TOKEN = 'whatever' })
  h.eq({ result.code, result.stdout }, { 0, '' }, 'no opinion printed')
  h.ok(ms < 1000, ('answered in %d ms'):format(ms))
  -- Outside lulu (no LULU_* variables) it has no opinion either.
  result = run_hook({})
  h.eq({ result.code, result.stdout }, { 0, '' }, 'outside lulu')
end

T['an unanswered question times out to the agent own dialog'] = function(child)
  child.setup({ agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } }, approvals = { timeout = 1 } })
  child.capture_notify()
  local s = claude(child, 'slow')
  child.lua('require("lulu").send("slow", "run: echo late")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'pending')
  -- Nobody answers: after the timeout the agent shows its own dialog.
  wait_screen(child, s.id, 'Do you want to proceed%?', 'terminal dialog')
  h.eq(pending(child), {}, 'no longer pending')
  local history = child.lua('return require("lulu").approvals({ history = true })')
  h.eq({ history[1].decision, history[1].decided_by }, { 'ask', 'timeout' }, 'recorded as a timeout')
  -- Answered in the agent's own dialog.
  child.lua('require("lulu").send("slow", "1")')
  wait_screen(child, s.id, '⎿ late', 'ran after the terminal answer')
end

T['a question withdrawn by the agent leaves the queue'] = function(child)
  setup(child)
  local s = claude(child, 'w')
  child.lua('require("lulu").send("w", "run: echo wait")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'pending')
  -- The agent dies while asking: its hook hangs up, the question goes.
  child.lua('require("lulu").stop(..., { force = true })', s.id)
  child.wait('return #require("lulu").approvals() == 0', 5000, 'withdrawn')
  child.wait('return #require("lulu.approvals").pending() == 0', 2000, 'editor queue empty')
end

T[':LuluRules lists, adds, moves and removes rules; JSON round trip'] = function(child)
  setup(child)
  child.lua('require("lulu").add_rule({ action = "allow", tool = "Read" })')
  child.lua([[require("lulu").add_rule({ action = "deny", command = "rm -rf", reason = "it's dangerous" })]])
  child.cmd('LuluRules')
  local lines = child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)')
  h.matches(lines[1], '^lulu rules', 'header')
  h.eq(lines[2], '1. #1  allow  tool=Read', 'rule 1, tried first')
  h.eq(lines[3], [[2. #2  deny   command='rm -rf'  reason='it'\''s dangerous']], 'rule 2, quoted')
  -- Each line parses back to its rule.
  local parsed = child.lua('return require("lulu.ui.rules").parse(...)', lines[3]:gsub('^%d+%. #%d+%s+', ''))
  h.eq(parsed, { action = 'deny', command = 'rm -rf', reason = "it's dangerous" }, 'round trip')
  -- J moves rule 1 below rule 2.
  child.lua('vim.api.nvim_win_set_cursor(0, { 2, 0 }) vim.api.nvim_input("J")')
  child.wait('return vim.api.nvim_buf_get_lines(0, 1, 2, false)[1]:find("^1%. #2")', 2000, 'moved')
  h.eq(child.lua('return vim.tbl_map(function(r) return r.id end, require("lulu").rules())'), { 2, 1 }, 'order')
  -- a adds below the cursor (typed through vim.ui.input).
  child.lua([[vim.ui.input = function(_, cb) cb("ask tool=/^Web/") end]])
  child.lua('vim.api.nvim_input("a")')
  child.wait('return #vim.api.nvim_buf_get_lines(0, 0, -1, false) == 4', 2000, 'added')
  -- A rule for a whole tool warns with its id and where it is tried.
  child.capture_notify()
  child.lua([[vim.ui.input = function(_, cb) cb("allow tool=Bash") end]])
  child.lua('vim.api.nvim_win_set_cursor(0, { 2, 0 }) vim.api.nvim_input("a")')
  child.wait('return #_G.notes > 0', 2000, 'the warning')
  h.matches(
    child.lua('return _G.notes[1].msg'),
    '^lulu: rule #4 %(tried 2 of 4%) allows every Bash call',
    'the id and the order, not a table'
  )
  child.lua('vim.api.nvim_win_set_cursor(0, { 3, 0 }) vim.api.nvim_input("d")')
  child.wait('return #require("lulu").rules() == 3', 2000, 'removed again')
  -- Export, delete all, import.
  local file = child.dir .. '/rules.json'
  child.cmd('LuluRules export ' .. file)
  local exported = vim.json.decode(io.open(file):read('*a'))
  h.eq(#exported, 3, 'exported')
  h.eq(exported[1].id, nil, 'ids are not exported')
  child.lua('vim.api.nvim_win_set_cursor(0, { 2, 0 }) vim.api.nvim_input("ddd")')
  child.wait('return #require("lulu").rules() == 0', 2000, 'all deleted')
  child.cmd('LuluRules import ' .. file)
  local rules = child.lua('return require("lulu").rules()')
  h.eq(#rules, 3, 'imported')
  h.eq(rules[3].tool, '/^Web/', 'order kept')
end

T['"Always deny" offers only the parts no rule allows'] = function(child)
  setup(child)
  child.lua('require("lulu").add_rule({ action = "allow", tool = "Bash", command = "^ls( |$)" })')
  claude(child, 'ad')
  child.lua('require("lulu").send("ad", "run: ls && rm -rf build")')
  child.wait('return #require("lulu").approvals() == 1', 8000, 'asked')
  local question = child.lua('return require("lulu").approvals()[1]')
  h.eq(question.always_deny, 'Bash `rm -rf build`', 'ls is not offered for denial')
  child.lua('require("lulu").decide(..., "always_deny")', question.id)
  child.wait('return #require("lulu").rules() == 2', 5000, 'the deny rule added')
  local rules = child.lua('return require("lulu").rules()')
  h.eq({ rules[1].action, rules[1].argv }, { 'deny', { 'rm', '-rf', 'build' } }, 'only rm, first')
end

T['<leader>aa is mapped to <Plug>(lulu-approve) unless taken'] = function(child)
  h.eq(child.lua('return vim.fn.maparg("<leader>aa", "n")'), '<Plug>(lulu-approve)', 'default map')
  child.lua('require("lulu").setup({ keys = { approve = "<leader>x" } })')
  h.eq(child.lua('return vim.fn.maparg("<leader>x", "n")'), '', 'not twice: <Plug> already mapped')
end

return T
