// Tool calls from the fake upstream, in each API, parsed by the real clients pointed straight at it:
// a request that offers tools gets a call of the first one with {"location":"Paris"} (streamed in
// pieces split mid-token where the API streams arguments); once the last turn is the tool's result,
// the answer is text quoting it ("The tool said: ..."), so a round trip through a translation can
// be seen to carry the result. OpenAI tool messages must answer a call of the assistant message
// they follow, as OpenAI checks. No gateway.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { startFake, stopAll, test } from './harness.mjs';

let fake;
before(async () => {
  fake = await startFake(['--gap-ms', '5']);  // argument pieces arrive in separate reads
});
after(stopAll);

const parameters = { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] };
const openaiTools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters } }];
const messages = [{ role: 'user', content: 'Weather in Paris?' }];

test('OpenAI: tool_calls with string arguments and finish_reason tool_calls, streamed and not', async () => {
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${fake.url}/v1`, maxRetries: 0 });
  const completion = await client.chat.completions.create({ model: 'm', messages, tools: openaiTools });
  const choice = completion.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null);
  assert.equal(choice.message.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(choice.message.tool_calls[0].function.arguments), { location: 'Paris' });

  const runner = client.chat.completions.stream({ model: 'm', messages, tools: openaiTools });
  const fragments = [];
  runner.on('chunk', (chunk) => {
    const args = chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments;
    if (args) fragments.push(args);
  });
  const streamed = await runner.finalChatCompletion();
  assert.deepEqual(fragments, ['{"locat', 'ion":"Pa', 'ris"}']);
  assert.equal(streamed.choices[0].finish_reason, 'tool_calls');
  assert.deepEqual(JSON.parse(streamed.choices[0].message.tool_calls[0].function.arguments), { location: 'Paris' });
});

test('Anthropic: a tool_use block with parsed input and stop_reason tool_use, streamed and not', async () => {
  const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0 });
  const tools = [{ name: 'get_weather', description: 'Weather', input_schema: parameters }];
  const message = await client.messages.create({ model: 'claude-fake', max_tokens: 100, messages, tools });
  assert.equal(message.stop_reason, 'tool_use');
  assert.equal(message.content[0].type, 'tool_use');
  assert.equal(message.content[0].name, 'get_weather');
  assert.match(message.content[0].id, /^toolu_/);
  assert.deepEqual(message.content[0].input, { location: 'Paris' });

  const stream = client.messages.stream({ model: 'claude-fake', max_tokens: 100, messages, tools });
  const partials = [];
  stream.on('inputJson', (partial) => partials.push(partial));
  const streamed = await stream.finalMessage();
  assert.ok(partials.length >= 3, `input_json_delta events: ${partials.length}`);
  assert.equal(streamed.stop_reason, 'tool_use');
  assert.deepEqual(streamed.content[0].input, { location: 'Paris' });
});

test('Ollama: tool_calls arrive whole with object arguments; done_reason stays stop', async () => {
  const client = new Ollama({ host: fake.url });
  const response = await client.chat({ model: 'llama3.2', messages, tools: openaiTools, stream: false });
  assert.equal(response.done_reason, 'stop');
  const call = response.message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(call.function.arguments, { location: 'Paris' });

  const parts = [];
  for await (const part of await client.chat({ model: 'llama3.2', messages, tools: openaiTools, stream: true })) {
    parts.push(part);
  }
  assert.equal(parts.length, 2);
  assert.deepEqual(parts[0].message.tool_calls[0].function.arguments, { location: 'Paris' });
  assert.equal(parts[0].done, false);
  assert.equal(parts[1].done, true);
});

const tokens = (n) => Array.from({ length: n }, (_, i) => `tok${i} `).join('');
const result = '18°C, "sunny"';  // quotes and non-ASCII must survive the answer's JSON
const quoted = `The tool said: ${result}. ${tokens(16)}`;

test('OpenAI: after a tool message the answer is text quoting the result, streamed and not', async () => {
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${fake.url}/v1`, maxRetries: 0 });
  const history = [
    ...messages,
    { role: 'assistant', content: null, tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
      { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Lyon"}' } },
    ] },
    { role: 'tool', tool_call_id: 'call_1', content: result },
  ];
  const completion = await client.chat.completions.create({ model: 'm', messages: history, tools: openaiTools });
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.equal(completion.choices[0].message.tool_calls, undefined);
  assert.equal(completion.choices[0].message.content, quoted);

  // Two results (parallel calls), the second as text parts: each is quoted, in order.
  const both = [...history, { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rain' }] }];
  const streamed = await client.chat.completions.stream({ model: 'm', messages: both, tools: openaiTools }).finalChatCompletion();
  assert.equal(streamed.choices[0].finish_reason, 'stop');
  assert.equal(streamed.choices[0].message.content, `The tool said: ${result}. The tool said: rain. ${tokens(16)}`);
});

