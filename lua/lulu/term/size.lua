---@mod lulu.term.size The size a session's terminal is given: the size
--- Neovim gives the terminal buffer itself (the widest and the tallest of
--- the windows that show it, in any tab), never below `MIN_COLS` x
--- `MIN_ROWS`, so that the host's model and the buffer's emulator are one
--- size.
--- Reads windows, and puts them back where they were after a repaint;
--- owns nothing.
local M = {}

--- The smallest terminal a session is given, whatever its window.
M.MIN_COLS, M.MIN_ROWS = 20, 5

--- The size a session started now in `win` would have.
function M.size_for(win)
  local info = vim.fn.getwininfo(win or vim.api.nvim_get_current_win())[1]
  return math.max(info.width - info.textoff, M.MIN_COLS), math.max(info.height, M.MIN_ROWS)
end

--- The size of `buf`'s terminal: the widest and the tallest window that
--- shows it, as Neovim sizes the terminal's emulator (a smaller window
--- shows it clipped, as |:terminal| does); never below `MIN_COLS` x
--- `MIN_ROWS` (an agent re-wrapped to a column or two is no use); nil when
--- no window shows it.
function M.fitted(buf)
  local cols, rows
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    local w, h = M.size_for(win)
    cols, rows = math.max(cols or w, w), math.max(rows or h, h)
  end
  return cols, rows
end

function M.key(cols, rows)
  return cols and ('%dx%d'):format(cols, rows) or nil
end

function M.of(buf)
  return M.key(M.fitted(buf))
end

--- The window that shows `buf` at the largest size (most rows, then
--- columns), or nil: a terminal opened there starts at about its size.
function M.largest_win(buf)
  local best, rows, cols
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    local w, h = M.size_for(win)
    if not best or h > rows or (h == rows and w > cols) then
      best, rows, cols = win, h, w
    end
  end
  return best
end

--- Put each window of `back` at its distance from the end of `buf`: at
--- once for those that followed the output, and for those scrolled back
--- once the paint has arrived (it comes as terminal output).
function M.place(buf, back)
  local function put(scrolled)
    for win, from_end in pairs(back) do
      if (from_end > 0) == scrolled and vim.api.nvim_win_is_valid(win) and vim.api.nvim_win_get_buf(win) == buf then
        local count = vim.api.nvim_buf_line_count(buf)
        pcall(vim.api.nvim_win_set_cursor, win, { math.max(count - from_end, 1), 0 })
      end
    end
  end
  put(false)
  vim.defer_fn(function()
    put(true)
  end, M.PAINT_MS)
end
--- How long a paint takes to arrive, for a window scrolled back.
M.PAINT_MS = 150

return M
