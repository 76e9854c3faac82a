-- Puts this checkout on the runtimepath; nothing else (tests and the demo
-- configure lulu themselves).
local root = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h:h')
vim.opt.rtp:prepend(root)
