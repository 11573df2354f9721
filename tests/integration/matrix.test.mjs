// The 3x3 matrix: each real client SDK (npm openai, @anthropic-ai/sdk, ollama) against upstreams of
// each kind (openai, anthropic, ollama; one fake upstream speaks all three), streaming and not, with
// a tool-call round trip and an image. Each cell checks what the client got (text, model = alias,
// tool call, finish) and what the upstream was sent (its own protocol's path, its model name, the
// image in the shape it takes, the tool result it needs).

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { KIND_ALIASES, gatewayConfig, kindModels, kindUpstreams, startFake, startGateway, stopAll, test } from './harness.mjs';

// A 1x1 PNG.
const PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const TEXT = 'tok0 tok1 tok2 tok3 ';
const parameters = { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] };

// Upstream kind -> alias, the model name upstream, and the path a chat request must reach.
const PATHS = { openai: '/v1/chat/completions', anthropic: '/v1/messages', ollama: '/api/chat' };
const UPSTREAMS = Object.fromEntries(Object.entries(KIND_ALIASES).map(([kind, u]) => [kind, { ...u, path: PATHS[kind] }]));

let fake;
let gw;
before(async () => {
  fake = await startFake(['--tokens', '4']);
  gw = await startGateway(
    gatewayConfig({
      upstreams: kindUpstreams(fake),
      models: kindModels(),
      extra: { images: { allow_private_addresses: true } },
    }),
  );
});
after(stopAll);

async function sentUpstream(kind) {
  const last = await fake.last();
  assert.equal(last.target, UPSTREAMS[kind].path, `an ${kind} upstream is called on its own path`);
  const body = JSON.parse(last.body);
  assert.equal(body.model, UPSTREAMS[kind].model, 'the upstream gets its own model name');
  return { body, headers: last.headers };
}

// Each client: text (streamed or not), a tool call then its result, and an image, in its own API.
const CLIENTS = {
  openai: {
    make: () => new OpenAI({ apiKey: 'sk-client', baseURL: `${gw.url}/v1`, maxRetries: 0, timeout: 10_000 }),
    async text(c, model, stream) {
      const messages = [{ role: 'user', content: 'Hello' }];
      if (!stream) {
        const r = await c.chat.completions.create({ model, messages, max_tokens: 50 });
        assert.equal(r.model, model);
        assert.equal(r.choices[0].finish_reason, 'stop');
        assert.equal(r.usage.completion_tokens, 4);
        return r.choices[0].message.content;
      }
      const s = await c.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
      let text = '';
      let finish = null;
      let usage = null;
      for await (const chunk of s) {
        assert.equal(chunk.model, model);
        text += chunk.choices[0]?.delta?.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      assert.equal(finish, 'stop');
      assert.equal(usage.completion_tokens, 4);
      return text;
    },
    async toolRoundTrip(c, model, stream) {
      const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters } }];
      const messages = [{ role: 'user', content: 'Weather in Paris?' }];
      const params = { model, messages, tools, max_tokens: 50 };
      const first = stream
        ? await c.chat.completions.stream(params).finalChatCompletion()
        : await c.chat.completions.create(params);
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      const call = first.choices[0].message.tool_calls[0];
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { location: 'Paris' });
      const { role, content, tool_calls } = first.choices[0].message;
      messages.push({ role, content, tool_calls }, { role: 'tool', tool_call_id: call.id, content: 'sunny' });
      const second = await c.chat.completions.create({ model, messages, tools, max_tokens: 50 });
      return second.choices[0].message.content;
    },
    async image(c, model) {
      const content = [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } },
      ];
      const r = await c.chat.completions.create({ model, messages: [{ role: 'user', content }], max_tokens: 50 });
      return r.choices[0].message.content;
    },
  },
  anthropic: {
    make: () => new Anthropic({ apiKey: 'sk-ant-client', baseURL: gw.url, maxRetries: 0, timeout: 10_000 }),
    async text(c, model, stream) {
      const params = { model, max_tokens: 50, messages: [{ role: 'user', content: 'Hello' }] };
      const m = stream ? await c.messages.stream(params).finalMessage() : await c.messages.create(params);
      assert.equal(m.model, model);
      assert.equal(m.stop_reason, 'end_turn');
      assert.equal(m.usage.output_tokens, 4);
      // Streamed from OpenAI or Ollama upstreams the count arrives in message_delta, which the SDK's
      // accumulator takes over message_start's.
      assert.ok(m.usage.input_tokens > 0, `input_tokens ${m.usage.input_tokens}`);
      return m.content.map((b) => b.text).join('');
    },
    async toolRoundTrip(c, model, stream) {
      const tools = [{ name: 'get_weather', description: 'Weather', input_schema: parameters }];
      const messages = [{ role: 'user', content: 'Weather in Paris?' }];
      const params = { model, max_tokens: 50, messages, tools };
      const first = stream ? await c.messages.stream(params).finalMessage() : await c.messages.create(params);
      assert.equal(first.stop_reason, 'tool_use');
      const use = first.content.find((b) => b.type === 'tool_use');
      assert.equal(use.name, 'get_weather');
      assert.deepEqual(use.input, { location: 'Paris' });
      assert.match(use.id, /^[A-Za-z0-9_-]+$/);
      messages.push(
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] },
      );
      const second = await c.messages.create({ model, max_tokens: 50, messages, tools });
      return second.content.map((b) => b.text ?? '').join('');
    },
    async image(c, model) {
      const content = [
        { type: 'text', text: 'What is this?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } },
      ];
      const m = await c.messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content }] });
      return m.content.map((b) => b.text).join('');
    },
  },
  ollama: {
    make: () => new Ollama({ host: gw.url }),
    async text(c, model, stream) {
      const messages = [{ role: 'user', content: 'Hello' }];
      if (!stream) {
        const r = await c.chat({ model, messages, stream: false });
        assert.equal(r.model, model);
        assert.equal(r.done, true);
        assert.equal(r.done_reason, 'stop');
        assert.equal(r.eval_count, 4);
        return r.message.content;
      }
      let text = '';
      let last = null;
      for await (const part of await c.chat({ model, messages, stream: true })) {
        assert.equal(part.model, model);
        text += part.message?.content ?? '';
        last = part;
      }
      assert.equal(last.done, true);
      assert.equal(last.done_reason, 'stop');
      assert.equal(last.eval_count, 4);
      return text;
    },
    async toolRoundTrip(c, model, stream) {
      const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters } }];
      const messages = [{ role: 'user', content: 'Weather in Paris?' }];
      let first;
      if (stream) {
        // Ollama sends a tool call whole, in one line; the others' fragments must arrive assembled.
        const calls = [];
        for await (const part of await c.chat({ model, messages, tools, stream: true })) {
          calls.push(...(part.message?.tool_calls ?? []));
        }
        first = { message: { role: 'assistant', content: '', tool_calls: calls } };
        assert.equal(calls.length, 1, 'one whole tool call');
      } else {
        first = await c.chat({ model, messages, tools, stream: false });
      }
      const call = first.message.tool_calls[0];
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(call.function.arguments, { location: 'Paris' });
      messages.push(first.message, { role: 'tool', content: 'sunny', tool_name: 'get_weather' });
      const second = await c.chat({ model, messages, tools, stream: false });
      return second.message.content;
    },
    async image(c, model) {
      const r = await c.chat({ model, stream: false, messages: [{ role: 'user', content: 'What is this?', images: [PNG_B64] }] });
      return r.message.content;
    },
  },
};

