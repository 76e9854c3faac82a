-- The real agent CLIs (pinned, scripts/install-agents) through lulu, offline
-- against a scripted model server: lulu's hooks, approvals, waiting signal
-- and cost, proven against the tools users run. Skipped, loudly, only when
-- the CLIs could not be installed.
local h = require('harness')
local agents = require('real_agents')
local T = h.new_set()

-- Priced by a configured table, so the figures do not depend on defaults.
local PRICES = {
  ['claude'] = { input = 3, output = 15, cache_write = 0, cache_read = 0 },
  ['gpt-5'] = { input = 2, output = 8, cache_write = 0, cache_read = 0.5 },
  ['gemini'] = { input = 2, output = 8, cache_write = 0, cache_read = 0.5 },
}

local function repo(child)
  return h.repo(child.cwd)
end

local function setup(child, name, config)
  child.setup({ agents = { [name] = config }, cost = { prices = PRICES } })
  child.capture_notify()
  child.fake_select()
end

--- Start `agent` as `name`, shown in a window, and wait for its input prompt.
local function start(child, agent, name, ready)
  local s =
    child.lua('local agent, name = ...; return require("lulu").start({ agent = agent, name = name })', agent, name)
  child.lua('require("lulu").open(...)', s.id)
  child.cmd('stopinsert')
  child.wait_screen(s.id, ready, 20000, name .. ' ready for input')
  return s
end

local function pending(child)
  return child.lua('return require("lulu").approvals()')
end

--- Answer the oldest pending approval the way the user does: :LuluApprove.
local function answer(child, label)
  child.lua('_G.answer = ...', label)
  child.cmd('LuluApprove')
end

local function exists(path)
  return vim.uv.fs_stat(path) ~= nil
end

--- After an allowed tool call made `file`: the file in the session's
--- worktree, the model's `final` text on screen, the session waiting (Stop),
--- and its cost and tokens as priced from its own usage records.
local function ran_and_cost(child, s, file, final, cost, tokens)
  local worktree = child.lua('return require("lulu").get(...).worktree', s.id)
  h.wait_for(function()
    return exists(worktree .. '/' .. file)
  end, 15000, 'the command ran in the worktree')
  h.ok(not exists(child.cwd .. '/' .. file), 'not in the main checkout')
  child.wait_screen(s.id, final, 15000, 'the final text')
  child.wait('return require("lulu").get(...).waiting == true', 10000, 'Stop marks the session waiting', s.id)
  child.wait('return require("lulu").get(...).cost_usd == ' .. cost, 10000, 'the cost', s.id)
  h.eq(child.lua('return require("lulu").get(...).tokens', s.id), tokens, 'tokens')
  return worktree
end

--- In an open review: make the "after" side hold `lines` (the user's edit).
local function edit_after(child, lines)
  child.lua(
    [[
    for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
      if vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(win)):find('/after/', 1, true) then
        vim.api.nvim_set_current_win(win)
      end
    end
    vim.api.nvim_buf_set_lines(0, 0, -1, false, ...)
  ]],
    lines
  )
end

local function tool_results(server)
  local results = {}
  for _, r in ipairs(server.requests()) do
    for _, message in ipairs(type(r.body) == 'table' and r.body.messages or {}) do
      for _, block in ipairs(type(message.content) == 'table' and message.content or {}) do
        if block.type == 'tool_result' then
          results[block.tool_use_id] = block
        end
      end
    end
  end
  return results
end

local function text_of(block)
  if type(block.content) == 'string' then
    return block.content
  end
  return table.concat(
    vim.tbl_map(function(c)
      return c.text or ''
    end, block.content or {}),
    ' '
  )
end

