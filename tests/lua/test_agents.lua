-- What agents report besides questions: cost from the transcript, and
-- "waiting for you" from their hooks. The fake claude writes its transcript
-- and runs its hooks as Claude Code does.
local h = require('harness')
local T = h.new_set()

local function setup(child)
  child.setup({ agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } } })
  child.capture_notify()
end

local function claude(child, name)
  local s = child.lua('return require("lulu").start({ agent = "claude", name = ... })', name)
  child.wait('return require("lulu").get(...).status == "running"', 5000, name .. ' running', s.id)
  return s
end

T['cost and tokens come from the transcript, each message once'] = function(child)
  setup(child)
  claude(child, 'c')
  h.eq(child.lua('return require("lulu").get("c").cost_usd'), vim.NIL, 'no cost before any usage')
  child.lua('require("lulu").send("c", "hello")')
  -- 1000 input + 100 output tokens of claude-sonnet-4-5 at $3/$15 per million.
  child.wait('return require("lulu").get("c").cost_usd == 0.0045', 3000, 'cost of one turn')
  h.eq(
    child.lua('return require("lulu").get("c").tokens'),
    { input = 1000, output = 100, cache_write = 0, cache_read = 0 },
    'tokens'
  )
  child.lua('require("lulu").send("c", "again")')
  child.wait('return require("lulu").get("c").cost_usd == 0.009', 3000, 'two turns, each line pair counted once')
  local lines = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("c") }, 70)')
  h.matches(lines[1], '%$0%.009  %d+s $', 'cost in the list row')
  -- A price override re-prices the tokens already counted, and what follows.
  child.setup({
    agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } },
    cost = { prices = { ['claude-sonnet-4-5'] = { input = 10, output = 100, cache_write = 0, cache_read = 0 } } },
  })
  child.wait('return require("lulu").get("c").cost_usd == 0.04', 3000, 'two turns re-priced: 2 * 0.02')
  child.lua('require("lulu").send("c", "priced")')
  child.wait('return require("lulu").get("c").cost_usd == 0.06', 3000, 'and the third: 0.04 + 0.02')
  -- A shell has no usage source: no cost, never a guess.
  local sh = child.lua('return require("lulu").start({ agent = "shell", args = { "-c", "sleep 5" } })')
  vim.wait(1500)
  h.eq(child.lua('return require("lulu").get(...).cost_usd', sh.id), vim.NIL, 'shell shows no cost')
end

