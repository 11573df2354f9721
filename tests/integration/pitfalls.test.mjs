// The translator pitfall checklist (protocol reference §2.5) end to end: real SDK clients and raw
// HTTP against the gateway, one fake upstream speaking all three protocols, checking what the client
// got and what the upstream was sent. The unit side is tests/unit/pitfalls_test.cpp; the map from
// each item to its tests is docs/translation.md.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import {
  gatewayConfig,
  kindModels,
  kindUpstreams,
  postJson,
  request,
  startFake,
  startGateway,
  stopAll,
  streamSse,
  test,
} from './harness.mjs';

const parameters = { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] };

let fake;
let gw;
let openai;
let anthropic;
let ollama;

before(async () => {
  fake = await startFake(['--tokens', '4']);
  gw = await startGateway(
    gatewayConfig({
      upstreams: kindUpstreams(fake),
      models: {
        ...kindModels(),
        'via-ollama-32k': { deployments: [{ upstream: 'up-ollama', model: 'llama-up', num_ctx: 32768 }] },
      },
    }),
  );
  openai = new OpenAI({ apiKey: 'sk-client', baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 10_000 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-client', baseURL: gw.url, maxRetries: 0, timeout: 10_000 });
  ollama = new Ollama({ host: gw.url });
});
after(stopAll);

const sent = async () => JSON.parse((await fake.last()).body);

test('1: every event of a translated Anthropic stream has its event line, naming its data.type', async () => {
  for (const alias of ['via-openai', 'via-ollama']) {
    for (const tools of [undefined, [{ name: 'get_weather', input_schema: parameters }]]) {
      const r = await streamSse(`${gw.url}/v1/messages`, {
        model: alias,
        max_tokens: 50,
        stream: true,
        tools,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
      });
      assert.equal(r.status, 200);
      const blocks = r.raw.split('\n\n').filter((b) => b.length > 0);
      assert.ok(blocks.length >= 5, `${alias}: ${r.raw}`);
      for (const block of blocks) {
        const [eventLine, dataLine] = block.split('\n');
        assert.match(eventLine, /^event: [a-z_]+$/, `${alias}: ${block}`);
        assert.equal(JSON.parse(dataLine.replace(/^data: /, '')).type, eventLine.slice(7), block);
      }
      assert.equal(blocks.at(-1).split('\n')[0], 'event: message_stop');
    }
  }
});

test('15: an OpenAI client gets the usage chunk only when it asked for it, from every upstream kind', async () => {
  for (const alias of ['via-anthropic', 'via-ollama', 'via-openai']) {
    for (const include of [undefined, false, true]) {
      const body = { model: alias, stream: true, messages: [{ role: 'user', content: 'Hello' }] };
      if (include !== undefined) body.stream_options = { include_usage: include };
      const r = await streamSse(`${gw.url}/v1/chat/completions`, body);
      assert.equal(r.status, 200);
      const usageChunks = r.events.filter((e) => e.json && Array.isArray(e.json.choices) && e.json.choices.length === 0);
      assert.equal(usageChunks.length, include ? 1 : 0, `${alias} include_usage=${include}`);
      if (include) {
        assert.equal(r.events.at(-2).json.usage.completion_tokens, 4);
        assert.equal(r.events.at(-1).data, '[DONE]');
      }
    }
  }
});

test('16: the openai SDK stream helper accepts every translated stream (role, finish chunk, typed tool calls)', async () => {
  for (const alias of ['via-anthropic', 'via-ollama']) {
    const text = await openai.chat.completions
      .stream({ model: alias, messages: [{ role: 'user', content: 'Hello' }] })
      .finalChatCompletion();
    assert.equal(text.choices[0].message.content, 'tok0 tok1 tok2 tok3 ');
    assert.equal(text.choices[0].finish_reason, 'stop');
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters } }];
    const call = await openai.chat.completions
      .stream({ model: alias, messages: [{ role: 'user', content: 'Weather?' }], tools })
      .finalChatCompletion();
    assert.equal(call.choices[0].finish_reason, 'tool_calls', alias);
    assert.equal(call.choices[0].message.tool_calls.length, 1);
    assert.equal(call.choices[0].message.tool_calls[0].type, 'function');
    assert.deepEqual(JSON.parse(call.choices[0].message.tool_calls[0].function.arguments), { location: 'Paris' });
  }
});

