-- A real sshd on 127.0.0.1 for the remote-host specs: a host key and a
-- user key made here, known_hosts pinned (StrictHostKeyChecking), and a
-- "remote" lulu with its own HOME, XDG dirs and runtime dir, so that its
-- daemon is a separate one from anything the local editor runs.
local M = {}

local function run(cmd)
  local result = vim.system(cmd, { text = true }):wait()
  if result.code ~= 0 then
    error(('%s: %s'):format(table.concat(cmd, ' '), result.stderr), 2)
  end
  return vim.trim(result.stdout)
end

local function free_port()
  local tcp = vim.uv.new_tcp()
  tcp:bind('127.0.0.1', 0)
  local port = tcp:getsockname().port
  tcp:close()
  return port
end

--- Start sshd for `child`; returns `{ host = <ssh config alias>, args =
--- { '-F', config }, bin = <the remote lulu>, env = <the remote's env>,
--- dir = <its home>, stop = fn }`. Stopped with the child.
function M.sshd(child)
  local sshd = '/usr/sbin/sshd'
  if vim.fn.executable(sshd) == 0 then
    error('openssh-server is not installed (scripts/ensure-tools installs it)')
  end
  local dir = child.dir .. '/ssh'
  vim.fn.mkdir(dir, 'p', tonumber('700', 8))
  run({ 'ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', dir .. '/host_key' })
  run({ 'ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', dir .. '/user_key' })
  vim.fn.writefile(vim.fn.readfile(dir .. '/user_key.pub'), dir .. '/authorized_keys')
  local user = run({ 'id', '-un' })
  local port = free_port()
  vim.fn.writefile({
    'Port ' .. port,
    'ListenAddress 127.0.0.1',
    'HostKey ' .. dir .. '/host_key',
    'PidFile ' .. dir .. '/sshd.pid',
    'AuthorizedKeysFile ' .. dir .. '/authorized_keys',
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'AllowUsers ' .. user,
    'LogLevel ERROR',
  }, dir .. '/sshd_config')
  local host_key = vim.split(vim.fn.readfile(dir .. '/host_key.pub')[1], ' ')
  vim.fn.writefile({ ('[127.0.0.1]:%d %s %s'):format(port, host_key[1], host_key[2]) }, dir .. '/known_hosts')
  vim.fn.writefile({
    'Host lulu-remote',
    '  HostName 127.0.0.1',
    '  Port ' .. port,
    '  User ' .. user,
    '  IdentityFile ' .. dir .. '/user_key',
    '  IdentitiesOnly yes',
    '  UserKnownHostsFile ' .. dir .. '/known_hosts',
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '  LogLevel ERROR',
  }, dir .. '/config')
  -- sshd wants its privilege-separation directory.
  vim.fn.mkdir('/run/sshd', 'p')
  local server = vim.system({ sshd, '-D', '-e', '-f', dir .. '/sshd_config' }, { text = true })
  child.defer(function()
    server:kill(15)
  end)
  local up = vim.wait(5000, function()
    local probe = vim.system({ 'ssh', '-F', dir .. '/config', 'lulu-remote', 'true' }, { text = true }):wait()
    return probe.code == 0
  end, 100)
  if not up then
    error('sshd did not take a connection on port ' .. port)
  end

  -- The remote machine's lulu: its own home and runtime dir.
  local home = child.dir .. '/remote'
  local env = {
    HOME = home .. '/home',
    XDG_DATA_HOME = home .. '/data',
    XDG_STATE_HOME = home .. '/state',
    XDG_CONFIG_HOME = home .. '/config',
    XDG_RUNTIME_DIR = home .. '/run',
    SHELL = '/bin/sh',
    PATH = vim.env.PATH,
  }
  vim.fn.mkdir(env.HOME, 'p')
  vim.fn.mkdir(env.XDG_RUNTIME_DIR, 'p', tonumber('700', 8))
  local lines = { '#!/bin/sh' }
  for key, value in pairs(env) do
    lines[#lines + 1] = ('export %s=%s'):format(key, vim.fn.shellescape(value))
  end
  lines[#lines + 1] = ('exec %s "$@"'):format(vim.fn.shellescape(os.getenv('LULU_BIN')))
  local bin = home .. '/lulu'
  vim.fn.writefile(lines, bin)
  vim.fn.setfperm(bin, 'rwx------')
  child.defer(function()
    vim.system({ bin, 'daemon', '--stop' }):wait(20000)
  end)
  return {
    host = 'lulu-remote',
    args = { '-F', dir .. '/config' },
    bin = bin,
    env = env,
    dir = home,
  }
end

--- The remote daemon's sessions, as `lulu list --json` prints them there.
function M.list(remote)
  local out = vim.system({ remote.bin, 'list', '--json' }, { text = true }):wait()
  return vim.json.decode(out.stdout ~= '' and out.stdout or '[]')
end

return M