T['cost and the conversation are kept across a daemon stop and a new Neovim; :LuluResume continues it'] = function(
  child
)
  local bin = os.getenv('LULU_BIN')
  child.defer(function()
    vim.system({ bin, 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
  local opts = { host = { mode = 'daemon' }, agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } } }
  child.setup(opts)
  child.capture_notify()
  local s = claude(child, 'r')
  child.lua('require("lulu").send("r", "hello")')
  child.wait('return require("lulu").get("r").cost_usd == 0.0045', 3000, 'cost of one turn')
  local conversation = child.wait('return require("lulu").get("r").conversation', 3000, 'the conversation id')
  child.lua('require("lulu").send("r", "/exit")')
  child.wait('return require("lulu").get("r").status == "completed"', 5000, 'r ended')

  child.cmd('LuluDaemon stop')
  h.eq(child.lua('return require("lulu").get("r").cost_usd'), 0.0045, 'kept by the next daemon')

  local other = h.child({ env = child.env })
  child.defer(other.stop)
  other.setup(opts)
  other.capture_notify()
  local again = other.lua('return require("lulu").get("r")')
  h.eq({ again.cost_usd, again.conversation, again.tokens.input }, { 0.0045, conversation, 1000 }, 'in a new Neovim')
  h.eq(other.lua('return require("lulu.commands").complete_resumable("")'), { 'r' }, 'completes ended sessions')
  local detail = other.lua('return require("lulu.ui.detail").lines(require("lulu").detail("r"))')
  h.matches(table.concat(detail, '\n'), 'conversation: ' .. vim.pesc(conversation) .. ' %(:LuluResume r%)', 'K says so')

  other.cmd('LuluResume r')
  local resumed = other.wait('return require("lulu").get("r").status == "running" and require("lulu").get("r")', 5000)
  h.ok(resumed.id ~= s.id, 'a new session of the same name')
  h.eq(resumed.conversation, conversation, 'the same conversation')
  h.eq(resumed.cost_usd, 0.0045, 'its cost so far is shown at once')
  other.wait_screen(
    resumed.id,
    vim.pesc('resumed conversation ' .. conversation .. ' after 1 turn'),
    5000,
    'the agent resumed it'
  )
  h.eq(other.lua('return vim.b.lulu_session'), resumed.id, 'its terminal is open')
  other.cmd('stopinsert')
  other.lua('require("lulu").send("r", "more")')
  other.wait('return require("lulu").get("r").cost_usd == 0.009', 3000, 'both turns, each once')

  -- What cannot be resumed says why.
  other.cmd('LuluResume r')
  local notes = other.lua('return _G.notes')
  h.matches(notes[#notes].msg, "session 'r' is still running; resume is for an ended session", 'a live one')
  local sh = other.lua('return require("lulu").start({ agent = "shell", name = "sh", args = { "-c", "exit 0" } })')
  other.wait('return require("lulu").get(...).status == "completed"', 5000, 'sh ended', sh.id)
  other.cmd('LuluResume sh')
  notes = other.lua('return _G.notes')
  h.matches(
    notes[#notes].msg,
    'never named its conversation, so there is none to resume; :LuluStart it afresh',
    'a shell'
  )
  local err = other.lua([[
    local ok, err = pcall(require("lulu").start, { agent = "shell", name = "x", resume = "abc" })
    return err
  ]])
  h.matches(err, 'shell cannot resume a conversation', 'the host refuses resume= for an agent without one')
end

T['tokens of a model with no price show no cost, never $0'] = function(child)
  child.setup({
    agents = { claude = { cmd = { h.root .. '/tests/fake-claude' }, env = { FAKE_CLAUDE_MODEL = 'mystery-9' } } },
  })
  claude(child, 'm')
  child.lua('require("lulu").send("m", "hello")')
  child.wait('return require("lulu").get("m").tokens ~= nil', 3000, 'tokens counted')
  h.eq(child.lua('return require("lulu").get("m").cost_usd'), vim.NIL, 'no cost')
  h.eq(child.lua('return require("lulu").get("m").tokens.input'), 1000, 'input tokens')
  local lines = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("m") }, 70)')
  h.ok(not lines[1]:find('%$'), 'no cost in the list row: ' .. lines[1])
  local detail = child.lua('return require("lulu.ui.detail").lines(require("lulu").detail("m"))')
  h.matches(
    table.concat(detail, '\n'),
    'cost: no price for its model %(cost.prices%) · tokens in 1000',
    'the detail says why'
  )
end

T['Stop and Notification mark a session waiting; typing clears it; :LuluNext jumps there'] = function(child)
  setup(child)
  local a = claude(child, 'a')
  local b = claude(child, 'b')
  child.lua('require("lulu").open("a")')
  child.cmd('stopinsert')
  child.lua('require("lulu").send("b", "done yet?")')
  child.wait('return require("lulu").get("b").waiting == true', 3000, 'b waits after its turn (Stop)')
  h.eq(child.lua('return require("lulu").get("a").waiting'), vim.NIL, 'a does not')
  child.wait('return require("lulu").get("b").cost_usd ~= nil', 3000, 'b has a cost')
  local lines = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("b") }, 70)')
  h.matches(lines[1], '◆ waiting  %$0%.00%d  %d+s $', 'list row')
  h.matches(child.lua('return require("lulu.ui.grid").winbar(require("lulu").get("b"))'), '◆ waiting', 'winbar')
  local notes = child.lua('return _G.notes')
  h.eq(notes[#notes].msg, 'lulu: b is waiting for you (:LuluNext)', 'told, since b is not on screen')
  child.cmd('LuluNext')
  h.eq(child.lua('return vim.b.lulu_session'), b.id, ':LuluNext opened b')
  child.cmd('stopinsert')
  child.lua('require("lulu").send("b", "notify: Claude needs your permission")')
  -- Typing clears waiting; the Notification sets it again.
  child.wait('return require("lulu").get("b").waiting == true', 3000, 'Notification marks waiting')
  child.lua('require("lulu").send("a", "hi")')
  child.wait('return require("lulu").get("a").waiting == true', 3000, 'a waits too')
  child.cmd('LuluNext')
  h.eq(child.lua('return vim.b.lulu_session'), a.id, 'the next one after b is a')
  -- Typing (even without Enter) means the user is on it.
  child.lua('vim.rpcnotify(require("lulu.host").ensure(), "lulu.session_write", ..., "abc")', a.id)
  child.wait('return require("lulu").get("a").waiting == nil', 3000, 'typing clears waiting')
end

T['an ended session waits for no one: stopping clears waiting and settles its questions'] = function(child)
  setup(child)
  claude(child, 'w')
  child.lua('require("lulu").send("w", "done yet?")')
  child.wait('return require("lulu").get("w").waiting == true', 3000, 'w waits after its turn')
  child.lua([[
    _G.outcomes = {}
    local approvals = require('lulu.approvals')
    local resolved = approvals.resolved
    approvals.resolved = function(id, outcome)
      table.insert(_G.outcomes, outcome)
      return resolved(id, outcome)
    end
  ]])
  child.lua('require("lulu").send("w", "run: echo never")')
  child.wait('return #require("lulu").approvals() == 1', 5000, 'a question pending')
  child.lua('require("lulu").stop("w")')
  child.wait('return require("lulu").get("w").status == "completed"', 5000, 'stopped')
  local w = child.lua('return require("lulu").get("w")')
  h.ok(not w.waiting and not w.waiting_source, 'not waiting')
  h.eq(w.pending_approvals, 0, 'nothing pending')
  h.eq(child.lua('return require("lulu").approvals()'), {}, 'no question left')
  h.eq(child.lua('return _G.outcomes'), { 'session ended' }, 'settled as ended')
  local row = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("w") }, 70)[1]')
  h.ok(not row:find('waiting'), 'the row says nothing of waiting: ' .. row)
  child.cmd('LuluNext')
  h.ok(child.lua('return vim.b.lulu_session') ~= w.id, ':LuluNext does not go there')
