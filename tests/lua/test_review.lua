-- File changes reviewed as diffs before they run (tests/fake-claude asks
-- for Write and Edit as Claude Code does, and runs an allow's updatedInput).
local h = require('harness')
local T = h.new_set()

local function setup(child, extra)
  child.setup(
    vim.tbl_deep_extend('force', { agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } } }, extra or {})
  )
  child.capture_notify()
  child.lua('vim.ui.input = function(_, on_done) on_done(_G.input_answer) end')
end

local function claude(child, name)
  local s = child.lua('return require("lulu").start({ agent = "claude", name = ... })', name)
  child.wait('return require("lulu").get(...).status == "running"', 5000, name .. ' running', s.id)
  return s
end

local function asked(child)
  child.wait('return #require("lulu").approvals() == 1', 5000, 'the question')
  return child.lua('return require("lulu").approvals()[1]')
end

--- The review tab's two buffers: { now = lines, after = lines, winbar }.
local function review_tab(child)
  return child.lua([[
    local out = {}
    for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
      local buf = vim.api.nvim_win_get_buf(win)
      local name = vim.api.nvim_buf_get_name(buf)
      local side = name:match('lulu://review/%d+/(%a+)/')
      if side then
        out[side] = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
        out[side .. '_diff'] = vim.wo[win].diff
        out[side .. '_bar'] = vim.wo[win].winbar
        out[side .. '_win'] = win
      end
    end
    return out
  ]])
end

local function read(path)
  local f = assert(io.open(path, 'rb'))
  local text = f:read('*a')
  f:close()
  return text
end

T['a Write reviewed and accepted with your edit leaves exactly your version; the agent is told it ran'] = function(
  child
)
  setup(child)
  local s = claude(child, 'w')
  child.lua('require("lulu").send("w", "write: notes.txt hello from claude")')
  local q = asked(child)
  h.eq({ q.tool, q.review, q.editable }, { 'Write', true, true }, 'a reviewable, editable change')
  child.lua('require("lulu").review(...)', q.id)
  local tab = review_tab(child)
  h.eq(tab.now, { '' }, 'a new file shows against an empty buffer')
  h.eq(tab.after, { 'hello from claude' }, 'the proposed content')
  h.eq({ tab.now_diff, tab.after_diff }, { true, true }, 'in diff mode')
  h.matches(tab.now_bar, 'lulu review · .*w.* · Write notes%.txt · new file', 'the winbar names it, and new')
  h.matches(tab.after_bar, '^after │ ga/:w accept %(with your edits%) · gr reject · q later', 'and the keys')
  -- The user edits the proposal and writes it.
  child.lua(
    'vim.api.nvim_set_current_win(...); vim.api.nvim_buf_set_lines(0, 0, -1, false, { "hello from me", "and a second line" })',
    tab.after_win
  )
  child.cmd('write')
  child.wait_screen(s.id, 'wrote notes%.txt', 5000, 'the agent ran it')
  h.eq(read(child.cwd .. '/notes.txt'), 'hello from me\nand a second line\n', 'exactly the edited content')
  h.ok(child.screen(s.id):find('input updated by hook', 1, true), 'as the updated input')
  h.eq(child.lua('return #vim.api.nvim_list_tabpages()'), 1, 'the review tab closed')
  h.matches(
    child.lua('return require("lulu").approvals({ history = true })[1].decided_by'),
    '%(reviewed, edited%)$',
    'recorded as reviewed and edited'
  )
end

T['an Edit accepted unchanged applies as the agent asked; edited, it applies exactly as edited'] = function(child)
  setup(child)
  vim.fn.writefile({ 'a = 1', 'b = 2' }, child.cwd .. '/f.py')
  local s = claude(child, 'e')
  child.lua('require("lulu").send("e", "edit: f.py a = 1 => a = 10")')
  local q = asked(child)
  child.lua('require("lulu").review(...)', q.id)
  local tab = review_tab(child)
  h.eq({ tab.now, tab.after }, { { 'a = 1', 'b = 2' }, { 'a = 10', 'b = 2' } }, 'now and after')
  child.lua('vim.api.nvim_set_current_win(...)', tab.now_win)
  child.lua('vim.api.nvim_feedkeys("ga", "x", false)')
  child.wait_screen(s.id, 'edited f%.py', 5000, 'the agent ran its edit')
  h.eq(read(child.cwd .. '/f.py'), 'a = 10\nb = 2\n', 'applied')
  h.ok(not child.screen(s.id):find('input updated', 1, true), 'as it asked')

  child.lua('require("lulu").send("e", "edit: f.py b = 2 => b = 20")')
  q = asked(child)
  child.lua('require("lulu").review(...)', q.id)
  tab = review_tab(child)
  child.lua('vim.api.nvim_set_current_win(...)', tab.after_win)
  child.lua('vim.api.nvim_buf_set_lines(0, 1, 2, false, { "b = 21", "c = 3" })')
  child.lua('vim.api.nvim_feedkeys("ga", "x", false)')
  child.wait('return #require("lulu").approvals() == 0', 5000, 'answered')
  child.wait_screen(s.id, 'edited f%.py.*edited f%.py', 5000, 'the second edit ran')
  h.eq(read(child.cwd .. '/f.py'), 'a = 10\nb = 21\nc = 3\n', 'exactly as edited')
