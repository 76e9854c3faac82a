---@mod lulu.commands.sets The bodies of the commands on sets of sessions
--- and presets: :LuluSave, :LuluRestore, :LuluTemplate. Through
--- `lulu.commands.run`; asks the host through `lulu.api.*`.
local M = {}
local H = {}

local run = require('lulu.commands.run')
local saved = require('lulu.api.saved')
local start = require('lulu.api.start')
local util = require('lulu.util')

--- `:LuluTemplate save {name} [session]`, `:LuluTemplate list`.
function M.template(cmd)
  run.guard(function()
    local sub, name, ref = cmd.fargs[1], cmd.fargs[2], cmd.fargs[3]
    if (sub == 'list' or sub == nil) and not name then
      return H.list_templates()
    end
    if sub ~= 'save' or not name or #cmd.fargs > 3 then
      error('usage: :LuluTemplate save {name} [session] | :LuluTemplate list', 0)
    end
    ref = ref or vim.b.lulu_session
    if not ref then
      error("which session? :LuluTemplate save {name} {session}, or run it in a session's terminal", 0)
    end
    local spec = start.save_template(name, ref)
    util.notify(('saved template @%s (%s); :LuluStart @%s'):format(name, spec.agent, name))
  end)
end

function M.save(cmd)
  run.guard(function()
    local name = cmd.fargs[1] or 'default'
    local n = saved.save(name)
    util.notify(('saved %d session(s) as %q (:LuluRestore %s)'):format(n, name, name))
  end)
end

function M.restore(cmd)
  run.guard(function()
    local name = cmd.fargs[1] or 'default'
    saved.restore(name, function(records, errors)
      for _, e in ipairs(errors) do
        util.notify(e.message, vim.log.levels.ERROR)
      end
      util.notify(('restored %d session(s) from %q'):format(#records, name))
    end)
  end)
end

-- helpers ------------------------------------------------------------------

--- Every template, one line each: `@name: agent · prompt: ...`.
function H.list_templates()
  local templates = start.templates()
  local names = vim.tbl_keys(templates)
  table.sort(names)
  local lines = {}
  for _, n in ipairs(names) do
    local t = templates[n]
    lines[#lines + 1] = ('@%s: %s%s'):format(
      n,
      t.agent or start.default_agent(),
      t.prompt and (' · prompt: ' .. t.prompt:gsub('\n', ' '):sub(1, 40)) or ''
    )
  end
  util.notify(
    #lines > 0 and table.concat(lines, '\n') or 'no templates (config templates, or :LuluTemplate save)',
    nil,
    { multiline = true }
  )
end

return M