end

T['a multi-line send reaches the stand-in claude as a paste, with no markers on its screen'] = function(child)
  setup(child)
  local s = claude(child, 'p')
  child.wait_screen(s.id, 'permission mode', 5000, 'ready for input')
  child.lua('require("lulu").send("p", ...)', 'first line\nsecond line')
  child.wait_screen(s.id, 'I heard: second line', 5000, 'both lines arrived')
  h.ok(not child.screen(s.id):find('%^%[%[20[01]~'), 'no ^[[200~ on the screen:\n' .. child.screen(s.id))
end

T['an agent added from config alone runs with its command, args and env'] = function(child)
  child.setup({
    agents = {
      aider = { cmd = { '/bin/sh', '-c' }, args = { 'echo aider-ran-with-$AIDER_MODEL' }, env = { AIDER_MODEL = 'm1' } },
    },
  })
  child.run('LuluStart aider name=ai')
  child.wait(
    'return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\\n"):find("aider%-ran%-with%-m1")',
    5000,
    'the configured agent ran'
  )
  child.wait('return require("lulu").get("ai").status == "completed"', 5000, 'and completed')
  h.eq(child.lua('return require("lulu").get("ai").cost_usd'), vim.NIL, 'no usage source, no cost')
  h.ok(
    vim.tbl_contains(child.lua('return vim.fn.getcompletion("LuluStart ", "cmdline")'), 'aider'),
    'completes as an agent'
  )
end

return T
