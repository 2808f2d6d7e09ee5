-- P1 load: every request distinct by design (own User-Agent: run tag, thread, number; own client
-- address in X-Forwarded-For, from the run id, thread and number: the click rules key on it), links visited
-- round-robin, and a fixed share of requests the click rules must not bill (bot user agent, HEAD,
-- prefetch). Run with one connection per thread (-t N -c N): each thread then has at most one
-- request in flight, so its answered requests are counted per kind, and the one still in flight
-- when wrk stops is printed (the benchmark looks it up by its user agent).
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  codes = {}
  for line in io.lines(args[1]) do
    codes[#codes + 1] = line:match("^([^\t]+)")
  end
  nthreads = tonumber(args[2])
  run = args[3]
  run_id = tonumber(args[4])
  n, answered = 0, 0
  answered_kind = { normal = 0, bot = 0, head = 0, prefetch = 0 }
  pending_kind, pending_ua = "", ""
end

local firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 visitor/"
local twitterbot = "Twitterbot/1.0 visitor/"

function request()
  n = n + 1
  local visitor = run .. "-" .. id .. "-" .. n
  local path = "/r/" .. codes[((n * nthreads + id) % #codes) + 1]
  local kind = n % 20
  local method = "GET"
  -- a unique IPv4 address per (run id < 1024, thread < 64, request < 65536): 32 bits, written as four octets
  local k = ((run_id * 64 + id) * 65536 + n % 65536)
  local address = string.format("%d.%d.%d.%d", math.floor(k / 16777216) % 256, math.floor(k / 65536) % 256,
    math.floor(k / 256) % 256, k % 256)
  local headers = { ["User-Agent"] = firefox .. visitor, ["X-Forwarded-For"] = address }
  pending_kind = "normal"
  if kind == 3 then
    headers["User-Agent"] = twitterbot .. visitor
    pending_kind = "bot"
  elseif kind == 7 then
    method = "HEAD"
    pending_kind = "head"
  elseif kind == 11 then
    headers["Sec-Purpose"] = "prefetch"
    pending_kind = "prefetch"
  end
  pending_ua = headers["User-Agent"]
  return wrk.format(method, path, headers)
end

function response(status, headers, body)
  answered = answered + 1
  answered_kind[pending_kind] = answered_kind[pending_kind] + 1
  pending_kind, pending_ua = "", ""
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local kinds = thread:get("answered_kind")
    io.write(string.format("THREAD answered=%d normal=%d bot=%d head=%d prefetch=%d pending=%s ua=%s\n",
      thread:get("answered"), kinds.normal, kinds.bot, kinds.head, kinds.prefetch,
      thread:get("pending_kind"), thread:get("pending_ua")))
  end
end
