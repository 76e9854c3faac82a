-- Notices as a user sees them: a real Neovim with a real UI (in tmux, with
-- cmdheight=1), a session's terminal in Terminal mode, and a burst of long
-- notices. None may raise a hit-enter prompt, which would eat the next key
-- typed for the agent.
local h = require('harness')
local T = h.new_set()

local function tmux(socket, ...)
  return vim.system({ 'tmux', '-L', socket, ... }, { text = true }):wait()
end

T['a burst of long notices never raises a hit-enter prompt over a terminal'] = function(child)
  if vim.fn.executable('tmux') == 0 then
    error('tmux is not installed (scripts/ensure-tools installs it)')
  end
  -- The default host is a daemon, whose session outlives the tmux server:
  -- stop it when the case ends.
  child.defer(function()
    vim.system({ os.getenv('LULU_BIN'), 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
  local socket = 'lulu-notices-' .. vim.fn.getpid()
  local init = child.dir .. '/init.lua'
  vim.fn.writefile({
    ('vim.opt.rtp:prepend(%q)'):format(h.root),
    'vim.o.cmdheight = 1',
    ('require("lulu").setup({ bin = %q })'):format(os.getenv('LULU_BIN')),
    'vim.defer_fn(function() vim.cmd("LuluStart shell name=t worktree=off") end, 200)',
    -- Once the terminal is open (Terminal mode), four long notices at once.
    'vim.defer_fn(function()',
    '  for i = 1, 4 do',
    '    require("lulu.util").notify(("notice %d: "):format(i) .. string.rep("long text ", 30))',
    '  end',
    '  require("lulu.util").notify("t is waiting for you", nil, { key = "waiting:t" })',
    '  require("lulu.util").notify("t is waiting for you", nil, { key = "waiting:t" })',
    'end, 2500)',
  }, init)
  local env = {}
  for k, v in pairs(child.env) do
    env[#env + 1] = k .. '=' .. v
  end
  local cmd = ('env %s nvim --clean -u %s'):format(table.concat(vim.tbl_map(vim.fn.shellescape, env), ' '), init)
  tmux(socket, 'new-session', '-d', '-x', '100', '-y', '30', '-c', child.cwd, cmd)
  local function screen()
    return tmux(socket, 'capture-pane', '-p', '-t', '0').stdout or ''
  end
  local ok, err = pcall(function()
    local ok = vim.wait(10000, function()
      return screen():find('is waiting for you', 1, true) ~= nil
    end, 50)
    h.ok(ok, 'the notices shown:\n' .. screen())
    vim.wait(500)
    local shown = screen()
    h.ok(not shown:find('Press ENTER', 1, true), 'no hit-enter prompt:\n' .. shown)
    tmux(socket, 'send-keys', '-t', '0', 'echo typed-$((40+2))', 'Enter')
    h.wait_for(function()
      return screen():find('typed%-42') ~= nil
    end, 5000, 'the keys reached the shell, none eaten')
    tmux(socket, 'send-keys', '-t', '0', 'C-\\', 'C-n', ':messages', 'Enter')
    h.wait_for(function()
      return screen():find('notice 1', 1, true) ~= nil
    end, 5000, 'every notice in :messages')
    local _, waits = screen():gsub('t is waiting for you', '')
    h.eq(waits, 1, 'the repeated notice said once')
  end)
  tmux(socket, 'kill-server')
  if not ok then
    error(err, 0)
  end
end

return T