test('17, 18: no num_ctx or sampling defaults invented toward Ollama; an Ollama client\'s own options pass through', async () => {
  await openai.chat.completions.create({ model: 'via-ollama', messages: [{ role: 'user', content: 'Hello' }] });
  assert.equal((await sent()).options, undefined, 'no options at all: the Modelfile defaults apply');
  await anthropic.messages.create({ model: 'via-ollama', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] });
  assert.deepEqual((await sent()).options, { num_predict: 50 });
  await ollama.chat({ model: 'via-ollama', stream: false, messages: [{ role: 'user', content: 'Hello' }], options: { num_ctx: 8192 } });
  assert.deepEqual((await sent()).options, { num_ctx: 8192 });
});

test('17: a deployment\'s num_ctx reaches Ollama from every client, unless the client set its own', async () => {
  await openai.chat.completions.create({ model: 'via-ollama-32k', messages: [{ role: 'user', content: 'Hello' }] });
  assert.deepEqual((await sent()).options, { num_ctx: 32768 });
  await anthropic.messages.create({ model: 'via-ollama-32k', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] });
  assert.deepEqual((await sent()).options, { num_predict: 50, num_ctx: 32768 });
  const streamed = [];
  for await (const part of await ollama.chat({ model: 'via-ollama-32k', stream: true, messages: [{ role: 'user', content: 'Hello' }] }))
    streamed.push(part);
  assert.equal(streamed.at(-1).done, true);
  let body = await sent();
  assert.equal(body.model, 'llama-up');
  assert.deepEqual(body.options, { num_ctx: 32768 });
  await ollama.chat({ model: 'via-ollama-32k', stream: false, messages: [{ role: 'user', content: 'Hello' }], options: { num_ctx: 4096, temperature: 0.2 } });
  body = await sent();
  assert.deepEqual(body.options, { num_ctx: 4096, temperature: 0.2 });
  const embedded = await ollama.embed({ model: 'via-ollama-32k', input: ['a', 'b'] });
  assert.equal(embedded.embeddings.length, 2);
  assert.deepEqual((await sent()).options, { num_ctx: 32768 });
});

test('19, 23: toward Anthropic, temperature is clamped, blank stop strings and e-mail user ids are dropped', async () => {
  await openai.chat.completions.create({
    model: 'via-anthropic',
    messages: [{ role: 'user', content: 'Hello' }],
    temperature: 1.8,
    stop: ['\n', 'END'],
    user: 'someone@example.com',
  });
  const body = await sent();
  assert.equal(body.temperature, 1);
  assert.deepEqual(body.stop_sequences, ['END']);
  assert.equal(body.metadata, undefined);
  await openai.chat.completions.create({ model: 'via-anthropic', messages: [{ role: 'user', content: 'Hello' }] });
  const plain = await sent();
  assert.equal(plain.temperature, undefined);
  assert.equal(plain.top_p, undefined);
});

test('21: long tool ids in an Anthropic history are shortened to 40 characters toward OpenAI, call and result alike', async () => {
  const id = `toolu_${'x'.repeat(60)}`;
  const m = await anthropic.messages.create({
    model: 'via-openai',
    max_tokens: 50,
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: [{ type: 'tool_use', id, name: 'get_weather', input: { location: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: 'sunny' }] },
    ],
    tools: [{ name: 'get_weather', input_schema: parameters }],
  });
  // The fake refuses a tool message that answers no call, as OpenAI does; so it matched.
  assert.ok(m.content[0].text.startsWith('The tool said: sunny'), JSON.stringify(m.content));
  const body = await sent();
  const callId = body.messages[1].tool_calls[0].id;
  assert.equal(callId.length, 40);
  assert.equal(body.messages[2].tool_call_id, callId);
});

