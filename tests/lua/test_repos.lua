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

  -- `lulu list` groups the same way; --repo takes one repository.
  local bin = os.getenv('LULU_BIN')
  local out = vim.system({ bin, 'list' }, { env = child.env, text = true }):wait()
  local heads = {}
  for repo in out.stdout:gmatch('== (%S+)') do
    heads[#heads + 1] = vim.fn.fnamemodify(repo, ':t')
  end
  h.eq(heads, { 'gamma', 'alpha', 'beta' }, 'lulu list: a header per repository')
  local json = vim.system({ bin, 'list', '--json', '--repo', r1 }, { env = child.env, text = true }):wait()
  local names = vim.tbl_map(function(r)
    return r.name
  end, vim.json.decode(json.stdout))
  h.eq(names, { 'c', 'a' }, 'lulu list --repo --json')
end

T['base= starts from that branch, completed from the repository; diff and merge go against it; cwd= completes recent repositories'] = function(
  child
)
  child.setup()
  child.capture_notify()
  local repo = h.repo(child.dir .. '/alpha')
  h.git(repo, 'checkout', '--quiet', '-b', 'develop')
  vim.fn.writefile({ 'develop only' }, repo .. '/dev.txt')
  h.git(repo, 'add', '.')
  h.git(repo, 'commit', '--quiet', '-m', 'develop work')
  h.git(repo, 'checkout', '--quiet', 'main')
  child.cmd('cd ' .. repo)
  h.eq(
    child.lua('return require("lulu.commands").complete_start("base=d", "LuluStart shell base=d")'),
    { 'base=develop' },
    'local branches'
  )
  local bad = child.lua('return { pcall(require("lulu").start, { agent = "shell", name = "x", base = "nope" }) }')
  h.matches(bad[2], 'base "nope" is not a branch, tag or commit in this repository', 'a base that does not exist')
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "f", base = "develop" })')
  child.wait('return require("lulu").get("f").status == "running"', 5000, 'f running')
  h.eq(child.lua('return require("lulu").get("f").base'), 'develop', 'its base')
  local worktree = child.lua('return require("lulu").get("f").worktree')
  h.eq(vim.fn.readfile(worktree .. '/dev.txt'), { 'develop only' }, 'started from develop')
  vim.fn.writefile({ 'feature' }, worktree .. '/feature.txt')
  h.git(worktree, 'add', '.')
  h.git(worktree, 'commit', '--quiet', '-m', 'feature')
  local diff = child.lua('return require("lulu").diff("f")')
  h.matches(diff, 'feature%.txt', 'the diff has its own change')
  h.ok(not diff:find('dev.txt', 1, true), "and not develop's")
  h.git(repo, 'checkout', '--quiet', 'develop')
  local merged = child.lua('return require("lulu").merge("f", "merge")')
  h.eq(merged.ok, true, 'merged')
  h.matches(h.git(repo, 'log', '--format=%s', 'develop'), 'feature', 'onto develop')
  h.eq(h.git(repo, 'log', '--format=%s', 'main'), 'initial', 'main untouched')
  local dirs = child.lua('return require("lulu.commands").complete_start("cwd=", "LuluStart shell cwd=")')
  h.eq(dirs[1], 'cwd=' .. vim.fn.fnamemodify(repo, ':~'), 'the recent repository first')
  h.ok(s.id ~= nil)
end

T['worktree.branch names branches from a template; the feed and merge follow them; a bad template is refused'] = function(
  child
)
  child.setup({ worktree = { branch = 'agent/{agent}/{name}' } })
  child.capture_notify()
  local repo = h.repo(child.dir .. '/alpha')
  child.cmd('cd ' .. repo)
  local s = child.lua('return require("lulu").start({ agent = "shell", name = "t1" })')
  child.wait('return require("lulu").get("t1").status == "running"', 5000, 't1 running')
  h.eq(child.lua('return require("lulu").get("t1").branch'), 'agent/shell/t1', 'the branch from the template')
  local worktree = child.lua('return require("lulu").get("t1").worktree')
  h.eq(h.git(worktree, 'rev-parse', '--abbrev-ref', 'HEAD'), 'agent/shell/t1', 'checked out in its worktree')
  -- The feed's first look learns where the branches are; the commit after it is news.
  vim.wait(1500)

  vim.fn.writefile({ 'x' }, worktree .. '/x.txt')
  h.git(worktree, 'add', '.')
  h.git(worktree, 'commit', '--quiet', '-m', 'templated work')
  child.wait(
    [[for _, a in ipairs(require("lulu").activity()) do if a.branch == "agent/shell/t1" and a.kind == "commit" then return true end end]],
    8000,
    'the activity feed sees its commit'
  )
  h.eq(child.lua('return require("lulu").merge("t1", "merge")').ok, true, 'it merges')
  local bad = child.lua('return { pcall(require("lulu").setup, { worktree = { branch = "agent/fixed" } }) }')
  h.ok(bad[1] == false or child.lua('return #_G.notes') > 0, 'refused')
  h.matches(vim.inspect(child.lua('return _G.notes')), 'worktree%.branch', 'says which option')
  h.ok(s.id)
end

T["the list's n key offers the repositories of recent sessions"] = function(child)
  child.setup()
  child.capture_notify()
  local r1 = h.repo(child.dir .. '/alpha')
  local r2 = h.repo(child.dir .. '/beta')
  start(child, 'a', r1)
  start(child, 'b', r2)
  child.cmd('cd ' .. r1)
  child.lua([[
    _G.asked = {}
    vim.ui.select = function(items, opts, on_choice)
      table.insert(_G.asked, { prompt = opts.prompt, items = vim.tbl_map(opts.format_item or tostring, items) })
      vim.schedule(function() on_choice(opts.prompt == 'Agent' and 'shell' or items[#items]) end)
    end
    vim.ui.input = function(_, on_confirm) vim.schedule(function() on_confirm('nb') end) end
  ]])
  child.cmd('LuluList')
  child.lua('vim.api.nvim_feedkeys("n", "x", false)')
  child.wait('local ok, r = pcall(require("lulu").get, "nb"); return ok and r.status == "running"', 8000, 'nb started')
  h.eq(child.lua('return require("lulu").get("nb").repo'), r2, 'in the repository picked')
  local asked = child.lua('return _G.asked')
  h.eq(asked[2].prompt, 'Repository', 'asked where')
  h.eq(
    asked[2].items,
    { 'here: ' .. vim.fn.fnamemodify(r1, ':~'), vim.fn.fnamemodify(r2, ':~') },
    'here, then the others'
  )
end

return T
