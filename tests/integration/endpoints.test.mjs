// /v1/completions, /v1/embeddings and /v1/models through the gateway.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import {
  assertOpenAIError,
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

const ALIASES = ['qwen-7b', 'llama-8b', 'embedder'];

let fake;
let gw;

before(async () => {
  fake = await startFake();
  gw = await startGateway(
    gatewayConfig({
      upstreams: { 'gpu-box': openaiUpstream(fake) },
      models: {
        'qwen-7b': { deployments: [{ upstream: 'gpu-box', model: 'Qwen/Qwen2.5-7B-Instruct' }] },
        'llama-8b': { deployments: [{ upstream: 'gpu-box', model: 'meta-llama/Llama-3.1-8B-Instruct' }] },
        embedder: { deployments: [{ upstream: 'gpu-box', model: 'BAAI/bge-small-en-v1.5' }] },
      },
    }),
  );
});
after(stopAll);

test('POST /v1/completions (non-streaming): alias rewritten both ways', async () => {
  const body = { model: 'llama-8b', prompt: 'Once upon a time — ünïcode', max_tokens: 7, temperature: 0 };
  const r = await postJson(`${gw.url}/v1/completions`, body, { 'x-fake-tokens': '3' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.model, 'llama-8b');
  assert.equal(r.json.object, 'text_completion');
  assert.equal(typeof r.json.choices[0].text, 'string');
  assert.match(r.json.choices[0].text, /tok0/);
  assert.equal(r.headers.get('x-routed-node'), 'gpu-box');
  const last = await fake.last();
  assert.equal(last.target, '/v1/completions');
  assert.deepEqual(JSON.parse(last.body), { ...body, model: 'meta-llama/Llama-3.1-8B-Instruct' });
});

test('POST /v1/completions (streaming): text_completion chunks carry the alias, end with [DONE]', async () => {
  const body = { model: 'llama-8b', prompt: 'Hi', stream: true };
  const s = await streamSse(`${gw.url}/v1/completions`, body, { 'x-fake-tokens': '4' });
  assert.equal(s.status, 200, s.raw);
  assert.match(s.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.equal(s.events.at(-1)?.data, '[DONE]', s.raw);
  const chunks = s.events.slice(0, -1);
  assert.ok(chunks.length >= 2, s.raw);
  for (const e of chunks) {
    assert.ok(e.json, `non-JSON event ${e.data}`);
    assert.equal(e.json.model, 'llama-8b', e.data);
    assert.equal(e.json.object, 'text_completion', e.data);
  }
  // No usage chunk because the client did not ask for one.
  assert.equal(chunks.filter((e) => Array.isArray(e.json.choices) && e.json.choices.length === 0).length, 0, s.raw);
  const text = chunks.map((e) => e.json.choices?.[0]?.text ?? '').join('');
  assert.match(text, /tok0/);
  assert.match(text, /tok3/);
  const sent = JSON.parse((await fake.last()).body);
  assert.equal(sent.model, 'meta-llama/Llama-3.1-8B-Instruct');
  assert.equal(sent.prompt, 'Hi');
  assert.equal(sent.stream, true);
});

test('POST /v1/embeddings: alias rewritten both ways, vectors passed through', async () => {
  const body = { model: 'embedder', input: ['first text', 'zweiter Text ü'], encoding_format: 'float' };
  const direct = await postJson(`${fake.base}/embeddings`, { ...body, model: 'BAAI/bge-small-en-v1.5' });
  assert.equal(direct.status, 200, direct.text);

  const r = await postJson(`${gw.url}/v1/embeddings`, body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.model, 'embedder');
  assert.equal(r.json.object, 'list');
  assert.equal(r.json.data.length, 2);
  for (const [i, d] of r.json.data.entries()) {
    assert.equal(d.object, 'embedding');
    assert.equal(d.index, i);
    assert.ok(Array.isArray(d.embedding) && d.embedding.length > 0);
  }
  assert.deepEqual(r.json.data, direct.json.data, 'vectors are the fake\'s, unchanged');
  const last = await fake.last();
  assert.equal(last.target, '/v1/embeddings');
  assert.deepEqual(JSON.parse(last.body), { ...body, model: 'BAAI/bge-small-en-v1.5' });
});

test('GET /v1/models lists exactly the aliases in OpenAI shape', async () => {
  const r = await request(`${gw.url}/v1/models`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(r.json.object, 'list');
  assert.ok(Array.isArray(r.json.data), r.text);
  const ids = r.json.data.map((m) => m.id).sort();
  assert.deepEqual(ids, [...ALIASES].sort(), 'aliases only, no upstream model names');
  for (const m of r.json.data) {
    assert.equal(m.object, 'model', JSON.stringify(m));
    assert.ok(Number.isInteger(m.created), `created is an integer: ${JSON.stringify(m)}`);
    assert.equal(typeof m.owned_by, 'string', JSON.stringify(m));
  }
});

test('GET /v1/models/{id} returns one model; unknown id is a 404 OpenAI error', async () => {
  const r = await request(`${gw.url}/v1/models/qwen-7b`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.id, 'qwen-7b');
  assert.equal(r.json.object, 'model');
  assert.ok(Number.isInteger(r.json.created));
  assert.equal(typeof r.json.owned_by, 'string');

  const nf = await request(`${gw.url}/v1/models/does-not-exist`);
  assertOpenAIError(assert, nf, 404, 'GET /v1/models/does-not-exist');
});
