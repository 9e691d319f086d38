-- wrk script: each connection pauses DELAY_MS between an answer and its next GET, so that
-- connections * 1000 / (DELAY_MS + latency) is the offered rate.
local pause = tonumber(os.getenv("DELAY_MS") or "0")
function delay()
  return pause
end
