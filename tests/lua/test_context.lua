-- The editor's context sent to sessions: a selection as a reference the
-- agent reads (in that session's worktree), placeholders, named prompts.
local h = require('harness')
local T = h.new_set()

local function setup(child, extra)
  h.repo(child.cwd)
  vim.fn.mkdir(child.cwd .. '/src', 'p')
  vim.fn.writefile({ 'local a = 1', 'local b = 2', 'local c = a + b', 'return c' }, child.cwd .. '/src/a.lua')
  h.git(child.cwd, 'add', '.')
  h.git(child.cwd, 'commit', '--quiet', '-m', 'code')
  child.setup(vim.tbl_deep_extend('force', {
    agents = {
      claude = { cmd = { h.root .. '/tests/fake-claude' } },
      -- Echoes what it is sent: the reference as another agent gets it.
      echo = { cmd = { '/bin/sh', '-c', 'stty -echo; while IFS= read -r line; do printf "got: %s\\n" "$line"; done' } },
    },
  }, extra or {}))
  child.capture_notify()
  child.cmd('edit src/a.lua')
end

local function start(child, agent, name)
  local s = child.lua('local a, n = ...; return require("lulu").start({ agent = a, name = n })', agent, name)
  child.wait('return require("lulu").get(...).status == "running"', 5000, name .. ' running', s.id)
  return s
end

T[":'<,'>LuluSend gives Claude an @path#L reference in its worktree, others a fenced excerpt"] = function(child)
  setup(child)
  local c = start(child, 'claude', 'c')
  h.ok(child.lua('return require("lulu").get("c").worktree') ~= vim.NIL, 'c has a worktree')
  child.cmd('2,3LuluSend c')
  child.wait_screen(c.id, 'I heard: @src/a%.lua#L2%-L3', 5000, 'the reference, relative to its worktree')
  child.cmd('3LuluSend c what is this?')
  child.wait_screen(c.id, 'I heard: what is this%?', 5000, 'the text first')
  child.wait_screen(c.id, 'I heard: @src/a%.lua#L3\n', 5000, 'then the one-line reference')

  local e = start(child, 'echo', 'e')
  child.cmd('2,3LuluSend e')
  child.wait_screen(e.id, 'got: src/a%.lua %(lines 2%-3%):', 5000, 'a titled excerpt')
  child.wait_screen(e.id, 'got: ```lua\ngot: local b = 2\ngot: local c = a %+ b\ngot: ```', 5000, 'fenced')

  -- An unsaved change: the session's copy differs, and the reference says so.
  child.lua('vim.api.nvim_buf_set_lines(0, 1, 2, false, { "local b = 20" })')
  child.cmd('2LuluSend c')
  child.wait_screen(
    c.id,
    "I heard: src/a%.lua %(lines 2%-2; as in the editor: this session's copy differs%):",
    5000,
    'noted'
  )
end

T['{diagnostics} and {position} expand from the buffer; :LuluPrompt sends a named prompt'] = function(child)
  setup(child, { prompts = { mine = 'Look at {position} please' } })
  local c = start(child, 'claude', 'c')
  child.lua([[
    local ns = vim.api.nvim_create_namespace('lulu-test')
    vim.diagnostic.set(ns, 0, {
      { lnum = 2, col = 6, severity = vim.diagnostic.severity.WARN, message = 'unused c' },
      { lnum = 0, col = 0, severity = vim.diagnostic.severity.ERROR, message = 'boom' },
    })
  ]])
  child.cmd('LuluSend c check {diagnostics}')
  child.wait_screen(c.id, 'I heard: check src/a%.lua:1:1: ERROR: boom', 5000, 'the first diagnostic, by line')
  child.wait_screen(c.id, 'I heard: src/a%.lua:3:7: WARN: unused c', 5000, 'the second on its own line')
  child.lua('vim.api.nvim_win_set_cursor(0, { 4, 2 })')
  child.cmd('LuluPrompt mine')
  child.wait_screen(c.id, 'I heard: Look at src/a%.lua:4:3 please', 5000, 'a configured prompt, one running session')
  child.cmd('LuluPrompt fix')
  child.wait_screen(c.id, 'I heard: Fix these diagnostics in src/a%.lua:', 5000, 'a shipped prompt')
  h.eq(
    child.lua('return require("lulu.commands").complete_prompts("")'),
    { 'explain', 'fix', 'mine', 'review', 'tests' },
    'prompts complete'
  )
  child.cmd('LuluPrompt nosuch')
  local notes = child.lua('return _G.notes')
  h.matches(notes[#notes].msg, 'no prompt named "nosuch"', 'an unknown prompt says so')
  -- From Lua, only when asked to.
  child.lua('require("lulu").send("c", "plain {file}")')
  child.wait_screen(c.id, 'I heard: plain {file}', 5000, 'left alone')
  child.lua('require("lulu").send("c", "in {file}", { context = true })')
  child.wait_screen(c.id, 'I heard: in src/a%.lua', 5000, 'filled')
end

return T
