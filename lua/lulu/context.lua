---@mod lulu.context What the editor sends an agent about where you are.
---
--- A context is taken from the current buffer when you send (the file, the
--- cursor, a selection, its diagnostics, the quickfix list) and written for
--- each target session: paths as that session sees them (the same relative
--- path in its worktree, with a note when its copy differs), and a
--- selection as the agent reads references (`@path#L10-L20` for an agent
--- whose `lulu.config` trait says it reads them, a fenced excerpt for the
--- others). Placeholders in sent text: `{file}`, `{position}`,
--- `{selection}`, `{diagnostics}`, `{quickfix}`. Reads the editor's state,
--- changes none.
local M = {}
local H = {}

local config = require('lulu.config')

---@class lulu.Context
---@field path string|nil the buffer's file, absolute
---@field filetype string
---@field lines string[] the selected lines (the cursor's line without a range)
---@field first integer first selected line (1-based)
---@field last integer
---@field ranged boolean a range was given
---@field cursor integer[] {line, col} (1-based)
---@field diagnostics table[]
---@field quickfix table[]

--- Take the context of buffer `buf` (default current), with lines
--- `first..last` selected when given.
---@return lulu.Context
function M.capture(buf, first, last)
  buf = (buf == nil or buf == 0) and vim.api.nvim_get_current_buf() or buf
  local name = vim.api.nvim_buf_get_name(buf)
  local cursor = vim.api.nvim_win_get_buf(0) == buf and vim.api.nvim_win_get_cursor(0) or { 1, 0 }
  local ranged = first ~= nil
  first = first or cursor[1]
  last = last or first
  return {
    path = (name ~= '' and vim.bo[buf].buftype == '') and vim.fs.normalize(vim.fn.fnamemodify(name, ':p')) or nil,
    filetype = vim.bo[buf].filetype,
    lines = vim.api.nvim_buf_get_lines(buf, first - 1, last, false),
    first = first,
    last = last,
    ranged = ranged,
    cursor = { cursor[1], cursor[2] + 1 },
    diagnostics = vim.diagnostic.get(buf),
    quickfix = vim.fn.getqflist(),
  }
end

--- Where `path` is for session `record`: `{ shown, real, note }`: the path
--- as the agent should read it (relative to its directory when inside),
--- the file in its worktree, and a note when that differs from the editor.
function M.locate(path, record)
  local real = path
  if record.worktree and record.repo then
    local rel = H.relative(path, record.repo)
    if rel and not H.relative(path, record.worktree) then
      real = record.worktree .. '/' .. rel
    end
  end
  local shown = H.relative(real, record.cwd) or real
  return { shown = shown, real = real }
end

--- The selection as session `record`'s agent reads a reference.
function M.selection(ctx, record)
  if not ctx.path then
    return H.fenced(('(an unnamed %s buffer)'):format(ctx.filetype ~= '' and ctx.filetype or 'text'), ctx)
  end
  local where = M.locate(ctx.path, record)
  local note = H.differs(ctx, where.real)
  local lines = ctx.first == ctx.last and ('L%d'):format(ctx.first) or ('L%d-L%d'):format(ctx.first, ctx.last)
  if config.trait(record.agent).refs and not note then
    return ('@%s#%s'):format(where.shown, lines)
  end
  return H.fenced(('%s (lines %d-%d%s)'):format(where.shown, ctx.first, ctx.last, note and ('; ' .. note) or ''), ctx)
end

--- `text` with its placeholders filled for session `record`.
function M.expand(text, ctx, record)
  local values = {}
  local function file()
    return ctx.path and M.locate(ctx.path, record).shown or '(no file)'
  end
  values.file = file
  values.position = function()
    return ('%s:%d:%d'):format(file(), ctx.cursor[1], ctx.cursor[2])
  end
  values.selection = function()
    return M.selection(ctx, record)
  end
  values.diagnostics = function()
    return H.diagnostics(ctx, file())
  end
  values.quickfix = function()
    return H.quickfix(ctx, record)
  end
  return (text:gsub('{(%a+)}', function(key)
    local value = values[key]
    return value and value() or nil
  end))
end

--- What `text` becomes for each session it goes to (a function of the
--- session's record): placeholders filled, and with a range the
--- selection's reference after it (unless `{selection}` says where).
function M.message(text, ctx)
  return function(record)
    local filled = M.expand(text, ctx, record)
    if ctx.ranged and not text:find('{selection}', 1, true) then
      local reference = M.selection(ctx, record)
      return vim.trim(filled) == '' and reference or (filled .. '\n\n' .. reference)
    end
    return filled
  end
end

-- helpers ------------------------------------------------------------------

function H.relative(path, dir)
  if not (path and dir) then
    return nil
  end
  dir = vim.fs.normalize(dir)
  if path == dir then
    return '.'
  end
  local prefix = dir:sub(-1) == '/' and dir or (dir .. '/')
  if vim.startswith(path, prefix) then
    return path:sub(#prefix + 1)
  end
  -- The editor may name it through a symlink, the host by its real path.
  local real_dir = vim.uv.fs_realpath(dir)
  local real_path = vim.uv.fs_realpath(vim.fs.dirname(path))
  if real_dir and real_path and real_dir ~= dir then
    return H.relative(real_path .. '/' .. vim.fs.basename(path), real_dir)
  end
  return nil
end

--- A note when the session's copy of the selected lines is not what the
--- editor shows.
function H.differs(ctx, real)
  if real == ctx.path then
    return nil
  end
  if vim.fn.filereadable(real) == 0 then
    return "the file is not in this session's worktree"
  end
  local theirs = vim.fn.readfile(real, '', ctx.last)
  for i = ctx.first, ctx.last do
    if theirs[i] ~= ctx.lines[i - ctx.first + 1] then
      return "as in the editor: this session's copy differs"
    end
  end
  return nil
end

function H.fenced(title, ctx)
  local fence = '```'
  for _, line in ipairs(ctx.lines) do
    while line:find(fence, 1, true) do
      fence = fence .. '`'
    end
  end
  return ('%s:\n%s%s\n%s\n%s'):format(title, fence, ctx.filetype or '', table.concat(ctx.lines, '\n'), fence)
end

local SEVERITY = { 'ERROR', 'WARN', 'INFO', 'HINT' }

function H.diagnostics(ctx, file)
  if #ctx.diagnostics == 0 then
    return ('(no diagnostics in %s)'):format(file)
  end
  local lines = {}
  local sorted = vim.deepcopy(ctx.diagnostics)
  table.sort(sorted, function(a, b)
    return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col)
  end)
  for _, d in ipairs(sorted) do
    local message = d.message:gsub('\n', ' ')
    lines[#lines + 1] = ('%s:%d:%d: %s: %s'):format(file, d.lnum + 1, d.col + 1, SEVERITY[d.severity] or '?', message)
  end
  return table.concat(lines, '\n')
end

function H.quickfix(ctx, record)
  if #ctx.quickfix == 0 then
    return '(the quickfix list is empty)'
  end
  local lines = {}
  for _, item in ipairs(ctx.quickfix) do
    local name = item.bufnr > 0 and vim.api.nvim_buf_get_name(item.bufnr) or ''
    local shown = name ~= '' and M.locate(vim.fs.normalize(vim.fn.fnamemodify(name, ':p')), record).shown or '?'
    lines[#lines + 1] = ('%s:%d: %s'):format(shown, item.lnum, vim.trim(item.text))
  end
  return table.concat(lines, '\n')
end

return M
