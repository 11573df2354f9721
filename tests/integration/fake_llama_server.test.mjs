// The fake upstream's llama-server mode: started with llama-server's command line (as the gateway's
// model manager starts a real one), it binds --host/--port, prints its pid and the flags it saw,
// logs like llama-server, answers 503 "Loading model" while FAKE_LLAMA_LOAD_MS runs, crashes or
// exits on demand, refuses a missing model file, and processes at most --parallel requests at once.
// Real processes on loopback; every wait is bounded. No gateway.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after } from 'node:test';
import {
  FAKE_BIN,
  Service,
  makeTempDir,
  parsePrometheus,
  metricSum,
  pollUntil,
  postJson,
  request,
  runToExit,
  sleep,
  stopAll,
  streamSse,
  test,
  withTimeout,
} from './harness.mjs';

after(stopAll);

const LOADING = { error: { code: 503, message: 'Loading model', type: 'unavailable_error' } };
const chat = { model: 'any', messages: [{ role: 'user', content: 'Hello' }] };

/** A model file: llama-server mode only checks that it exists. */
function modelFile(name = 'qwen2.5-7b-q4_k_m.gguf') {
  const file = path.join(makeTempDir('fake-llama-'), name);
  fs.writeFileSync(file, 'GGUF not really');
  return file;
}

/**
 * Starts fake-upstream with exactly `args` (llama-server's flags; no --listen is added) and `env`,
 * and waits for its "fake llama-server pid P listening on http://H:N ..." line.
 */
async function startLlama(args, env = {}, name = 'fake-llama') {
  const svc = new Service(name, FAKE_BIN, args, env);
  await svc.waitListening();
  const m = /fake llama-server pid (\d+) listening on (\S+) ctx (\d+) parallel (\d+) ngl (\S+)/.exec(svc.stdout);
  assert.ok(m, `start line in stdout: ${svc.stdout}`);
  svc.started = { pid: Number(m[1]), url: m[2], ctx: Number(m[3]), parallel: Number(m[4]), ngl: m[5] };
  const flags = await pollUntil(() => /fake llama-server flags (\{.*\})\n/.exec(svc.stdout), { what: 'flags line' });
  svc.flags = JSON.parse(flags[1]);
  return svc;
}

const waitExit = (svc, ms = 5000) => withTimeout(svc.exited, ms, `${svc.name} to exit`);

