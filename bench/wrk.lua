-- One endpoint under load for bench/run.py (wrk 4.x, LuaJIT; see `man wrk` / SCRIPTING):
--
--   wrk -t THREADS -c USERS -d SECONDS --timeout 30s -s bench/wrk.lua URL -- \
--       METHOD PATH THREADS MAX_RESPONSES_PER_THREAD
--
-- Closed loop: each connection sends its next request as soon as the previous answer is in.
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

threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

local fixed, owned
local cursor = 0
local quota
local skip_first = false

completed, bad, stopped = 0, 0, false
samples = {}

function init(args)
   local method, path = args[1], args[2]
   local nthreads = tonumber(args[3])
   quota = tonumber(args[4])
   local auth, cookie = os.getenv("BENCH_AUTHORIZATION"), os.getenv("BENCH_COOKIE")
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
   -- wrk builds thread 0's first request once to check it, without sending it.
   skip_first = (tid == 0)
end

function request()
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

function response(status, headers, body)
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

function done(summary, latency, requests)
   local non_2xx, quoted, bounded = 0, {}, 0
   for _, thread in ipairs(threads) do
      non_2xx = non_2xx + thread:get("bad")
      if thread:get("stopped") then bounded = bounded + 1 end
      for _, s in ipairs(thread:get("samples")) do
         if #quoted < 3 then table.insert(quoted, json_string(s)) end
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p95_us": %.0f, '
         .. '"p99_us": %.0f, "max_us": %.0f, "non_2xx": %.0f, "connect": %.0f, "read": %.0f, '
         .. '"write": %.0f, "status": %.0f, "timeout": %.0f, "threads_count_bounded": %d, '
         .. '"samples": [%s]}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
      latency:percentile(99), latency.max, non_2xx, e.connect, e.read, e.write, e.status,
      e.timeout, bounded, table.concat(quoted, ", ")))
end