end

T['gr rejects with a message the agent gets; q leaves the question pending; review = auto opens at once'] = function(
  child
)
  setup(child, { approvals = { review = 'auto' } })
  local s = claude(child, 'r')
  child.lua('require("lulu").send("r", "write: x.txt nope")')
  child.wait('return #vim.api.nvim_list_tabpages() == 2', 5000, 'review = auto opened the diff')
  child.cmd('normal q')
  h.eq(child.lua('return #vim.api.nvim_list_tabpages()'), 1, 'q closed it')
  local q = asked(child)
  h.eq(#child.lua('return require("lulu").approvals()'), 1, 'still pending')
  child.lua('require("lulu").review(...)', q.id)
  child.lua('_G.input_answer = "use a .md file"; vim.api.nvim_feedkeys("gr", "x", false)')
  child.wait_screen(s.id, 'denied: use a %.md file', 5000, 'the agent got the message')
  h.ok(vim.uv.fs_stat(child.cwd .. '/x.txt') == nil, 'nothing written')

  -- A Bash question offers no review; a Write one does, first.
  child.lua(
    '_G.labels = nil; vim.ui.select = function(items, opts, cb) _G.labels = vim.tbl_map(opts.format_item, items) end'
  )
  child.setup({ agents = { claude = { cmd = { h.root .. '/tests/fake-claude' } } } })
  child.lua('require("lulu").send("r", "run: echo hi")')
  asked(child)
  child.cmd('LuluApprove')
  h.ok(not vim.tbl_contains(child.lua('return _G.labels'), 'Review…'), 'no review for a command')
end

T['the dialog offers Review… for a file change'] = function(child)
  setup(child)
  child.lua(
    '_G.labels = nil; vim.ui.select = function(items, opts, cb) _G.labels = vim.tbl_map(opts.format_item, items) end'
  )
  claude(child, 'd')
  child.lua('require("lulu").send("d", "write: y.txt text")')
  asked(child)
  child.cmd('LuluApprove')
  h.eq(child.lua('return _G.labels[1]'), 'Review…', 'first')
  h.eq(child.lua('return _G.labels[2]'), 'Allow once', 'then the usual choices')
end

T[":LuluReview lists the branch's files with counts; comments go to the agent in one prompt"] = function(child)
  h.repo(child.cwd)
  setup(child)
  local s = claude(child, 'b')
  local worktree = child.lua('return require("lulu").get("b").worktree')
  -- What the agent did: a committed change and an uncommitted new file.
  vim.fn.writefile({ 'changed by b' }, worktree .. '/shared.txt')
  h.git(worktree, 'commit', '--quiet', '-am', 'change shared')
  vim.fn.writefile({ 'one', 'two' }, worktree .. '/new.txt')
  h.eq(child.lua('return require("lulu").review_files("b")'), {
    { path = 'new.txt', status = 'A', added = 2, removed = 0 },
    { path = 'shared.txt', status = 'M', added = 1, removed = 1 },
  }, 'files and counts')
  child.run('LuluReview b')
  local list = child.lua('return vim.api.nvim_buf_get_lines(0, 0, -1, false)')
  h.matches(list[1], 'lulu review · b · lulu/b against main', 'the title')
  h.matches(table.concat(list, '\n'), 'A new%.txt%s+%+2 %-0\nM shared%.txt  %+1 %-1', 'the files')
  -- <CR> on shared.txt: the base's version and the worktree's, in diff mode.
  child.lua('vim.api.nvim_win_set_cursor(0, { 5, 0 })')
  child.lua('vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<CR>", true, false, true), "x", false)')
  local sides = child.lua([[
    local out = {}
    for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
      if vim.wo[win].diff then
        out[#out + 1] = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
      end
    end
    return out
  ]])
  h.eq(sides, { { 'base' }, { 'changed by b' } }, 'base and worktree, in diff mode')
  h.eq(child.lua('return vim.api.nvim_buf_get_name(0)'), worktree .. '/shared.txt', 'the real file, editable')
  child.lua('vim.ui.input = function(_, done) done(_G.input_answer) end')
  child.lua('_G.input_answer = "say why"; vim.api.nvim_feedkeys("gc", "x", false)')
  -- ]f wraps to the next file; a range comment there.
  child.lua('vim.api.nvim_feedkeys("]f", "x", false)')
  h.eq(child.lua('return vim.api.nvim_buf_get_name(0)'), worktree .. '/new.txt', ']f')
  child.lua('_G.input_answer = "merge these two"; vim.api.nvim_feedkeys("Vjgc", "x", false)')
  local comments = child.lua('return require("lulu").comments("b")')
  h.eq(
    vim.tbl_map(function(c)
      return { c.path, c.line, c.end_line, c.text }
    end, comments),
    { { 'new.txt', 1, 2, 'merge these two' }, { 'shared.txt', 1, 1, 'say why' } },
    'kept with the session'
  )
  -- Each comment shows on its lines: a sign on the first, its text under
  -- the last (as gitsigns and diffview users expect).
  local function marks()
    return child.wait(
      [[
      local ns = vim.api.nvim_get_namespaces().lulu_review_comments
      local out = { signs = {}, lines = {} }
      for _, m in ipairs(vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })) do
        if m[4].sign_text then out.signs[#out.signs + 1] = m[2] + 1 end
        if m[4].virt_lines then out.lines[#out.lines + 1] = { m[2] + 1, m[4].virt_lines[1][1][1] } end
      end
      return #out.signs > 0 and out or nil
    ]],
      5000,
      'comment marks'
    )
  end
  local shown = marks()
  h.eq(shown.signs, { 1 }, 'a sign on the first line')
  h.eq(shown.lines, { { 2, '  ✎ merge these two' } }, 'the text under the last')
  -- gc on a commented line edits it; dc deletes it.
  child.lua(
    '_G.input_answer = "merge these"; vim.api.nvim_win_set_cursor(0, { 2, 0 }); vim.api.nvim_feedkeys("gc", "x", false)'
  )
  child.wait('return require("lulu").comments("b")[1].text == "merge these"', 5000, 'edited')
  h.eq(#child.lua('return require("lulu").comments("b")'), 2, 'still two')
  child.lua('vim.api.nvim_feedkeys("dc", "x", false)')
  child.wait('return #require("lulu").comments("b") == 1', 5000, 'deleted')
  child.lua('_G.input_answer = "merge these two"; vim.api.nvim_feedkeys("ggVjgc", "x", false)')
  child.wait('return #require("lulu").comments("b") == 2', 5000, 'added again')
  child.lua('vim.api.nvim_feedkeys("gS", "x", false)')
  -- The terminal is as narrow as its window in the review tab: read it
  -- unwrapped.
  local function heard(text)
    h.wait_for(function()
      return (child.screen(s.id):gsub('\n', '')):find('I heard: ' .. text, 1, true) ~= nil
    end, 5000, text)
  end
  heard('Review comments on your changes')
  heard('- new.txt:1-2: merge these two')
  heard('- shared.txt:1: say why')
  h.eq(#child.lua('return require("lulu").comments("b")'), 0, 'sent, so gone')
  h.eq(
    select(2, pcall(child.lua, 'return require("lulu").send_review("b")')):match('no review comments to send') ~= nil,
    true,
    'nothing to send says so'
  )
end

T['a change to a device, a FIFO or /proc opens no review, and the question says why'] = function(child)
  setup(child, { approvals = { review = 'auto' } })
  claude(child, 'dev')
  vim.fn.system({ 'mkfifo', child.cwd .. '/pipe' })
  for _, target in ipairs({ '/dev/zero', 'pipe', '/proc/self/environ' }) do
    child.lua('require("lulu").send("dev", ...)', 'write: ' .. target .. ' x')
    local q = asked(child)
    h.ok(not q.review, target .. ': no review')
    h.ok(q.doubt and q.doubt ~= '', target .. ': the question says why: ' .. tostring(q.doubt))
    h.eq(child.lua('return #vim.api.nvim_list_tabpages()'), 1, target .. ': no diff opened')
    local refused = child.lua('return { pcall(require("lulu").review, ...) }', q.id)
    h.eq(refused[1], false, target .. ': review() refuses')
    child.lua('require("lulu").decide(..., "deny")', q.id)
    child.wait('return #require("lulu").approvals() == 0', 5000, 'answered')
  end
  h.eq(child.lua('return vim.fn.getpid() > 0'), true, 'the editor is fine')
end

return T
