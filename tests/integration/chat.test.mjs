// Chat Completions through the gateway: alias rewriting, pass-through of every other field,
// upstream credentials, request-id / routed-node headers, and streaming without buffering.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  chatBody,
  chatContent,
  gatewayConfig,
  openaiUpstream,
  postJson,
  request,
  startFake,
  startGateway,
  stopAll,
  streamSse,
  test,
} from './harness.mjs';

const UPSTREAM_MODEL = 'Qwen/Qwen2.5-7B-Instruct';
const UPSTREAM_KEY = 'upstream-secret-7f3a9c';
const CLIENT_KEY = 'client-secret';

let fake;
let gw;

before(async () => {
  fake = await startFake();
  gw = await startGateway(
    gatewayConfig({
      upstreams: {
        'gpu-box': openaiUpstream(fake, { api_key: '${GPU_BOX_KEY}' }),
        'open-box': openaiUpstream(fake), // no api_key
      },
      models: {
        'qwen-7b': { deployments: [{ upstream: 'gpu-box', model: UPSTREAM_MODEL }] },
        'open-model': { deployments: [{ upstream: 'open-box', model: 'open/upstream-name' }] },
      },
    }),
    { env: { GPU_BOX_KEY: UPSTREAM_KEY } },
  );
});
after(stopAll);

/** What the fake answers when asked directly (no gateway), for comparison. */
async function directChat(body, headers = {}) {
  const r = await postJson(`${fake.base}/chat/completions`, { ...body, model: UPSTREAM_MODEL }, headers);
  assert.equal(r.status, 200, `fake direct: ${r.text}`);
  return r.json;
}

const richBody = () =>
  chatBody({
    messages: [
      { role: 'system', content: 'Sé breve ✓ — «quotes» "double" \\ backslash\ttab' },
      { role: 'user', content: 'héllo 世界 🚀 \u0000nul? no: \u2028 line-sep' },
    ],
    temperature: 0.3,
    top_p: 0.95,
    max_tokens: 64,
    seed: 12345678901,
    stop: ['\n\n', 'END'],
    metadata: { user_id: 'u-42', tags: 'a,b', nested_ok: 'x' },
    logit_bias: { 50256: -100 },
    x_vendor_extension: { arr: [1, 2.5, -0.001, null, true, 'ü'], empty: {}, list: [] },
  });

test('non-streaming chat: alias in response, upstream model rewritten, everything else passed through', async () => {
  const body = richBody();
  const direct = await directChat(body, { 'x-fake-tokens': '4' });

  const r = await postJson(`${gw.url}/v1/chat/completions`, body, {
    authorization: `Bearer ${CLIENT_KEY}`,
    'x-fake-tokens': '4',
  });
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(r.json.model, 'qwen-7b', 'response model must be the alias');
  assert.equal(r.json.object, 'chat.completion');
  assert.equal(r.json.choices[0].message.role, 'assistant');
  assert.match(r.json.choices[0].message.content, /tok0/);
  assert.equal(r.json.choices[0].message.content, direct.choices[0].message.content, 'content is the fake\'s, unchanged');
  assert.doesNotMatch(r.text, /Qwen\/Qwen2\.5-7B-Instruct/, 'upstream model name must not leak to the client');

  const last = await fake.last();
  assert.equal(last.method, 'POST');
  assert.equal(last.target, '/v1/chat/completions');
  const sent = JSON.parse(last.body);
  assert.deepEqual(sent, { ...body, model: UPSTREAM_MODEL }, 'upstream body = client body with only model rewritten');
});

test('upstream gets the configured api_key (env-substituted), never the client key', async () => {
  const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { authorization: `Bearer ${CLIENT_KEY}` });
  assert.equal(r.status, 200, r.text);
  const last = await fake.last();
  assert.equal(last.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
  for (const [name, value] of Object.entries(last.headers)) {
    assert.ok(!String(value).includes(CLIENT_KEY), `upstream header ${name}: ${value} leaks the client key`);
  }
});