test('starts with llama-server flags, prints its pid and flags, serves OpenAI and llama-server endpoints, logs each request', async () => {
  const model = modelFile();
  const argv = ['-m', model, '--host', '127.0.0.1', '--port', '0', '-c', '8192', '-np', '2', '-ngl', '99', '-fa', 'on',
    '-ctk', 'q8_0', '-ctv', 'q8_0', '-b', '1024', '-ub', '256', '-t', '6', '--alias', 'qwen-local', '--jinja',
    '--no-webui', '--metrics', '--mlock', '--no-mmap', '--some-new-flag', '7', '--another-bool'];
  const svc = await startLlama(argv, { FAKE_LLAMA_TOKENS: '3' });
  assert.equal(svc.started.pid, svc.child.pid);
  assert.equal(svc.started.url, svc.url);
  assert.deepEqual({ ctx: svc.started.ctx, parallel: svc.started.parallel, ngl: svc.started.ngl },
    { ctx: 8192, parallel: 2, ngl: '99' });
  const { args, ...settings } = svc.flags;
  assert.deepEqual(settings, {
    model, model_id: 'qwen-local', host: '127.0.0.1', port: 0, ctx_size: 8192, n_ctx: 8192, n_ctx_slot: 4096,
    parallel: 2, kv_unified: false, n_gpu_layers: '99', flash_attn: 'on', cache_type_k: 'q8_0',
    cache_type_v: 'q8_0', batch_size: 1024, ubatch_size: 256, threads: 6, jinja: true, webui: false,
    metrics: true, slots: true, mlock: true, mmap: false, api_keys: 0,
    unknown: ['--some-new-flag 7', '--another-bool'],
  });
  assert.deepEqual(args, argv);
  assert.equal((await request(`${svc.url}/fake/args`)).json.model_id, 'qwen-local');
  assert.match(svc.stderr, /warn: unknown argument '--some-new-flag 7' accepted and ignored/);
  assert.match(svc.stderr, /main: HTTP server is listening, hostname: 127\.0\.0\.1, port: \d+, http threads: 1/);
  assert.match(svc.stderr, /llama_context: n_ctx_per_seq = 4096/);

  const health = await request(`${svc.url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(health.json, { status: 'ok' });
  const models = await request(`${svc.url}/v1/models`);
  assert.equal(models.json.data.length, 1);
  assert.equal(models.json.data[0].id, 'qwen-local');
  assert.equal(models.json.data[0].owned_by, 'llamacpp');
  assert.equal(models.json.data[0].meta.size, fs.statSync(model).size);
  assert.equal(models.json.data[0].meta.n_ctx_train, 4096);

  const r = await postJson(`${svc.url}/v1/chat/completions`, chat);
  assert.equal(r.status, 200);
  assert.equal(r.json.choices[0].message.content, 'tok0 tok1 tok2 ');
  assert.equal(r.json.usage.completion_tokens, 3);
  const s = await streamSse(`${svc.url}/v1/chat/completions`, { ...chat, stream: true });
  assert.equal(s.status, 200);
  assert.equal(s.events.at(-1).data, '[DONE]');
  assert.equal(s.events.map((e) => e.json?.choices?.[0]?.delta?.content ?? '').join(''), 'tok0 tok1 tok2 ');

  const metrics = await request(`${svc.url}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.headers.get('content-type'), /^text\/plain/);
  const samples = parsePrometheus(metrics.text);
  assert.equal(metricSum(samples, 'llamacpp:tokens_predicted_total'), 6);
  assert.equal(metricSum(samples, 'llamacpp:requests_processing'), 0);
  assert.equal(metricSum(samples, 'llamacpp:requests_deferred'), 0);

  await pollUntil(() => /request: POST \/v1\/chat\/completions 127\.0\.0\.1 200\n[^]*request: POST \/v1\/chat\/completions 127\.0\.0\.1 200\n/.test(svc.stderr),
    { what: 'two request log lines' });
  assert.match(svc.stderr, /srv  log_server_r: request: GET \/health 127\.0\.0\.1 200\n/);
  assert.match(svc.stderr, /slot launch_slot_: id   0 \| task 0 \| processing task/);
  assert.match(svc.stderr, /main: model loaded\n/);

  assert.deepEqual(await svc.stop({ signal: 'SIGTERM' }), { code: 0, signal: null });
  assert.match(svc.stderr, /cleaning up before exit/);
});

test('without --alias /v1/models lists the model path; -np unset gives 4 slots sharing one context', async () => {
  const model = modelFile('plain.gguf');
  const svc = await startLlama(['--model', model, '--port', '0']);
  assert.deepEqual({ ctx: svc.started.ctx, parallel: svc.started.parallel, ngl: svc.started.ngl },
    { ctx: 4096, parallel: 4, ngl: 'auto' });
  const models = await request(`${svc.url}/v1/models`);
  assert.equal(models.json.data[0].id, model);
  const props = await request(`${svc.url}/props`);
  assert.equal(props.json.total_slots, 4);
  assert.equal(props.json.default_generation_settings.n_ctx, 4096, 'unified KV: each slot sees the whole context');
  await svc.stop();
});

test('GET /props and /slots report the slots and context; --llama-server selects the mode explicitly', async () => {
  const model = modelFile();
  const svc = await startLlama(['--llama-server', '--model', model, '--port', '0', '--ctx-size', '16384',
    '--parallel', '2', '--gpu-layers', 'all', '--alias', 'm1']);
  const props = await request(`${svc.url}/props`);
  assert.equal(props.status, 200);
  assert.equal(props.json.total_slots, 2);
  assert.equal(props.json.default_generation_settings.n_ctx, 8192);
  assert.equal(props.json.model_path, model);
  assert.equal(props.json.model_alias, 'm1');
  assert.equal(props.json.is_sleeping, false);
  const slots = await request(`${svc.url}/slots`);
  assert.equal(slots.status, 200);
  assert.deepEqual(slots.json.map((s) => [s.id, s.n_ctx, s.is_processing, s.id_task]), [[0, 8192, false, -1], [1, 8192, false, -1]]);
  const metrics = await request(`${svc.url}/metrics`);
  assert.equal(metrics.status, 501, 'no --metrics');
  assert.equal(svc.started.ngl, 'all');
  await svc.stop();
});

