-- Complete responses at full speed: every request is one respondent's whole submission
-- (consent + answers + submit) with a token of its own.
-- args: TOKENS_FILE BODY_FILE THREADS
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  local f = io.open(args[2])
  body = f:read("*a")
  f:close()
  stride = tonumber(args[3])
  idx = id + 1
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  local token = tokens[idx]
  idx = idx + stride
  if token == nil then
    error("out of tokens: prepare more invitations")
  end
  return wrk.format("POST", "/api/v1/respondent/" .. token .. "/submit", headers, body)
end
