// Error handling: every error in OpenAI shape, the right status for each failure, bounded time,
// and mid-stream failures ending the SSE stream with an error event (no [DONE]).

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import {
  assertOpenAIError,
  chatBody,
  closedPort,
  gatewayConfig,
  openaiUpstream,
  postJson,
  request,
  startFake,
  startGateway,
  stopAll,
  streamSse,
  test,
  withTimeout,
} from './harness.mjs';

const MAX_BODY = 65536;

let fake;
let gw;

before(async () => {
  fake = await startFake();
  const deadPort = await closedPort();
  gw = await startGateway(
    gatewayConfig({
      server: { max_body_bytes: MAX_BODY },
      upstreams: {
        'gpu-box': openaiUpstream(fake, { timeouts: { connect_ms: 2000, first_byte_ms: 500, chunk_gap_ms: 500 } }),
        'dead-box': openaiUpstream(`http://127.0.0.1:${deadPort}/v1`, { timeouts: { connect_ms: 2000 } }),
      },
      models: {
        'qwen-7b': { deployments: [{ upstream: 'gpu-box', model: 'Qwen/Qwen2.5-7B-Instruct' }] },
        'dead-model': { deployments: [{ upstream: 'dead-box', model: 'whatever' }] },
      },
    }),
  );
});
after(stopAll);

const chatUrl = () => `${gw.url}/v1/chat/completions`;

test('malformed JSON -> 400 in OpenAI error shape', async () => {
  for (const body of ['{"model": "qwen-7b", "messages": [', 'not json at all', '']) {
    const r = await request(chatUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assertOpenAIError(assert, r, 400, `body ${JSON.stringify(body)}`);
  }
});

test('missing messages / missing model -> 400 with param naming the field', async () => {
  const noMessages = await postJson(chatUrl(), { model: 'qwen-7b' });
  const e1 = assertOpenAIError(assert, noMessages, 400, 'missing messages');
  assert.equal(e1.param, 'messages', noMessages.text);

  const noModel = await postJson(chatUrl(), { messages: [{ role: 'user', content: 'hi' }] });
  const e2 = assertOpenAIError(assert, noModel, 400, 'missing model');
  assert.equal(e2.param, 'model', noModel.text);
});

test('unknown model -> 404 model_not_found listing the available models; upstream untouched', async () => {
  const before = await fake.stats();
  const r = await postJson(chatUrl(), chatBody({ model: 'gpt-17-ultra' }));
  const e = assertOpenAIError(assert, r, 404, 'unknown model');
  assert.equal(e.code, 'model_not_found', r.text);
  assert.match(e.message, /qwen-7b/, 'message lists the available models');
  assert.ok(r.headers.get('x-request-id'), 'x-request-id on a 404');
  const afterStats = await fake.stats();
  assert.equal(afterStats.requests, before.requests, 'no upstream request for an unknown model');
});

test('body over max_body_bytes -> 413; a body just under the limit is accepted', async () => {
  const pad = (n) => chatBody({ messages: [{ role: 'user', content: 'x'.repeat(n) }] });
  const big = JSON.stringify(pad(MAX_BODY + 1000));
  const r = await request(chatUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
  assertOpenAIError(assert, r, 413, `body of ${big.length} bytes`);

  const ok = JSON.stringify(pad(MAX_BODY - 1000));
  assert.ok(ok.length <= MAX_BODY);
  const r2 = await request(chatUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: ok });
  assert.equal(r2.status, 200, `body of ${ok.length} bytes: ${r2.text.slice(0, 300)}`);
});

test('chunked body over max_body_bytes -> 413', async () => {
  const { port } = new URL(gw.url);
  const result = await withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/chat/completions',
        agent: false,
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text, headers: res.headers }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.write('{"model":"qwen-7b","messages":[{"role":"user","content":"');
      const piece = 'y'.repeat(16 * 1024);
      for (let i = 0; i < 6; i++) req.write(piece); // 96 KiB > 64 KiB
      req.end('"}]}');
    }),
    10_000,
    'response to an oversized chunked body',
  );
  assert.equal(result.status, 413, result.text.slice(0, 300));
  const json = JSON.parse(result.text);
  for (const k of ['message', 'type', 'param', 'code']) assert.ok(Object.hasOwn(json.error, k), result.text);
});

test('upstream refusing connections -> 502 quickly', async () => {
  const r = await postJson(chatUrl(), chatBody({ model: 'dead-model' }), {}, { timeoutMs: 10_000 });
  assertOpenAIError(assert, r, 502, 'refused upstream');
  assert.ok(r.ms < 5000, `took ${r.ms.toFixed(0)} ms`);
  assert.ok(r.headers.get('x-request-id'));
  assert.equal(r.headers.get('x-routed-node'), 'dead-box');
});

