// Remote nodes that say which models they have loaded: an Ollama host (GET /api/ps) and another
// Switchyard (`node: switchyard`, GET /v1/models/status). The health checks learn it every interval
// and the router prefers a deployment whose model is loaded (loaded > cannot tell > not loaded).
// Which deployment answered is read from X-Routed-Node.

import assert from 'node:assert/strict';
import { after } from 'node:test';
import {
  gatewayConfig,
  getJson,
  localGateway,
  openaiUpstream,
  pollUntil,
  postJson,
  sleep,
  startFake,
  startGateway,
  stopAll,
  test,
} from './harness.mjs';

after(stopAll);

const HEALTH = { interval_ms: 200, timeout_ms: 1000 };

const chat = (gw, model) => postJson(`${gw.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }] });

async function routedTo(gw, model) {
  const r = await chat(gw, model);
  assert.equal(r.status, 200, r.text);
  return r.headers.get('x-routed-node');
}

async function order(gw, model, n) {
  const out = [];
  for (let i = 0; i < n; i += 1) out.push(await routedTo(gw, model));
  return out;
}

// Waits until `n` requests in a row went to `node` (round robin alternates without a preference).
async function waitPreferred(gw, model, node, n = 4) {
  let run = 0;
  await pollUntil(
    async () => {
      run = (await routedTo(gw, model)) === node ? run + 1 : 0;
      return run >= n;
    },
    { timeoutMs: 5000, intervalMs: 20, what: `${n} requests in a row to ${node}` },
  );
}

const ollamaUpstream = (fake) => ({ kind: 'ollama', base_url: fake.url, health: HEALTH });

/** A gateway whose alias `llama` goes round robin over two Ollama hosts, box-a and box-b, as llama3. */
const twoOllamaBoxes = (boxA, boxB) =>
  startGateway(
    gatewayConfig({
      workers: 1,
      upstreams: { 'box-a': ollamaUpstream(boxA), 'box-b': ollamaUpstream(boxB) },
      models: {
        llama: {
          strategy: 'round_robin',
          deployments: [
            { upstream: 'box-a', model: 'llama3' },
            { upstream: 'box-b', model: 'llama3' },
          ],
        },
      },
    }),
  );

test('Ollama hosts: requests go to the one whose /api/ps lists the model', async () => {
  const [loaded, other] = await Promise.all([
    startFake(['--model', 'llama3'], { name: 'ollama-loaded' }),
    startFake(['--model', 'mistral'], { name: 'ollama-other' }),
  ]);
  const ps = await getJson(`${loaded.url}/api/ps`);
  assert.deepEqual(
    ps.models.map((m) => m.name),
    ['llama3:latest'],
    'Ollama tags the name; the deployment says llama3',
  );
  const gw = await twoOllamaBoxes(other, loaded);
  await waitPreferred(gw, 'llama', 'box-b');
  const before = (await other.stats()).requests;
  assert.deepEqual(await order(gw, 'llama', 20), Array(20).fill('box-b'));
  assert.equal((await other.stats()).requests, before, 'box-a got no inference request');
});

test('Ollama hosts that both have the model loaded share the work as the strategy says', async () => {
  const [a, b] = await Promise.all([
    startFake(['--model', 'llama3'], { name: 'ollama-a' }),
    startFake(['--model', 'llama3:latest', '--model', 'phi3'], { name: 'ollama-b' }),
  ]);
  const gw = await twoOllamaBoxes(a, b);
  await sleep(3 * HEALTH.interval_ms); // both reported: the preference has nothing to choose between
  const nodes = await order(gw, 'llama', 10);
  for (let i = 1; i < nodes.length; i += 1) assert.notEqual(nodes[i], nodes[i - 1], JSON.stringify(nodes));
});

/** Gateway B: a local model `qwen` served by the fake llama-server on a fake GPU; not loaded yet. */
const nodeB = () => localGateway({ qwen: {} }, { name: 'gateway-b' });

const localStatus = async (gw) => (await getJson(`${gw.url}/v1/models/qwen/status`)).status;
const waitLocal = (gw, state) =>
  pollUntil(async () => (await localStatus(gw)) === state, { timeoutMs: 8000, what: `qwen ${state} on gateway B` });

test('two nodes: a request prefers the Switchyard node that has the model loaded, and moves away when it is ejected', async () => {
  const b = await nodeB();
  const plain = await startFake([], { name: 'plain' });
  const a = await startGateway(
    gatewayConfig({
      workers: 2,
      upstreams: {
        'node-b': openaiUpstream(`${b.url}/v1`, { node: 'switchyard', health: HEALTH }),
        plain: openaiUpstream(plain, { health: HEALTH }),
      },
      models: {
        qwen: {
          strategy: 'round_robin',
          deployments: [
            { upstream: 'node-b', model: 'qwen' },
            { upstream: 'plain', model: 'qwen' },
          ],
        },
      },
    }),
    { name: 'gateway-a' },
  );

  // B reports qwen off: the plain node (which cannot tell) is preferred, and B is not woken.
  assert.equal(await localStatus(b), 'off');
  await sleep(3 * HEALTH.interval_ms);
  assert.deepEqual(await order(a, 'qwen', 8), Array(8).fill('plain'));
  assert.equal(await localStatus(b), 'off', 'no request reached gateway B');

  // Loaded on B: every request goes there.
  const load = await postJson(`${b.url}/v1/models/qwen/load`, {});
  assert.equal(load.status, 202, load.text);
  await waitLocal(b, 'ready');
  await waitPreferred(a, 'qwen', 'node-b');
  const served = (await getJson(`${b.url}/v1/models/qwen/status`)).loads;
  const plainBefore = (await plain.stats()).requests;
  const r = await chat(a, 'qwen');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('x-routed-node'), 'node-b');
  assert.equal(r.json.model, 'qwen');
  assert.equal(r.json.choices[0].message.content, 'tok0 tok1 tok2 ', 'answered by B\'s local model');
  assert.deepEqual(await order(a, 'qwen', 20), Array(20).fill('node-b'));
  assert.equal((await plain.stats()).requests, plainBefore, 'the plain node got none');
  assert.equal((await getJson(`${b.url}/v1/models/qwen/status`)).loads, served, 'loaded once');

  // Ejected on B: after a health interval, the requests go to the plain node again.
  const eject = await postJson(`${b.url}/v1/models/eject`, { model: 'qwen' });
  assert.equal(eject.status, 202, eject.text);
  await waitLocal(b, 'off');
  await sleep(5 * HEALTH.interval_ms);
  assert.deepEqual(await order(a, 'qwen', 10), Array(10).fill('plain'));
  assert.equal(await localStatus(b), 'off', 'B was not asked to load it again');
});