test('21: tool_use ids an Anthropic client gets are [A-Za-z0-9_-], from every upstream kind', async () => {
  for (const alias of ['via-openai', 'via-ollama']) {
    for (const stream of [false, true]) {
      const params = {
        model: alias,
        max_tokens: 50,
        messages: [{ role: 'user', content: 'Weather?' }],
        tools: [{ name: 'get_weather', input_schema: parameters }],
      };
      const m = stream ? await anthropic.messages.stream(params).finalMessage() : await anthropic.messages.create(params);
      const use = m.content.find((b) => b.type === 'tool_use');
      assert.match(use.id, /^[A-Za-z0-9_-]+$/, `${alias} stream=${stream}`);
      assert.deepEqual(use.input, { location: 'Paris' }, 'pitfall 13: the input arrives');
    }
  }
});

test('22: a history with tool calls but no tools reaches Anthropic with a placeholder tool it may not call', async () => {
  const messages = [
    { role: 'user', content: 'Weather in Paris?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }],
    },
    { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
  ];
  const r = await openai.chat.completions.create({ model: 'via-anthropic', messages });
  assert.ok(r.choices[0].message.content.startsWith('The tool said: sunny'));
  const body = await sent();
  assert.deepEqual(body.tools.map((t) => t.name), ['dummy_tool']);
  assert.deepEqual(body.tool_choice, { type: 'none' });

  // The same from an Ollama client.
  await ollama.chat({
    model: 'via-anthropic',
    stream: false,
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { location: 'Paris' } } }] },
      { role: 'tool', tool_name: 'get_weather', content: 'sunny' },
    ],
  });
  assert.deepEqual((await sent()).tools.map((t) => t.name), ['dummy_tool']);

  // With the client's tools, only those.
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters } }];
  await openai.chat.completions.create({ model: 'via-anthropic', messages, tools });
  const withTools = await sent();
  assert.deepEqual(withTools.tools.map((t) => t.name), ['get_weather']);
  assert.equal(withTools.tool_choice, undefined);
});

test('24: n > 1 is refused with param n for Anthropic and Ollama upstreams, before any upstream call', async () => {
  for (const alias of ['via-anthropic', 'via-ollama']) {
    const before = (await fake.stats()).requests;
    await assert.rejects(
      openai.chat.completions.create({ model: alias, n: 2, messages: [{ role: 'user', content: 'Hello' }] }),
      (e) => {
        assert.ok(e instanceof OpenAI.BadRequestError, `${alias}: ${e.constructor.name}`);
        assert.equal(e.param, 'n');
        return true;
      },
    );
    assert.equal((await fake.stats()).requests, before, `${alias}: the upstream was not called`);
  }
});

test('26: answers from an Ollama upstream carry the gateway\'s own unique ids', async () => {
  const ask = { model: 'via-ollama', messages: [{ role: 'user', content: 'Hello' }] };
  const a = await openai.chat.completions.create(ask);
  const b = await openai.chat.completions.create(ask);
  assert.match(a.id, /^chatcmpl-[0-9a-f]{24}$/);
  assert.notEqual(a.id, b.id);
  const tagged = await openai.chat.completions.create(ask, { headers: { 'x-request-id': 'trace-123' } });
  assert.equal(tagged.id, 'chatcmpl-trace-123');
  const s = await streamSse(`${gw.url}/v1/chat/completions`, { ...ask, stream: true });
  const ids = new Set(s.events.filter((e) => e.json).map((e) => e.json.id));
  assert.equal(ids.size, 1, 'one id for the whole stream');
  assert.match([...ids][0], /^chatcmpl-[0-9a-f]{24}$/);
  const m = await anthropic.messages.create({ model: 'via-ollama', max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] });
  assert.match(m.id, /^msg_/);
});

