-- wrk script of bench/run_http.py. Rotates over prepared requests, one per line of the file
-- named after "--" on wrk's command line: method, path, Cookie header and form body,
-- tab-separated ("-" for none). SUBMISSION_ID in a body becomes a submission id of its own for
-- every request (run id, thread, counter), so each pain entry POST stores a new entry.
-- Prints one JSON line of results when done.

local prepared = {}
local counter = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  run_id = tonumber(args[2])
  for line in io.lines(args[1]) do
    local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$")
    table.insert(prepared, { method = method, path = path, cookie = cookie, body = body })
  end
end

function request()
  counter = counter + 1
  local r = prepared[(counter % #prepared) + 1]
  local headers = {}
  local body = nil
  if r.cookie ~= "-" then
    headers["Cookie"] = r.cookie
  end
  if r.body ~= "-" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local submission = string.format("%08x-%04x-4000-8000-%012x", run_id, thread_number, counter)
    body = (r.body:gsub("SUBMISSION_ID", submission))
  end
  return wrk.format(r.method, r.path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
end