// What the upstream must have been sent for the image, in its own shape.
function assertImageSent(kind, body) {
  const last = body.messages[body.messages.length - 1];
  if (kind === 'ollama') return assert.deepEqual(last.images, [PNG_B64]);
  if (kind === 'anthropic') {
    const image = last.content.find((b) => b.type === 'image');
    return assert.deepEqual(image.source, { type: 'base64', media_type: 'image/png', data: PNG_B64 });
  }
  const part = last.content.find((p) => p.type === 'image_url');
  assert.equal(part.image_url.url, `data:image/png;base64,${PNG_B64}`);
}

for (const [clientName, client] of Object.entries(CLIENTS)) {
  for (const [kind, upstream] of Object.entries(UPSTREAMS)) {
    const cell = `${clientName} SDK -> ${kind} upstream`;

    test(`${cell}: text, whole and streamed`, async () => {
      const c = client.make();
      assert.equal(await client.text(c, upstream.alias, false), TEXT);
      const { body, headers } = await sentUpstream(kind);
      if (kind === 'anthropic') {
        assert.equal(headers['x-api-key'], 'sk-ant-upstream', 'the upstream key, not the client one');
        assert.equal(typeof body.max_tokens, 'number');
      }
      if (kind === 'ollama') assert.equal(body.stream, false, 'Ollama streams unless told not to');
      assert.equal(await client.text(c, upstream.alias, true), TEXT);
      const streamed = await sentUpstream(kind);
      assert.equal(streamed.body.stream, true);
    });

    test(`${cell}: a tool call (whole and streamed) and its result, round trip`, async () => {
      for (const stream of [false, true]) {
        const text = await client.toolRoundTrip(client.make(), upstream.alias, stream);
        assert.ok(text.startsWith('The tool said: sunny'), `stream ${stream}: got ${JSON.stringify(text)}`);
      }
    });

    test(`${cell}: an image reaches the upstream in its own shape`, async () => {
      const text = await client.image(client.make(), upstream.alias);
      assert.ok(text.startsWith('I see 1 image(s). '), `got ${JSON.stringify(text)}`);
      assertImageSent(kind, (await sentUpstream(kind)).body);
    });
  }
}
