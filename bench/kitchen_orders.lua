-- POST a unique canonical order per request, spread over locations (wrk Lua script used by
-- bench/kitchen.py). Arguments after `--`: PATH TOKEN TEMPLATE_FILE LOCATIONS; the template holds
-- __ID__ where the order id goes and __LOC__ where the location number goes.

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
  locations = tonumber(args[4])
  local at = string.find(template, "__ID__", 1, true)
  local loc = string.find(template, "__LOC__", 1, true)
  head = string.sub(template, 1, at - 1)
  middle = string.sub(template, at + 6, loc - 1)
  tail = string.sub(template, loc + 7)
  headers = { ["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json" }
  counter = 0
  run = tostring(os.time())
end

function request()
  counter = counter + 1
  local id = "w" .. run .. "t" .. tid .. "n" .. counter
  return wrk.format("POST", path, headers, head .. id .. middle .. (counter % locations) .. tail)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
