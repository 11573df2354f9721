// The fake upstream's Ollama native API (/api/chat, /api/generate, /api/embed, /api/embeddings,
// /api/version, /api/tags, /api/show, /api/ps), checked with the real `ollama` npm client pointed
// straight at it: NDJSON streams by default, done_reason, counts and durations in nanoseconds,
// options.num_predict, embeddings equal to the OpenAI path's, model details, and Ollama's error
// body. No gateway.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { Ollama } from 'ollama';
import { startFake, stopAll, test } from './harness.mjs';

let fake;
let client;

before(async () => {
  fake = await startFake(['--tokens', '4', '--model', 'llama3.2']);
  client = new Ollama({ host: fake.url });
});
after(stopAll);

const messages = [{ role: 'user', content: 'Hello' }];

test('chat without streaming: the whole message, done_reason and metrics', async () => {
  const r = await client.chat({ model: 'llama3.2', messages, stream: false });
  assert.equal(r.model, 'llama3.2');
  assert.equal(r.message.role, 'assistant');
  assert.equal(r.message.content, 'tok0 tok1 tok2 tok3 ');
  assert.equal(r.done, true);
  assert.equal(r.done_reason, 'stop');
  assert.equal(r.eval_count, 4);
  assert.ok(r.prompt_eval_count > 0);
  assert.ok(r.total_duration > 1000, 'durations are in nanoseconds');
  assert.ok(!Number.isNaN(Date.parse(r.created_at)));
});