test('OpenAI: a tool message that answers no call of the message before it is a 400, as OpenAI says', async () => {
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${fake.url}/v1`, maxRetries: 0 });
  const call = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } };
  const cases = [
    [
      [...messages, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: 'call_9', content: 'x' }],
      "Invalid parameter: 'tool_call_id' of 'call_9' not found in 'tool_calls' of previous message.",
      'messages.[2].tool_call_id',
    ],
    [
      [...messages, { role: 'tool', tool_call_id: 'call_1', content: 'x' }],
      "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
      'messages.[1].role',
    ],
    [
      // The call was answered already and a user turn came between.
      [...messages, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: 'call_1', content: 'x' },
        { role: 'user', content: 'and?' }, { role: 'tool', tool_call_id: 'call_1', content: 'x' }],
      "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
      'messages.[4].role',
    ],
  ];
  for (const [history, message, param] of cases) {
    await assert.rejects(client.chat.completions.create({ model: 'm', messages: history, tools: openaiTools }), (error) => {
      assert.ok(error instanceof OpenAI.BadRequestError, error.constructor.name);
      assert.deepEqual(error.error, { message, type: 'invalid_request_error', param, code: null });
      return true;
    });
  }
  const raw = await fetch(`${fake.url}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'm', messages: [...messages, { role: 'tool', content: 'x' }] }),
  });
  assert.equal(raw.status, 400);
  assert.deepEqual(await raw.json(), { error: {
    message: "Missing required parameter: 'messages[1].tool_call_id'.", type: 'invalid_request_error',
    param: 'messages.[1].tool_call_id', code: 'missing_required_parameter',
  } });
});

test('Anthropic: after tool_result blocks the answer is a text block quoting them, streamed and not', async () => {
  const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0 });
  const tools = [{ name: 'get_weather', description: 'Weather', input_schema: parameters }];
  const history = [
    ...messages,
    { role: 'assistant', content: [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
    ] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: result }] }] },
  ];
  const message = await client.messages.create({ model: 'claude-fake', max_tokens: 100, messages: history, tools });
  assert.equal(message.stop_reason, 'end_turn');
  assert.deepEqual(message.content, [{ type: 'text', text: quoted }]);

  const stream = client.messages.stream({ model: 'claude-fake', max_tokens: 100, messages: history, tools });
  const deltas = [];
  stream.on('text', (text) => deltas.push(text));
  const streamed = await stream.finalMessage();
  assert.equal(deltas[0], `The tool said: ${result}. `);
  assert.equal(streamed.stop_reason, 'end_turn');
  assert.deepEqual(streamed.content, [{ type: 'text', text: quoted }]);
});

test('Ollama: after a role tool message the answer is text quoting it, streamed and not', async () => {
  const client = new Ollama({ host: fake.url });
  const history = [
    ...messages,
    { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { location: 'Paris' } } }] },
    { role: 'tool', content: result, tool_name: 'get_weather' },
  ];
  const response = await client.chat({ model: 'llama3.2', messages: history, tools: openaiTools, stream: false });
  assert.equal(response.done_reason, 'stop');
  assert.equal(response.message.tool_calls, undefined);
  assert.equal(response.message.content, quoted);

  let text = '';
  for await (const part of await client.chat({ model: 'llama3.2', messages: history, tools: openaiTools, stream: true })) {
    assert.equal(part.message.tool_calls, undefined);
    text += part.message.content;
  }
  assert.equal(text, quoted);
});
