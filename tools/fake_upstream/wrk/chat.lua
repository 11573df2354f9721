-- wrk script: non-stream chat completions against fake-upstream (or a gateway in front of it).
-- wrk -t1 -c64 -d5s -s tools/fake_upstream/wrk/chat.lua http://127.0.0.1:8001
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"fake-model","messages":[{"role":"user","content":"Say hello in five words."}],"max_tokens":16}'