test('503 Loading model on /health and inference during FAKE_LLAMA_LOAD_MS, then 200', async () => {
  const t0 = performance.now();
  const svc = await startLlama(['-m', modelFile(), '--port', '0'], { FAKE_LLAMA_LOAD_MS: '1200', FAKE_LLAMA_TOKENS: '2' });
  const h = await request(`${svc.url}/health`);
  assert.equal(h.status, 503);
  assert.deepEqual(h.json, LOADING);
  const c = await postJson(`${svc.url}/v1/chat/completions`, chat);
  assert.equal(c.status, 503);
  assert.deepEqual(c.json, LOADING);
  const m = await request(`${svc.url}/v1/models`);
  assert.equal(m.status, 200);
  assert.equal(m.json.data[0].meta, null, 'meta is null while loading');
  assert.equal((await request(`${svc.url}/props`)).status, 503);
  assert.doesNotMatch(svc.stderr, /main: model loaded/);

  await pollUntil(async () => (await request(`${svc.url}/health`)).status === 200, { timeoutMs: 5000, what: 'health 200' });
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 1100, `ready after ${elapsed} ms, expected >= 1200 ms after start`);
  assert.deepEqual((await request(`${svc.url}/health`)).json, { status: 'ok' });
  const ok = await postJson(`${svc.url}/v1/chat/completions`, chat);
  assert.equal(ok.status, 200);
  assert.equal(ok.json.choices[0].message.content, 'tok0 tok1 ');
  assert.notEqual((await request(`${svc.url}/v1/models`)).json.data[0].meta, null);
  assert.match(svc.stderr, /request: GET \/health 127\.0\.0\.1 503\n/);
  assert.match(svc.stderr, /main: model loaded\n/);
  await svc.stop();
});

test('FAKE_LLAMA_CRASH_AFTER=2: two requests complete, then the process exits 1 with "fake crash"', async () => {
  const svc = await startLlama(['-m', modelFile(), '--port', '0'], { FAKE_LLAMA_CRASH_AFTER: '2', FAKE_LLAMA_TOKENS: '2' });
  const first = await postJson(`${svc.url}/v1/chat/completions`, chat);
  assert.equal(first.status, 200);
  assert.equal(svc.running, true);
  const second = await postJson(`${svc.url}/v1/chat/completions`, { ...chat, stream: true });
  assert.equal(second.status, 200);
  assert.match(second.text, /data: \[DONE\]/);
  assert.deepEqual(await waitExit(svc), { code: 1, signal: null });
  assert.match(svc.stderr, /fake crash\n/);
  await assert.rejects(request(`${svc.url}/health`, { timeoutMs: 2000 }));
});

test('FAKE_LLAMA_CRASH_ABORT=1 crashes with SIGABRT', async () => {
  const svc = await startLlama(['-m', modelFile(), '--port', '0'], { FAKE_LLAMA_CRASH_AFTER: '1', FAKE_LLAMA_CRASH_ABORT: '1' });
  assert.equal((await postJson(`${svc.url}/v1/chat/completions`, chat)).status, 200);
  const exit = await waitExit(svc);
  assert.equal(exit.signal, 'SIGABRT');
});

test('FAKE_LLAMA_EXIT_AFTER_MS during the load: listening, 503, then exit 1 with "failed to load model"', async () => {
  const t0 = performance.now();
  const svc = await startLlama(['-m', modelFile(), '--port', '0'], { FAKE_LLAMA_LOAD_MS: '5000', FAKE_LLAMA_EXIT_AFTER_MS: '400' });
  assert.equal((await request(`${svc.url}/health`)).status, 503);
  assert.deepEqual(await waitExit(svc), { code: 1, signal: null });
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 350 && elapsed < 4000, `exited after ${elapsed} ms`);
  assert.match(svc.stderr, /error: failed to load model\n/);
  assert.match(svc.stderr, /main: exiting due to model loading error\n/);
  assert.doesNotMatch(svc.stderr, /main: model loaded/);
});

