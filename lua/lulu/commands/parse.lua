---@mod lulu.commands.parse Reading a command line: words as a shell splits
--- them, and `:LuluStart`'s `[host:][agent|@template] [key=value ...]
--- [-- args]` as start options. Pure but for reading config (agents,
--- hosts); raises one-line errors naming the fix.
local M = {}
local H = {}

local config = require('lulu.config')
local util = require('lulu.util')

--- Split a command line like a shell would for words and quotes (no
--- expansion): `a 'b c' "d\"e"` -> { 'a', 'b c', 'd"e' }.
M.split = util.words

--- `[agent] [name=..] [cwd=..] [-- args]` -> start options.
---@param line string
---@return lulu.StartOpts
function M.parse_start(line)
  local opts, words = {}, M.split(line)
  for i, word in ipairs(words) do
    if word == '--' then
      opts.args = vim.list_slice(words, i + 1)
      break
    end
    local key, value = word:match('^(%w+)=(.*)$')
    if i == 1 and not key then
      H.first(opts, word)
    elseif key then
      H.option(opts, key, value)
    else
      H.unexpected(opts, word, words[i - 1])
    end
  end
  return opts
end

-- helpers ------------------------------------------------------------------

--- The first word: `host:` and an agent, or `@template`.
function H.first(opts, word)
  local host, on_host = word:match('^([%w_.-]+):(.*)$')
  if host then
    opts.host = H.host(host)
    word = on_host
  end
  if opts.host and word == '' then
    -- `devbox:` alone: its default agent.
    opts.agent = nil
  elseif word:sub(1, 1) == '@' then
    opts.template = word:sub(2)
  elseif config.options.agents[word] then
    opts.agent = word
  else
    local names = vim.tbl_keys(config.options.agents)
    table.sort(names)
    error(('unknown agent %q (known: %s)'):format(word, table.concat(names, ', ')), 0)
  end
end

--- A configured host's name, or an error.
function H.host(name)
  if not config.options.hosts[name] then
    error(('no host named %q (config hosts)'):format(name), 0)
  end
  return name
end

--- One `key=value`.
function H.option(opts, key, value)
  if key == 'name' or key == 'cwd' or key == 'base' or key == 'template' or key == 'prompt' then
    opts[key] = value
  elseif key == 'host' then
    opts.host = H.host(value)
  elseif key == 'worktree' then
    if value ~= 'on' and value ~= 'off' then
      error(('worktree= takes on or off, not %q'):format(value), 0)
    end
    opts.worktree = value == 'on'
  elseif key == 'sandbox' then
    if value ~= 'bwrap' and value ~= 'off' then
      error(('sandbox= takes bwrap or off, not %q'):format(value), 0)
    end
    opts.sandbox = value == 'bwrap' and 'bwrap' or false
  else
    error(
      ('unknown option %s= (known: name=, cwd=, worktree=, base=, sandbox=, host=, template=, prompt=, and -- before agent args)'):format(
        key
      ),
      0
    )
  end
end

--- A word that is not an option after the first: say what was meant.
function H.unexpected(opts, word, previous)
  local before = previous and previous:match('^(%w+)=')
  if before == 'prompt' or before == 'name' or before == 'cwd' then
    error(
      ('unexpected %q: quote a %s= of several words (%s="%s %s"); agent arguments go after --'):format(
        word,
        before,
        before,
        opts[before],
        word
      ),
      0
    )
  end
  error(('unexpected %q: pass agent arguments after --'):format(word), 0)
end

return M
