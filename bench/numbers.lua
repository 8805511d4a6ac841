-- Asks for a random seeded number each request: site i holds +92 58 (i*1000 + 0..9).
math.randomseed(os.time())
local sites = tonumber(os.getenv("BENCH_SITES") or "1000")
request = function()
  local i = math.random(0, sites - 1)
  local n = 925800000000 + i * 1000 + math.random(0, 9)
  return wrk.format("GET", "/api/v1/verify/numbers/+" .. string.format("%d", n))
end