test('without api_key the client key is not forwarded either', async () => {
  const r = await postJson(
    `${gw.url}/v1/chat/completions`,
    chatBody({ model: 'open-model' }),
    { authorization: `Bearer ${CLIENT_KEY}`, 'x-api-key': CLIENT_KEY },
  );
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.model, 'open-model');
  const last = await fake.last();
  assert.equal(JSON.parse(last.body).model, 'open/upstream-name');
  for (const [name, value] of Object.entries(last.headers)) {
    assert.ok(!String(value).includes(CLIENT_KEY), `upstream header ${name}: ${value} leaks the client key`);
  }
});

test('x-request-id is generated when absent, echoed when sent; x-routed-node names the upstream', async () => {
  const a = await postJson(`${gw.url}/v1/chat/completions`, chatBody());
  const b = await postJson(`${gw.url}/v1/chat/completions`, chatBody());
  assert.equal(a.status, 200, a.text);
  assert.equal(b.status, 200, b.text);
  const idA = a.headers.get('x-request-id');
  const idB = b.headers.get('x-request-id');
  assert.ok(idA && idA.length >= 8, `generated x-request-id: ${idA}`);
  assert.ok(idB && idB.length >= 8, `generated x-request-id: ${idB}`);
  assert.notEqual(idA, idB, 'generated request ids must differ');
  assert.equal(a.headers.get('x-routed-node'), 'gpu-box');

  const c = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { 'X-Request-Id': 'abc' });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.headers.get('x-request-id'), 'abc');
  assert.equal(c.headers.get('x-routed-node'), 'gpu-box');
});

test('x-request-id and x-routed-node are present on error responses too', async () => {
  // An error produced by the upstream (routed, so x-routed-node is known).
  const up = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { 'x-fake-status': '503', 'X-Request-Id': 'err-1' });
  assert.equal(up.status, 503, up.text);
  assert.equal(up.headers.get('x-request-id'), 'err-1');
  assert.equal(up.headers.get('x-routed-node'), 'gpu-box');

  const up2 = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { 'x-fake-status': '429' });
  assert.equal(up2.status, 429, up2.text);
  assert.ok(up2.headers.get('x-request-id'), 'generated x-request-id on an upstream error');
  assert.equal(up2.headers.get('x-routed-node'), 'gpu-box');

  // An error produced by the gateway itself, before routing.
  const nf = await postJson(`${gw.url}/v1/chat/completions`, chatBody({ model: 'no-such-model' }), { 'X-Request-Id': 'err-2' });
  assert.equal(nf.status, 404, nf.text);
  assert.equal(nf.headers.get('x-request-id'), 'err-2');
  const bad = await request(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{not json',
  });
  assert.equal(bad.status, 400, bad.text);
  assert.ok(bad.headers.get('x-request-id'), 'generated x-request-id on a 400');
});

