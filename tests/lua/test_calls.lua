-- Requests that do not wait (lulu.call): what commands use, so that the
-- editor goes on while the host works (a worktree made, a merge, a diff).
local h = require('harness')
local T = h.new_set()

--- A repository whose `git worktree add` takes `seconds`: the host's
--- `git` is a stand-in on PATH that says when that command starts and ends
--- (files in `dir`) around the real git. (lulu's git runs no hooks, so a
--- slow hook cannot do it.) Call before the host starts.
local function slow_repo(child, seconds)
  local repo = h.repo(child.dir .. '/repo')
  local marks = child.dir .. '/marks'
  local bin = child.dir .. '/slowgit'
  vim.fn.mkdir(marks, 'p')
  vim.fn.mkdir(bin, 'p')
  local real = vim.fn.exepath('git')
  vim.fn.writefile({
    '#!/bin/sh',
    'case " $* " in',
    ('  *" worktree add "*) touch %q/began; sleep %d; %q "$@"; code=$?; touch %q/ended; exit $code ;;'):format(
      marks,
      seconds,
      real,
      marks
    ),
    ('  *) exec %q "$@" ;;'):format(real),
    'esac',
  }, bin .. '/git')
  vim.fn.setfperm(bin .. '/git', 'rwxr-xr-x')
  child.lua('vim.env.PATH = ... .. ":" .. vim.env.PATH', bin)
  return repo, marks
end

T[':LuluStart in a repository whose worktree takes seconds leaves the editor free meanwhile'] = function(child)
  child.setup()
  child.capture_notify()
  local repo, marks = slow_repo(child, 3)
  child.cmd('cd ' .. repo)
  child.cmd('LuluStart shell name=slow worktree=on')
  h.wait_for(function()
    return vim.uv.fs_stat(marks .. '/began') ~= nil
  end, 10000, 'git to begin the worktree')
  -- The editor answers while git works: the session is not open yet and
  -- the worktree not done. (An editor waiting on the host would answer
  -- only after the start, with the session open.)
  local now = child.lua('return { session = vim.b.lulu_session, mode = vim.api.nvim_get_mode().mode }')
  h.eq(now.session, nil, 'no session opened yet')
  h.eq(vim.uv.fs_stat(marks .. '/ended'), nil, 'git still at work when the editor answered')
  child.wait('return vim.b.lulu_session ~= nil', 15000, 'the session to open once it is made')
  local record = child.lua('return require("lulu").get("slow")')
  h.ok(record.worktree and record.worktree ~= repo, 'it runs in its own worktree')
  h.eq(child.lua('return _G.notes'), {}, 'nothing to report')
end

T[':LuluStart and the list show the record they were given: no request for it again'] = function(child)
  child.setup()
  child.lua('require("lulu").list()')
  -- Every request the editor makes from here, by method.
  child.lua([[
    _G.asked = {}
    local request = vim.rpcrequest
    vim.rpcrequest = function(chan, method, ...)
      table.insert(_G.asked, method)
      return request(chan, method, ...)
    end
  ]])
  child.cmd('LuluStart shell name=given worktree=off')
  child.wait('return vim.b.lulu_session ~= nil', 10000, 'the session shown')
  child.cmd('enew')
  child.cmd('LuluList')
  child.wait('return require("lulu.ui.list").is_open()', 5000, 'the list')
  child.lua('vim.api.nvim_input("<CR>")')
  child.wait('return vim.b.lulu_session ~= nil', 5000, 'the session shown from its row')
  local asked = child.lua('return _G.asked')
  h.eq(
    vim.tbl_filter(function(method)
      return method == 'lulu.session_get'
    end, asked),
    {},
    'no lulu.session_get (asked: ' .. table.concat(asked, ', ') .. ')'
  )
end

