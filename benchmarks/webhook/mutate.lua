-- wrk script: POST one AdmissionReview (BODY_FILE, default admission-review.json) per request
-- over keep-alive connections.
--
-- DELAY_MS, when set, makes each connection pause that long between an answer and its next
-- request, so that connections * 1000 / (DELAY_MS + latency) is the offered rate. wrk also pauses
-- before a connection's first request; a TLS server thread that has finished the handshake then
-- waits for that request, which would show up as a start-up artefact in the latency tail. So the
-- first CONNS_PER_THREAD requests of each wrk thread (one per connection) go out without a pause.
local body_file = os.getenv("BODY_FILE") or "admission-review.json"
local f = assert(io.open(body_file, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local pause = tonumber(os.getenv("DELAY_MS") or "")
local unpaused = tonumber(os.getenv("CONNS_PER_THREAD") or "0")
-- POISSON=1: each pause is drawn from an exponential distribution with mean DELAY_MS, so the
-- connections' requests arrive independently (about a Poisson stream, as pod creations reach an
-- API server) instead of in trains: with fixed pauses, connections that answer together pause
-- together and keep arriving in bursts of up to one request per connection.
local poisson = os.getenv("POISSON") == "1"
if pause then
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  function delay()
    if unpaused > 0 then
      unpaused = unpaused - 1
      return 0
    end
    if poisson then
      return -pause * math.log(1 - math.random())
    end
    return pause
  end
end
