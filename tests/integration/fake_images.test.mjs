// Images sent to the fake upstream in each API's shape, through the real clients pointed straight at
// it: OpenAI image_url parts (data: or http URL), Anthropic image blocks (base64 or url source, also
// inside tool results), Ollama "images" (per chat message, top level for generate). The fake counts
// them and starts its text with "I see N image(s). ", so a translation test can prove images crossed
// it; and it refuses broken images as the real servers do. No gateway.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { startFake, stopAll, test } from './harness.mjs';

// A 1x1 PNG.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const TOKENS = 'tok0 tok1 tok2 ';

let fake;
let openai;
let anthropic;
let ollama;

before(async () => {
  fake = await startFake(['--tokens', '3']);
  openai = new OpenAI({ apiKey: 'sk-test', baseURL: `${fake.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'sk-ant-test', baseURL: fake.url, maxRetries: 0 });
  ollama = new Ollama({ host: fake.url });
});
after(stopAll);

const post = (path, body) =>
  fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('OpenAI: data: and http image_url parts are counted, streamed and not; no images, no prefix', async () => {
  const content = [
    { type: 'text', text: 'What is in these?' },
    { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}`, detail: 'low' } },
    { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
  ];
  const completion = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] });
  assert.equal(completion.choices[0].message.content, `I see 2 image(s). ${TOKENS}`);

  // Images in earlier turns count too; the prefix is a chunk of its own before the tokens.
  const history = [
    { role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/jpeg;base64,${PNG}` } }] },
    { role: 'assistant', content: 'A dot.' },
    { role: 'user', content },
  ];
  const deltas = [];
  const runner = openai.chat.completions.stream({ model: 'm', messages: history });
  runner.on('content', (delta) => deltas.push(delta));
  const streamed = await runner.finalChatCompletion();
  assert.deepEqual(deltas, ['I see 3 image(s). ', 'tok0 ', 'tok1 ', 'tok2 ']);
  assert.equal(streamed.choices[0].message.content, `I see 3 image(s). ${TOKENS}`);

  const plain = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal(plain.choices[0].message.content, TOKENS);
});

test('OpenAI: a broken image_url is a 400 with OpenAI\'s param and code', async () => {
  const cases = [
    ['data:image/png;base64,not base64!', 'Expected a base64-encoded data URL with an image MIME type'],
    [`data:text/plain;base64,${PNG}`, 'Expected a base64-encoded data URL with an image MIME type'],
    ['cat.png', 'Expected a valid URL'],
  ];
  for (const [url, text] of cases) {
    const content = [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url } }];
    await assert.rejects(openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] }), (error) => {
      assert.ok(error instanceof OpenAI.BadRequestError, error.constructor.name);
      assert.equal(error.error.type, 'invalid_request_error');
      assert.equal(error.error.param, 'messages[0].content[1].image_url.url');
      assert.equal(error.error.code, 'invalid_value');
      assert.ok(error.error.message.includes(text), error.error.message);
      return true;
    });
  }
});

test('Anthropic: base64 and url image blocks are counted, in tool results too, streamed and not', async () => {
  const content = [
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
    { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
    { type: 'text', text: 'What is in these?' },
  ];
  const message = await anthropic.messages.create({ model: 'c', max_tokens: 100, messages: [{ role: 'user', content }] });
  assert.deepEqual(message.content, [{ type: 'text', text: `I see 2 image(s). ${TOKENS}` }]);

  const stream = anthropic.messages.stream({ model: 'c', max_tokens: 100, messages: [{ role: 'user', content }] });
  const deltas = [];
  stream.on('text', (text) => deltas.push(text));
  const streamed = await stream.finalMessage();
  assert.deepEqual(deltas, ['I see 2 image(s). ', 'tok0 ', 'tok1 ', 'tok2 ']);
  assert.equal(streamed.content[0].text, `I see 2 image(s). ${TOKENS}`);

  // A screenshot returned by a tool: counted, and the result's text quoted after the count.
  const messages = [
    { role: 'user', content: 'Take a screenshot' },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'screenshot', input: {} }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [
      { type: 'text', text: 'done' },
      { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: PNG } },
    ] }] },
  ];
  const tools = [{ name: 'screenshot', input_schema: { type: 'object', properties: {} } }];
  const answer = await anthropic.messages.create({ model: 'c', max_tokens: 100, messages, tools });
  assert.equal(answer.content[0].text, `I see 1 image(s). The tool said: done. ${TOKENS}`);
});

test('Anthropic: a bad media_type, broken base64 or unknown source is a 400 invalid_request_error', async () => {
  const image = (source) => ({ model: 'c', max_tokens: 100, messages: [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello' },
    { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image', source }] },
  ] });
  const cases = [
    [{ type: 'base64', media_type: 'image/bmp', data: PNG },
      "messages.2.content.1.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"],
    [{ type: 'base64', media_type: 'image/png', data: `data:image/png;base64,${PNG}` },
      'messages.2.content.1.image.source.base64.data: Invalid base64 data'],
    [{ type: 'base64', media_type: 'image/png', data: 'abc' },
      'messages.2.content.1.image.source.base64.data: Invalid base64 data'],
    [{ type: 'url' }, 'messages.2.content.1.image.source.url.url: Field required'],
    [{ type: 'path', path: '/tmp/cat.png' },
      "messages.2.content.1.image.source: Input tag 'path' found using 'type' does not match any of the expected tags: 'base64', 'file', 'url'"],
  ];
  for (const [source, message] of cases) {
    const res = await post('/v1/messages', image(source));
    assert.equal(res.status, 400, message);
    assert.deepEqual(await res.json(), {
      type: 'error', error: { type: 'invalid_request_error', message }, request_id: 'req_fake',
    });
  }
  await assert.rejects(anthropic.messages.create(image({ type: 'base64', media_type: 'image/tiff', data: PNG })), (error) => {
    assert.ok(error instanceof Anthropic.BadRequestError, error.constructor.name);
    return true;
  });
});

test('Ollama: images on chat messages and on generate are counted, streamed and not', async () => {
  const messages = [{ role: 'user', content: 'What is in these?', images: [PNG, PNG] }];
  const chat = await ollama.chat({ model: 'llava', messages, stream: false });
  assert.equal(chat.message.content, `I see 2 image(s). ${TOKENS}`);

  const parts = [];
  for await (const part of await ollama.chat({ model: 'llava', messages, stream: true })) {
    parts.push(part.message.content);
  }
  assert.deepEqual(parts, ['I see 2 image(s). ', 'tok0 ', 'tok1 ', 'tok2 ', '']);

  const generated = await ollama.generate({ model: 'llava', prompt: 'Describe', images: [PNG], stream: false });
  assert.equal(generated.response, `I see 1 image(s). ${TOKENS}`);
});

test('Ollama: an image that is a URL or not base64 is a 400 naming the byte, as Ollama\'s JSON decoding says', async () => {
  const cases = [
    ['https://example.com/cat.png', 5],
    [`data:image/png;base64,${PNG}`, 4],
    ['abc', 0],             // a short last quantum without padding
    ['ab=c', 2],            // padding in the wrong place
    [`${PNG}AAAA`, 96],     // anything after the padding
  ];
  for (const [image, byte] of cases) {
    const res = await post('/api/chat', { model: 'llava', stream: false, messages: [{ role: 'user', content: 'x', images: [image] }] });
    assert.equal(res.status, 400, image);
    assert.deepEqual(await res.json(), { error: `illegal base64 data at input byte ${byte}` }, image);
  }
  const generate = await post('/api/generate', { model: 'llava', prompt: 'x', images: ['http://x/y.png'] });
  assert.equal(generate.status, 400);
  assert.deepEqual(await generate.json(), { error: 'illegal base64 data at input byte 4' });

  const notString = await post('/api/chat', { model: 'llava', messages: [{ role: 'user', content: 'x', images: [42] }] });
  assert.equal(notString.status, 400);
  assert.match((await notString.json()).error, /^json: cannot unmarshal number into Go struct field/);

  await assert.rejects(
    ollama.chat({ model: 'llava', stream: false, messages: [{ role: 'user', content: 'x', images: ['http://x/y.png'] }] }),
    (error) => {
      assert.equal(error.status_code, 400);
      assert.equal(error.message, 'illegal base64 data at input byte 4');
      return true;
    },
  );
});
