-- Sessions of several repositories in one list: grouped under a header
-- per repository (newest group first, rows newest first within), and `f`
-- cycling all / this repository / waiting.
local h = require('harness')
local T = h.new_set()

local function start(child, name, cwd)
  local s = child.lua(
    'local name, cwd = ...; return require("lulu").start({ agent = "shell", name = name, cwd = cwd })',
    name,
    cwd
  )
  child.wait('return require("lulu").get(...).status == "running"', 5000, name .. ' running', s.id)
  return s
end

local function list_lines(child)
  return child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)')
end

T['three repositories: rows grouped under their repository; f filters this repository and the waiting'] = function(
  child
)
  child.setup()
  child.capture_notify()
  local r1 = h.repo(child.dir .. '/alpha')
  local r2 = h.repo(child.dir .. '/beta')
  local r3 = h.repo(child.dir .. '/gamma')
  start(child, 'a', r1)
  start(child, 'b', r2)
  start(child, 'c', r1)
  start(child, 'd', r3)
  child.cmd('cd ' .. r1)
  child.cmd('LuluList')
  child.wait('return vim.bo.filetype == "lulu_list"', 3000, 'the list')
  local lines = list_lines(child)
  local shape = vim.tbl_map(function(line)
    return line:match('^▾ (%S+)') and ('# ' .. line:match('^▾ (%S+)')) or line:match('^ %S+ %S+%s+(%S+)')
  end, lines)
  shape = vim.tbl_filter(function(x)
    return x ~= nil
  end, shape)
  h.eq(shape, { '# gamma', 'd', '# alpha', 'c', 'a', '# beta', 'b' }, 'grouped, newest group first')
  h.matches(lines[1], '^▾ gamma  .*gamma · 1 live$', 'a header: name, directory, live count')
  h.eq(child.lua('return require("lulu.ui.list").selected().name'), 'd', 'the first row selected')
  child.lua('vim.api.nvim_feedkeys("j", "x", false)')
  h.eq(child.lua('return require("lulu.ui.list").selected().name'), 'c', 'j skips the header')
  h.eq(child.lua('return vim.api.nvim_win_get_cursor(0)[1]'), 5, "on c's first line")

  child.lua('vim.api.nvim_feedkeys("f", "x", false)')
  lines = list_lines(child)
  h.eq(#lines, 4, 'this repository: two rows, no header')
  h.matches(lines[1], ' c ', 'c')
  h.matches(lines[3], ' a ', 'a')
  h.matches(child.lua('return vim.api.nvim_win_get_config(0).title[1][1]'), 'this repository', 'the title says so')

  child.lua('vim.api.nvim_feedkeys("f", "x", false)')
  h.matches(list_lines(child)[2], 'No session waiting for you%. f shows them all%.', 'none waiting')
  child.lua('vim.api.nvim_feedkeys("f", "x", false)')
  h.eq(#list_lines(child), 11, 'all again: three headers and four rows')
end

return T
