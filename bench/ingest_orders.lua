-- POST a unique canonical order per request (wrk Lua script used by bench/ingest.py).
-- Arguments after `--`: PATH TOKEN TEMPLATE_FILE (the template holds __ID__ where the order id goes).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  path = args[1]
  local file = assert(io.open(args[3], "rb"))
  local template = file:read("*a")
  file:close()
  local at = string.find(template, "__ID__", 1, true)
  prefix = string.sub(template, 1, at - 1)
  suffix = string.sub(template, at + 6)
  headers = { ["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json" }
  counter = 0
  run = tostring(os.time())
end

function request()
  counter = counter + 1
  return wrk.format("POST", path, headers, prefix .. "b" .. run .. "t" .. tid .. "n" .. counter .. suffix)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
