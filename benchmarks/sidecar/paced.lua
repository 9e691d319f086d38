-- wrk script: each connection pauses DELAY_MS between an answer and its next GET, so that
-- connections * 1000 / (DELAY_MS + latency) is the offered rate. POISSON=1 draws each pause from
-- an exponential distribution of that mean: connections then send independently (about a Poisson
-- stream) instead of, with equal pauses, in trains of one request per connection.
local pause = tonumber(os.getenv("DELAY_MS") or "0")
local poisson = os.getenv("POISSON") == "1"
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
function delay()
  if poisson then
    return -pause * math.log(1 - math.random())
  end
  return pause
end