function assertWellFormedChatStream(s, alias) {
  assert.equal(s.status, 200, s.raw);
  assert.match(s.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.ok(s.events.length >= 3, `too few events: ${s.raw}`);
  assert.ok(!s.events.some((e) => e.unterminated), `unterminated event at the end: ${s.raw.slice(-300)}`);
  const lastEv = s.events.at(-1);
  assert.equal(lastEv.data, '[DONE]', `last event must be [DONE]: ${s.raw.slice(-300)}`);
  assert.equal(s.events.filter((e) => e.data === '[DONE]').length, 1, 'exactly one [DONE]');
  for (const e of s.events.slice(0, -1)) {
    assert.ok(e.json, `non-JSON data event: ${e.data}`);
    assert.equal(e.event, undefined, 'chat completions streams carry no event: lines');
    assert.equal(e.json.object, 'chat.completion.chunk', e.data);
    assert.equal(e.json.model, alias, `chunk model must be the alias: ${e.data}`);
    assert.ok(!('error' in e.json), `error in stream: ${e.data}`);
  }
  assert.ok(
    s.events.some((e) => e.json?.choices?.[0]?.finish_reason),
    `no finish_reason chunk: ${s.raw}`,
  );
  // Every event is framed as "data: ...\n\n".
  assert.match(s.raw, /^data: /);
  assert.match(s.raw, /data: \[DONE\]\r?\n\r?\n$/);
}

test('streaming chat: SSE framing, alias in every chunk, no buffering', async () => {
  const direct = await (async () => {
    const d = await streamSse(`${fake.base}/chat/completions`, chatBody({ model: UPSTREAM_MODEL, stream: true }), {
      'x-fake-tokens': '5',
    });
    return chatContent(d.events);
  })();

  const body = chatBody({ stream: true, temperature: 0.7, metadata: { k: 'v' } });
  const s = await streamSse(`${gw.url}/v1/chat/completions`, body, {
    'x-fake-tokens': '5',
    'x-fake-gap-ms': '300',
  });
  assertWellFormedChatStream(s, 'qwen-7b');
  assert.equal(s.headers.get('x-routed-node'), 'gpu-box');
  assert.ok(s.headers.get('x-request-id'), 'x-request-id on a stream');

  const content = chatContent(s.events);
  assert.equal(content, direct, 'streamed content is the fake\'s');
  const firstContent = s.events.find((e) => e.json?.choices?.[0]?.delta?.content);
  assert.ok(firstContent, 'a content chunk');
  assert.ok(firstContent.t < 1000, `first content chunk after ${firstContent.t.toFixed(0)} ms (should be < 1000: no buffering)`);
  assert.ok(s.tEnd >= 1200, `whole stream took ${s.tEnd.toFixed(0)} ms; expected >= 1200 with 5 tokens 300 ms apart`);
  assert.ok(s.tEnd - firstContent.t >= 900, 'content chunks are spread over time, not delivered at once');

  // Without include_usage from the client: no choices:[] usage chunk.
  const usageChunks = s.events.filter((e) => Array.isArray(e.json?.choices) && e.json.choices.length === 0);
  assert.equal(usageChunks.length, 0, `unexpected usage chunk(s): ${usageChunks.map((e) => e.data).join('\n')}`);

  // The gateway asked the upstream for usage anyway; all other fields untouched.
  const sent = JSON.parse((await fake.last()).body);
  assert.deepEqual(sent, { ...body, model: UPSTREAM_MODEL, stream_options: { include_usage: true } });
});

test('streaming chat with explicit include_usage:false still hides the usage chunk', async () => {
  const body = chatBody({ stream: true, stream_options: { include_usage: false } });
  const s = await streamSse(`${gw.url}/v1/chat/completions`, body, { 'x-fake-tokens': '3' });
  assertWellFormedChatStream(s, 'qwen-7b');
  assert.equal(s.events.filter((e) => e.json?.choices?.length === 0).length, 0, s.raw);
  const sent = JSON.parse((await fake.last()).body);
  assert.equal(sent.stream_options?.include_usage, true, `upstream stream_options: ${JSON.stringify(sent.stream_options)}`);
});

test('streaming chat with include_usage:true gets exactly one usage chunk, just before [DONE]', async () => {
  const body = chatBody({ stream: true, stream_options: { include_usage: true } });
  const s = await streamSse(`${gw.url}/v1/chat/completions`, body, { 'x-fake-tokens': '6' });
  assertWellFormedChatStream(s, 'qwen-7b');
  const usageIdx = s.events.map((e, i) => (e.json?.choices?.length === 0 ? i : -1)).filter((i) => i >= 0);
  assert.equal(usageIdx.length, 1, `expected one usage chunk: ${s.raw}`);
  assert.equal(usageIdx[0], s.events.length - 2, 'usage chunk is the last before [DONE]');
  const usage = s.events[usageIdx[0]].json.usage;
  assert.ok(usage && typeof usage === 'object', `usage object: ${s.events[usageIdx[0]].data}`);
  for (const k of ['prompt_tokens', 'completion_tokens', 'total_tokens']) {
    assert.equal(typeof usage[k], 'number', `usage.${k}`);
  }
  assert.equal(usage.completion_tokens, 6, 'fake generated 6 tokens');
  assert.equal(s.events[usageIdx[0]].json.model, 'qwen-7b');
  const sent = JSON.parse((await fake.last()).body);
  assert.deepEqual(sent, { ...body, model: UPSTREAM_MODEL });
});