test('a missing model file exits 1 with llama-server\'s message, before listening', async () => {
  const missing = path.join(makeTempDir('fake-llama-'), 'nope.gguf');
  const r = await runToExit(FAKE_BIN, ['-m', missing, '--port', '0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`gguf_init_from_file: failed to open GGUF file '${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
  assert.match(r.stderr, /srv    load_model: failed to load model/);
  assert.match(r.stderr, /main: exiting due to model loading error/);
  assert.doesNotMatch(r.stdout, /listening on/);

  const none = await runToExit(FAKE_BIN, ['--llama-server', '--port', '0']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no model given/);

  const badCache = await runToExit(FAKE_BIN, ['-m', modelFile(), '--port', '0', '-ctk', 'q3_x']);
  assert.equal(badCache.code, 1);
  assert.match(badCache.stderr, /Unsupported cache type: 'q3_x'/);
});

test('a port already in use exits 1', async () => {
  const first = await startLlama(['-m', modelFile(), '--port', '0'], {}, 'first');
  const r = await runToExit(FAKE_BIN, ['-m', modelFile(), '--host', '127.0.0.1', '--port', String(first.port)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /couldn't bind HTTP server socket/);
  await first.stop();
});

test('--parallel 2: a third concurrent request waits for a free slot', async () => {
  // 5 tokens 150 ms apart: one stream holds its slot about 600 ms.
  const svc = await startLlama(['-m', modelFile(), '--port', '0', '-np', '2', '--metrics'],
    { FAKE_LLAMA_TOKENS: '5', FAKE_LLAMA_GAP_MS: '150' });
  const url = `${svc.url}/v1/chat/completions`;
  const t0 = performance.now();
  const runs = [0, 1, 2].map(async (i) => {
    if (i === 2) await sleep(100);  // the third arrives last
    const s = await streamSse(url, { ...chat, stream: true });
    return { i, first: s.events[0].t + (s.t0 - t0), end: s.tEnd + (s.t0 - t0), ok: s.events.at(-1).data === '[DONE]' };
  });
  await sleep(300);
  const slots = await request(`${svc.url}/slots`);
  assert.deepEqual(slots.json.map((s) => s.is_processing), [true, true]);
  const busy = await request(`${svc.url}/slots?fail_on_no_slot=1`);
  assert.equal(busy.status, 503);
  assert.deepEqual(busy.json, { error: { code: 503, message: 'no slot available', type: 'unavailable_error' } });
  const samples = parsePrometheus((await request(`${svc.url}/metrics`)).text);
  assert.equal(metricSum(samples, 'llamacpp:requests_processing'), 2);
  assert.equal(metricSum(samples, 'llamacpp:requests_deferred'), 1);

  const done = await Promise.all(runs);
  for (const d of done) assert.ok(d.ok, `stream ${d.i} ended with [DONE]`);
  const [a, b, c] = done;
  // Serialised, the second would end at 1200 ms; alone, the third would start at 100 ms.
  assert.ok(a.end < 1100 && b.end < 1100, `the first two run at once: ${a.end}, ${b.end} ms`);
  assert.ok(c.first >= 450, `the third starts when a slot frees (about 600 ms): first byte at ${c.first} ms`);
  assert.ok(c.end >= 1050, `the third ends about 1200 ms after the start: ${c.end} ms`);
  assert.match(svc.stderr, /no free slot, task 2 deferred/);
  // The last [DONE] can reach the client a moment before its slot is released.
  await pollUntil(
    async () => metricSum(parsePrometheus((await request(`${svc.url}/metrics`)).text), 'llamacpp:requests_processing') === 0,
    { timeoutMs: 2000, what: 'every slot released' },
  );
  await svc.stop();
});

test('--parallel 1: a waiting client that leaves gives up its place in line', async () => {
  const svc = await startLlama(['-m', modelFile(), '--port', '0', '-np', '1', '--metrics'],
    { FAKE_LLAMA_TOKENS: '4', FAKE_LLAMA_GAP_MS: '150' });
  const url = `${svc.url}/v1/chat/completions`;
  const holder = streamSse(url, { ...chat, stream: true });
  await sleep(100);
  const leaver = new AbortController();
  const left = fetch(url, { method: 'POST', body: JSON.stringify({ ...chat, stream: true }), signal: leaver.signal })
    .then((r) => r.text()).catch((e) => e.name);
  const deferred = async () =>
    metricSum(parsePrometheus((await request(`${svc.url}/metrics`)).text), 'llamacpp:requests_deferred');
  await pollUntil(async () => (await deferred()) === 1, { what: 'one deferred request' });
  leaver.abort();
  assert.equal(await left, 'AbortError');
  await pollUntil(async () => (await deferred()) === 0, { what: 'the deferred request dropped' });
  assert.equal((await holder).events.at(-1).data, '[DONE]');
  const next = await postJson(url, chat);
  assert.equal(next.status, 200);
  await svc.stop();
});

test('FAKE_LLAMA_HANG_HEALTH=1: /health never answers once loaded; other endpoints do', async () => {
  const svc = await startLlama(['-m', modelFile(), '--port', '0'], { FAKE_LLAMA_HANG_HEALTH: '1' });
  await assert.rejects(request(`${svc.url}/health`, { timeoutMs: 500 }), /TimeoutError|aborted/i);
  assert.equal((await request(`${svc.url}/v1/models`)).status, 200);
  assert.equal((await postJson(`${svc.url}/v1/chat/completions`, chat)).status, 200);
  await svc.stop();
});

test('--api-key: inference needs the key; /health and /v1/models stay public', async () => {
  const svc = await startLlama(['-m', modelFile(), '--port', '0', '--api-key', 'k1,k2']);
  assert.ok(svc.flags.args.includes('***') && !svc.flags.args.includes('k1,k2'), 'keys are masked in the flags line');
  const denied = await postJson(`${svc.url}/v1/chat/completions`, chat);
  assert.equal(denied.status, 401);
  assert.deepEqual(denied.json, { error: { code: 401, message: 'Invalid API Key', type: 'authentication_error' } });
  assert.equal((await postJson(`${svc.url}/v1/chat/completions`, chat, { authorization: 'Bearer k2' })).status, 200);
  assert.equal((await postJson(`${svc.url}/v1/chat/completions`, chat, { 'x-api-key': 'k1' })).status, 200);
  assert.equal((await request(`${svc.url}/health`)).status, 200);
  assert.equal((await request(`${svc.url}/v1/models`)).status, 200);
  assert.equal((await request(`${svc.url}/props`)).status, 401);
  await svc.stop();
});

test('SIGTERM exits 0; FAKE_LLAMA_IGNORE_SIGTERM=1 keeps running until SIGKILL', async () => {
  const svc = await startLlama(['-m', modelFile(), '--port', '0'], { FAKE_LLAMA_IGNORE_SIGTERM: '1' });
  svc.signal('SIGTERM');
  await pollUntil(() => /SIGTERM ignored/.test(svc.stderr), { what: 'the ignore log line' });
  await sleep(200);
  assert.equal(svc.running, true);
  assert.equal((await request(`${svc.url}/health`)).status, 200);
  assert.deepEqual(await svc.stop({ signal: 'SIGKILL' }), { code: null, signal: 'SIGKILL' });
});

test('the normal mode is unchanged: --model alone still means a model name', async () => {
  const svc = new Service('fake-normal', FAKE_BIN, ['--listen', '127.0.0.1:0', '--model', 'not-a-file'], {});
  await svc.waitListening();
  assert.doesNotMatch(svc.stdout, /fake llama-server/);
  assert.equal((await request(`${svc.url}/v1/models`)).json.data[0].id, 'not-a-file');
  assert.equal((await request(`${svc.url}/props`)).status, 404);
  await svc.stop();
});
