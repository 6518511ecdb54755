-- wrk script for the tip-intake benchmark: POST /v1/reports, every request a new tip from a
-- new client about a new number (so the per-client and per-identifier rate limits never fire
-- and every 201 is a tip written, not a merge). The reporter token comes from $TOKEN.
-- Prints how many tips were acknowledged (201) and how many got anything else.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  token = os.getenv("TOKEN") or ""
  counter = 0
  created = 0
  other = 0
end

function request()
  counter = counter + 1
  local n = id * 10000000 + counter
  local body = string.format(
    '{"kind":"phone","value":"139%08d","category":"police_impersonation",' ..
    '"text":"load test tip %d","client_id":"bench-%d-%d"}',
    n % 100000000, counter, id, counter)
  return wrk.format("POST", "/v1/reports", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    o = o + t:get("other")
  end
  io.write(string.format("acknowledged (201): %d, other: %d, %.0f tips/s acknowledged\n",
    c, o, c / (summary.duration / 1e6)))
end
