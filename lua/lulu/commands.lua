---@mod lulu.commands Bodies and completion of the :Lulu* commands.
local M = {}
local H = {}

local run = require('lulu.commands.run')
local util = require('lulu.util')

H.one, H.answered, H.guard = run.one, run.answered, run.guard

-- The commands on a session's branch (diff, merge, rebase, review, prune,
-- trust) and their completion, loaded when first used.
for _, name in ipairs({
  'diff',
  'merge',
  'review',
  'rebase',
  'prune',
  'trust',
  'complete_merge',
  'complete_rebase',
}) do
  M[name] = function(...)
    return require('lulu.commands.git')[name](...)
  end
end

--- Split a command line like a shell would for words and quotes (no
--- expansion): `a 'b c' "d\"e"` -> { 'a', 'b c', 'd"e' }.
---@param line string
---@return string[]
function M.split(line)
  local words, word, quote, escaped, started = {}, {}, nil, false, false
  for ch in line:gmatch('.') do
    if escaped then
      word[#word + 1], escaped, started = ch, false, true
    elseif ch == '\\' and quote ~= "'" then
      escaped = true
    elseif quote then
      if ch == quote then
        quote = nil
      else
        word[#word + 1] = ch
      end
    elseif ch == "'" or ch == '"' then
      quote, started = ch, true
    elseif ch:match('%s') then
      if started then
        words[#words + 1], word, started = table.concat(word), {}, false
      end
    else
      word[#word + 1], started = ch, true
    end
  end
  if quote then
    error(('unclosed %s quote'):format(quote), 0)
  end
  if started then
    words[#words + 1] = table.concat(word)
  end
  return words
end

--- `[agent] [name=..] [cwd=..] [-- args]` -> start options.
---@param line string
---@return lulu.StartOpts
function M.parse_start(line)
  local opts, words = {}, M.split(line)
  local agents = require('lulu.config').options.agents
  for i, word in ipairs(words) do
    if word == '--' then
      opts.args = vim.list_slice(words, i + 1)
      break
    end
    local key, value = word:match('^(%w+)=(.*)$')
    local host, on_host = word:match('^([%w_.-]+):(.*)$')
    if i == 1 and host and not key then
      if not require('lulu.config').options.hosts[host] then
        error(('no host named %q (config hosts)'):format(host), 0)
      end
      opts.host = host
      word = on_host
    end
    if i == 1 and opts.host and word == '' then
      -- `devbox:` alone: its default agent.
      opts.agent = nil
    elseif i == 1 and word:sub(1, 1) == '@' then
      opts.template = word:sub(2)
    elseif key == 'name' or key == 'cwd' or key == 'base' or key == 'template' or key == 'prompt' then
      opts[key] = value
    elseif key == 'host' then
      if not require('lulu.config').options.hosts[value] then
        error(('no host named %q (config hosts)'):format(value), 0)
      end
      opts.host = value
    elseif key == 'worktree' then
      if value ~= 'on' and value ~= 'off' then
        error(('worktree= takes on or off, not %q'):format(value), 0)
      end
      opts.worktree = value == 'on'
    elseif key == 'sandbox' then
      if value ~= 'bwrap' and value ~= 'off' then
        error(('sandbox= takes bwrap or off, not %q'):format(value), 0)
      end
      opts.sandbox = value == 'bwrap' and 'bwrap' or false
    elseif key then
      error(
        ('unknown option %s= (known: name=, cwd=, worktree=, base=, sandbox=, host=, template=, prompt=, and -- before agent args)'):format(
          key
        ),
        0
      )
    elseif i == 1 and agents[word] then
      opts.agent = word
    elseif i == 1 then
      local names = vim.tbl_keys(agents)
      table.sort(names)
      error(('unknown agent %q (known: %s)'):format(word, table.concat(names, ', ')), 0)
    else
      local before = words[i - 1] and words[i - 1]:match('^(%w+)=')
      if before == 'prompt' or before == 'name' or before == 'cwd' then
        error(
          ('unexpected %q: quote a %s= of several words (%s="%s %s"); agent arguments go after --'):format(
            word,
            before,
            before,
            opts[before],
            word
          ),
          0
        )
      end
      error(('unexpected %q: pass agent arguments after --'):format(word), 0)
    end
  end
  return opts
end

H.starts = 0

function M.start(cmd)
  local ok, opts = pcall(M.parse_start, cmd.args)
  if not ok then
    return util.notify(tostring(opts), vim.log.levels.ERROR)
  end
  H.guard(function()
    local lulu = require('lulu')
    H.starts = H.starts + 1
    local this_start = H.starts
    -- The editor goes on while the host makes the worktree. Of starts
    -- made one after another, the last one asked is shown, whichever is
    -- made first.
    lulu.start(
      opts,
      H.answered(function(record)
        if this_start == H.starts then
          lulu.open(record.id)
        end
      end)
    )
  end, { host = opts.host })
end

function M.list()
  H.guard(require('lulu.ui.list').toggle)
end

function M.open(cmd)
  H.guard(function()
    require('lulu').open(H.one(cmd))
  end)
end

function M.resume(cmd)
  H.guard(function()
    local record = require('lulu').resume(H.one(cmd))
    util.notify(("resuming %s's conversation in '%s'"):format(record.agent, record.name))
    require('lulu.term').open(record)
  end)
end

--- Ended sessions whose agent named a conversation.
function M.complete_resumable(lead)
  local names = {}
  for _, record in ipairs(require('lulu.sessions').all()) do
    if record.conversation and not require('lulu.sessions').is_live(record) and vim.startswith(record.name, lead) then
      names[#names + 1] = record.name
    end
  end
  return names
end

function M.stop(cmd)
  H.guard(function()
    require('lulu').stop(H.one(cmd), { force = cmd.bang })
  end)
end

function M.delete(cmd)
  H.guard(function()
    require('lulu').delete(H.one(cmd), { force = cmd.bang }, H.answered(function() end))
  end)
end

function M.activity()
  H.guard(function()
    require('lulu.ui.activity').open()
  end)
end

--- `:LuluTemplate save {name} [session]`, `:LuluTemplate list`.
function M.template(cmd)
  H.guard(function()
    local sub, name, ref = cmd.fargs[1], cmd.fargs[2], cmd.fargs[3]
    if (sub == 'list' or sub == nil) and not name then
      local templates = require('lulu').templates()
      local names = vim.tbl_keys(templates)
      table.sort(names)
      local lines = {}
      for _, n in ipairs(names) do
        local t = templates[n]
        lines[#lines + 1] = ('@%s: %s%s'):format(
          n,
          t.agent or require('lulu')._default_agent(),
          t.prompt and (' · prompt: ' .. t.prompt:gsub('\n', ' '):sub(1, 40)) or ''
        )
      end
      util.notify(
        #lines > 0 and table.concat(lines, '\n') or 'no templates (config templates, or :LuluTemplate save)',
        nil,
        { multiline = true }
      )
      return
    end
    if sub ~= 'save' or not name or #cmd.fargs > 3 then
      error('usage: :LuluTemplate save {name} [session] | :LuluTemplate list', 0)
    end
    ref = ref or vim.b.lulu_session
    if not ref then
      error("which session? :LuluTemplate save {name} {session}, or run it in a session's terminal", 0)
    end
    local spec = require('lulu').save_template(name, ref)
    util.notify(('saved template @%s (%s); :LuluStart @%s'):format(name, spec.agent, name))
  end)
end

function M.complete_template(lead, line)
  local words = vim.split(line, '%s+', { trimempty = true })
  local n = #words + (lead == '' and 1 or 0)
  if n == 2 then
    return vim.tbl_filter(function(s)
      return vim.startswith(s, lead)
    end, { 'save', 'list' })
  end
  if n == 4 then
    return M.complete_sessions(lead)
  end
  return {}
end

--- Jump to the next session (after the current one, newest first, wrapping)
--- that waits for the user or has a pending approval.
function M.next()
  H.guard(function()
    local all = require('lulu').list()
    local current = vim.b.lulu_session
    local start = 0
    for i, r in ipairs(all) do
      if r.id == current then
        start = i
      end
    end
    for step = 1, #all do
      local r = all[(start + step - 1) % #all + 1]
      if r.waiting or (r.pending_approvals or 0) > 0 then
        local buf = require('lulu.term').buffer_of(r.id)
        local win = buf and vim.fn.win_findbuf(buf)[1]
        if win then
          vim.api.nvim_set_current_win(win)
        else
          require('lulu').open(r.id)
        end
        return
      end
    end
    util.notify('no session is waiting for you')
  end)
end

function M.save(cmd)
  H.guard(function()
    local name = cmd.fargs[1] or 'default'
    local n = require('lulu').save(name)
    util.notify(('saved %d session(s) as %q (:LuluRestore %s)'):format(n, name, name))
  end)
end

function M.restore(cmd)
  H.guard(function()
    local name = cmd.fargs[1] or 'default'
    require('lulu').restore(name, function(records, errors)
      for _, e in ipairs(errors) do
        util.notify(e.message, vim.log.levels.ERROR)
      end
      util.notify(('restored %d session(s) from %q'):format(#records, name))
    end)
  end)
end

function M.complete_saved(lead)
  local ok, names = pcall(require('lulu').saved)
  return vim.tbl_filter(function(n)
    return vim.startswith(n, lead)
  end, ok and names or {})
end

function M.grid()
  H.guard(require('lulu.ui.grid').open)
end

--- `:LuluHost` says how each remote host is; `connect NAME` and
--- `disconnect NAME` open and close one (its sessions go on there).
function M.host(cmd)
  local hosts = require('lulu.remote')
  local action, name = unpack(cmd.fargs)
  if not action then
    local lines = {}
    for _, host in ipairs(hosts.names()) do
      local s = hosts.status(host)
      local state = s and s.state or 'not connected'
      lines[#lines + 1] = ('%s: %s%s'):format(host, state, s and s.error and (' (' .. s.error .. ')') or '')
    end
    return util.notify(
      #lines > 0 and table.concat(lines, '\n') or 'no hosts configured (setup({ hosts = ... }))',
      nil,
      { multiline = true }
    )
  end
  if not name or (action ~= 'connect' and action ~= 'disconnect') then
    return util.notify('usage: :LuluHost [connect|disconnect {name}]', vim.log.levels.ERROR)
  end
  if action == 'disconnect' then
    return hosts.disconnect(name)
  end
  hosts.when_ready(name, function()
    util.notify(('%s: connected (lulu %s)'):format(name, hosts.status(name).version))
  end, function(err)
    util.notify(err, vim.log.levels.ERROR)
  end)
end

function M.daemon(cmd)
  H.guard(function()
    local rpc = require('lulu.rpc')
    local action = vim.trim(cmd.args)
    if action == 'status' then
      local out = require('lulu.host').daemon_command({ '--status' })
      if require('lulu.host').running() and require('lulu.host').mode() == 'daemon' then
        local s = rpc.request(rpc.methods.daemon_status)
        out = ('lulu daemon pid %d, %d live session(s), %d editor(s) attached, on %s; log %s%s'):format(
          s.pid,
          s.live,
          s.clients,
          s.socket,
          s.log,
          require('lulu.host').stale_daemon() and '; another build than this editor’s (:LuluDaemon restart)' or ''
        )
      end
      util.notify(out, nil, { multiline = true })
    elseif action == 'stop' or action == 'restart' then
      local live = vim.tbl_filter(function(r)
        return not r.host and require('lulu.sessions').is_live(r)
      end, require('lulu.sessions').all())
      if action == 'restart' and #live > 0 and require('lulu.host').mode() == 'daemon' then
        error(('%d session(s) still live; stop them first (restarting the daemon ends them)'):format(#live), 0)
      end
      if action == 'stop' and #live > 0 and not cmd.bang then
        -- Stopping the daemon ends its agents, and their unsaved work.
        local names = vim.tbl_map(function(r)
          return r.name
        end, live)
        local question = ('Stop the daemon and end %d live session(s): %s?'):format(#live, table.concat(names, ', '))
        if vim.fn.confirm(question, '&Stop them\n&Cancel', 2) ~= 1 then
          return util.notify('not stopped (:LuluDaemon! stop skips this question)')
        end
      end
      require('lulu.host').stop()
      util.notify(require('lulu.host').daemon_command({ '--stop' }))
      if action == 'restart' then
        util.notify(require('lulu.host').daemon_command({
          '--idle-exit',
          tostring(require('lulu.config').options.daemon.idle_exit),
        }))
        require('lulu.host').ensure()
      end
    else
      error('usage: :LuluDaemon status|stop|restart', 0)
    end
  end, { local_only = true })
end

function M.send(cmd)
  H.guard(function()
    local target, text = cmd.args:match('^(%S+)%s*(.*)$')
    if not target or (text == '' and cmd.range == 0) then
      error("usage: :LuluSend {session|all|all!} {text}, or :'<,'>LuluSend {session|all|all!} [text]", 0)
    end
    local ctx =
      require('lulu.context').capture(0, cmd.range > 0 and cmd.line1 or nil, cmd.range > 0 and cmd.line2 or nil)
    local body = require('lulu.context').message(text, ctx)
    if target ~= 'all' and target ~= 'all!' then
      local lulu = require('lulu')
      lulu.send(target, body(lulu.get(target)))
      return
    end
    require('lulu.ui.dispatch').to_all(body, { shells = target == 'all!' or cmd.bang })
  end)
end

--- `:[range]LuluPrompt [name]`: a named prompt (config `prompts`), filled
--- from here, sent to the sessions you pick.
function M.prompt(cmd)
  H.guard(function()
    local prompts = require('lulu.config').options.prompts
    local ctx =
      require('lulu.context').capture(0, cmd.range > 0 and cmd.line1 or nil, cmd.range > 0 and cmd.line2 or nil)
    local function go(name)
      local text = prompts[name]
      if type(text) ~= 'string' then
        error(('no prompt named %q (config prompts: %s)'):format(name, table.concat(vim.tbl_keys(prompts), ', ')), 0)
      end
      require('lulu.ui.dispatch').choose_and_send(
        require('lulu.context').message(text, ctx),
        ('the %s prompt'):format(name)
      )
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
        H.guard(function()
          go(name)
        end)
      end
    end)
  end)
end

function M.complete_prompts(lead)
  local names = vim.tbl_filter(function(n)
    return vim.startswith(n, lead)
  end, vim.tbl_keys(require('lulu.config').options.prompts))
  table.sort(names)
  return names
end

function M.approve()
  H.guard(function()
    require('lulu.approvals').open()
  end)
end

function M.rules(cmd)
  H.guard(function()
    local sub, file = cmd.fargs[1], cmd.fargs[2]
    if sub == nil then
      require('lulu.ui.rules').open()
    elseif (sub == 'export' or sub == 'import') and file and #cmd.fargs == 2 then
      local count = require('lulu.ui.rules')[sub](vim.fn.expand(file))
      util.notify(('%sed %d rule(s) %s %s'):format(sub, count, sub == 'export' and 'to' or 'from', file))
    else
      error('usage: :LuluRules [export {file} | import {file}]', 0)
    end
  end)
end

-- completion -------------------------------------------------------------

function M.complete_sessions(lead)
  local names = {}
  for _, record in ipairs(require('lulu.sessions').all()) do
    if vim.startswith(record.name, lead) then
      names[#names + 1] = record.name
    end
  end
  return names
end

function M.complete_send(lead, line)
  if #vim.split(line, '%s+', { trimempty = true }) <= 2 and not line:match('%S+%s+%S+%s') then
    local names = M.complete_sessions(lead)
    if vim.startswith('all!', lead) then
      table.insert(names, 1, 'all!')
    end
    if vim.startswith('all', lead) then
      table.insert(names, 1, 'all')
    end
    return names
  end
  return {}
end

function M.complete_start(lead, line)
  if line:find(' %-%- ') then
    return vim.fn.getcompletion(lead, 'file')
  end
  for key, values in pairs({ worktree = { 'on', 'off' }, sandbox = { 'bwrap', 'off' } }) do
    if lead:match('^' .. key .. '=') then
      return vim.tbl_filter(
        function(s)
          return vim.startswith(s, lead)
        end,
        vim.tbl_map(function(v)
          return key .. '=' .. v
        end, values)
      )
    end
  end
  local items = { 'name=', 'cwd=', 'worktree=', 'base=', 'sandbox=', 'prompt=', '--' }
  local words = vim.split(line, '%s+', { trimempty = true })
  local first = #words == 1 or (#words == 2 and lead ~= '')
  if first then
    local agents = vim.tbl_keys(require('lulu.config').options.agents)
    table.sort(agents)
    -- Templates (`@name`), never waiting on the host.
    local templates = require('lulu')._template_names()
    items = vim.list_extend(
      vim.list_extend(
        agents,
        vim.tbl_map(function(t)
          return '@' .. t
        end, templates)
      ),
      items
    )
  end
  if lead:match('^cwd=') then
    return vim.tbl_map(function(dir)
      return 'cwd=' .. dir
    end, vim.fn.getcompletion(lead:sub(5), 'dir'))
  end
  return vim.tbl_filter(function(item)
    return vim.startswith(item, lead)
  end, items)
end

return M
