// Around the 3x3 matrix: the Ollama model-information routes, count_tokens, embeddings across
// OpenAI and Ollama, errors (before and in the middle of a stream) in each client's own shape,
// several keys per upstream (429 rests a key, 401 disables it, /health shows it), provider presets,
// and images fetched by URL for an Ollama upstream (loopback allowed only when configured).

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import {
  gatewayConfig,
  kindModels,
  kindUpstreams,
  getJson,
  postJson,
  request,
  runToExit,
  GATEWAY_BIN,
  startFake,
  startGateway,
  stopAll,
  test,
  upstreamOf,
  writeConfig,
} from './harness.mjs';

const PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

let fake;
let keyFake;  // answers some keys with 429 (Retry-After 30) and 401
let gw;
let imageServer;
let imageUrl;


before(async () => {
  fake = await startFake(['--tokens', '4']);
  keyFake = await startFake(['--tokens', '4', '--key-status', 'sk-limited=429', '--key-status', 'sk-revoked=401', '--retry-after', '30']);
  gw = await startGateway(
    gatewayConfig({
      upstreams: {
        ...kindUpstreams(fake),
        'up-keys': upstreamOf('openai', keyFake.base, { api_keys: ['sk-limited', 'sk-revoked', 'sk-good-one-1234'] }),
      },
      models: {
        ...kindModels(),
        'via-keys': { deployments: [{ upstream: 'up-keys', model: 'gpt-keys' }], retries: { max: 2 } },
      },
      extra: { images: { allow_private_addresses: true } },
    }),
  );
  imageServer = http.createServer((req, res) => {
    if (req.url === '/cat.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(Buffer.from(PNG_B64, 'base64'));
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>not an image</html>');
    }
  });
  await new Promise((resolve) => imageServer.listen(0, '127.0.0.1', resolve));
  imageUrl = `http://127.0.0.1:${imageServer.address().port}`;
});
after(async () => {
  imageServer?.close();
  await stopAll();
});

test('Ollama clients list, show, ps and version through the gateway', async () => {
  const ollama = new Ollama({ host: gw.url });
  const { models } = await ollama.list();
  assert.deepEqual(models.map((m) => m.name).sort(), ['via-anthropic', 'via-keys', 'via-ollama', 'via-openai']);
  assert.match(models[0].digest, /^[0-9a-f]{64}$/);
  const show = await ollama.show({ model: 'via-openai' });
  assert.ok(show.capabilities.includes('tools'));
  await assert.rejects(ollama.show({ model: 'nope' }), (e) => e.status_code === 404 && /model 'nope' not found/.test(e.error));
  const ps = await ollama.ps();
  assert.equal(ps.models.length, 4);
  assert.match((await ollama.version()).version, /^\d+\.\d+\.\d+$/);
});

test('count_tokens: forwarded to an Anthropic upstream, estimated for the others', async () => {
  const client = new Anthropic({ apiKey: 'sk-ant-client', baseURL: gw.url, maxRetries: 0 });
  const messages = [{ role: 'user', content: 'Hello there, how are you today?' }];
  const exact = await client.messages.countTokens({ model: 'via-anthropic', messages });
  const last = await fake.last();
  assert.equal(last.target, '/v1/messages/count_tokens');
  assert.equal(JSON.parse(last.body).model, 'claude-up');
  assert.ok(exact.input_tokens > 0);

  const r = await postJson(`${gw.url}/v1/messages/count_tokens`, { model: 'via-openai', messages });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-switchyard-token-count'), 'estimated');
  // "user" + "content" + "role" + the text: 4 + 7 + 4 + 31 = 46 bytes -> 12 tokens, + 3 for the message.
  assert.deepEqual(r.json, { input_tokens: 15 });

  const unknown = await postJson(`${gw.url}/v1/messages/count_tokens`, { model: 'nope', messages });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.type, 'error');
});