test('upstream not answering within first_byte_ms -> 504 in bounded time', async () => {
  const r = await postJson(chatUrl(), chatBody(), { 'x-fake-hang': '1' }, { timeoutMs: 10_000 });
  assertOpenAIError(assert, r, 504, 'hanging upstream');
  assert.ok(r.ms >= 400, `504 after only ${r.ms.toFixed(0)} ms; first_byte_ms is 500`);
  assert.ok(r.ms < 3000, `504 took ${r.ms.toFixed(0)} ms; first_byte_ms is 500`);
  assert.equal(r.headers.get('x-routed-node'), 'gpu-box');
});

test('upstream closing the connection without answering -> 502', async () => {
  const r = await postJson(chatUrl(), chatBody(), { 'x-fake-close': '1' });
  assertOpenAIError(assert, r, 502, 'upstream closed');
  assert.equal(r.headers.get('x-routed-node'), 'gpu-box');
  const s = await postJson(chatUrl(), chatBody({ stream: true }), { 'x-fake-close': '1' });
  assertOpenAIError(assert, s, 502, 'upstream closed (stream request)');
});

for (const status of [429, 503, 400, 500]) {
  test(`upstream ${status} is passed on with the upstream's body`, async () => {
    const direct = await postJson(`${fake.base}/chat/completions`, chatBody({ model: 'Qwen/Qwen2.5-7B-Instruct' }), {
      'x-fake-status': String(status),
    });
    assert.equal(direct.status, status, 'fake itself honours x-fake-status');
    const r = await postJson(chatUrl(), chatBody(), { 'x-fake-status': String(status) });
    assert.equal(r.status, status, r.text);
    if (direct.json !== undefined) {
      assert.deepEqual(r.json, direct.json, `gateway body ${r.text} vs upstream body ${direct.text}`);
    } else {
      assert.equal(r.text, direct.text);
    }
    assert.equal(r.headers.get('x-routed-node'), 'gpu-box');
    assert.ok(r.headers.get('x-request-id'));
  });
}

function assertStreamEndsWithError(s, what) {
  assert.equal(s.status, 200, `${what}: ${s.raw}`);
  const errIdx = s.events.findIndex((e) => e.json && 'error' in e.json);
  assert.ok(errIdx >= 0, `${what}: no error event in ${JSON.stringify(s.raw)}`);
  assert.equal(errIdx, s.events.length - 1, `${what}: the error event must be the last event: ${s.raw}`);
  const err = s.events[errIdx].json.error;
  for (const k of ['message', 'type', 'param', 'code']) {
    assert.ok(Object.hasOwn(err, k), `${what}: error.${k} missing in ${s.events[errIdx].data}`);
  }
  assert.equal(typeof err.message, 'string');
  assert.ok(!s.events.some((e) => e.data === '[DONE]'), `${what}: [DONE] must not be sent on failure: ${s.raw}`);
  assert.ok(errIdx >= 1, `${what}: some chunks arrived before the failure: ${s.raw}`);
  for (const e of s.events.slice(0, errIdx)) assert.equal(e.json?.model, 'qwen-7b', e.data);
}

test('upstream dropping mid-stream -> stream ends with an error event, no [DONE], no hang', async () => {
  const s = await streamSse(chatUrl(), chatBody({ stream: true }), { 'x-fake-tokens': '20', 'x-fake-drop-after': '3' }, {
    timeoutMs: 10_000,
  });
  assertStreamEndsWithError(s, 'drop-after 3');
  assert.ok(s.tEnd < 5000, `stream took ${s.tEnd.toFixed(0)} ms to end`);
});

test('chunk gap over chunk_gap_ms -> stream ends with an error event', async () => {
  const s = await streamSse(chatUrl(), chatBody({ stream: true }), { 'x-fake-tokens': '3', 'x-fake-gap-ms': '2000' }, {
    timeoutMs: 10_000,
  });
  assertStreamEndsWithError(s, 'gap 2000 ms vs chunk_gap_ms 500');
  assert.ok(s.tEnd < 1900, `stream ended after ${s.tEnd.toFixed(0)} ms; chunk_gap_ms is 500 and the next chunk was due at 2000`);
});

test('the gateway still serves normally after all those failures', async () => {
  const r = await postJson(chatUrl(), chatBody(), { 'x-fake-tokens': '2' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.model, 'qwen-7b');
});
