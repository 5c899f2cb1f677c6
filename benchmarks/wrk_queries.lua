-- wrk script for benchmarks/load.py: rotate over a list of request paths, report JSON.
--
-- The paths (already URL-encoded, one per line) come from the file named by $KB_WRK_PATHS,
-- so the query list lives in one place (benchmarks/load.py QUERIES). Each wrk thread starts
-- at a different place in the list, so concurrent connections do not all ask the same thing.
--
--   KB_WRK_PATHS=paths.txt wrk -t2 -c8 -d10s -s benchmarks/wrk_queries.lua http://127.0.0.1:8000

local paths = {}
local source = os.getenv("KB_WRK_PATHS")
if source then
  for line in io.lines(source) do
    if #line > 0 then paths[#paths + 1] = line end
  end
end
if #paths == 0 then paths[1] = "/api/v1/search?q=therapy" end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("offset", #threads * 7)
  threads[#threads + 1] = thread
end

function request()
  counter = counter + 1
  local index = ((counter + (offset or 0)) % #paths) + 1
  return wrk.format("GET", paths[index])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'KB_WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p90": %d, ' ..
    '"p95": %d, "p99": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99)))
end
