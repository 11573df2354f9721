// The real @anthropic-ai/sdk against the gateway, served by an OpenAI-compatible upstream (the fake
// upstream on /v1/chat/completions): requests, answers, streams, tool calls and errors translated
// both ways, with the alias as model.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startFake, startGateway, simpleConfig, stopAll, test } from './harness.mjs';

let fake;
let gw;
let client;

before(async () => {
  fake = await startFake(['--tokens', '4']);
  gw = await startGateway(simpleConfig(fake, { upstream: { health: false } }));
  client = new Anthropic({ apiKey: 'sk-ant-client', baseURL: gw.url, maxRetries: 0, timeout: 10_000 });
});
after(stopAll);

const ask = (extra = {}) => ({
  model: 'qwen-7b',
  max_tokens: 100,
  system: 'Be brief.',
  messages: [{ role: 'user', content: 'Hello' }],
  ...extra,
});

test('messages.create through an OpenAI upstream: translated request, Anthropic message back', async () => {
  const message = await client.messages.create(ask());
  assert.equal(message.type, 'message');
  assert.equal(message.model, 'qwen-7b');
  assert.equal(message.content[0].type, 'text');
  assert.equal(message.content[0].text, 'tok0 tok1 tok2 tok3 ');
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.output_tokens, 4);
  assert.ok(message.usage.input_tokens > 0);

  const sent = JSON.parse((await fake.last()).body);
  assert.equal(sent.model, 'Qwen/Qwen2.5-7B-Instruct');
  assert.deepEqual(sent.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello' },
  ]);
  assert.equal(sent.max_tokens, 100);
  const headers = (await fake.last()).headers;
  assert.notEqual(headers['x-api-key'], 'sk-ant-client', 'the client key is not forwarded');
});

test('messages.stream: the SDK assembles the translated events', async () => {
  const stream = client.messages.stream(ask());
  const deltas = [];
  stream.on('text', (text) => deltas.push(text));
  const message = await stream.finalMessage();
  assert.deepEqual(deltas, ['tok0 ', 'tok1 ', 'tok2 ', 'tok3 ']);
  assert.equal(message.model, 'qwen-7b');
  assert.equal(message.stop_reason, 'end_turn');
  assert.equal(message.usage.output_tokens, 4);
  const sent = JSON.parse((await fake.last()).body);
  assert.equal(sent.stream, true);
  assert.deepEqual(sent.stream_options, { include_usage: true });
});

test('tools: an Anthropic tool becomes an OpenAI function; the call comes back as tool_use', async () => {
  const tools = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { location: { type: 'string' } } } }];
  const message = await client.messages.create(ask({ tools }));
  assert.equal(message.stop_reason, 'tool_use');
  assert.equal(message.content[0].type, 'tool_use');
  assert.equal(message.content[0].name, 'get_weather');
  assert.deepEqual(message.content[0].input, { location: 'Paris' });

  const streamed = await client.messages.stream(ask({ tools })).finalMessage();
  assert.equal(streamed.stop_reason, 'tool_use');
  assert.deepEqual(streamed.content[0].input, { location: 'Paris' });

  // The result goes back as an OpenAI tool message, before any user text.
  await client.messages.create(ask({
    tools,
    messages: [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: message.content[0].id, name: 'get_weather', input: { location: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: message.content[0].id, content: '18C' }, { type: 'text', text: 'Thanks' }] },
    ],
  }));
  const sent = JSON.parse((await fake.last()).body);
  assert.deepEqual(sent.messages.slice(2).map((m) => m.role), ['assistant', 'tool', 'user']);
  assert.equal(sent.messages[3].tool_call_id, message.content[0].id);
  assert.equal(sent.messages[2].tool_calls[0].function.arguments, '{"location":"Paris"}');
});

test('errors come back in Anthropic shape and as the SDK error classes', async () => {
  await assert.rejects(client.messages.create(ask({ model: 'nope' })), (error) => {
    assert.ok(error instanceof Anthropic.NotFoundError, error.constructor.name);
    assert.equal(error.error?.type, 'error');
    assert.equal(error.error?.error?.type, 'not_found_error');
    return true;
  });
  await assert.rejects(client.messages.create({ model: 'qwen-7b', messages: [{ role: 'user', content: 'x' }] }), (error) => {
    assert.ok(error instanceof Anthropic.BadRequestError, error.constructor.name);
    assert.match(error.message, /max_tokens/);
    return true;
  });
  for (const [status, errorClass] of [[429, Anthropic.RateLimitError], [500, Anthropic.InternalServerError]]) {
    await assert.rejects(client.messages.create(ask(), { headers: { 'x-fake-status': String(status) } }), (error) => {
      assert.ok(error instanceof errorClass, `${status}: ${error.constructor.name}`);
      assert.equal(error.error?.type, 'error');
      assert.match(error.error?.error?.message ?? '', /fake error/);
      return true;
    });
  }
});

test('an upstream that fails mid-stream ends the Anthropic stream with an error event', async () => {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-fake-drop-after': '2' },
    body: JSON.stringify(ask({ stream: true })),
  });
  assert.equal(res.status, 200);
  const blocks = (await res.text()).trim().split('\n\n');
  const names = blocks.map((b) => b.split('\n')[0].replace('event: ', ''));
  assert.equal(names[0], 'message_start');
  assert.equal(names.at(-1), 'error', names.join(' '));
  assert.ok(!names.includes('message_stop'));
  const data = JSON.parse(blocks.at(-1).split('\n')[1].replace('data: ', ''));
  assert.equal(data.type, 'error');
  assert.equal(data.error.type, 'api_error');
  await assert.rejects(
    client.messages.stream(ask(), { headers: { 'x-fake-drop-after': '2' } }).finalMessage(),
    (error) => error instanceof Anthropic.APIError,
  );
});

test('models.list from the Anthropic SDK gets Anthropic-shaped models; plain clients still get OpenAI shape', async () => {
  const page = await client.models.list();
  const ids = page.data.map((m) => m.id);
  assert.deepEqual(ids, ['qwen-7b']);
  assert.equal(page.data[0].type, 'model');
  assert.equal(page.data[0].display_name, 'qwen-7b');
  assert.ok(!Number.isNaN(Date.parse(page.data[0].created_at)));
  const one = await client.models.retrieve('qwen-7b');
  assert.equal(one.id, 'qwen-7b');
  await assert.rejects(client.models.retrieve('nope'), (error) => error instanceof Anthropic.NotFoundError);

  const plain = await (await fetch(`${gw.url}/v1/models`)).json();
  assert.equal(plain.object, 'list');
  assert.equal(plain.data[0].object, 'model');
});
