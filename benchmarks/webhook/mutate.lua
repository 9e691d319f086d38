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
if pause then
  function delay()
    if unpaused > 0 then
      unpaused = unpaused - 1
      return 0
    end
    return pause
  end
end
