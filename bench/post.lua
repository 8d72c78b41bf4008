-- wrk script for the ModelGate benchmarks: POST a small non-streaming chat completion.
-- BENCH_KEY and BENCH_MODEL come from the environment (bench/run.sh sets them).
--   BENCH_KEY=sk-... BENCH_MODEL=nginx/gpt-bench wrk -t1 -c1 -d10s --latency -s bench/post.lua http://127.0.0.1:8765/v1/chat/completions
local key = os.getenv("BENCH_KEY") or "sk-bench"
local model = os.getenv("BENCH_MODEL") or "gpt-bench"

wrk.method = "POST"
wrk.body = '{"model":"' .. model .. '","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":16}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
