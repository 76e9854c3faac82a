---@mod lulu.build The host binary's background build (scripts/build): what
--- it is doing, and running what waited for it once it is done. Owns its
--- marker files' reading and the queue of what waits; requires
--- `lulu.config` and `lulu.util`.
local M = {}
local H = {}

local config = require('lulu.config')
local util = require('lulu.util')

function M.paths()
  local dir = vim.fn.stdpath('state') .. '/lulu'
  return { log = dir .. '/build.log', running = dir .. '/build.running', result = dir .. '/build.result' }
end

local function read(path)
  local file = io.open(path)
  if not file then
    return nil
  end
  local text = file:read('*a')
  file:close()
  return text
end

--- `{ building = true, seconds }` while scripts/build runs; `{ failed =
--- code, tail }` when its last run failed; nil otherwise.
function M.state()
  local paths = M.paths()
  local pid, started = (read(paths.running) or ''):match('^(%d+) (%d+)')
  if pid and vim.uv.kill(tonumber(pid), 0) == 0 then
    return { building = true, seconds = os.time() - tonumber(started) }
  end
  local code = tonumber((read(paths.result) or ''):match('^(%d+)'))
  if code and code ~= 0 then
    local lines = vim.split(vim.trim(read(paths.log) or ''), '\n')
    return { failed = code, tail = vim.list_slice(lines, math.max(#lines - 5, 1)) }
  end
  return nil
end

local function clock(seconds)
  return seconds >= 60 and ('%dm%02ds'):format(math.floor(seconds / 60), seconds % 60) or ('%ds'):format(seconds)
end

--- Why there is no binary yet, in words, or nil when no build explains it.
function M.describe()
  local state = M.state()
  if not state and H.started_at then
    return ('the lulu host is building (log: %s)'):format(M.paths().log)
  end
  if not state then
    return nil
  end
  local log = M.paths().log
  if state.building then
    return ('the lulu host is still building (%s so far; log: %s)'):format(clock(state.seconds), log)
  end
  local tail = table.concat(state.tail, ' | ')
  local fix = tail:find('edition2024', 1, true) or tail:find('requires rustc', 1, true) or tail:find('rustc %d')
  return ('the lulu host failed to build (exit %d): %s; %s'):format(
    state.failed,
    tail,
    fix and 'lulu needs Rust 1.85 or newer: rustup update, then run scripts/build again'
      or ('see %s, fix it, then run scripts/build again'):format(log)
  )
end

--- Start scripts/build (it returns at once; the build goes on in the
--- background) when no binary is configured and cargo is on PATH. True
--- when a build is under way after it.
function M.start()
  if config.options.bin or vim.fn.executable('cargo') == 0 then
    return false
  end
  local script = util.root() .. '/scripts/build'
  if vim.fn.executable(script) == 0 then
    return false
  end
  local ok = pcall(vim.system, { script }, { text = true, stdin = false })
  -- Its marker appears a moment later (the editor does not wait for it).
  H.started_at = ok and os.time() or nil
  return ok
end

--- Is the plugin's own release build older than its sources (a plugin
--- manager updated the checkout but never ran the build)? Asked once per
--- editor; false without a build of the plugin's own or with `bin` set.
function M.stale()
  if H.stale ~= nil then
    return H.stale
  end
  H.stale = false
  local root = util.root()
  local built = vim.uv.fs_stat(root .. '/target/release/lulu')
  if config.options.bin or not built then
    return false
  end
  local function stamp(stat)
    return stat.mtime.sec + stat.mtime.nsec / 1e9
  end
  local newest = 0
  local function consider(path)
    local stat = vim.uv.fs_stat(path)
    if stat and stamp(stat) > newest then
      newest = stamp(stat)
    end
  end
  consider(root .. '/Cargo.toml')
  consider(root .. '/Cargo.lock')
  for name, kind in vim.fs.dir(root .. '/src', { depth = 10 }) do
    if kind == 'file' then
      consider(root .. '/src/' .. name)
    end
  end
  H.stale = newest > stamp(built)
  return H.stale
end

--- Run `fn` once the build running now is done (told with a notify).
function M.when_done(fn)
  H.waiting = H.waiting or {}
  table.insert(H.waiting, fn)
  if H.timer then
    return
  end
  H.timer = vim.uv.new_timer()
  H.timer:start(
    1000,
    1000,
    vim.schedule_wrap(function()
      local state = M.state()
      if state and state.building then
        H.started_at = nil
        return
      end
      -- Started here, its marker not written yet: give it a moment.
      if H.started_at and os.time() - H.started_at < 15 then
        return
      end
      H.timer = util.stop_timer(H.timer)
      local waiting = H.waiting
      H.waiting = {}
      if state and state.failed then
        return util.notify(M.describe(), vim.log.levels.ERROR)
      end
      H.stale = false -- built now: not asked again this session
      util.notify('the lulu host is built')
      -- What waited opens its windows where you work, not in a float (a
      -- plugin manager's, say) that happens to have the focus.
      H.leave_float()
      for _, queued in ipairs(waiting) do
        queued()
      end
    end)
  )
end

function H.leave_float()
  if vim.api.nvim_win_get_config(0).relative == '' then
    return
  end
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if vim.api.nvim_win_get_config(win).relative == '' then
      vim.api.nvim_set_current_win(win)
      return
    end
  end
end

return M
