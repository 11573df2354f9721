// The fake upstream's Anthropic Messages API (POST /v1/messages and /v1/messages/count_tokens),
// checked with the real @anthropic-ai/sdk pointed straight at it: if the SDK parses the fake's
// answers, streams and errors, the fake can stand in for Anthropic in the translation tests. The
// fake is as strict as the API where translators go wrong: max_tokens is required and a tool_result
// must answer a tool_use of the message before it. No gateway involved.

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

// Prompt tokens are the request body's bytes / 4 (at least 1), for messages and count_tokens alike.
const tokensOf = (body) => Math.max(1, Math.floor(Buffer.byteLength(body) / 4));

test('max_tokens is required, as the API says: 400 invalid_request_error', async () => {
  const res = await fetch(`${fake.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-fake', messages: [{ role: 'user', content: 'Hello' }] }),
  });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), {
    type: 'error',
    error: { type: 'invalid_request_error', message: 'max_tokens: Field required' },
    request_id: 'req_fake',
  });
  const { max_tokens, ...withoutMax } = ask();
  await assert.rejects(client.messages.create(withoutMax), (error) => {
    assert.ok(error instanceof Anthropic.BadRequestError, error.constructor.name);
    assert.equal(error.error?.error?.message, 'max_tokens: Field required');
    return true;
  });
});

test('count_tokens: {"input_tokens": N}, counted as /v1/messages counts input_tokens', async () => {
  const params = { model: 'claude-fake', messages: [{ role: 'user', content: 'Hello, how many tokens is this?' }] };
  const counted = await client.messages.countTokens(params);
  assert.deepEqual(Object.keys(counted), ['input_tokens']);
  const last = await fake.last();
  assert.equal(last.target, '/v1/messages/count_tokens');
  assert.equal(counted.input_tokens, tokensOf(last.body));

  const message = await client.messages.create(ask());
  assert.equal(message.usage.input_tokens, tokensOf((await fake.last()).body));

  const raw = await fetch(`${fake.url}/v1/messages/count_tokens`, {
    method: 'POST',
    body: '{"model":"m","messages":[{"role":"user","content":"Hello"}]}',
  });
  assert.deepEqual(await raw.json(), { input_tokens: 15 });  // 60 bytes
});

const toolUse = { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'Paris' } };
const toolTurn = (toolUseId, previous = { role: 'assistant', content: [toolUse] }) => [
  { role: 'user', content: 'Weather in Paris?' },
  previous,
  { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUseId, content: '18°C, sunny' }] },
];

test('a tool_result must answer a tool_use of the message right before it', async () => {
  const unexpected = (id) =>
    `messages.2.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. ` +
    'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.';
  const cases = [
    ['toolu_other', undefined],
    ['toolu_01', { role: 'assistant', content: 'I will check.' }],  // no tool_use before it
    ['toolu_01', { role: 'user', content: [{ type: 'text', text: 'not the assistant' }] }],
  ];
  for (const [id, previous] of cases) {
    await assert.rejects(client.messages.create(ask({ messages: toolTurn(id, previous) })), (error) => {
      assert.ok(error instanceof Anthropic.BadRequestError, error.constructor.name);
      assert.equal(error.status, 400);
      assert.equal(error.error?.error?.type, 'invalid_request_error');
      assert.equal(error.error?.error?.message, unexpected(id));
      return true;
    });
  }
  const ok = await client.messages.create(ask({ messages: toolTurn('toolu_01') }));
  assert.equal(ok.content[0].text, 'The tool said: 18°C, sunny. tok0 tok1 tok2 tok3 tok4 ');
});