T['an API call given on_done returns at once and answers later, errors as one line'] = function(child)
  child.setup()
  child.lua([[
    _G.answers = {}
    local lulu = require('lulu')
    _G.returned = lulu.start({ agent = 'shell', name = 'later' }, function(err, record)
      _G.answers.start = { err = err, name = record and record.name }
    end)
    lulu.diff('nosuch', function(err, diff)
      _G.answers.diff = { err = err, diff = diff }
    end)
  ]])
  h.eq(child.lua('return _G.returned'), vim.NIL, 'start returns nothing with on_done')
  child.wait('return _G.answers.start and _G.answers.diff', 10000, 'both answers')
  local answers = child.lua('return _G.answers')
  h.eq(answers.start, { name = 'later' }, 'the record, no error')
  h.eq(answers.diff.err, "no session named 'nosuch' (see :LuluList)", 'the one-line error with its Vim hint')
  h.eq(child.lua('return require("lulu.sessions").find("later") ~= nil'), true, 'the record is in the cache')
end

T["a call's callback may ask the host again, however many answers cross"] = function(child)
  child.setup()
  child.lua('require("lulu").list()')
  -- Fifty calls answered while their callbacks make plain requests: were
  -- the callbacks run inside the answers' events, those requests would nest
  -- in one another's waits and Neovim would close the host's channel.
  child.lua([[
    _G.nested = { done = 0, failed = {} }
    local rpc = require('lulu.rpc')
    for _ = 1, 50 do
      rpc.call(rpc.methods.list, {}, function()
        local ok, err = pcall(rpc.request, rpc.methods.list)
        if not ok then
          table.insert(_G.nested.failed, err)
        end
        _G.nested.done = _G.nested.done + 1
      end)
    end
  ]])
  child.wait('return _G.nested.done == 50', 10000, 'fifty answers')
  h.eq(child.lua('return _G.nested.failed'), {}, 'no request failed')
  h.eq(child.lua('return require("lulu.host").running()'), true, 'the host is still connected')
end

T['a malformed call gets a clear error, or none when it has no ticket, and the host goes on'] = function(child)
  child.setup()
  child.lua('require("lulu").list()')
  child.lua([[
    _G.errs = {}
    local rpc = require('lulu.rpc')
    local chan = require('lulu.host').channel()
    vim.rpcnotify(chan, 'lulu.call', 'not a ticket')
    vim.rpcnotify(chan, 'lulu.call')
    vim.rpcnotify(chan, 'lulu.call', -1, 'lulu.session_list', {})
    rpc.call('lulu.no_such_method', {}, function(err) _G.errs.unknown = err end)
    rpc.call('lulu.call', { 1, 'lulu.session_list', {} }, function(err) _G.errs.nested = err end)
    rpc.call('lulu.session_get', { 42 }, function(err) _G.errs.typed = err end)
  ]])
  child.wait('return _G.errs.unknown and _G.errs.nested and _G.errs.typed', 5000, 'three errors')
  local errs = child.lua('return _G.errs')
  h.matches(errs.unknown, "unknown method 'lulu.no_such_method'", 'an unknown method')
  h.matches(errs.nested, 'must be sent as a notification', 'a call inside a call')
  h.matches(errs.typed, 'session', 'a session that is not a name')
  h.eq(child.lua('return #require("lulu").list()'), 0, 'the host still answers')
end

T['a call pending when the host dies fails with the reason'] = function(child)
  child.setup()
  child.capture_notify()
  local repo, marks = slow_repo(child, 8)
  child.lua(
    [[
    _G.failed = nil
    require('lulu').start({ agent = 'shell', cwd = ..., worktree = true }, function(err)
      _G.failed = err or 'no error'
    end)
  ]],
    repo
  )
  h.wait_for(function()
    return vim.uv.fs_stat(marks .. '/began') ~= nil
  end, 10000, 'the start to be under way')
  local pid = child.lua('return require("lulu.host").pid()')
  vim.uv.kill(pid, 'sigkill')
  local err = child.wait('return _G.failed', 10000, 'the call to fail')
  h.ok(err ~= 'no error', 'an error: ' .. tostring(err))
end

return T
