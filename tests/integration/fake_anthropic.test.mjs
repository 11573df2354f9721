// The fake upstream's Anthropic Messages API (POST /v1/messages), checked with the real
// @anthropic-ai/sdk pointed straight at it: if the SDK parses the fake's answers, streams and errors,
// the fake can stand in for Anthropic in the translation tests. No gateway involved.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startFake, stopAll, test } from './harness.mjs';

let fake;
let client;

before(async () => {
  fake = await startFake(['--tokens', '5']);
  client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0, timeout: 10_000 });
});
after(stopAll);

const ask = (extra = {}) => ({
  model: 'claude-fake',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'Hello' }],
  ...extra,
});

test('messages.create: a text message with usage and end_turn', async () => {
  const message = await client.messages.create(ask());
  assert.equal(message.type, 'message');
  assert.equal(message.role, 'assistant');
  assert.equal(message.model, 'claude-fake');
  assert.match(message.id, /^msg_/);
  assert.equal(message.content.length, 1);
  assert.equal(message.content[0].type, 'text');
  assert.equal(message.content[0].text, 'tok0 tok1 tok2 tok3 tok4 ');
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.output_tokens, 5);
  assert.ok(message.usage.input_tokens > 0);
});

test('max_tokens below the answer length stops with max_tokens', async () => {
  const message = await client.messages.create(ask({ max_tokens: 2 }));
  assert.equal(message.content[0].text, 'tok0 tok1 ');
  assert.equal(message.stop_reason, 'max_tokens');
});

test('messages.stream: the SDK assembles the streamed events into the same message', async () => {
  const stream = client.messages.stream(ask());
  const deltas = [];
  stream.on('text', (text) => deltas.push(text));
  const message = await stream.finalMessage();
  assert.deepEqual(deltas, ['tok0 ', 'tok1 ', 'tok2 ', 'tok3 ', 'tok4 ']);
  assert.equal(message.content[0].text, 'tok0 tok1 tok2 tok3 tok4 ');
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.output_tokens, 5);
});

test('raw stream events come in the API order, each with its event name', async () => {
  const res = await fetch(`${fake.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ask({ stream: true, max_tokens: 2 })),
  });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const text = await res.text();
  const events = text.trim().split('\n\n').map((block) => {
    const [eventLine, dataLine] = block.split('\n');
    const name = eventLine.replace(/^event: /, '');
    const data = JSON.parse(dataLine.replace(/^data: /, ''));
    assert.equal(data.type, name, block);
    return name;
  });
  assert.deepEqual(events, [
    'message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta',
    'content_block_stop', 'message_delta', 'message_stop',
  ]);
});

test('errors come in Anthropic shape and map to the SDK error classes', async () => {
  const cases = [
    [429, Anthropic.RateLimitError, 'rate_limit_error'],
    [529, Anthropic.InternalServerError, 'overloaded_error'],
    [500, Anthropic.InternalServerError, 'api_error'],
  ];
  for (const [status, errorClass, type] of cases) {
    await assert.rejects(
      client.messages.create(ask(), { headers: { 'x-fake-status': String(status) } }),
      (error) => {
        assert.ok(error instanceof errorClass, `${status}: ${error.constructor.name}`);
        assert.equal(error.status, status);
        assert.equal(error.error?.error?.type, type);
        return true;
      },
    );
  }
});
