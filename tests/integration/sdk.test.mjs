// The official `openai` npm SDK, unmodified, against the gateway.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import OpenAI from 'openai';
import { gatewayConfig, openaiUpstream, startFake, startGateway, stopAll, test } from './harness.mjs';

let fake;
let gw;
let client;

before(async () => {
  fake = await startFake();
  gw = await startGateway(
    gatewayConfig({
      upstreams: { 'gpu-box': openaiUpstream(fake) },
      models: {
        'qwen-7b': { deployments: [{ upstream: 'gpu-box', model: 'Qwen/Qwen2.5-7B-Instruct' }] },
        'embed-small': { deployments: [{ upstream: 'gpu-box', model: 'BAAI/bge-small-en-v1.5' }] },
      },
    }),
  );
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-any-client-key', maxRetries: 0, timeout: 10_000 });
});
after(stopAll);

test('SDK: chat.completions.create (non-streaming)', async () => {
  const { data, response } = await client.chat.completions
    .create({ model: 'qwen-7b', messages: [{ role: 'user', content: 'Say hi' }], temperature: 0.2 }, { headers: { 'x-fake-tokens': '3' } })
    .withResponse();
  assert.equal(data.model, 'qwen-7b');
  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices[0].message.role, 'assistant');
  assert.match(data.choices[0].message.content, /tok0/);
  assert.equal(typeof data.usage.completion_tokens, 'number');
  assert.ok(response.headers.get('x-request-id'));
  assert.equal(response.headers.get('x-routed-node'), 'gpu-box');
});

test('SDK: streaming with include_usage collects the content and the final usage', async () => {
  const stream = await client.chat.completions.create(
    {
      model: 'qwen-7b',
      messages: [{ role: 'user', content: 'Count' }],
      stream: true,
      stream_options: { include_usage: true },
    },
    { headers: { 'x-fake-tokens': '5' } },
  );
  let content = '';
  let usage = null;
  let chunks = 0;
  let finish = null;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.model, 'qwen-7b');
    if (chunk.choices.length === 0) {
      assert.equal(usage, null, 'only one usage chunk');
      usage = chunk.usage;
      continue;
    }
    content += chunk.choices[0].delta?.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.ok(chunks >= 3);
  assert.match(content, /^\s*tok0/);
  assert.match(content, /tok4/);
  assert.ok(finish, 'a finish_reason arrived');
  assert.ok(usage, 'the usage chunk arrived');
  assert.equal(usage.completion_tokens, 5);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
});

test('SDK: chat.completions.stream() accumulator accepts the stream (role, finish_reason present)', async () => {
  const runner = client.chat.completions.stream(
    { model: 'qwen-7b', messages: [{ role: 'user', content: 'Hi' }] },
    { headers: { 'x-fake-tokens': '4' } },
  );
  const final = await runner.finalChatCompletion();
  assert.equal(final.model, 'qwen-7b');
  assert.equal(final.choices[0].message.role, 'assistant');
  assert.match(final.choices[0].message.content, /tok3/);
  assert.ok(final.choices[0].finish_reason);
});

test('SDK: embeddings.create', async () => {
  const r = await client.embeddings.create({ model: 'embed-small', input: ['alpha', 'beta'], encoding_format: 'float' });
  assert.equal(r.model, 'embed-small');
  assert.equal(r.data.length, 2);
  assert.ok(Array.isArray(r.data[0].embedding) && r.data[0].embedding.length > 0);
  assert.equal(typeof r.data[0].embedding[0], 'number');
});

test('SDK: embeddings.create with the SDK default (base64 on the wire, decoded by the SDK)', async () => {
  const r = await client.embeddings.create({ model: 'embed-small', input: 'alpha' });
  assert.equal(r.model, 'embed-small');
  assert.equal(r.data.length, 1);
  assert.equal(r.data[0].embedding.length, 8);
  // The fake's first vector is ((j * 37) % 101 - 50) / 100 for j = 0..7, as float32.
  const expected = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => Math.fround((((j * 37) % 101) - 50) / 100));
  assert.deepEqual(r.data[0].embedding, expected);
});

test('SDK: models.list() and models.retrieve()', async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    assert.equal(m.object, 'model');
    ids.push(m.id);
  }
  assert.deepEqual(ids.sort(), ['embed-small', 'qwen-7b']);
  const one = await client.models.retrieve('qwen-7b');
  assert.equal(one.id, 'qwen-7b');
  assert.equal(one.object, 'model');
});

test('SDK: an unknown model raises NotFoundError (404)', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'nope-model', messages: [{ role: 'user', content: 'x' }] }),
    (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      assert.match(err.message, /qwen-7b/);
      return true;
    },
  );
});

test('SDK: an upstream 429 raises RateLimitError', async () => {
  await assert.rejects(
    client.chat.completions.create(
      { model: 'qwen-7b', messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-fake-status': '429' } },
    ),
    (err) => {
      assert.ok(err instanceof OpenAI.RateLimitError, `got ${err?.constructor?.name}: ${err?.message}`);
      assert.equal(err.status, 429);
      return true;
    },
  );
});

test('SDK: a mid-stream upstream failure surfaces as an APIError while iterating', async () => {
  const stream = await client.chat.completions.create(
    { model: 'qwen-7b', messages: [{ role: 'user', content: 'x' }], stream: true },
    { headers: { 'x-fake-tokens': '20', 'x-fake-drop-after': '3' } },
  );
  let got = 0;
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) {
        if (chunk.choices?.[0]?.delta?.content) got++;
      }
    })(),
    (err) => {
      assert.ok(err instanceof OpenAI.APIError, `got ${err?.constructor?.name}: ${err?.message}`);
      return true;
    },
  );
  assert.ok(got < 20, 'the stream did not complete');
});
