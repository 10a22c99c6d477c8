-- One respondent after another, as a browser does it: the questionnaire page, then the
-- submission. Run with one thread and one connection.
-- args: TOKENS_FILE BODY_FILE
function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  local f = io.open(args[2])
  body = f:read("*a")
  f:close()
  i = 0
  step = 0
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  if step == 0 then
    step = 1
    i = i + 1
    if tokens[i] == nil then error("out of tokens") end
    return wrk.format("GET", "/s/" .. tokens[i])
  end
  step = 0
  return wrk.format("POST", "/api/v1/respondent/" .. tokens[i] .. "/submit", headers, body)
end
