---@mod lulu.commands.session The bodies of the commands on sessions:
--- start, list, open, resume, stop, delete, next, grid, activity, send,
--- prompt, approve, rules. Each runs through `lulu.commands.run` (errors
--- as one line, after the host is ready); what a reply carries is used as
--- it is (a started session's record opens its terminal, no asking again).
local M = {}
local H = {}

local activity = require('lulu.ui.activity')
local api_sessions = require('lulu.api.sessions')
local approve = require('lulu.ui.approve')
local buffer = require('lulu.term.buffer')
local config = require('lulu.config')
local context = require('lulu.context')
local dispatch = require('lulu.ui.dispatch')
local grid = require('lulu.ui.grid')
local list = require('lulu.ui.list')
local parse = require('lulu.commands.parse')
local rules = require('lulu.ui.rules')
local run = require('lulu.commands.run')
local saved = require('lulu.api.saved')
local sessions = require('lulu.sessions')
local start = require('lulu.api.start')
local term = require('lulu.term')
local util = require('lulu.util')

H.starts = 0
--- How long leaving Terminal mode takes to settle before a message shows.
H.LEFT_MS = 50

function M.start(cmd)
  local ok, opts = pcall(parse.parse_start, cmd.args)
  if not ok then
    return util.notify(tostring(opts), vim.log.levels.ERROR)
  end
  H.starts = H.starts + 1
  local this_start = H.starts
  -- Its terminal opens now, before the host is asked (or comes up):
  -- Neovim's terminal is up (its first refresh due) while the host works,
  -- and keys typed into it wait for the session.
  local early = start.shows_terminal(opts) and buffer.early(vim.api.nvim_get_current_win()) or nil
  if early and config.options.open.insert then
    vim.cmd.startinsert()
  end
  local function drop()
    buffer.drop(early)
  end
  run.guard(function()
    -- The editor goes on while the host makes the worktree. Of starts
    -- made one after another, the last one asked is shown, whichever is
    -- made first; the reply's record is shown as it is.
    start.start(opts, function(err, record)
      if err and early then
        local typing = vim.api.nvim_get_mode().mode == 't'
        drop()
        util.notify(err, vim.log.levels.ERROR)
        if typing then
          -- Leaving Terminal mode redraws and clears the message line: shown
          -- again once it has (not a second notification).
          vim.defer_fn(function()
            vim.api.nvim_echo({ { 'lulu: ' .. err, 'ErrorMsg' } }, false, {})
          end, H.LEFT_MS)
        end
        return
      end
      if this_start ~= H.starts then
        drop()
      end
      run.answered(function()
        if this_start == H.starts then
          term.open(record, early)
        end
      end)(err, record)
    end)
  end, { host = opts.host, failed = drop, waiting = drop })
end

function M.list()
  run.guard(list.toggle)
end

function M.open(cmd)
  run.guard(function()
    term.open(api_sessions.get(run.one(cmd)))
  end)
end

function M.resume(cmd)
  run.guard(function()
    local record = saved.resume(run.one(cmd))
    util.notify(("resuming %s's conversation in '%s'"):format(record.agent, record.name))
    term.open(record)
  end)
end

function M.stop(cmd)
  run.guard(function()
    api_sessions.stop(run.one(cmd), { force = cmd.bang })
  end)
end

function M.delete(cmd)
  run.guard(function()
    api_sessions.delete(run.one(cmd), { force = cmd.bang }, run.answered(function() end))
  end)
end

function M.activity()
  run.guard(function()
    activity.open()
  end)
end

function M.grid()
  run.guard(grid.open)
end

--- Jump to the next session (after the current one, newest first, wrapping)
--- that waits for the user or has a pending approval.
function M.next()
  run.guard(function()
    local all = api_sessions.list()
    local current = vim.b.lulu_session
    local first = 0
    for i, r in ipairs(all) do
      if r.id == current then
        first = i
      end
    end
    for step = 1, #all do
      local r = all[(first + step - 1) % #all + 1]
      if r.waiting or (r.pending_approvals or 0) > 0 then
        local buf = term.buffer_of(r.id)
        local win = buf and vim.fn.win_findbuf(buf)[1]
        if win then
          vim.api.nvim_set_current_win(win)
        else
          term.open(r)
        end
        return
      end
    end
    util.notify('no session is waiting for you')
  end)
end

function M.send(cmd)
  run.guard(function()
    local target, text = cmd.args:match('^(%S+)%s*(.*)$')
    if not target or (text == '' and cmd.range == 0) then
      error("usage: :LuluSend {session|all|all!} {text}, or :'<,'>LuluSend {session|all|all!} [text]", 0)
    end
    local ctx = context.capture(0, cmd.range > 0 and cmd.line1 or nil, cmd.range > 0 and cmd.line2 or nil)
    local body = context.message(text, ctx)
    if target ~= 'all' and target ~= 'all!' then
      -- Written for the session as the editor has it (kept current by the
      -- host's events): no round trip first.
      api_sessions.send(target, body(sessions.find(target) or api_sessions.get(target)))
      return
    end
    dispatch.to_all(body, { shells = target == 'all!' or cmd.bang })
  end)
end

--- `:[range]LuluPrompt [name]`: a named prompt (config `prompts`), filled
--- from here, sent to the sessions you pick.
function M.prompt(cmd)
  run.guard(function()
    local prompts = config.options.prompts
    local ctx = context.capture(0, cmd.range > 0 and cmd.line1 or nil, cmd.range > 0 and cmd.line2 or nil)
    local function go(name)
      local text = prompts[name]
      if type(text) ~= 'string' then
        error(('no prompt named %q (config prompts: %s)'):format(name, table.concat(vim.tbl_keys(prompts), ', ')), 0)
      end
      dispatch.choose_and_send(context.message(text, ctx), ('the %s prompt'):format(name))
    end
    if cmd.fargs[1] then
      return go(cmd.fargs[1])
    end
    local names = vim.tbl_keys(prompts)
    table.sort(names)
    vim.ui.select(names, {
      prompt = 'lulu prompt:',
      kind = 'lulu_prompt',
      format_item = function(name)
        return ('%s: %s'):format(name, (prompts[name]:gsub('\n', ' ')))
      end,
    }, function(name)
      if name then
        run.guard(function()
          go(name)
        end)
      end
    end)
  end)
end

function M.approve()
  run.guard(function()
    approve.open()
  end)
end

function M.rules(cmd)
  run.guard(function()
    local sub, file = cmd.fargs[1], cmd.fargs[2]
    if sub == nil then
      rules.open()
    elseif (sub == 'export' or sub == 'import') and file and #cmd.fargs == 2 then
      local count = rules[sub](vim.fn.expand(file))
      util.notify(('%sed %d rule(s) %s %s'):format(sub, count, sub == 'export' and 'to' or 'from', file))
    else
      error('usage: :LuluRules [export {file} | import {file}]', 0)
    end
  end)
end

return M
