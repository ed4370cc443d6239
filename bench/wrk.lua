-- One endpoint under load for bench/run.py (wrk 4.x, LuaJIT; see `man wrk` / SCRIPTING):
--
--   wrk -t THREADS -c USERS -d SECONDS --timeout 30s -s bench/wrk.lua URL -- \
--       METHOD PATH THREADS MAX_RESPONSES_PER_THREAD THINK_MIN_MS THINK_MAX_MS
--
-- Each connection is one user. Two ways to drive them:
-- * Interactive (THINK_MAX_MS > 0; run.py gives every user a thread of its own): after each
--   answer a user waits a random THINK_MIN_MS..THINK_MAX_MS, as a person reading the page
--   does, then sends the next request. Latency is timed here, from the call of request() (just
--   before wrk writes the request) to response(): the think time is not part of it. wrk starts
--   every connection at the same instant; so that this burst is not measured, a user's first
--   request is GET /healthz and is not counted.
-- * Closed loop (THINK_MAX_MS = 0): a user sends the next request as soon as the answer is in,
--   the server's capacity. Latency is wrk's own histogram.
--
-- Headers come from the environment (kept out of argv): BENCH_AUTHORIZATION ("Bearer ...")
-- and BENCH_COOKIE ("sessionid=..."). A PATH holding "{item}" saves answers: BENCH_ITEMS is
-- "item:verdict,..." (the pool and each item's verdict now, read from the database by run.py);
-- every request is a PATCH {"verdict": pass|fail, "note": "Bench flip."} that flips one item to
-- the other verdict, without a version (no 409s). Each thread owns every THREADS-th item of the
-- pool, so two requests never race for one item and every save really changes the answer.
--
-- Non-2xx answers are errors (wrk itself counts only status > 399). A thread stops once it has
-- MAX_RESPONSES_PER_THREAD answers and says so on stderr ("BENCH_THREAD_DONE"); run.py then
-- interrupts wrk (SIGINT), which ends the run early: the count bound next to -d's time bound.
-- done() prints one line "BENCH_RESULT {json}" on stdout.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local timespec = ffi.new("bench_timespec")
local function now_us()
   ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
   return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

local fixed, owned, opening
local cursor = 0
local quota
local skip_first = false
local think_min, think_max = 0, 0
local sent_at -- interactive: when the request now in flight was built (nil: not counted)
local opened = false

completed, bad, stopped = 0, 0, false
samples = {}
latencies = {} -- interactive: microseconds of every counted request

function init(args)
   local method, path = args[1], args[2]
   local nthreads = tonumber(args[3])
   quota = tonumber(args[4])
   think_min, think_max = tonumber(args[5]), tonumber(args[6])
   if think_max > 0 then
      math.randomseed(os.time() * 1000 + tid * 7919)
      opening = wrk.format("GET", "/healthz")
   else
      delay = nil -- wrk looks for delay() after init(): without it the loop is closed
   end
   local auth, cookie = os.getenv("BENCH_AUTHORIZATION"), os.getenv("BENCH_COOKIE")
   -- wrk builds thread 0's first request once to check it, without sending it.
   skip_first = (tid == 0)
   if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
   if cookie and cookie ~= "" then wrk.headers["Cookie"] = cookie end
   if not path:find("{item}", 1, true) then
      fixed = wrk.format(method, path)
      return
   end
   -- Answer saves: pre-build both requests (to pass, to fail) of every owned item.
   wrk.headers["Content-Type"] = "application/json"
   owned = {}
   local index = 0
   for item, verdict in (os.getenv("BENCH_ITEMS") or ""):gmatch("(%d+):(%a+)") do
      if index % nthreads == tid then
         local target = path:gsub("{item}", item)
         local entry = { verdict = verdict }
         for _, v in ipairs({ "pass", "fail" }) do
            entry[v] = wrk.format(method, target, nil,
               '{"verdict": "' .. v .. '", "note": "Bench flip."}')
         end
         table.insert(owned, entry)
      end
      index = index + 1
   end
   assert(#owned > 0, "BENCH_ITEMS holds no item for thread " .. tid)
end

function delay()
   return math.random(think_min, think_max)
end

local function next_request()
   if fixed then return fixed end
   local entry = owned[cursor % #owned + 1]
   local verdict = entry.verdict == "fail" and "pass" or "fail"
   if skip_first then
      skip_first = false
      return entry[verdict]
   end
   entry.verdict = verdict
   cursor = cursor + 1
   return entry[verdict]
end

function request()
   if not opening then return next_request() end
   if skip_first then -- the check's call: nothing is sent, nothing changes
      skip_first = false
      return opening
   end
   if not opened then
      opened = true
      sent_at = nil
      return opening
   end
   local req = next_request()
   sent_at = now_us()
   return req
end

function response(status, headers, body)
   if opening then
      if not sent_at then return end -- the opening /healthz
      table.insert(latencies, now_us() - sent_at)
      sent_at = nil
   end
   completed = completed + 1
   if status < 200 or status > 299 then
      bad = bad + 1
      if #samples < 3 then
         table.insert(samples, status .. " " .. body:sub(1, 400):gsub("%s+", " "):sub(1, 160))
      end
   end
   if completed >= quota and not stopped then
      stopped = true
      io.stderr:write("BENCH_THREAD_DONE\n")
      io.stderr:flush()
      wrk.thread:stop()
   end
end

local function json_string(s)
   return '"' .. s:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
   end) .. '"'
end

local function percentile(sorted, p)
   if #sorted == 0 then return 0 end
   return sorted[math.max(1, math.ceil(#sorted * p / 100))]
end

function done(summary, latency, requests)
   local non_2xx, quoted, bounded, timed = 0, {}, 0, {}
   for _, thread in ipairs(threads) do
      non_2xx = non_2xx + thread:get("bad")
      if thread:get("stopped") then bounded = bounded + 1 end
      for _, s in ipairs(thread:get("samples")) do
         if #quoted < 3 then table.insert(quoted, json_string(s)) end
      end
      for _, us in ipairs(thread:get("latencies")) do table.insert(timed, us) end
   end
   local p50, p95, p99, max, counted
   if #timed > 0 then -- interactive: our own timings, the opening requests left out
      table.sort(timed)
      p50, p95, p99 = percentile(timed, 50), percentile(timed, 95), percentile(timed, 99)
      max, counted = timed[#timed], #timed
   else
      p50, p95, p99 = latency:percentile(50), latency:percentile(95), latency:percentile(99)
      max, counted = latency.max, summary.requests
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p95_us": %.0f, '
         .. '"p99_us": %.0f, "max_us": %.0f, "non_2xx": %.0f, "connect": %.0f, "read": %.0f, '
         .. '"write": %.0f, "status": %.0f, "timeout": %.0f, "threads_count_bounded": %d, '
         .. '"samples": [%s]}\n',
      counted, summary.duration, p50, p95, p99, max, non_2xx, e.connect, e.read, e.write,
      e.status, e.timeout, bounded, table.concat(quoted, ", ")))
end
