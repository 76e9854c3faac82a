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

return M
