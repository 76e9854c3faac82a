-- What the benchmarks share: printing a figure, summarising samples, and
-- the coloured input the terminal benchmarks feed.
local M = {}

function M.say(line)
  io.stdout:write(line, '\n')
  io.stdout:flush()
end

--- Median, p99, max and min of `xs` (sorted in place).
function M.stats(xs)
  table.sort(xs)
  local n = #xs
  local median = n % 2 == 1 and xs[(n + 1) / 2] or (xs[n / 2] + xs[n / 2 + 1]) / 2
  return median, xs[math.max(math.ceil(n * 0.99), 1)], xs[n], xs[1]
end

--- A file of about `size` bytes of numbered SGR-coloured lines; returns its
--- path, its size and its number of lines.
function M.make_input(size)
  local path = vim.fn.tempname()
  local colours = { 31, 32, 33, 34, 35, 36 }
  local parts, written, n = {}, 0, 0
  while written < size do
    n = n + 1
    local line = ('\27[%dm%06d\27[0m the quick brown fox jumps over the lazy dog \27[1;%dm%s\27[0m\n'):format(
      colours[n % #colours + 1],
      n,
      colours[(n + 3) % #colours + 1],
      ('='):rep(n % 40)
    )
    parts[#parts + 1] = line
    written = written + #line
  end
  local file = assert(io.open(path, 'wb'))
  file:write(table.concat(parts))
  file:close()
  return path, written, n
end

--- A child Neovim with lulu in daemon mode, connected; the daemon is
--- stopped when the child is. Returns the child and the daemon's pid.
--- `before` (an Ex command) runs before setup.
function M.daemon_child(harness, bin, before)
  local child = harness.child()
  if before then
    child.cmd(before)
  end
  child.setup({ bin = bin, host = { mode = 'daemon' } })
  child.lua('require("lulu").list()')
  child.defer(function()
    vim.system({ bin, 'daemon', '--stop' }, { env = child.env }):wait(20000)
  end)
  local status = vim.system({ bin, 'daemon', '--status' }, { env = child.env, text = true }):wait().stdout
  return child, tonumber(status:match('pid (%d+)'))
end

--- A private tmux server (its own socket, `conf` lines or none): a
--- function that runs a tmux command on it and returns its result, or nil
--- when tmux is not installed. Kill it with `run('kill-server')`.
function M.tmux_server(conf)
  if vim.fn.executable('tmux') == 0 then
    return nil
  end
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  local file = '/dev/null'
  if conf then
    file = dir .. '/tmux.conf'
    vim.fn.writefile(conf, file)
  end
  local tmux = { 'tmux', '-S', dir .. '/sock', '-f', file }
  return function(...)
    return vim.system(vim.list_extend(vim.deepcopy(tmux), { ... }), { text = true }):wait()
  end
end

return M
