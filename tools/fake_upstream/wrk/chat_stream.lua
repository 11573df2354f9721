-- wrk script: streamed chat completions (16 tokens, no delays) with include_usage.
-- wrk -t1 -c64 -d5s -s tools/fake_upstream/wrk/chat_stream.lua http://127.0.0.1:8001
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"fake-model","messages":[{"role":"user","content":"Say hello in five words."}],' ..
           '"stream":true,"stream_options":{"include_usage":true}}'
