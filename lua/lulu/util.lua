---@mod lulu.util Small helpers shared by the modules: the one notify, timers,
--- times and sizes as text, floats, the plugin's directory, words of a
--- command line. Requires no other lulu module; touches only what it is
--- handed (and the message area).
local M = {}
local H = {}

--- The one place lulu talks to the user. No notice may raise a
--- hit-enter prompt (which would eat the next key, typed for an agent):
--- with Neovim's own |vim.notify()| a notice is one line that fits the
--- message area, and a second one in the same moment waits for a redraw
--- instead of stacking under the first. `opts.key` coalesces: the same
--- text for the same key is said once, until |lulu.util.forget()|.
--- A notifier plugin (nvim-notify, snacks, fidget) gets every notice whole.
---@param msg string
---@param level integer|nil vim.log.levels
---@param opts? { key?: string, multiline?: boolean }
function M.notify(msg, level, opts)
  opts = opts or {}
  if opts.key then
    if H.said[opts.key] == msg then
      return
    end
    H.said[opts.key] = msg
  end
  local item = { msg = 'lulu: ' .. msg, level = level or vim.log.levels.INFO, multiline = opts.multiline }
  if H.shown_this_tick then
    H.queue[#H.queue + 1] = item
    if #H.queue > 20 then
      table.remove(H.queue, 1)
    end
    return
  end
  H.show(item)
end

--- Say `key`'s notice again next time (its state changed).
---@param key string
function M.forget(key)
  H.said[key] = nil
end

H.said = {}
H.queue = {}

--- Neovim's own notify (messages in the command line), not a plugin's.
function H.builtin()
  local info = debug.getinfo(vim.notify, 'S')
  return info ~= nil and info.source:find('vim/_editor', 1, true) ~= nil
end

function H.show(item)
  local text = item.msg
  if H.builtin() and not item.multiline then
    text = text:gsub('%s*\n%s*', ' ⏎ ')
    local room = math.max((vim.v.echospace > 0 and vim.v.echospace or vim.o.columns - 12) - 1, 20)
    if vim.fn.strdisplaywidth(text) > room then
      text = vim.fn.strcharpart(text, 0, room - 1) .. '…'
    end
  end
  H.shown_this_tick = true
  vim.schedule(H.next)
  vim.notify(text, item.level, { title = 'lulu' })
end

--- After a redraw, the next notice waiting (if any).
function H.next()
  H.shown_this_tick = false
  local item = table.remove(H.queue, 1)
  if item then
    if H.builtin() then
      vim.cmd.redraw()
    end
    H.show(item)
  end
end

--- Stop and free a libuv timer, if any. Returns nil, to clear the holder:
--- `H.timer = util.stop_timer(H.timer)`.
---@param timer uv.uv_timer_t|nil
function M.stop_timer(timer)
  if timer then
    timer:stop()
    timer:close()
  end
  return nil
end

--- Seconds since the epoch for an RFC 3339 UTC timestamp ('2026-01-02T03:04:05.678Z').
---@param stamp string|nil
---@return number|nil
function M.parse_time(stamp)
  if type(stamp) ~= 'string' then
    return nil
  end
  local y, mo, d, h, mi, s, frac = stamp:match('^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)%.?(%d*)Z$')
  if not y then
    return nil
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  -- Days from the civil date (Howard Hinnant's algorithm): no timezone games.
  if mo <= 2 then
    y = y - 1
  end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (mo + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  local seconds = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
  if frac ~= '' then
    seconds = seconds + tonumber('0.' .. frac)
  end
  return seconds
end

--- Wall-clock seconds, with sub-second precision.
function M.now()
  local sec, usec = vim.uv.gettimeofday()
  return sec + usec / 1e6
end

--- A message in a small float at the top right for a few seconds: seen
--- even where the message line is drawn over at once (Terminal mode).
---@param message string
---@param hl string highlight group of the text
function M.toast(message, hl)
  local width = math.min(vim.fn.strdisplaywidth(message), math.max(vim.o.columns - 4, 20), 60)
  local lines, line = {}, ''
  for word in message:gmatch('%S+') do
    if line ~= '' and vim.fn.strdisplaywidth(line .. ' ' .. word) > width then
      lines[#lines + 1] = line
      line = word
    else
      line = line == '' and word or (line .. ' ' .. word)
    end
  end
  lines[#lines + 1] = line
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].bufhidden = 'wipe'
  local ok, win = pcall(vim.api.nvim_open_win, buf, false, {
    relative = 'editor',
    anchor = 'NE',
    row = 1,
    col = vim.o.columns,
    width = width,
    height = #lines,
    style = 'minimal',
    border = 'rounded',
    focusable = false,
    zindex = 250,
    noautocmd = true,
  })
  if not ok then
    return
  end
  vim.wo[win].winhighlight = 'Normal:' .. hl .. ',FloatBorder:' .. hl
  vim.defer_fn(function()
    pcall(vim.api.nvim_win_close, win, true)
  end, 4000)
  return win
end

--- `5s`, `2m`, `3h`, `4d`.
---@param stamp string|nil
---@param now number|nil
function M.age(stamp, now)
  local at = M.parse_time(stamp)
  if not at then
    return '?'
  end
  local secs = math.max(0, math.floor((now or M.now()) - at))
  if secs < 60 then
    return secs .. 's'
  elseif secs < 3600 then
    return math.floor(secs / 60) .. 'm'
  elseif secs < 86400 then
    return math.floor(secs / 3600) .. 'h'
  end
  return math.floor(secs / 86400) .. 'd'
end

--- `1.2 GiB`, `340 MiB`, `12 KiB`.
function M.bytes(n)
  return n >= 1024 ^ 3 and ('%.1f GiB'):format(n / 1024 ^ 3)
    or n >= 1024 ^ 2 and ('%.0f MiB'):format(n / 1024 ^ 2)
    or ('%d KiB'):format(math.ceil(n / 1024))
end

--- `$1.24`, `$0.005`: cents once it is worth cents, else a tenth of one.
function M.money(usd)
  return usd >= 1 and ('$%.2f'):format(usd) or ('$%.3f'):format(usd)
end

--- A new tab page showing a buffer of its own, wiped when hidden, no swap
--- file, named `name` (a buffer of that name kept, not doubled), with
--- `buftype` (`nofile` for a view, `acwrite` for a draft `:w` sends).
---@return integer bufnr
function M.tab_buffer(name, buftype)
  vim.cmd('tabnew')
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].buftype = buftype
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].swapfile = false
  pcall(vim.api.nvim_buf_set_name, buf, name)
  return buf
end

--- Options for a bordered float centred in the editor, clamped to fit.
---@return table config for nvim_open_win / nvim_win_set_config
function M.float(width, height, title, footer)
  width = math.max(math.min(width, vim.o.columns - 4), 20)
  height = math.max(math.min(height, vim.o.lines - 6), 1)
  return {
    relative = 'editor',
    width = width,
    height = height,
    row = math.floor((vim.o.lines - height) / 2) - 1,
    col = math.floor((vim.o.columns - width) / 2),
    style = 'minimal',
    border = 'rounded',
    title = title,
    title_pos = 'center',
    footer = footer,
    footer_pos = 'center',
  }
end

--- Shorten a path with ~ for the home directory.
function M.short_path(path)
  return path and vim.fn.fnamemodify(path, ':~') or ''
end

--- The plugin's root directory (where Cargo.toml and target/ live).
function M.root()
  local source = debug.getinfo(1, 'S').source:sub(2)
  return vim.fn.fnamemodify(source, ':p:h:h:h')
end

--- Split a command line like a shell would for words and quotes (no
--- expansion): `a 'b c' "d\"e"` -> { 'a', 'b c', 'd"e' }.
---@param line string
---@return string[]
function M.words(line)
  local words, word, quote, escaped, started = {}, {}, nil, false, false
  for ch in line:gmatch('.') do
    if escaped then
      word[#word + 1], escaped, started = ch, false, true
    elseif ch == '\\' and quote ~= "'" then
      escaped = true
    elseif quote then
      if ch == quote then
        quote = nil
      else
        word[#word + 1] = ch
      end
    elseif ch == "'" or ch == '"' then
      quote, started = ch, true
    elseif ch:match('%s') then
      if started then
        words[#words + 1], word, started = table.concat(word), {}, false
      end
    else
      word[#word + 1], started = ch, true
    end
  end
  if quote then
    error(('unclosed %s quote'):format(quote), 0)
  end
  if started then
    words[#words + 1] = table.concat(word)
  end
  return words
end

return M
