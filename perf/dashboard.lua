-- Service dashboards under concurrent load: each request opens the dashboard of a
-- service picked at random from CODES_FILE, signed in with the session cookie given.
-- args: CODES_FILE COOKIE
function init(args)
  codes = {}
  for line in io.lines(args[1]) do
    if #line > 0 then codes[#codes + 1] = line end
  end
  headers = { ["Cookie"] = args[2] }
  math.randomseed(os.time() + (id or 0))
end

function request()
  local code = codes[math.random(#codes)]
  return wrk.format("GET", "/services/" .. code, headers)
end

function response(status, headers, body)
  if status ~= 200 then
    error("status " .. status)
  end
end

function done(summary, latency, requests)
  io.write(string.format("requests %d, errors %d, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    summary.requests, summary.errors.status + summary.errors.read + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
