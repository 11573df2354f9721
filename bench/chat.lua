-- wrk script: POSTs one chat completion per request and prints a JSON summary when the run ends.
-- The body comes from $BENCH_BODY (default: a non-streaming request for model "bench-model");
-- extra headers (x-fake-tokens, anthropic-version, ...) are passed with wrk -H. The endpoint is the
-- URL's path (bench/run.sh gives /v1/messages for the Anthropic scenarios), which wrk requests as is.
local body = os.getenv("BENCH_BODY")
if body == nil or body == "" then
  body = '{"model":"bench-model","messages":[{"role":"user","content":"hi"}]}'
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  local s = summary.duration / 1e6
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_s":%.6f,"rps":%.3f,"bytes":%d,' ..
    '"latency_us":{"mean":%.2f,"stdev":%.2f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, s, summary.requests / s, summary.bytes,
    latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