test('chat streams NDJSON by default; the last line is done:true with the counts', async () => {
  const parts = [];
  let last;
  for await (const part of await client.chat({ model: 'llama3.2', messages, stream: true })) {
    parts.push(part.message.content);
    last = part;
  }
  assert.deepEqual(parts, ['tok0 ', 'tok1 ', 'tok2 ', 'tok3 ', '']);
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'stop');
  assert.equal(last.eval_count, 4);

  const raw = await fetch(`${fake.url}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({ model: 'llama3.2', messages }),  // no "stream": Ollama streams
  });
  assert.equal(raw.headers.get('content-type'), 'application/x-ndjson');
  const lines = (await raw.text()).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  assert.equal(lines.at(-1).done, true);
});

test('generate honours options.num_predict and reports done_reason length', async () => {
  const r = await client.generate({ model: 'llama3.2', prompt: 'Hi', stream: false, options: { num_predict: 2 } });
  assert.equal(r.response, 'tok0 tok1 ');
  assert.equal(r.done_reason, 'length');
  assert.equal(r.eval_count, 2);
});

test('version and tags', async () => {
  const version = await client.version();
  assert.match(version.version, /^\d+\.\d+\.\d+$/);
  const tags = await client.list();
  assert.equal(tags.models[0].name, 'llama3.2:latest');
  assert.equal(tags.models[0].details.format, 'gguf');
});

test('errors are {"error": "..."} with the status, and the client raises them', async () => {
  const response = await fetch(`${fake.url}/api/chat`, {
    method: 'POST',
    headers: { 'x-fake-status': '500' },
    body: JSON.stringify({ model: 'llama3.2', messages, stream: false }),
  });
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), { error: 'fake error 500' });
  const failing = new Ollama({ host: fake.url, headers: { 'x-fake-status': '429' } });
  await assert.rejects(failing.chat({ model: 'llama3.2', messages, stream: false }), (error) => {
    assert.equal(error.status_code, 429);
    assert.match(error.message, /fake error 429/);
    return true;
  });
});

// The vectors the OpenAI-compatible path gives for the same inputs: every API shares them.
async function openaiVectors(input) {
  const res = await fetch(`${fake.url}/v1/embeddings`, {
    method: 'POST',
    body: JSON.stringify({ model: 'llama3.2', input, encoding_format: 'float' }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).data.map((d) => d.embedding);
}

test('embed: one vector per input, the same as /v1/embeddings, with Ollama\'s counts', async () => {
  const input = ['Why is the sky blue?', 'Why is the grass green?'];
  const r = await client.embed({ model: 'llama3.2', input });
  assert.equal(r.model, 'llama3.2');
  assert.equal(r.embeddings.length, 2);
  assert.deepEqual(r.embeddings, await openaiVectors(input));
  assert.notDeepEqual(r.embeddings[0], r.embeddings[1]);
  assert.equal(r.embeddings[0].length, 8);
  assert.equal(r.load_duration, 1_000_000);
  assert.ok(r.total_duration > r.load_duration, 'durations are in nanoseconds');
  assert.ok(r.prompt_eval_count > 0);

  const single = await client.embed({ model: 'llama3.2', input: 'Why is the sky blue?' });
  assert.deepEqual(single.embeddings, [r.embeddings[0]]);
});

test('embed: an empty input gives no vectors and no counts; a non-string input is a 400', async () => {
  const empty = await fetch(`${fake.url}/api/embed`, {
    method: 'POST',
    body: JSON.stringify({ model: 'llama3.2', input: '' }),
  });
  assert.equal(empty.status, 200);
  assert.deepEqual(await empty.json(), { model: 'llama3.2', embeddings: [] });

  const bad = await fetch(`${fake.url}/api/embed`, {
    method: 'POST',
    body: JSON.stringify({ model: 'llama3.2', input: [1, 2] }),
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(await bad.json(), { error: 'invalid input type' });
});

test('legacy embeddings: {"embedding": [...]} for the prompt, [] for an empty one', async () => {
  const r = await client.embeddings({ model: 'llama3.2', prompt: 'Here is an article about llamas...' });
  assert.deepEqual(Object.keys(r), ['embedding']);
  assert.deepEqual(r.embedding, (await openaiVectors('x'))[0]);

  const empty = await fetch(`${fake.url}/api/embeddings`, {
    method: 'POST',
    body: JSON.stringify({ model: 'llama3.2', prompt: '' }),
  });
  assert.deepEqual(await empty.json(), { embedding: [] });
});

test('show: details, model_info, capabilities, template and parameters in Ollama\'s shape', async () => {
  const r = await client.show({ model: 'llama3.2' });
  assert.deepEqual(r.details, {
    parent_model: '',
    format: 'gguf',
    family: 'llama',
    families: ['llama'],
    parameter_size: '3.2B',
    quantization_level: 'Q4_K_M',
  });
  assert.equal(r.model_info['general.architecture'], 'llama');
  assert.equal(r.model_info['llama.context_length'], 131072);
  assert.deepEqual(r.capabilities, ['completion', 'tools', 'vision']);
  assert.equal(typeof r.template, 'string');
  assert.match(r.parameters, /^num_ctx\s+4096$/);
  assert.match(r.modelfile, /^FROM llama3\.2:latest$/m);
  assert.ok(!Number.isNaN(Date.parse(r.modified_at)));

  // The tag defaults to latest, and the older "name" field works too.
  const tagged = await fetch(`${fake.url}/api/show`, {
    method: 'POST',
    body: JSON.stringify({ name: 'llama3.2:latest' }),
  });
  assert.equal(tagged.status, 200);
  assert.deepEqual((await tagged.json()).details, r.details);
});

test('show: a model not in --model is a 404 {"error":"model \'x\' not found"}; no model is a 400', async () => {
  const missing = await fetch(`${fake.url}/api/show`, { method: 'POST', body: JSON.stringify({ model: 'llama9' }) });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "model 'llama9' not found" });
  await assert.rejects(client.show({ model: 'mistral' }), (error) => {
    assert.equal(error.status_code, 404);
    assert.equal(error.message, "model 'mistral' not found");
    return true;
  });
  const none = await fetch(`${fake.url}/api/show`, { method: 'POST', body: '{}' });
  assert.equal(none.status, 400);
  assert.deepEqual(await none.json(), { error: 'model is required' });
});

test('show: without --model every model is known; embedding models say so', async () => {
  const open = await startFake([]);
  const any = new Ollama({ host: open.url });
  const r = await any.show({ model: 'whatever:7b' });
  assert.deepEqual(r.capabilities, ['completion', 'tools', 'vision']);
  const embedder = await any.show({ model: 'nomic-embed-text' });
  assert.deepEqual(embedder.capabilities, ['embedding']);
});

test('ps: the configured models, loaded, with sizes and an expiry in the future', async () => {
  const r = await client.ps();
  assert.equal(r.models.length, 1);
  const [m] = r.models;
  assert.equal(m.name, 'llama3.2:latest');
  assert.equal(m.model, 'llama3.2:latest');
  assert.equal(m.size, 2019393189);
  assert.equal(m.size_vram, m.size);
  assert.match(m.digest, /^[0-9a-f]{64}$/);
  assert.equal(m.details.format, 'gguf');
  assert.ok(Date.parse(m.expires_at) > Date.now(), `expires_at ${m.expires_at}`);
  assert.equal(m.context_length, 4096);
});