test('7: the gateway\'s own errors come in the client\'s protocol too', async () => {
  const badJson = await request(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
  assert.equal(badJson.status, 400);
  assert.equal(badJson.json.type, 'error');
  assert.equal(badJson.json.error.type, 'invalid_request_error');
  const unknown = await postJson(`${gw.url}/api/chat`, { model: 'nope', stream: false, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(unknown.status, 404);
  assert.deepEqual(Object.keys(unknown.json), ['error']);
  assert.equal(typeof unknown.json.error, 'string');
  const ollamaBadJson = await request(`${gw.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[' });
  assert.equal(ollamaBadJson.status, 400);
  assert.equal(typeof ollamaBadJson.json.error, 'string');
  // An image the gateway must fetch for Ollama, at an address it refuses (loopback): a 4xx, still in
  // the Anthropic client's shape.
  const refused = await postJson(`${gw.url}/v1/messages`, {
    model: 'via-ollama',
    max_tokens: 10,
    messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'http://127.0.0.1:1/x.png' } }] }],
  });
  assert.ok(refused.status >= 400 && refused.status < 500, `${refused.status} ${refused.text}`);
  assert.equal(refused.json.type, 'error');
});

test('25: an upstream error before the stream starts keeps its status, in the client\'s shape', async () => {
  for (const [status, anthropicType] of [[429, 'rate_limit_error'], [529, 'overloaded_error']]) {
    const r = await postJson(
      `${gw.url}/v1/messages`,
      { model: 'via-openai', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] },
      { 'x-fake-status': String(status) },
    );
    assert.equal(r.status, status);
    assert.equal(r.json.error.type, anthropicType);
    const o = await postJson(
      `${gw.url}/api/chat`,
      { model: 'via-anthropic', messages: [{ role: 'user', content: 'x' }] },
      { 'x-fake-status': String(status) },
    );
    assert.equal(o.status, status);
    assert.equal(typeof o.json.error, 'string');
  }
});

test('reasoning: effort, thinking budget and think cross between the three protocols', async () => {
  // OpenAI client -> Anthropic upstream: a budget, and max_tokens above it (the fake refuses otherwise).
  const answer = await openai.chat.completions.create({
    model: 'via-anthropic',
    max_tokens: 100,
    reasoning_effort: 'high',
    messages: [{ role: 'user', content: 'Think hard' }],
  });
  assert.equal(answer.choices[0].finish_reason, 'stop');
  let upstream = await sent();
  assert.deepEqual(upstream.thinking, { type: 'enabled', budget_tokens: 4096 });
  assert.equal(upstream.max_tokens, 4196);

  // Anthropic client -> OpenAI and Ollama upstreams.
  await anthropic.messages.create({
    model: 'via-openai',
    max_tokens: 4000,
    thinking: { type: 'enabled', budget_tokens: 2048 },
    messages: [{ role: 'user', content: 'Think' }],
  });
  assert.equal((await sent()).reasoning_effort, 'medium');
  await anthropic.messages.create({
    model: 'via-ollama',
    max_tokens: 4000,
    thinking: { type: 'enabled', budget_tokens: 1024 },
    messages: [{ role: 'user', content: 'Think' }],
  });
  assert.equal((await sent()).think, 'low');

  // Ollama client -> Anthropic upstream, streaming.
  const parts = [];
  for await (const part of await ollama.chat({
    model: 'via-anthropic',
    think: true,
    stream: true,
    messages: [{ role: 'user', content: 'Think' }],
  }))
    parts.push(part);
  assert.equal(parts.at(-1).done, true);
  upstream = await sent();
  assert.deepEqual(upstream.thinking, { type: 'enabled', budget_tokens: 2048 });
  assert.ok(upstream.max_tokens > 2048, JSON.stringify(upstream));

  // An effort OpenAI does not define is refused in the OpenAI shape, naming the parameter.
  const r = await postJson(`${gw.url}/v1/chat/completions`, {
    model: 'via-anthropic',
    reasoning_effort: 'extreme',
    messages: [{ role: 'user', content: 'hi' }],
  });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.param, 'reasoning_effort');
});
