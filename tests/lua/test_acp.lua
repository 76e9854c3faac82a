-- ACP sessions with a small fake agent (tests/fake-acp: the same JSON-RPC
-- at the boundary as a real one): the chat buffer, questions under lulu's
-- rules, the edit review, and an agent that misbehaves. The real pinned
-- agents are in test_real_agents.lua.
local h = require('harness')
local T = h.new_set()

local FAKE = { acp = { cmd = { 'python3', h.root .. '/tests/fake-acp' } } }

local function setup(child, extra)
  child.setup(vim.tbl_deep_extend('force', { agents = { fake = FAKE } }, extra or {}))
  child.capture_notify()
end

--- Start an ACP session of the fake agent in a repository; wait until it
--- is ready for a prompt (its first turn's "ready" wait).
local function start(child, name, repo)
  local s = child.lua(
    'local name, cwd = ...; return require("lulu").start({ agent = "fake", name = name, cwd = cwd })',
    name,
    repo
  )
  child.wait(
    'local r = require("lulu").get(...); return r.waiting and r.status == "running"',
    8000,
    name .. ' ready',
    s.id
  )
  return s
end

local function chat_text(child, id)
  return table.concat(
    child.lua('return vim.api.nvim_buf_get_lines(require("lulu").buffer(...), 0, -1, false)', id),
    '\n'
  )
end

local function wait_chat(child, id, pattern, what)
  local ok = vim.wait(8000, function()
    return chat_text(child, id):find(pattern) ~= nil
  end, 50)
  if not ok then
    error(('timed out waiting for %s in the chat:\n%s'):format(what or pattern, chat_text(child, id)), 2)
  end
end

local function pending(child, tool)
  return child.wait(
    [[for _, q in ipairs(require("lulu").approvals()) do if q.tool == ... then return q end end]],
    8000,
    'a question about ' .. tool,
    tool
  )
end

T['an ACP session streams its answer into a markdown chat; the prompt line sends'] = function(child)
  local repo = h.repo(child.dir .. '/repo')
  setup(child)
  local s = start(child, 'f', repo)
  local record = child.lua('return require("lulu").get("f")')
  h.eq({ record.kind, record.status, record.branch }, { 'acp', 'running', 'lulu/f' }, 'a session like any other')
  child.lua('require("lulu").open("f")')
  local buf = child.lua('return vim.api.nvim_get_current_buf()')
  h.eq(child.lua('return vim.bo[...].filetype', buf), 'lulu-chat', 'filetype')
  -- The prompt: written under the prompt line, <CR> in Normal mode.
  child.lua('vim.api.nvim_buf_set_lines(0, -2, -1, false, { "", "say: hello from the fake agent" })')
  child.lua('vim.cmd.stopinsert()')
  child.lua('vim.api.nvim_feedkeys(vim.keycode("<CR>"), "x", false)')
  wait_chat(child, s.id, 'hello from the fake agent\n\n%*— end_turn —%*', 'the streamed answer, then the turn end')
  local text = chat_text(child, s.id)
  h.matches(text, '### › you\nsay: hello from the fake agent', 'the prompt, as sent')
  h.matches(text, '### fake\nhello from the fake agent', 'the three chunks as one message')
  h.matches(
    text,
    vim.pesc('──── prompt · <CR> sends · <C-c> cancels ────\n') .. '$',
    'an empty prompt at the bottom'
  )
  child.wait('return require("lulu").get("f").waiting', 5000, 'waiting after the turn')
  -- :LuluSend reaches it too; thoughts fold, plans are checklists.
  child.lua('require("lulu").send("f", "think: quietly\\nplan: one|two|three")')
  wait_chat(child, s.id, '%- %[x%] one\n%- %[ %] two ← now\n%- %[ %] three', 'the plan, updated in place')
  h.eq(select(2, chat_text(child, s.id):gsub('%*%*plan%*%*', '')), 1, 'one plan, replaced, not repeated')
  h.matches(chat_text(child, s.id), '│ thinking\n│ quietly', 'the thought')
  local folded = child.lua([[
    local buf = require("lulu").buffer("f")
    for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      if line == "│ quietly" then return vim.fn.foldclosed(i) end
    end]])
  h.ok(folded > 0, 'the thought is folded')
  -- The host's own screen shows the conversation as text (the preview).
  child.wait_screen(s.id, 'hello from the fake agent', 5000)
end

T['permission requests are lulu questions: asked, answered by an always rule, denied with a reason'] = function(child)
  local repo = h.repo(child.dir .. '/repo')
  setup(child)
  local s = start(child, 'f', repo)
  child.lua('require("lulu").open("f")')
  child.lua('require("lulu").send("f", "run: touch x")')
  local q = pending(child, 'execute')
  h.eq({ q.summary, q.session_name }, { 'touch x', 'f' }, 'the command, asked')
  h.ok(q.always ~= nil, 'an always rule as narrow as the question is offered')
  child.lua('require("lulu").decide(..., "always_allow")', q.id)
  wait_chat(child, s.id, 'ran: touch x', 'the allowed call ran')
  child.lua('require("lulu").send("f", "run: touch x")')
  wait_chat(child, s.id, 'ran: touch x.*ran: touch x', 'the second answered by the rule')
  h.eq(child.lua('return #require("lulu").approvals()'), 0, 'with no question')
  child.lua('require("lulu").send("f", "run: curl example.com")')
  q = pending(child, 'execute')
  child.lua('require("lulu").decide(..., "deny", { message = "no network here" })', q.id)
  wait_chat(child, s.id, 'denied: curl example.com %(no network here%)', 'the reason reached the agent')
  -- An execute call with no command lulu can read is asked, never allowed by a command rule.
  child.lua('require("lulu").send("f", "run-noinput: touch x")')
  q = pending(child, 'execute')
  h.ok(q.always == nil, 'no always rule for a command lulu cannot read')
  child.lua('require("lulu").decide(..., "deny")', q.id)
  wait_chat(
    child,
    s.id,
    'denied: touch x %(denied by the user',
    'denied, and no prompt sent for a reason the user did not give'
  )
  h.ok(not chat_text(child, s.id):find('the user denied .touch x.'), 'no follow-up prompt')
end

T['an edit opens the review; the file on disk is the version the user accepted'] = function(child)
  local repo = h.repo(child.dir .. '/repo')
  setup(child)
  local s = start(child, 'f', repo)
  local worktree = child.lua('return require("lulu").get("f").worktree')
  local path = worktree .. '/notes.txt'
  vim.fn.writefile({ 'one', 'two' }, path)
  child.lua('require("lulu").send("f", ...)', 'edit: ' .. path .. ' one\\nTWO\\n')
  local q = pending(child, 'edit')
  h.ok(q.review and q.editable, 'a reviewable, editable change')
  local review = child.lua('return require("lulu.rpc").request(require("lulu.rpc").methods.review, ...)', q.id)
  h.eq({ review.current, review.proposed }, { 'one\ntwo\n', 'one\nTWO\n' }, 'the file now and after')
  child.lua('require("lulu").decide(..., "allow", { content = "one\\nTWO, as I say\\n" })', q.id)
  wait_chat(child, s.id, 'wrote ' .. vim.pesc(path), 'the agent wrote')
  h.eq(vim.fn.readfile(path), { 'one', 'TWO, as I say' }, "the user's version, not the agent's")
  -- A write outside the session is asked; denied, nothing is written.
  local outside = child.dir .. '/outside.txt'
  child.lua('require("lulu").send("f", ...)', 'write: ' .. outside .. ' pwned')
  q = pending(child, 'edit')
  h.eq(q.summary:find(outside, 1, true) ~= nil, true, 'the outside file is named')
  child.lua('require("lulu").decide(..., "deny")', q.id)
  wait_chat(child, s.id, 'write failed: the user did not allow', 'refused')
  h.eq(vim.fn.filereadable(outside), 0, 'nothing written outside')
end

T['a hostile agent: outside reads asked, terminals refused, junk bounded, a crash fails only its session'] = function(
  child
)
  local repo = h.repo(child.dir .. '/repo')
  setup(child)
  local s = start(child, 'f', repo)
  local other = start(child, 'g', repo)
  child.lua('require("lulu").open("f")')
  child.lua('require("lulu").send("f", "read: /etc/passwd")')
  local q = pending(child, 'read')
  child.lua('require("lulu").decide(..., "deny")', q.id)
  wait_chat(child, s.id, 'read failed: the user did not allow /etc/passwd', 'the read refused')
  local key = child.env.HOME .. '/.ssh/id_ed25519'
  vim.fn.mkdir(child.env.HOME .. '/.ssh', 'p')
  vim.fn.writefile({ 'SECRET' }, key)
  child.lua('require("lulu").send("f", ...)', 'read: ' .. key)
  q = pending(child, 'read')
  child.lua('require("lulu").decide(..., "deny")', q.id)
  wait_chat(child, s.id, 'read failed', 'refused')
  -- Inside the worktree, but a door out: its git config, a hard link.
  local worktree = child.lua('return require("lulu").get("f").worktree')
  vim.fn.writefile({ 'TOP SECRET' }, child.dir .. '/secret')
  vim.uv.fs_link(child.dir .. '/secret', worktree .. '/hard')
  child.lua('require("lulu").send("f", ...)', 'read: ' .. worktree .. '/hard')
  child.lua('require("lulu").decide(..., "deny")', pending(child, 'read').id)
  wait_chat(child, s.id, 'read failed: the user did not allow', 'a hard link out is asked')
  child.lua('require("lulu").send("f", ...)', 'write: ' .. worktree .. '/.git/config [core] fsmonitor = evil')
  h.matches(pending(child, 'edit').summary, '%.git/config', 'a write to .git is asked')
  child.lua('require("lulu").decide(..., "deny")', pending(child, 'edit').id)
  wait_chat(child, s.id, 'write failed: the user did not allow', 'and refused')
  child.lua('require("lulu").send("f", "terminal: rm -rf ~\\nunknown\\ngarbage\\nhuge: 9000000\\nflood: 3000")')
  wait_chat(child, s.id, 'line 3000', 'the flood, to its end')
  local text = chat_text(child, s.id)
  h.matches(text, 'terminal refused: lulu offers no terminal', 'no terminal for it')
  h.matches(text, 'unknown answered: lulu does not serve fake/unknown', 'unknown methods get an error')
  h.matches(text, 'ignored a line from the agent: not JSON%-RPC', 'junk noted')
  h.matches(text, 'dropped a message of %d+ bytes', 'the oversized line dropped')
  h.eq(child.lua('return require("lulu").get("f").status'), 'running', 'still running')
  child.lua('require("lulu").send("f", "crash")')
  child.wait('return require("lulu").get("f").status == "failed"', 8000, 'f failed')
  wait_chat(child, s.id, 'the agent exited with status 3', 'why, in the chat')
  h.eq(child.lua('return require("lulu").get(...).status', other.id), 'running', 'g untouched')
  child.lua('require("lulu").send("g", "say: still here")')
  wait_chat(child, other.id, 'still here', 'g answers')
end

T['the conversation outlives the daemon; :LuluResume loads it into a new session'] = function(child)
  local bin = os.getenv('LULU_BIN')
  child.defer(function()
    vim.system({ bin, 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
  local repo = h.repo(child.dir .. '/repo')
  local fake = vim.tbl_extend('force', FAKE, { env = { FAKE_ACP_STATE = child.dir .. '/fake-state' } })
  local opts = { host = { mode = 'daemon' }, agents = { fake = fake } }
  setup(child, opts)
  local s = start(child, 'f', repo)
  child.lua('require("lulu").send("f", "say: the first answer")')
  wait_chat(child, s.id, 'the first answer', 'the answer')
  local conversation = child.wait('return require("lulu").get("f").conversation', 5000, 'its conversation id')
  h.matches(conversation, '^fake%-', "the agent's own id")
  child.cmd('LuluDaemon! stop')

  local other = h.child({ env = child.env })
  child.defer(other.stop)
  setup(other, opts)
  h.ok(other.lua('return require("lulu").get("f").status') ~= 'running', 'ended with the daemon')
  other.lua('require("lulu").open("f")')
  wait_chat(other, s.id, 'say: the first answer.*the first answer', 'the stored conversation, in a new Neovim')
  other.cmd('LuluResume f')
  local resumed =
    other.wait('local r = require("lulu").get("f"); return r.status == "running" and r.waiting and r', 10000)
  h.ok(resumed.id ~= s.id, 'a new session')
  wait_chat(other, resumed.id, 'say: the first answer.*the first answer', 'the agent replayed the conversation')
  other.lua('require("lulu").send("f", "say: and the second")')
  wait_chat(other, resumed.id, 'and the second', 'it goes on')
  -- The agent saves its turn after its reply.
  h.wait_for(function()
    local log = table.concat(vim.fn.readfile(child.dir .. '/fake-state/' .. conversation .. '.json'), '\n')
    return log:find('and the second', 1, true) ~= nil
  end, 5000, 'the second turn in the same conversation of the agent')
end

T['a terminal session cannot pose as an ACP client: its forged usage and chat are dropped'] = function(child)
  setup(child)
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "t", worktree = false })')
  child.wait('return require("lulu").get("t").status == "running"', 5000, 't running')
  -- What a hostile program in the session could send with the session's own token.
  local forge = [[python3 -c 'import json,os,socket; ]]
    .. [[s=socket.socket(socket.AF_UNIX); s.connect(os.environ["LULU_SOCKET"]); ]]
    .. [[r=lambda p: s.sendall((json.dumps({"session":os.environ["LULU_SESSION"],"token":os.environ["LULU_TOKEN"],"agent":"acp","payload":p})+"\n").encode()); ]]
    .. [[r({"hook_event_name":"Usage","cost_usd":99.0}); print("sent", s.recv(100) and "answered")']]
  child.lua('require("lulu").send("t", ...)', forge)
  child.wait_screen(s.id, 'sent answered', 8000, 'the forged event was answered')
  vim.wait(300)
  h.eq(child.lua('return require("lulu").get("t").cost_usd'), vim.NIL, 'no cost taken from it')
end

return T
