// Local models: the gateway starts, places, evicts and heals llama-server processes. The fake
// upstream stands in for llama-server (its llama-server command-line mode; FAKE_LLAMA_* variables,
// set per model through `env`, make it slow to load, crash or exit), and fake GPUs stand in for the
// real ones (`local.fake_gpus`: free memory follows what the gateway places on them).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import {
  FAKE_BIN,
  getJson,
  localGateway,
  makeTempDir,
  pollUntil,
  postJson,
  sleep,
  stopAll,
  test,
  withTimeout,
} from './harness.mjs';

after(stopAll);

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const status = (gw, alias) => getJson(`${gw.url}/v1/models/${alias}/status`);
const chat = (gw, model, extra = {}) =>
  postJson(`${gw.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }], ...extra });
const waitState = (gw, alias, state, timeoutMs = 8000) =>
  pollUntil(async () => (await status(gw, alias)).status === state && (await status(gw, alias)), {
    timeoutMs,
    what: `${alias} ${state}`,
  });

test('20 concurrent requests for an unloaded model start exactly one process, and all are served', async () => {
  const gw = await localGateway({ qwen: { env: { FAKE_LLAMA_LOAD_MS: '400' }, parallel: 4 } });
  assert.equal((await status(gw, 'qwen')).status, 'off');
  const replies = await Promise.all(Array.from({ length: 20 }, () => chat(gw, 'qwen')));
  for (const r of replies) {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.model, 'qwen');
    assert.equal(r.json.choices[0].message.content, 'tok0 tok1 tok2 ');
  }
  const s = await status(gw, 'qwen');
  assert.equal(s.status, 'ready');
  assert.equal(s.loads, 1, 'one process started');
  assert.ok(s.load_seconds >= 0.4, `load took ${s.load_seconds} s`);
  assert.ok(alive(s.pid));
  const log = fs.readFileSync(path.join(gw.stateDir, 'logs', 'qwen.log'), 'utf8');
  assert.match(log, /--port|port/, 'the llama-server log is captured');
});

test('the status stream shows the transitions; eject unloads; idle models unload by themselves', async () => {
  const gw = await localGateway({ qwen: { env: { FAKE_LLAMA_LOAD_MS: '300' } } }, { local: { idle_timeout_sec: 1 } });
  const controller = new AbortController();
  const res = await fetch(`${gw.url}/v1/models/status/stream`, { signal: controller.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const seen = [];
  const reader = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = JSON.parse(/^data: (.*)$/m.exec(block)[1]);
        seen.push(name === 'model_update' ? `${data.alias}:${data.status}` : name);
        if (seen.includes('qwen:off') && seen.includes('qwen:ready')) return;
      }
    }
  })().catch(() => {});
  await postJson(`${gw.url}/v1/models/qwen/load`, {});
  await waitState(gw, 'qwen', 'ready');
  // Idle for a second: unloaded without being asked.
  await waitState(gw, 'qwen', 'off', 5000);
  await withTimeout(reader, 5000, 'status events');
  controller.abort();
  assert.equal(seen[0], 'full_status');
  const order = seen.filter((e) => e.startsWith('qwen:'));
  assert.deepEqual(order.slice(0, 2), ['qwen:starting', 'qwen:loading']);
  assert.ok(order.indexOf('qwen:ready') > order.indexOf('qwen:loading'));
  assert.ok(order.indexOf('qwen:stopping') > order.indexOf('qwen:ready'));

  // Eject: load it again, then unload it on demand.
  assert.equal((await chat(gw, 'qwen')).status, 200);
  const loaded = await status(gw, 'qwen');
  assert.equal(loaded.status, 'ready');
  const eject = await postJson(`${gw.url}/v1/models/eject`, { model: 'qwen' });
  assert.equal(eject.status, 202);
  await waitState(gw, 'qwen', 'off');
  await pollUntil(() => !alive(loaded.pid), { what: 'the ejected process to exit' });
});

test('preload_models loads the listed models at start, "*" all of them, with no request', async () => {
  const listed = await localGateway({ a: {}, b: {} }, { local: { preload_models: ['a'] } });
  await waitState(listed, 'a', 'ready');
  assert.equal((await status(listed, 'b')).status, 'off', 'b was not listed');
  const all = await localGateway({ c: {}, d: {} }, { local: { preload_models: ['*'] } });
  await waitState(all, 'c', 'ready');
  await waitState(all, 'd', 'ready');
  assert.equal((await status(all, 'c')).loads, 1);
});

test('three models are placed on two GPUs by free memory', async () => {
  const gw = await localGateway(
    { a: { vram_mib: 3000 }, b: { vram_mib: 3000 }, c: { vram_mib: 3000 } },
    { gpus: [{ name: 'big', total_mib: 8000 }, { name: 'small', total_mib: 6000 }] },
  );
  for (const alias of ['a', 'b', 'c']) assert.equal((await chat(gw, alias)).status, 200);
  // a: 8000 vs 6000 free -> GPU 0; b: 5000 vs 6000 -> GPU 1; c: 5000 vs 3000 -> GPU 0.
  assert.deepEqual(
    await Promise.all(['a', 'b', 'c'].map(async (m) => (await status(gw, m)).gpu)),
    [0, 1, 0],
  );
  const vram = await getJson(`${gw.url}/vram`);
  assert.deepEqual(vram.gpus.map((g) => g.free_mb), [2000, 3000]);
});

test('LRU eviction under the memory budget; a busy or a pinned model is never evicted', async () => {
  const gw = await localGateway(
    {
      a: { vram_mib: 6000, env: { FAKE_LLAMA_GAP_MS: '0' } },
      b: { vram_mib: 6000 },
      c: { vram_mib: 6000, pinned: true },
    },
    { gpus: [{ total_mib: 10000 }] },
  );
  assert.equal((await chat(gw, 'a')).status, 200);
  assert.equal((await chat(gw, 'b')).status, 200, 'a (idle) is evicted to make room');
  assert.equal((await status(gw, 'a')).status, 'off');
  assert.equal((await status(gw, 'b')).status, 'ready');

  // b busy with a slow stream: c cannot take its place.
  const slow = postJson(`${gw.url}/v1/chat/completions`, { model: 'b', stream: true, messages: [{ role: 'user', content: 'x' }] }, {
    'x-fake-tokens': '20',
    'x-fake-gap-ms': '100',
  });
  await sleep(300);
  const refused = await chat(gw, 'c');
  assert.equal(refused.status, 503, refused.text);
  assert.match(refused.json.error.message, /needs 6000 MiB/);
  assert.equal((await status(gw, 'b')).status, 'ready', 'the busy model stayed');
  assert.equal((await slow).status, 200);

  // Now b is idle and c loads in its place; c is pinned, so a cannot evict it.
  await sleep(2100);  // past the refusal's rest
  assert.equal((await chat(gw, 'c')).status, 200);
  assert.equal((await status(gw, 'b')).status, 'off');
  await sleep(2100);
  const pinned = await chat(gw, 'a');
  assert.equal(pinned.status, 503);
  assert.equal((await status(gw, 'c')).status, 'ready');
});

test('a crash is restarted; a model that cannot start is failed with its log, and reset clears it', async () => {
  const gw = await localGateway({
    flaky: { env: { FAKE_LLAMA_CRASH_AFTER: '1' } },
    broken: { env: { FAKE_LLAMA_EXIT_AFTER_MS: '100', FAKE_LLAMA_LOAD_MS: '5000' } },
  });
  assert.equal((await chat(gw, 'flaky')).status, 200);
  const first = await status(gw, 'flaky');
  await pollUntil(async () => (await status(gw, 'flaky')).restarts === 1, { timeoutMs: 5000, what: 'a restart' });
  const again = await waitState(gw, 'flaky', 'ready');
  assert.notEqual(again.pid, first.pid);
  assert.equal((await chat(gw, 'flaky')).status, 200);

  const r = await chat(gw, 'broken');
  assert.equal(r.status, 503);
  const failed = await waitState(gw, 'broken', 'failed');
  assert.match(failed.error_message, /exited with status 1/);
  const list = await getJson(`${gw.url}/v1/models/failed`);
  assert.deepEqual(list.failed.map((m) => m.alias), ['broken']);
  assert.equal((await postJson(`${gw.url}/v1/models/broken/reset`, {})).status, 202);
  await waitState(gw, 'broken', 'off');
});

test('a server that stops answering /health once ready is killed and restarted', async () => {
  // /health answers twice (readiness, one health check), then never again.
  const gw = await localGateway(
    { wedged: { env: { FAKE_LLAMA_HANG_HEALTH: '3' } } },
    { local: { health_interval_ms: 100, health_timeout_ms: 300 } },
  );
  assert.equal((await chat(gw, 'wedged')).status, 200);
  const first = await status(gw, 'wedged');
  await pollUntil(async () => (await status(gw, 'wedged')).restarts >= 1, { timeoutMs: 8000, what: 'a restart after 3 hung checks' });
  const again = await waitState(gw, 'wedged', 'ready');
  assert.notEqual(again.pid, first.pid);
  await pollUntil(() => !alive(first.pid), { what: 'the hung process to be gone' });
  assert.equal((await chat(gw, 'wedged')).status, 200, 'the restarted server serves');
});

test('no llama-server outlives the gateway, even after SIGKILL, and leftovers are cleaned at start', async () => {
  // A leftover of an "earlier run": a fake llama-server with a pid file where the gateway keeps them.
  const dir = makeTempDir('switchyard-local-');
  const model = path.join(dir, 'old.gguf');
  fs.writeFileSync(model, 'x');
  const leftover = spawn(FAKE_BIN, ['--model', model, '--host', '127.0.0.1', '--port', '0'], { stdio: 'ignore', detached: true });
  leftover.unref();
  fs.mkdirSync(path.join(dir, 'state', 'pids'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'state', 'pids', 'old.pid'), `${leftover.pid}\n${FAKE_BIN}\n`);
  await pollUntil(() => fs.existsSync(`/proc/${leftover.pid}/exe`) && fs.readlinkSync(`/proc/${leftover.pid}/exe`) === FAKE_BIN, { what: 'the leftover to run' });
  const gw = await localGateway({ qwen: {} }, { dir });
  await pollUntil(() => !alive(leftover.pid) || fs.readFileSync(`/proc/${leftover.pid}/stat`, 'utf8').split(' ')[2] === 'Z', { timeoutMs: 5000, what: 'the leftover to be stopped' });
  assert.equal((await chat(gw, 'qwen')).status, 200);
  const { pid } = await status(gw, 'qwen');
  assert.ok(alive(pid));
  gw.child.kill('SIGKILL');
  await pollUntil(() => !alive(pid), { timeoutMs: 5000, what: 'the child to die with the gateway' });
});

test('local first, cloud overflow: a request goes to the remote deployment while the local model loads', async () => {
  const { startFake } = await import('./harness.mjs');
  const cloud = await startFake(['--tokens', '2']);
  const gw = await localGateway(
    {
      qwen: {
        env: { FAKE_LLAMA_LOAD_MS: '3000' },
        deployments: [{ upstream: 'cloud', model: 'qwen-cloud', tier: 1 }],
      },
    },
    { upstreams: { cloud: { kind: 'openai', base_url: cloud.base, health: false } } },
  );
  const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'qwen', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-routed-node'), 'cloud');
  const local = await status(gw, 'qwen');
  assert.equal(local.status, 'loading', `the local model is still coming up: ${JSON.stringify(local)}`);
});
