// /health and /metrics: shape, and counters that move by exactly the traffic the test makes.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  chatBody,
  httpOpen,
  metricSum,
  postJson,
  readBody,
  request,
  scrape,
  simpleConfig,
  startFake,
  startGateway,
  stopAll,
  streamSse,
  test,
} from './harness.mjs';

let fake;
let gw;

before(async () => {
  fake = await startFake();
  gw = await startGateway(simpleConfig(fake));
});
after(stopAll);

const Q = { alias: 'qwen-7b', upstream: 'gpu-box' };

test('GET /health -> 200 JSON with status and an upstreams summary naming gpu-box', async () => {
  const r = await request(`${gw.url}/health`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  assert.ok(r.json && typeof r.json === 'object', r.text);
  assert.equal(typeof r.json.status, 'string', r.text);
  const ups = r.json.upstreams;
  assert.ok(ups && typeof ups === 'object', `upstreams: ${r.text}`);
  const names = Array.isArray(ups) ? ups.map((u) => u?.name ?? u?.id) : Object.keys(ups);
  assert.ok(names.includes('gpu-box'), `upstreams summary names gpu-box: ${r.text}`);
});

test('GET /metrics is Prometheus text with the documented families', async () => {
  // Some traffic first so that labelled series exist.
  assert.equal((await postJson(`${gw.url}/v1/chat/completions`, chatBody())).status, 200);
  const s = await streamSse(`${gw.url}/v1/chat/completions`, chatBody({ stream: true }), { 'x-fake-tokens': '3' });
  assert.equal(s.status, 200);
  const m = await scrape(gw);
  assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
  for (const family of [
    'switchyard_requests_total',
    'switchyard_request_duration_seconds_bucket',
    'switchyard_time_to_first_token_seconds_bucket',
    'switchyard_in_flight_requests',
    'switchyard_tokens_total',
  ]) {
    assert.ok(m.samples.some((x) => x.name === family), `metric ${family} missing from:\n${m.text.slice(0, 3000)}`);
  }
  assert.match(m.text, /# TYPE switchyard_requests_total counter/);
  assert.match(m.text, /# TYPE switchyard_request_duration_seconds histogram/);
  assert.match(m.text, /# TYPE switchyard_time_to_first_token_seconds histogram/);
  assert.match(m.text, /# TYPE switchyard_in_flight_requests gauge/);
  assert.ok(
    m.samples.some((x) => x.name === 'switchyard_requests_total' && x.labels.alias === 'qwen-7b' && x.labels.upstream === 'gpu-box' && x.labels.status === '200'),
    `switchyard_requests_total{alias="qwen-7b",upstream="gpu-box",status="200"} missing:\n${m.text.slice(0, 3000)}`,
  );
  for (const direction of ['input', 'output']) {
    assert.ok(
      m.samples.some((x) => x.name === 'switchyard_tokens_total' && x.labels.direction === direction),
      `switchyard_tokens_total{direction="${direction}"} missing`,
    );
  }
  const le = m.samples.filter((x) => x.name === 'switchyard_request_duration_seconds_bucket').map((x) => x.labels.le);
  assert.ok(le.includes('+Inf'), 'histogram has a +Inf bucket');
});

test('request, duration, TTFT and token counters increase by exactly the traffic made', async () => {
  const before = (await scrape(gw)).samples;
  const N_PLAIN = 3;
  const N_STREAM = 2;
  let promptTokens = 0;
  let completionTokens = 0;
  for (let i = 0; i < N_PLAIN; i++) {
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { 'x-fake-tokens': String(4 + i) });
    assert.equal(r.status, 200, r.text);
    promptTokens += r.json.usage.prompt_tokens;
    completionTokens += r.json.usage.completion_tokens;
  }
  for (let i = 0; i < N_STREAM; i++) {
    const s = await streamSse(
      `${gw.url}/v1/chat/completions`,
      chatBody({ stream: true, stream_options: { include_usage: true } }),
      { 'x-fake-tokens': '5' },
    );
    assert.equal(s.status, 200);
    const usage = s.events.find((e) => e.json?.choices?.length === 0)?.json?.usage;
    assert.ok(usage, `usage chunk: ${s.raw}`);
    promptTokens += usage.prompt_tokens;
    completionTokens += usage.completion_tokens;
  }
  // One upstream error for the 503 series (a status that is not 200).
  const e = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { 'x-fake-status': '503' });
  assert.equal(e.status, 503);

  const afterS = (await scrape(gw)).samples;
  // Label sets beyond the documented ones are not prescribed: filter by alias where the family has it.
  const delta = (name, match) => {
    const m = { ...match };
    if (m.alias && !afterS.some((x) => x.name === name && 'alias' in x.labels)) delete m.alias;
    return metricSum(afterS, name, m) - metricSum(before, name, m);
  };

  assert.equal(delta('switchyard_requests_total', { ...Q, status: '200' }), N_PLAIN + N_STREAM, 'requests_total{status="200"}');
  assert.equal(delta('switchyard_requests_total', { ...Q, status: '503' }), 1, 'requests_total{status="503"}');
  assert.equal(delta('switchyard_request_duration_seconds_count', { alias: 'qwen-7b' }), N_PLAIN + N_STREAM + 1, 'duration _count');
  assert.equal(
    delta('switchyard_request_duration_seconds_bucket', { alias: 'qwen-7b', le: '+Inf' }),
    N_PLAIN + N_STREAM + 1,
    'duration +Inf bucket',
  );
  assert.ok(delta('switchyard_request_duration_seconds_sum', { alias: 'qwen-7b' }) > 0, 'duration _sum grows');
  const ttft = delta('switchyard_time_to_first_token_seconds_count', { alias: 'qwen-7b' });
  assert.ok(ttft >= N_STREAM && ttft <= N_PLAIN + N_STREAM, `TTFT observations: ${ttft}`);
  assert.equal(delta('switchyard_tokens_total', { alias: 'qwen-7b', direction: 'input' }), promptTokens, 'input tokens');
  assert.equal(delta('switchyard_tokens_total', { alias: 'qwen-7b', direction: 'output' }), completionTokens, 'output tokens');
});

test('switchyard_upstream_errors_total counts upstream failures with a kind label', async () => {
  const before = (await scrape(gw)).samples;
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { 'x-fake-close': '1' });
  assert.equal(r.status, 502, r.text);
  const m = await scrape(gw);
  const errs = m.samples.filter((x) => x.name === 'switchyard_upstream_errors_total');
  assert.ok(errs.length > 0, `switchyard_upstream_errors_total missing:\n${m.text.slice(0, 3000)}`);
  for (const x of errs) assert.ok(typeof x.labels.kind === 'string' && x.labels.kind.length, `kind label: ${JSON.stringify(x)}`);
  const d = metricSum(m.samples, 'switchyard_upstream_errors_total', { upstream: 'gpu-box' }) -
    metricSum(before, 'switchyard_upstream_errors_total', { upstream: 'gpu-box' });
  assert.equal(d, 1, 'exactly one upstream error for gpu-box');
});

test('switchyard_in_flight_requests rises during a request and falls back after', async () => {
  const idle = metricSum((await scrape(gw)).samples, 'switchyard_in_flight_requests');
  const { res } = await httpOpen(`${gw.url}/v1/chat/completions`, {
    body: chatBody({ stream: true }),
    headers: { 'x-fake-tokens': '6', 'x-fake-gap-ms': '200' },
  });
  assert.equal(res.statusCode, 200);
  const bodyDone = readBody(res);
  const during = metricSum((await scrape(gw)).samples, 'switchyard_in_flight_requests');
  await bodyDone;
  assert.ok(during >= idle + 1, `in-flight during a stream: ${during}, idle: ${idle}`);
  // Give the gateway a moment to account the finished request.
  let afterV;
  for (let i = 0; i < 20; i++) {
    afterV = metricSum((await scrape(gw)).samples, 'switchyard_in_flight_requests');
    if (afterV === idle) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(afterV, idle, 'in-flight back to the idle value');
});
