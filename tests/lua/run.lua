-- Runs tests/lua/test_*.lua: `nvim -l tests/lua/run.lua [pattern]`.
-- Ends with "N passed, N failed"; exits non-zero on any failure.
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h:h')
package.path = root .. '/tests/lua/?.lua;' .. package.path
local harness = require('harness')

if not os.getenv('LULU_BIN') or vim.fn.executable(os.getenv('LULU_BIN')) == 0 then
  io.stderr:write('LULU_BIN must point at a built lulu binary (cargo test sets it)\n')
  os.exit(2)
end

local filter = _G.arg[1]
local passed, failed, failures, skipped = 0, 0, {}, {}
local files = vim.fn.globpath(root .. '/tests/lua', 'test_*.lua', false, true)
table.sort(files)
for _, file in ipairs(files) do
  local set = dofile(file)
  local module = vim.fn.fnamemodify(file, ':t:r')
  for _, name in ipairs(set._order) do
    local full = module .. ': ' .. name
    if not filter or full:find(filter, 1, true) then
      local started = vim.uv.hrtime()
      local child = set._no_child and nil or harness.child()
      local ok, err = xpcall(set[name], debug.traceback, child)
      if child then
        child.stop()
      end
      local ms = (vim.uv.hrtime() - started) / 1e6
      if not ok and type(err) == 'table' and err.skip then
        skipped[#skipped + 1] = ('%s: %s'):format(full, err.skip)
        io.stdout:write(('SKIP %s: %s\n'):format(full, err.skip))
      elseif ok then
        passed = passed + 1
        io.stdout:write(('ok   %s (%d ms)\n'):format(full, ms))
      else
        failed = failed + 1
        -- The reason again in the summary: CI shows only the tail.
        local reason = vim.split(tostring(err), '\n')
        failures[#failures + 1] = full .. '\n      ' .. table.concat(vim.list_slice(reason, 1, 6), '\n      ')
        io.stdout:write(('FAIL %s (%d ms)\n%s\n'):format(full, ms, err))
      end
      io.stdout:flush()
    end
  end
end
if #failures > 0 then
  io.stdout:write('\nfailed:\n  ' .. table.concat(failures, '\n  ') .. '\n')
end
if #skipped > 0 then
  local bar = ('!'):rep(70)
  io.stdout:write(('\n%s\nSKIPPED %d:\n  %s\n%s\n'):format(bar, #skipped, table.concat(skipped, '\n  '), bar))
end
io.stdout:write(('lua: %d passed, %d failed, %d skipped\n'):format(passed, failed, #skipped))
io.stdout:flush()
-- os.exit skips Neovim's own clean-up: the tests' directories (repositories,
-- XDG trees, logs: hundreds of MiB a run) would stay under $TMPDIR.
vim.fn.delete(vim.fn.fnamemodify(vim.fn.tempname(), ':h'), 'rf')
os.exit(failed == 0 and passed > 0 and 0 or 1)
