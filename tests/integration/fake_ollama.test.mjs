// The fake upstream's Ollama native API (/api/chat, /api/generate, /api/version, /api/tags), checked
// with the real `ollama` npm client pointed straight at it: NDJSON streams by default, done_reason,
// counts and durations in nanoseconds, options.num_predict, and Ollama's error body. No gateway.

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
