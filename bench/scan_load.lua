-- wrk script for bench_scan.py: rotate over the request paths in a file, one per line.
--
--   wrk -t2 -c32 -d20s -s bench/scan_load.lua http://127.0.0.1:8000 -- PATHS_FILE THREADS [START]
--
-- Each thread starts at its own offset (moved on by START paths), so the threads walk
-- different labels, and a later run can go on with labels an earlier one did not scan. done() prints
-- one line of JSON (prefixed "RESULT ") for the driver to read.

local paths = {}
local counter = 0
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local file = assert(io.open(args[1], "r"), "cannot open paths file")
   for line in file:lines() do
      if #line > 0 then paths[#paths + 1] = line end
   end
   file:close()
   assert(#paths > 0, "no paths in file")
   -- id is set by setup(); spread the threads evenly over the list
   counter = math.floor((id or 0) * #paths / (tonumber(args[2]) or 1)) + (tonumber(args[3]) or 0)
end

function request()
   counter = counter + 1
   return wrk.format("GET", paths[(counter % #paths) + 1], {["Accept"] = "application/json"})
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, ' ..
      '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"mean": %.1f, "p50": %d, "p90": %d, ' ..
      '"p99": %d, "p999": %d, "max": %d}}\n',
      summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max))
end