T['claude: Allow in Neovim runs the tool; Stop marks waiting; cost from its transcript; /exit completes'] = function(
  child
)
  repo(child)
  local server = agents.model(child, {
    {
      tool = { name = 'Bash', input = { command = 'touch made-by-claude', description = 'Make the file' } },
      usage = { input = 1000, output = 100 },
    },
    { text = 'All done here.', usage = { input = 1200, output = 20 } },
  })
  setup(child, 'claude', agents.claude(child, server, child.cwd))
  local s = start(child, 'claude', 'c', 'for shortcuts')
  child.lua('require("lulu").send("c", "please make the file")')
  child.wait('return #require("lulu").approvals() == 1', 15000, 'the PermissionRequest reaches Neovim')
  local question = pending(child)[1]
  h.eq({ question.session_name, question.tool }, { 'c', 'Bash' }, 'who asks for what')
  h.matches(question.summary, 'touch made%-by%-claude', 'the command is shown')
  h.eq(child.lua('return require("lulu").get("c").pending_approvals'), 1, '⚠ count')
  answer(child, 'Allow once')
  -- (1000 + 1200) input and (100 + 20) output tokens at $3/$15 per million,
  -- each message counted once although claude writes it once per block.
  ran_and_cost(child, s, 'made-by-claude', 'All done here%.', 0.0084, {
    input = 2200,
    output = 120,
    cache_write = 0,
    cache_read = 0,
  })
  local decided = child.lua('return require("lulu").approvals({ history = true })')[1]
  h.eq(decided.decision, 'allow', 'recorded')
  h.matches(decided.decided_by, '^user %(editor %d+%)', 'by the user')
  h.matches(decided.tool_use_id, '^toolu_', 'paired with its PreToolUse')
  local turns = server.turns()
  h.eq(#turns, 2, 'two scripted turns')
  local result = tool_results(server)[decided.tool_use_id]
  h.ok(result and result.is_error ~= true, 'the model got the tool result')
  child.lua('require("lulu").send("c", "/exit")')
  child.wait('return require("lulu").get("c").status == "completed"', 15000, '/exit completes the session')
  -- As it exits, claude writes its own total (cost-state): that figure, at
  -- its own price for claude-opus-5-5 ($4/$20), wins over cost.prices.
  child.wait('return require("lulu").get("c").cost_usd == 0.0112', 5000, 'claude’s own figure')
end

T['claude in a bwrap sandbox: its question reaches Neovim through the hook socket; Allow runs it in the worktree; the home is read-only'] = function(
  child
)
  repo(child)
  local server = agents.model(child, {
    {
      tool = {
        name = 'Bash',
        input = { command = 'touch made-in-box && (touch ~/escaped || echo home-is-read-only)', description = 'Try' },
      },
      usage = { input = 1000, output = 100 },
    },
    { text = 'Boxed and done.', usage = { input = 1200, output = 20 } },
  })
  local config = agents.claude(child, server, child.cwd)
  config.sandbox = 'bwrap'
  setup(child, 'claude', config)
  local s = start(child, 'claude', 'c', 'for shortcuts')
  h.eq(child.lua('return require("lulu").get("c").sandbox.backend'), 'bwrap', 'sandboxed')
  child.lua('require("lulu").send("c", "please try")')
  child.wait('return #require("lulu").approvals() == 1', 15000, 'the PermissionRequest reaches Neovim')
  answer(child, 'Allow once')
  local worktree = ran_and_cost(child, s, 'made-in-box', 'Boxed and done%.', 0.0084, {
    input = 2200,
    output = 120,
    cache_write = 0,
    cache_read = 0,
  })
  h.ok(exists(worktree .. '/made-in-box'), 'the worktree is writable')
  h.ok(not exists(child.env.HOME .. '/escaped'), 'the home is not')
  local decided = child.lua('return require("lulu").approvals({ history = true })')[1]
  local result = tool_results(server)[decided.tool_use_id]
  h.matches(text_of(result), 'home%-is%-read%-only', 'the model was told')
  child.lua('require("lulu").send("c", "/exit")')
  child.wait('return require("lulu").get("c").status == "completed"', 15000, '/exit completes the session')
end

T['claude: Deny reaches the model; an allow rule answers with no prompt; a timeout leaves its own dialog and Notification marks waiting'] = function(
  child
)
  repo(child)
  local server = agents.model(child, {
    { tool = { name = 'Bash', input = { command = 'touch denied-file' } }, usage = { input = 10, output = 1 } },
    { text = 'Understood, I will not.', usage = { input = 10, output = 1 } },
    { tool = { name = 'Bash', input = { command = 'touch allowed-by-rule' } }, usage = { input = 10, output = 1 } },
    { text = 'Made it by rule.', usage = { input = 10, output = 1 } },
    { tool = { name = 'Bash', input = { command = 'touch nobody-answers' } }, usage = { input = 10, output = 1 } },
  })
  local config = agents.claude(child, server, child.cwd)
  setup(child, 'claude', config)
  local s = start(child, 'claude', 'd', 'for shortcuts')
  local worktree = child.lua('return require("lulu").get("d").worktree')

  child.lua('require("lulu").send("d", "make the denied file")')
  child.wait('return #require("lulu").approvals() == 1', 15000, 'asked')
  answer(child, 'Deny')
  child.wait_screen(s.id, 'Understood, I will not%.', 15000, 'the model answered the denial')
  h.ok(not exists(worktree .. '/denied-file'), 'the denied command did not run')
  local decided = child.lua('return require("lulu").approvals({ history = true })')[1]
  local result = tool_results(server)[decided.tool_use_id]
  h.ok(result and result.is_error == true, 'the model got an error tool result')
  h.matches(text_of(result), 'denied by the user in Neovim', 'with lulu’s message')

  child.lua('require("lulu").add_rule({ action = "allow", tool = "Bash", command = "^touch allowed" })')
  child.lua('require("lulu").send("d", "make the allowed file")')
  child.wait_screen(s.id, 'Made it by rule%.', 15000, 'the rule let it run')
  h.ok(exists(worktree .. '/allowed-by-rule'), 'the file is there')
  h.eq(#pending(child), 0, 'nobody was asked')
  h.eq(#child.lua('return _G.prompts'), 1, 'only the first question was a dialog')
  h.matches(
    child.lua('return require("lulu").approvals({ history = true })[1].decided_by'),
    '^rule:%d+$',
    'recorded as the rule’s'
  )

  -- Nobody answers in Neovim: after the (short) timeout claude shows its own
  -- dialog, and its Notification marks the session waiting.
  child.setup({ agents = { claude = config }, cost = { prices = PRICES }, approvals = { timeout = 1 } })
  child.lua('require("lulu").send("d", "make one more")')
  child.wait('return #require("lulu").approvals() == 1', 15000, 'asked again')
  child.wait('return #require("lulu").approvals() == 0', 5000, 'expired')
  child.wait_screen(s.id, 'Do you want to proceed%?', 10000, 'claude’s own dialog')
  child.wait('return require("lulu").get("d").waiting == true', 15000, 'Notification marks waiting')
end

T['claude: a question answered in its own dialog is settled in Neovim as answered in the agent'] = function(child)
  repo(child)
  local server = agents.model(child, {
    { tool = { name = 'Bash', input = { command = 'touch answered-there' } }, usage = { input = 10, output = 1 } },
    { text = 'Done in the terminal.', usage = { input = 10, output = 1 } },
  })
  setup(child, 'claude', agents.claude(child, server, child.cwd))
  local s = start(child, 'claude', 't', 'for shortcuts')
  child.lua('require("lulu").send("t", "make the file")')
  child.wait('return #require("lulu").approvals() == 1', 15000, 'asked in Neovim')
  local question = pending(child)[1]
  child.wait_screen(s.id, 'Do you want to proceed%?', 15000, 'claude shows its own dialog meanwhile')
  -- The user answers there ("1. Yes"). Claude ignores keys for a moment
  -- after its dialog appears (against a stray keypress), as a user would.
  vim.wait(1000)
  child.lua('require("lulu").send(...)', s.id, '1')
  child.wait_screen(s.id, 'Done in the terminal%.', 15000, 'the tool ran')
  child.wait('return #require("lulu").approvals() == 0', 1000, 'no longer pending in Neovim within a second')
  local decided = child.lua('return require("lulu").approvals({ history = true })')[1]
  h.eq({ decided.decision, decided.decided_by }, { 'allow', 'agent' }, 'recorded as answered in the agent')
  local late = child.lua('return { pcall(require("lulu").decide, ...) }', question.id, 'deny')
  h.eq(late[1], false, 'a later answer is refused')
  h.matches(late[2], 'no longer pending', 'with the reason')
  h.eq(#child.lua('return require("lulu").approvals({ history = true })'), 1, 'and not recorded')
end

T['claude: a Write reviewed in Neovim and accepted with your edit leaves your version; a rejection reaches the model'] = function(
  child
)
  repo(child)
  local worktree = vim.uv.fs_realpath(child.cwd) .. '/.lulu/worktrees/v'
  local server = agents.model(child, {
    {
      tool = { name = 'Write', input = { file_path = worktree .. '/review-me.txt', content = 'from the model\n' } },
    },
    { text = 'Wrote it.' },
    { tool = { name = 'Write', input = { file_path = worktree .. '/other.txt', content = 'no\n' } } },
    { text = 'Fine, I will not.' },
  })
  setup(child, 'claude', agents.claude(child, server, child.cwd))
  child.lua('vim.ui.input = function(_, on_done) on_done(_G.input_answer) end')
  local s = start(child, 'claude', 'v', 'for shortcuts')
  child.lua('require("lulu").send("v", "write the file")')
  child.wait('return #require("lulu").approvals() == 1', 15000, 'the Write question reaches Neovim')
  local question = pending(child)[1]
  h.eq({ question.tool, question.review, question.editable }, { 'Write', true, true }, 'reviewable')
  child.lua('require("lulu").review(...)', question.id)
  edit_after(child, { 'from the model', 'and from me' })
  child.cmd('write')
  child.wait_screen(s.id, 'Wrote it%.', 15000, 'the model went on')
  h.wait_for(function()
    return exists(worktree .. '/review-me.txt')
  end, 5000, 'the file')
  local f = assert(io.open(worktree .. '/review-me.txt', 'rb'))
  h.eq(f:read('*a'), 'from the model\nand from me\n', 'exactly the reviewed version')
  f:close()
  local decided = child.lua('return require("lulu").approvals({ history = true })')[1]
  local result = tool_results(server)[decided.tool_use_id]
  h.ok(result and result.is_error ~= true, 'the agent was told it succeeded: ' .. vim.inspect(result))

  child.lua('require("lulu").send("v", "and the other")')
  child.wait('return #require("lulu").approvals() == 1', 15000, 'asked again')
  child.lua('require("lulu").review(...)', pending(child)[1].id)
  child.lua('_G.input_answer = "write it as markdown instead"; vim.api.nvim_feedkeys("gr", "x", false)')
  child.wait_screen(s.id, 'Fine, I will not%.', 15000, 'the model answered the rejection')
  h.ok(not exists(worktree .. '/other.txt'), 'not written')
  decided = child.lua('return require("lulu").approvals({ history = true })')[1]
  result = tool_results(server)[decided.tool_use_id]
  h.ok(result and result.is_error == true, 'an error tool result')
  h.matches(text_of(result), 'write it as markdown instead', 'with the message')
end

T['claude: an Edit reviewed and changed in Neovim applies exactly as changed'] = function(child)
  repo(child)
  local worktree = vim.uv.fs_realpath(child.cwd) .. '/.lulu/worktrees/ed'
  local file = worktree .. '/shared.txt'
  local server = agents.model(child, {
    { tool = { name = 'Read', input = { file_path = file } } },
    { tool = { name = 'Edit', input = { file_path = file, old_string = 'base', new_string = 'based' } } },
    { text = 'Edited.' },
  })
  setup(child, 'claude', agents.claude(child, server, child.cwd))
  local s = start(child, 'claude', 'ed', 'for shortcuts')
  child.lua('require("lulu").send("ed", "edit the file")')
  child.wait('return #require("lulu").approvals() == 1', 15000, 'the Edit question reaches Neovim')
  local question = pending(child)[1]
  h.eq(question.tool, 'Edit', 'an Edit')
  child.lua('require("lulu").review(...)', question.id)
  edit_after(child, { 'based, and reviewed', 'a line of mine' })
  child.cmd('write')
  child.wait_screen(s.id, 'Edited%.', 15000, 'the model went on')
  local f = assert(io.open(file, 'rb'))
  h.eq(f:read('*a'), 'based, and reviewed\na line of mine\n', 'exactly the reviewed version')
  f:close()
  local decided = child.lua('return require("lulu").approvals({ history = true })')[1]
  h.matches(decided.decided_by, '%(reviewed, edited%)$', 'recorded')
  local result = tool_results(server)[decided.tool_use_id]
  h.ok(result and result.is_error ~= true, 'the agent was told it succeeded: ' .. vim.inspect(result))
end

T['codex: its hooks reach Neovim with no trust prompt and no write to its config; Allow runs; usage from the rollout'] = function(
  child
)
  repo(child)
  local server = agents.model(child, {
    {
      tool = {
        name = 'exec_command',
        input = {
          cmd = 'touch made-by-codex',
          sandbox_permissions = 'require_escalated',
          justification = 'May I create the file?',
        },
      },
      usage = { input = 2000, output = 50, cache_read = 500 },
    },
    { text = 'Codex made it.', usage = { input = 2100, output = 10 } },
    {
      tool = {
        name = 'exec_command',
        input = { cmd = 'touch refused', sandbox_permissions = 'require_escalated', justification = 'And this?' },
      },
    },
    { text = 'Fine, not that one.' },
  })
  local config, home = agents.codex(child, server, child.cwd)
  local before = vim.fn.readfile(home .. '/config.toml')
  setup(child, 'codex', config)
  local s = start(child, 'codex', 'x', 'for shortcuts')
  h.ok(not child.screen(s.id):find('need review'), 'lulu’s hooks are trusted')
  child.lua('require("lulu").send("x", "please make the file")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'the PermissionRequest reaches Neovim')
  local question = pending(child)[1]
  h.eq({ question.session_name, question.tool, question.agent }, { 'x', 'Bash', 'codex' }, 'who asks for what')
  h.matches(question.summary, 'touch made%-by%-codex', 'the command is shown')
  h.matches(question.tool_use_id, '^call_', 'paired with its PreToolUse')
  answer(child, 'Allow once')
  -- 3600 uncached + 500 cached input, 60 output at $2 / $0.5 / $8 per million.
  local worktree = ran_and_cost(child, s, 'made-by-codex', 'Codex made it%.', 0.00793, {
    input = 3600,
    output = 60,
    cache_write = 0,
    cache_read = 500,
  })
  -- Codex writes its own UI state there; trust for lulu's hooks is never
  -- persisted (it came with the command line).
  local after = table.concat(vim.fn.readfile(home .. '/config.toml'), '\n')
  h.eq(after:sub(1, #table.concat(before, '\n')), table.concat(before, '\n'), 'the user’s lines are kept')
  h.ok(not after:find('hooks'), 'no hook or trust entry was written:\n' .. after)

  child.lua('require("lulu").send("x", "and the other one")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'asked again')
  answer(child, 'Deny')
  child.wait_screen(s.id, 'Fine, not that one%.', 15000, 'the model answered the denial')
  h.ok(not exists(worktree .. '/refused'), 'the denied command did not run')
  local last = server.turns()[#server.turns()].body.input
  h.matches(vim.json.encode(last), 'denied by the user in Neovim', 'the model got lulu’s message')
end

T['codex: an allow rule lets a command run with no question'] = function(child)
  repo(child)
  local server = agents.model(child, {
    {
      tool = {
        name = 'exec_command',
        input = {
          cmd = 'touch allowed-by-rule',
          sandbox_permissions = 'require_escalated',
          justification = 'May I?',
        },
      },
    },
    { text = 'Done by rule.' },
  })
  local config = agents.codex(child, server, child.cwd)
  setup(child, 'codex', config)
  child.lua('require("lulu").add_rule({ action = "allow", tool = "Bash", command = "^touch allowed" })')
  local s = start(child, 'codex', 'r', 'for shortcuts')
  child.lua('require("lulu").send("r", "make it by rule")')
  child.wait_screen(s.id, 'Done by rule%.', 20000, 'the model answered')
  local worktree = child.lua('return require("lulu").get("r").worktree')
  h.ok(exists(worktree .. '/allowed-by-rule'), 'the command ran')
  h.eq(#pending(child), 0, 'nobody was asked')
end

local function boxed(child, agent, config_of, script, rule, ready, final, file)
  repo(child)
  local server = agents.model(child, script)
  local config = config_of(child, server, child.cwd)
  config.sandbox = 'bwrap'
  setup(child, agent, config)
  child.lua('require("lulu").add_rule(...)', rule)
  local s = start(child, agent, 'b', ready)
  h.eq(child.lua('return require("lulu").get("b").sandbox.backend'), 'bwrap', 'sandboxed')
  child.lua('require("lulu").send("b", "make the file")')
  child.wait_screen(s.id, final, 20000, 'the model answered')
  local worktree = child.lua('return require("lulu").get("b").worktree')
  h.ok(exists(worktree .. '/' .. file), 'the command ran in its worktree')
  h.matches(
    child.lua('return require("lulu").approvals({ history = true })[1].decided_by'),
    '^rule:%d+$',
    'its hook asked lulu through the sandbox, and the rule answered'
  )
  h.eq(#child.lua('return _G.prompts'), 0, 'nobody was asked')
end

T['codex in a bwrap sandbox: its hook reaches lulu and an allowed command runs in the worktree'] = function(child)
  boxed(child, 'codex', agents.codex, {
    {
      tool = {
        name = 'exec_command',
        input = { cmd = 'touch codex-in-box', sandbox_permissions = 'require_escalated', justification = 'May I?' },
      },
    },
    { text = 'Codex boxed.' },
  }, { action = 'allow', tool = 'Bash', command = '^touch codex' }, 'for shortcuts', 'Codex boxed%.', 'codex-in-box')
end

T['gemini in a bwrap sandbox: its hook reaches lulu and an allowed command runs in the worktree'] = function(child)
  boxed(
    child,
    'gemini',
    agents.gemini,
    {
      { tool = { name = 'run_shell_command', input = { command = 'touch gemini-in-box' } } },
      { text = 'Gemini boxed.' },
    },
    { action = 'allow', tool = 'run_shell_command', command = '^touch gemini' },
    'Type your message',
    'Gemini boxed%.',
    'gemini-in-box'
  )
end

T['gemini: its question reaches Neovim and Allow runs it; Deny reaches the model; AfterAgent marks waiting; cost from its chat file'] = function(
  child
)
  repo(child)
  local server = agents.model(child, {
    {
      tool = { name = 'run_shell_command', input = { command = 'touch made-by-gemini', description = 'make it' } },
      usage = { input = 1000, output = 100, cache_read = 200 },
    },
    { text = 'Gemini made it.', usage = { input = 1200, output = 20 } },
    { tool = { name = 'run_shell_command', input = { command = 'touch denied-by-you' } } },
    { text = 'Understood, not that one.' },
  })
  -- An editor started from a CI job: gemini takes `CI` or `GITHUB_ACTIONS`
  -- to mean it is not interactive and exits asking for stdin. lulu does not
  -- pass them on.
  child.lua('vim.env.CI = "true"; vim.env.GITHUB_ACTIONS = "true"')
  setup(child, 'gemini', agents.gemini(child, server, child.cwd))
  local settings_before = vim.fn.readfile(child.env.HOME .. '/.gemini/settings.json')
  local s = start(child, 'gemini', 'g', 'Type your message')
  h.eq(child.lua('return require("lulu").get("g").status'), 'running', 'running')
  h.eq(child.lua('return require("lulu").get("g").cost_usd'), vim.NIL, 'no cost before its first answer')

  child.lua('require("lulu").send("g", "make the file")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'its BeforeTool question reaches Neovim')
  local question = pending(child)[1]
  h.eq({ question.session_name, question.tool, question.agent }, { 'g', 'run_shell_command', 'gemini' }, 'who asks')
  h.matches(question.summary, 'touch made%-by%-gemini', 'the command is shown')
  h.ok(not child.screen(s.id):find('Allow execution', 1, true), 'gemini shows no dialog of its own meanwhile')
  answer(child, 'Allow once')
  local worktree = child.lua('return require("lulu").get(...).worktree', s.id)
  h.wait_for(function()
    return exists(worktree .. '/made-by-gemini')
  end, 15000, 'the command ran in the worktree')
  child.wait_screen(s.id, 'Gemini made it%.', 15000, 'the final text')
  child.wait('return require("lulu").get("g").waiting == true', 10000, 'AfterAgent marks the session waiting')
  -- 800 new + 200 cached in, 100 out; then 1200 in, 20 out ('gemini' prices).
  local cost = (2000 * 2 + 200 * 0.5 + 120 * 8) / 1e6
  child.wait('return require("lulu").get(...).cost_usd == ' .. cost, 10000, 'the cost', s.id)
  h.eq(
    child.lua('return require("lulu").get(...).tokens', s.id),
    { input = 2000, output = 120, cache_read = 200, cache_write = 0 },
    'tokens'
  )

  child.lua('require("lulu").send("g", "and another")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'asked again')
  h.eq(child.lua('return require("lulu").get("g").waiting'), vim.NIL, 'its new turn cleared waiting')
  answer(child, 'Deny')
  child.wait_screen(s.id, 'Understood, not that one%.', 15000, 'the model answered the denial')
  h.ok(not exists(worktree .. '/denied-by-you'), 'the denied command did not run')
  local last = server.turns()[#server.turns()].body
  h.matches(vim.json.encode(last), 'denied by the user in Neovim', 'the model got lulu’s message')
  h.eq(vim.fn.readfile(child.env.HOME .. '/.gemini/settings.json'), settings_before, 'the user’s settings untouched')
  child.lua('require("lulu").stop("g")')
  child.wait('return require("lulu").get("g").status ~= "running"', 8000, 'stopped')
end

--- An ACP session's chat buffer text.
local function chat(child, id)
  return table.concat(
    child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer(...), 0, -1, false)', id),
    '\n'
  )
end

local function wait_chat(child, id, pattern, what)
  h.wait_for(function()
    return chat(child, id):find(pattern) ~= nil
  end, 20000, what .. '\n' .. chat(child, id))
end

T['gemini-acp: streamed answer in the chat; a shell call asks, an always rule answers the next; the edit review writes your version; a deny reaches the model; cost'] = function(
  child
)
  repo(child)
  local server = agents.model(child, {
    {
      tool = { name = 'run_shell_command', input = { command = 'touch made-by-gemini-acp' } },
      usage = { input = 1000, output = 100 },
    },
    { text = 'Gemini made it.', usage = { input = 1200, output = 20 } },
    { tool = { name = 'run_shell_command', input = { command = 'touch made-by-gemini-acp' } } },
    { text = 'Made it again.' },
  })
  local gemini = agents.gemini(child, server, child.cwd)
  setup(child, 'gemini-acp', { acp = { cmd = { gemini.cmd[1], '--acp' } }, env = gemini.env })
  local s = child.lua('return require("lulu").start({ agent = "gemini-acp", name = "ga" })')
  child.wait('return require("lulu").get("ga").waiting', 30000, 'gemini --acp ready')
  h.eq(child.lua('return require("lulu").get("ga").kind'), 'acp', 'an ACP session')
  child.lua('require("lulu").open("ga")')

  child.lua('require("lulu").send("ga", "make the file")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'its permission request reaches Neovim')
  local question = pending(child)[1]
  h.eq(
    { question.tool, question.summary, question.agent },
    { 'execute', 'touch made-by-gemini-acp', 'gemini-acp' },
    'asked'
  )
  child.lua('require("lulu").decide(..., "always_allow")', question.id)
  local worktree = child.lua('return require("lulu").get("ga").worktree')
  h.wait_for(function()
    return exists(worktree .. '/made-by-gemini-acp')
  end, 15000, 'the command ran in the worktree')
  wait_chat(child, s.id, 'Gemini made it%.', 'the streamed answer in the chat')
  child.wait('return require("lulu").get("ga").waiting', 10000, 'its turn ended: waiting')
  child.wait('return (require("lulu").get("ga").tokens or {}).input == 2200', 10000, 'tokens from the turn')

  vim.fn.delete(worktree .. '/made-by-gemini-acp')
  child.lua('require("lulu").send("ga", "again")')
  wait_chat(child, s.id, 'Made it again%.', 'the second turn')
  h.eq(#pending(child), 0, 'the rule answered: no question')
  h.ok(exists(worktree .. '/made-by-gemini-acp'), 'and it ran')

  -- Scripted now: the worktree's path is known.
  local script = child.dir .. '/model-script.json'
  local turns = vim.json.decode(table.concat(vim.fn.readfile(script), '\n')).turns
  vim.list_extend(turns, {
    { tool = { name = 'write_file', input = { file_path = worktree .. '/shared.txt', content = 'from gemini\n' } } },
    { text = 'Wrote it.' },
    { tool = { name = 'run_shell_command', input = { command = 'curl example.com' } } },
    { text = 'Understood.' },
  })
  vim.fn.writefile({ vim.json.encode({ turns = turns }) }, script)
  child.lua('require("lulu").send("ga", "write it")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'the edit is asked')
  question = pending(child)[1]
  h.eq({ question.tool, question.review, question.editable }, { 'edit', true, true }, 'a reviewable edit')
  child.lua('require("lulu").decide(..., "allow", { content = "mine, not gemini\'s\\n" })', question.id)
  wait_chat(child, s.id, 'Wrote it%.', 'the edit turn')
  h.eq(vim.fn.readfile(worktree .. '/shared.txt'), { "mine, not gemini's" }, 'the file on disk is the reviewed version')

  child.lua('require("lulu").send("ga", "fetch it")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'the network call is asked')
  child.lua('require("lulu").decide(..., "deny", { message = "no network from here" })', pending(child)[1].id)
  wait_chat(child, s.id, 'the user denied `curl example.com`: no network from here', 'the reason goes on as a prompt')
  h.wait_for(function()
    return vim.json.encode(server.requests()):find('no network from here', 1, true) ~= nil
  end, 20000, 'the model got the reason')
  local row = child.lua('return require("lulu.ui.list").layout({ require("lulu").get("ga") }, 90)')[1]
  h.matches(row, '%$0%.00', 'the row shows the cost')
  child.lua('require("lulu").stop("ga")')
  child.wait('return require("lulu").get("ga").status ~= "running"', 8000, 'stopped')
end

T['claude-acp: a Bash call asks in Neovim and runs once allowed; an edit opens the review and writes your version; cost from usage_update'] = function(
  child
)
  repo(child)
  local server = agents.model(child, {
    { tool = { name = 'Bash', input = { command = 'touch made-by-claude-acp', description = 'make it' } } },
    { text = 'Claude made it.', usage = { input = 1000, output = 100 } },
  })
  setup(child, 'claude-acp', agents.claude_acp(child, server, child.cwd))
  local s = child.lua('return require("lulu").start({ agent = "claude-acp", name = "ca" })')
  child.wait('return require("lulu").get("ca").waiting', 30000, 'claude-agent-acp ready')
  child.lua('require("lulu").open("ca")')
  child.lua('require("lulu").send("ca", "make the file")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'its permission request reaches Neovim')
  local question = pending(child)[1]
  h.eq({ question.tool, question.summary }, { 'execute', 'touch made-by-claude-acp' }, 'asked from its rawInput')
  answer(child, 'Allow once')
  local worktree = child.lua('return require("lulu").get("ca").worktree')
  h.wait_for(function()
    return exists(worktree .. '/made-by-claude-acp')
  end, 15000, 'the command ran in the worktree')
  wait_chat(child, s.id, 'Claude made it%.', 'the answer in the chat')
  child.wait('return (require("lulu").get("ca").cost_usd or 0) > 0', 10000, 'the cost from its usage_update')

  local script = child.dir .. '/model-script.json'
  local turns = vim.json.decode(table.concat(vim.fn.readfile(script), '\n')).turns
  vim.list_extend(turns, {
    {
      tool = {
        name = 'Edit',
        input = { file_path = worktree .. '/shared.txt', old_string = 'base', new_string = 'from claude' },
      },
    },
    { text = 'Edited.' },
  })
  vim.fn.writefile({ vim.json.encode({ turns = turns }) }, script)
  child.lua('require("lulu").send("ca", "edit it")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'the edit is asked')
  question = pending(child)[1]
  h.eq({ question.tool, question.review }, { 'edit', true }, 'a reviewable edit')
  child.lua('require("lulu").decide(..., "allow", { content = "reviewed by me\\n" })', question.id)
  wait_chat(child, s.id, 'Edited%.', 'the edit turn')
  h.eq(vim.fn.readfile(worktree .. '/shared.txt'), { 'reviewed by me' }, 'the file on disk is the reviewed version')
  child.lua('require("lulu").stop("ca")')
  child.wait('return require("lulu").get("ca").status ~= "running"', 8000, 'stopped')
end

T["codex-acp: its escalation asks in Neovim and runs once allowed; a deny aborts the turn (codex's own refusal)"] = function(
  child
)
  repo(child)
  local function exec(file)
    return {
      tool = {
        name = 'exec_command',
        input = { cmd = 'touch ' .. file, sandbox_permissions = 'require_escalated', justification = 'May I?' },
      },
    }
  end
  local server = agents.model(child, {
    exec('made-by-codex-acp'),
    { text = 'Codex made it.' },
    exec('denied-for-codex'),
  })
  setup(child, 'codex-acp', agents.codex_acp(child, server, child.cwd))
  local s = child.lua('return require("lulu").start({ agent = "codex-acp", name = "xa" })')
  child.wait('return require("lulu").get("xa").waiting', 30000, 'codex-acp ready')
  child.lua('require("lulu").open("xa")')
  child.lua('require("lulu").send("xa", "make the file")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'its permission request reaches Neovim')
  local question = pending(child)[1]
  h.eq(question.tool, 'execute', 'an execute call')
  h.matches(question.summary, 'touch made%-by%-codex%-acp', 'its command, from rawInput')
  answer(child, 'Allow once')
  local worktree = child.lua('return require("lulu").get("xa").worktree')
  h.wait_for(function()
    return exists(worktree .. '/made-by-codex-acp')
  end, 15000, 'the command ran in the worktree')
  wait_chat(child, s.id, 'Codex made it%.', 'the answer in the chat')
  child.lua('require("lulu").send("xa", "another")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'asked again')
  -- Codex's only refusal is "abort": the turn ends there, the user speaks next.
  answer(child, 'Deny')
  wait_chat(child, s.id, '%*— cancelled —%*', 'the turn aborted')
  child.wait('return require("lulu").get("xa").waiting', 10000, 'waiting for the user again')
  h.ok(not exists(worktree .. '/denied-for-codex'), 'the denied command did not run')
  child.lua('require("lulu").stop("xa")')
  child.wait('return require("lulu").get("xa").status ~= "running"', 8000, 'stopped')
end

T['claude-acp: the conversation outlives the daemon; :LuluResume continues it with session/load'] = function(child)
  local bin = os.getenv('LULU_BIN')
  child.defer(function()
    vim.system({ bin, 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
  repo(child)
  local server = agents.model(child, {
    { text = 'The answer is forty-two.' },
    { text = 'You asked about the answer.' },
  })
  local opts = {
    host = { mode = 'daemon' },
    agents = { ['claude-acp'] = agents.claude_acp(child, server, child.cwd) },
    cost = { prices = PRICES },
  }
  child.setup(opts)
  child.capture_notify()
  local s = child.lua('return require("lulu").start({ agent = "claude-acp", name = "gr" })')
  child.wait('return require("lulu").get("gr").waiting', 30000, 'claude-agent-acp ready')
  child.lua('require("lulu").open("gr")')
  child.lua('require("lulu").send("gr", "what is the answer?")')
  wait_chat(child, s.id, 'The answer is forty%-two%.', 'the first answer')
  child.wait('return require("lulu").get("gr").conversation', 5000, 'its session id kept')
  child.cmd('LuluDaemon! stop')

  local other = h.child({ env = child.env })
  child.defer(other.stop)
  other.setup(opts)
  other.capture_notify()
  other.lua('require("lulu").open("gr")')
  wait_chat(other, s.id, 'The answer is forty%-two%.', 'the stored conversation in a new Neovim')
  other.cmd('LuluResume gr')
  local resumed =
    other.wait('local r = require("lulu").get("gr"); return r.status == "running" and r.waiting and r', 30000)
  wait_chat(other, resumed.id, 'The answer is forty%-two%.', 'claude replayed its conversation')
  other.lua('require("lulu").send("gr", "what did I ask?")')
  wait_chat(other, resumed.id, 'You asked about the answer%.', 'the conversation goes on')
  local last = server.turns()[#server.turns()].body
  h.matches(vim.json.encode(last), 'what is the answer%?', 'the model saw the earlier turn')
end

T['gemini: an allow rule answers with no prompt; a timeout shows its own dialog and marks waiting'] = function(child)
  repo(child)
  local server = agents.model(child, {
    { tool = { name = 'run_shell_command', input = { command = 'touch allowed-by-rule' } } },
    { text = 'Made it by rule.' },
    { tool = { name = 'run_shell_command', input = { command = 'touch nobody-answers' } } },
    { text = 'Made it after all.' },
  })
  local config = agents.gemini(child, server, child.cwd)
  child.setup({ agents = { gemini = config }, cost = { prices = PRICES }, approvals = { timeout = 1 } })
  child.capture_notify()
  child.fake_select()
  child.lua('require("lulu").add_rule({ action = "allow", tool = "run_shell_command", command = "^touch allowed" })')
  local s = start(child, 'gemini', 'r', 'Type your message')
  local worktree = child.lua('return require("lulu").get("r").worktree')
  child.lua('require("lulu").send("r", "make it by rule")')
  child.wait_screen(s.id, 'Made it by rule%.', 20000, 'the rule let it run')
  h.ok(exists(worktree .. '/allowed-by-rule'), 'the file is there')
  h.eq(#child.lua('return _G.prompts'), 0, 'nobody was asked')
  h.matches(
    child.lua('return require("lulu").approvals({ history = true })[1].decided_by'),
    '^rule:%d+$',
    'recorded as the rule’s'
  )

  -- Nobody answers in Neovim: after the (short) timeout gemini shows its
  -- own dialog, never a silent run, and its Notification marks waiting.
  child.lua('require("lulu").send("r", "make one more")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'asked')
  child.wait('return #require("lulu").approvals() == 0', 5000, 'expired')
  child.wait_screen(s.id, 'Allow execution', 15000, 'gemini’s own dialog')
  h.ok(not exists(worktree .. '/nobody-answers'), 'not run before anyone said so')
  child.wait('return require("lulu").get("r").waiting == true', 10000, 'waiting for its dialog')
  child.lua('require("lulu").send("r", "")')
  child.wait_screen(s.id, 'Made it after all%.', 15000, 'answered in its own dialog')
  h.ok(exists(worktree .. '/nobody-answers'), 'the user allowed it there')
end

T['gemini: a write_file reviewed in Neovim and accepted with your edit leaves your version'] = function(child)
  repo(child)
  local worktree = vim.uv.fs_realpath(child.cwd) .. '/.lulu/worktrees/gw'
  local server = agents.model(child, {
    { tool = { name = 'write_file', input = { file_path = worktree .. '/notes.md', content = '# from gemini\n' } } },
    { text = 'Wrote the notes.' },
  })
  setup(child, 'gemini', agents.gemini(child, server, child.cwd))
  local s = start(child, 'gemini', 'gw', 'Type your message')
  child.lua('require("lulu").send("gw", "write the notes")')
  child.wait('return #require("lulu").approvals() == 1', 20000, 'its write_file question reaches Neovim')
  local question = pending(child)[1]
  h.eq({ question.tool, question.review, question.editable }, { 'write_file', true, true }, 'reviewable')
  child.lua('require("lulu").review(...)', question.id)
  edit_after(child, { '# from gemini', 'and a line from me' })
  child.cmd('write')
  child.wait_screen(s.id, 'Wrote the notes%.', 20000, 'the model went on')
  local f = assert(io.open(worktree .. '/notes.md', 'rb'))
  h.eq(f:read('*a'), '# from gemini\nand a line from me\n', 'exactly the reviewed version')
  f:close()
end

-- Out of the box (no cost.prices): each agent's default model is priced,
-- the cost outlives the daemon and the editor, and :LuluResume brings the
-- conversation back in the agent itself.
-- `cost`: the first turn's 1000 in / 100 out at the shipped table's price
-- of the default model each asked the server for: claude-opus-5-5 $4/$20,
-- gpt-6.1-sol $2/$10, gemini-3.8-flash $0.75/$3.75 per million.
local RESUMES = {
  { agent = 'claude', ready = 'for shortcuts', cost = 0.006 },
  { agent = 'codex', ready = 'for shortcuts', cost = 0.003 },
  { agent = 'gemini', ready = 'Type your message', cost = 0.001125 },
}
for _, case in ipairs(RESUMES) do
  T[case.agent .. ': priced out of the box; its cost outlives the daemon; :LuluResume resumes its conversation'] = function(
    child
  )
    local bin = os.getenv('LULU_BIN')
    child.defer(function()
      vim.system({ bin, 'daemon', '--stop' }, { env = child.env }):wait(20000)
    end)
    repo(child)
    local server = agents.model(child, {
      { text = 'First answer.', usage = { input = 1000, output = 100 } },
      { text = 'Second answer.', usage = { input = 1500, output = 50 } },
    })
    local config = agents[case.agent](child, server, child.cwd, { model = false })
    local opts = { host = { mode = 'daemon' }, agents = { [case.agent] = config } }
    child.setup(opts)
    child.capture_notify()
    local s = start(child, case.agent, 'r', case.ready)
    child.lua('require("lulu").send("r", "remember the word pineapple")')
    child.wait_screen(s.id, 'First answer%.', 20000, 'the first answer')
    local first = child.wait('local r = require("lulu").get("r"); return r.cost_usd and r', 15000, 'a cost')
    h.eq({ first.cost_usd, first.tokens.input, first.tokens.output }, { case.cost, 1000, 100 }, 'priced by default')
    local conversation = child.wait('return require("lulu").get("r").conversation', 10000, 'its conversation id')
    child.lua('require("lulu").stop("r")')
    child.wait(
      'return not vim.tbl_contains({ "starting", "running" }, require("lulu").get("r").status)',
      10000,
      'r ended'
    )

    child.cmd('LuluDaemon stop')
    local other = h.child({ env = child.env })
    child.defer(other.stop)
    other.setup(opts)
    other.capture_notify()
    local kept = other.lua('return require("lulu").get("r")')
    h.eq({ kept.cost_usd, kept.conversation }, { first.cost_usd, conversation }, 'kept for a new Neovim and daemon')

    other.cmd('LuluResume r')
    local resumed = other.wait('local r = require("lulu").get("r"); return r.status == "running" and r', 10000)
    other.cmd('stopinsert')
    other.wait_screen(resumed.id, case.ready, 20000, 'resumed, ready for input')
    -- Gemini 0.61.0 draws its input box before it has loaded the resumed
    -- history, and drops an Enter typed in that moment (seen here about
    -- one run in two); a person would wait for the history to show.
    other.wait_screen(resumed.id, 'First answer%.', 20000, 'the earlier turn shown again')
    vim.wait(1000)
    other.lua('require("lulu").send("r", "which word was it")')
    other.wait_screen(resumed.id, 'Second answer%.', 20000, 'the second answer')
    local asked
    for _, r in ipairs(server.turns()) do
      local body = vim.json.encode(r.body)
      if body:find('which word was it', 1, true) then
        asked = asked or body
      end
    end
    h.ok(asked and asked:find('pineapple', 1, true), 'the resumed request carries the earlier turn')
    local after = other.wait(
      'local r = require("lulu").get("r"); return r.cost_usd and r.cost_usd > ' .. first.cost_usd .. ' and r',
      15000,
      'the cost grew'
    )
    h.ok(after.tokens.input >= 2500, 'both turns counted: ' .. vim.inspect(after.tokens))
    h.eq(after.conversation, conversation, 'the same conversation')
  end
end

return T
