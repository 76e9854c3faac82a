-- What the end-to-end specs need around the real agent CLIs: the pinned
-- binaries (scripts/install-agents), a scripted model server on loopback
-- (tests/model-server), and each CLI's offline set-up in the test's own
-- HOME, as ../shared/AGENTS.md describes. Set-up only: lulu itself never
-- writes these files.
local h = require('harness')
local M = {}

M.bin_dir = os.getenv('LULU_AGENTS_DIR') and (os.getenv('LULU_AGENTS_DIR') .. '/node_modules/.bin')
  or (h.root .. '/.agents/node_modules/.bin')

--- The agent's binary, or skip the case saying why it is missing.
function M.require(name)
  local bin = M.bin_dir .. '/' .. name
  if vim.fn.executable(bin) == 1 then
    return bin
  end
  local why = vim.fn.filereadable(h.root .. '/.agents/UNAVAILABLE') == 1
      and vim.trim(table.concat(vim.fn.readfile(h.root .. '/.agents/UNAVAILABLE'), ' '))
    or 'not installed (run scripts/install-agents)'
  h.skip(('real %s: %s'):format(name, why))
end

--- Start a model server that follows `turns`; stopped when the case ends.
---@return {url: string, port: integer, requests: fun(): table[], turns: fun(): table[]}
function M.model(child, turns)
  local script = child.dir .. '/model-script.json'
  local log = child.dir .. '/model-log.jsonl'
  vim.fn.writefile({ vim.json.encode({ turns = turns }) }, script)
  local port
  local proc = vim.system({ 'python3', h.root .. '/tests/model-server', script, log }, {
    stdout = function(_, data)
      port = port or (data and tonumber(data:match('(%d+)')))
    end,
  })
  child.defer(function()
    proc:kill(15)
  end)
  h.wait_for(function()
    return port ~= nil
  end, 5000, 'the model server to listen')
  local server = { port = port, url = 'http://127.0.0.1:' .. port }
  --- Every request so far, decoded.
  function server.requests()
    if vim.fn.filereadable(log) == 0 then
      return {}
    end
    return vim.tbl_map(vim.json.decode, vim.fn.readfile(log))
  end
  --- The requests that took a scripted turn.
  function server.turns()
    return vim.tbl_filter(function(r)
      return r.turn ~= vim.NIL and r.turn ~= nil
    end, server.requests())
  end
  return server
end

local API_KEY = 'sk-ant-lulu-tests-0000000000000000000000'

--- Claude Code, offline against `server`, trusting `repo` (worktrees inside
--- it inherit the trust). Returns the agent config for lulu.
function M.claude(child, server, repo)
  local bin = M.require('claude')
  local real = vim.uv.fs_realpath(repo)
  local state = {
    hasCompletedOnboarding = true,
    lastOnboardingVersion = '2.1.330',
    customApiKeyResponses = { approved = { API_KEY:sub(-20) }, rejected = {} },
    fullscreenUpsellSeenCount = 3,
    projects = { [real] = { hasTrustDialogAccepted = true } },
  }
  vim.fn.writefile({ vim.json.encode(state) }, child.env.HOME .. '/.claude.json')
  return {
    cmd = { bin },
    -- Since 2.1.3xx the default mode is `auto`, which may run tools with no
    -- PermissionRequest at all.
    args = { '--permission-mode', 'default' },
    env = {
      ANTHROPIC_API_KEY = API_KEY,
      ANTHROPIC_BASE_URL = server.url,
      DISABLE_TELEMETRY = '1',
      DISABLE_AUTOUPDATER = '1',
      DISABLE_ERROR_REPORTING = '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1',
    },
  }
end

--- Claude Code through `claude-agent-acp` (ACP), offline against `server`:
--- the same set-up as `M.claude`, with the pinned CLI as the one the Agent
--- SDK runs. `IS_SANDBOX`: the SDK passes `--allow-dangerously-skip-
--- permissions`, which Claude Code refuses as root (CI runs as root); it
--- only permits a mode the session never enters.
function M.claude_acp(child, server, repo)
  local bin = M.require('claude-agent-acp')
  local cli = M.claude(child, server, repo)
  local env = vim.tbl_extend('force', cli.env, { CLAUDE_CODE_EXECUTABLE = cli.cmd[1], IS_SANDBOX = '1' })
  return { acp = { cmd = { bin } }, env = env }
end

--- Codex, offline against `server`: its own CODEX_HOME with a mock
--- provider, asking before escalations, and `repo` trusted. `opts.model`:
--- false leaves codex on its own default model (else `gpt-5`).
function M.codex(child, server, repo, opts)
  local bin = M.require('codex')
  local home = child.dir .. '/codex-home'
  vim.fn.mkdir(home, 'p')
  local model = (opts or {}).model == false and '' or 'model = "gpt-5"'
  vim.fn.writefile({
    model,
    'model_provider = "mock"',
    'approval_policy = "on-request"',
    'sandbox_mode = "read-only"',
    '[model_providers.mock]',
    'name = "mock"',
    ('base_url = "%s/v1"'):format(server.url),
    'wire_api = "responses"',
    'env_key = "MOCK_API_KEY"',
    ('[projects.%q]'):format(vim.uv.fs_realpath(repo)),
    'trust_level = "trusted"',
  }, home .. '/config.toml')
  return { cmd = { bin }, env = { CODEX_HOME = home, MOCK_API_KEY = 'dummy' } }, home
end

--- Codex through `codex-acp` (ACP): the same CODEX_HOME as `M.codex`.
function M.codex_acp(child, server, repo)
  local bin = M.require('codex-acp')
  local cli = M.codex(child, server, repo)
  return { acp = { cmd = { bin } }, env = cli.env }
end

--- Gemini CLI, offline against `server`: API-key auth, no updates or
--- telemetry, `repo` a trusted folder.
function M.gemini(child, server, repo)
  local bin = M.require('gemini')
  local dir = child.env.HOME .. '/.gemini'
  vim.fn.mkdir(dir, 'p')
  local settings = {
    security = { auth = { selectedType = 'gemini-api-key' } },
    general = { disableAutoUpdate = true, disableUpdateNag = true },
    privacy = { usageStatisticsEnabled = false },
    telemetry = { enabled = false },
  }
  vim.fn.writefile({ vim.json.encode(settings) }, dir .. '/settings.json')
  vim.fn.writefile({ vim.json.encode({ [vim.uv.fs_realpath(repo)] = 'TRUST_FOLDER' }) }, dir .. '/trustedFolders.json')
  return {
    cmd = { bin },
    env = {
      GEMINI_API_KEY = 'lulu-tests',
      GOOGLE_GEMINI_BASE_URL = server.url,
      GEMINI_CLI_NO_RELAUNCH = 'true',
    },
  }
end

return M
