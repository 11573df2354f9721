// Tool calls from the fake upstream, in each API, parsed by the real clients pointed straight at it:
// a request that offers tools gets a call of the first one with {"location":"Paris"} (streamed in
// pieces split mid-token where the API streams arguments). No gateway.

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