test('embeddings across protocols: the openai SDK on an Ollama upstream, the ollama SDK on an OpenAI one', async () => {
  const openai = new OpenAI({ apiKey: 'sk', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  // The SDK asks for base64 by default and decodes it: the translated answer must honour that.
  const viaOllama = await openai.embeddings.create({ model: 'via-ollama', input: ['one', 'two'] });
  assert.equal(viaOllama.data.length, 2);
  assert.equal(viaOllama.model, 'via-ollama');
  assert.ok(viaOllama.data[0].embedding.length > 0 && viaOllama.data[0].embedding.every(Number.isFinite));
  const sent = await fake.last();
  assert.equal(sent.target, '/api/embed');
  assert.deepEqual(JSON.parse(sent.body).input, ['one', 'two']);

  const direct = await openai.embeddings.create({ model: 'via-openai', input: ['one', 'two'] });
  assert.deepEqual(
    viaOllama.data[0].embedding.map((x) => x.toFixed(4)),
    direct.data[0].embedding.map((x) => x.toFixed(4)),
    'the fake gives the same vector on both APIs',
  );

  const ollama = new Ollama({ host: gw.url });
  const embed = await ollama.embed({ model: 'via-openai', input: ['one', 'two'] });
  assert.equal(embed.embeddings.length, 2);
  assert.equal(embed.model, 'via-openai');
  assert.equal((await fake.last()).target, '/v1/embeddings');
  const legacy = await ollama.embeddings({ model: 'via-ollama', prompt: 'one' });
  assert.equal((await fake.last()).target, '/api/embeddings', 'same protocol: passed through');
  assert.equal(legacy.embedding.length, embed.embeddings[0].length);
});

test('errors come back in the client protocol, before and in the middle of a stream', async () => {
  // Before: the upstream answers 500 in its own shape; the client gets its own.
  const headers = { 'x-fake-status': '500' };
  const ollamaError = await postJson(`${gw.url}/api/chat`, { model: 'via-anthropic', messages: [{ role: 'user', content: 'x' }], stream: false }, headers);
  assert.equal(ollamaError.status, 500);
  assert.equal(typeof ollamaError.json.error, 'string');
  const anthropicError = await postJson(`${gw.url}/v1/messages`, { model: 'via-ollama', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, headers);
  assert.equal(anthropicError.status, 500);
  assert.equal(anthropicError.json.type, 'error');
  const openaiError = await postJson(`${gw.url}/v1/chat/completions`, { model: 'via-anthropic', messages: [{ role: 'user', content: 'x' }] }, headers);
  assert.equal(openaiError.status, 500);
  assert.equal(typeof openaiError.json.error.message, 'string');

  // Middle: the upstream drops the connection after two chunks.
  const drop = { 'x-fake-drop-after': '2' };
  const ndjson = await request(`${gw.url}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...drop },
    body: JSON.stringify({ model: 'via-openai', messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.equal(ndjson.status, 200);
  const lines = ndjson.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines[0].message.content, 'tok0 ');
  assert.match(lines.at(-1).error, /ended the stream early|closed/);
  assert.ok(!lines.some((l) => l.done), 'no done line after a failure');

  const sse = await request(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...drop },
    body: JSON.stringify({ model: 'via-ollama', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.match(sse.text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
  assert.doesNotMatch(sse.text, /message_stop/);

  const openaiSse = await request(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...drop },
    body: JSON.stringify({ model: 'via-anthropic', stream: true, messages: [{ role: 'user', content: 'x' }] }),
  });
  assert.match(openaiSse.text, /data: \{"error":\{"message":/);
  assert.doesNotMatch(openaiSse.text, /\[DONE\]/);
});

test('several keys: a 429 rests the key, a 401 disables it, the good key serves, /health shows each', async () => {
  const openai = new OpenAI({ apiKey: 'sk', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  for (let i = 0; i < 4; i++) {
    const r = await openai.chat.completions.create({ model: 'via-keys', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.choices[0].message.content, 'tok0 tok1 tok2 tok3 ');
  }
  const last = await keyFake.last();
  assert.equal(last.headers.authorization, 'Bearer sk-good-one-1234');
  const health = await getJson(`${gw.url}/health`);
  const keys = health.upstreams['up-keys'].keys;
  assert.deepEqual(keys.map((k) => k.state), ['cooling_down', 'disabled', 'ok']);
  assert.equal(keys[1].disabled_after_status, 401);
  assert.equal(keys[2].key, 'key 3 (...1234)');
  assert.ok(!JSON.stringify(health).includes('sk-good-one'), 'keys are never shown whole');
  // Every request ended on the good key; the bad ones were each tried once.
  assert.ok(keys[2].uses >= 4);
  assert.equal(keys[1].uses, 1);
});

test('presets: the key comes from the environment, and a missing one is named', async () => {
  const config = gatewayConfig({
    upstreams: { groq: { preset: 'groq' }, claude: { preset: 'anthropic' } },
    models: { fast: { deployments: [{ upstream: 'groq', model: 'llama-3.1-8b-instant' }] } },
  });
  const file = writeConfig(config);
  const ok = await runToExit(GATEWAY_BIN, ['--config', file, '--check-config'], {
    env: { GROQ_API_KEY: 'gsk-test', ANTHROPIC_API_KEY: 'sk-ant-test' },
  });
  assert.equal(ok.code, 0, ok.stderr);
  const missing = await runToExit(GATEWAY_BIN, ['--config', file, '--check-config'], {
    env: { GROQ_API_KEY: 'gsk-test', ANTHROPIC_API_KEY: '' },
  });
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /upstreams\.claude\.preset: .*ANTHROPIC_API_KEY/);
});

test('images by URL are fetched for an Ollama upstream, within the limits', async () => {
  const openai = new OpenAI({ apiKey: 'sk', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const ask = (url) => ({
    model: 'via-ollama',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What?' }, { type: 'image_url', image_url: { url } }] }],
  });
  const r = await openai.chat.completions.create(ask(`${imageUrl}/cat.png`));
  assert.ok(r.choices[0].message.content.startsWith('I see 1 image(s). '));
  const sent = JSON.parse((await fake.last()).body);
  assert.deepEqual(sent.messages[0].images, [PNG_B64]);
  await assert.rejects(openai.chat.completions.create(ask(`${imageUrl}/page.html`)), (e) => e.status === 400 && /not an image/.test(e.message));
  // An Anthropic upstream takes the URL itself: nothing is fetched.
  await openai.chat.completions.create({ ...ask(`${imageUrl}/cat.png`), model: 'via-anthropic' });
  const anthropicSent = JSON.parse((await fake.last()).body);
  assert.deepEqual(anthropicSent.messages[0].content[1].source, { type: 'url', url: `${imageUrl}/cat.png` });
});
