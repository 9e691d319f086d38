-- wrk script: POST one AdmissionReview (BODY_FILE, default admission-review.json) per request
-- over keep-alive connections. DELAY_MS, when set, makes each connection wait that long between
-- requests, so that connections * 1000 / DELAY_MS approximates a fixed offered rate.
local body_file = os.getenv("BODY_FILE") or "admission-review.json"
local f = assert(io.open(body_file, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local pause = tonumber(os.getenv("DELAY_MS") or "")
if pause then
  function delay()
    return pause
  end
end
