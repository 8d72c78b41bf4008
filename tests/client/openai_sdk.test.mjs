// Client compatibility: the official `openai` npm SDK talks to a running
// ModelGate binary (SQLite, generated data dir) in front of a fake upstream
// that speaks OpenAI's wire format. Run by ctest; needs MODELGATE_BIN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';

const BIN = process.env.MODELGATE_BIN;
if (!BIN) throw new Error('MODELGATE_BIN must point at the modelgate binary');

// ---------------------------------------------------------------------------
// Fake upstream (OpenAI wire format)
// ---------------------------------------------------------------------------
const chunk = (model, content, finish = null, first = false) => ({
  id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1764160000, model,
  choices: [{
    index: 0,
    delta: first ? { role: 'assistant', content } : content ? { content } : {},
    logprobs: null,
    finish_reason: finish,
  }],
});
// What OpenAI sends for encoding_format "base64": little-endian float32s.
const base64Floats = (values) => Buffer.from(new Float32Array(values).buffer).toString('base64');
let upstreamClosedEarly = 0;

function startUpstream() {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }] }));
        return;
      }
      const j = JSON.parse(body);
      if (req.url === '/v1/embeddings') {
        const inputs = Array.isArray(j.input) ? j.input : [j.input];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          object: 'list', model: j.model,
          data: inputs.map((_, i) => ({
            object: 'embedding', index: i,
            embedding: j.encoding_format === 'base64' ? base64Floats([0.5, -0.25, 0.125]) : [0.5, -0.25, 0.125],
          })),
          usage: { prompt_tokens: 3, total_tokens: 3 },
        }));
        return;
      }
      if (!j.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({
          id: 'chatcmpl-fake', object: 'chat.completion', created: 1764160000, model: j.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from upstream', refusal: null },
            logprobs: null, finish_reason: 'stop' }],
          usage: { prompt_tokens: 8, completion_tokens: 4, total_tokens: 12 },
        }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const slow = JSON.stringify(j.messages).includes('slowly');
      const words = slow ? Array.from({ length: 50 }, (_, i) => `w${i} `) : ['Hel', 'lo', ' there'];
      let i = 0;
      let finished = false;
      res.on('close', () => { if (!finished) upstreamClosedEarly += 1; });
      const tick = () => {
        if (res.destroyed) return;
        if (i < words.length) {
          res.write(`data: ${JSON.stringify(chunk(j.model, words[i], null, i === 0))}\n\n`);
          i += 1;
          setTimeout(tick, slow ? 100 : 5);
          return;
        }
        res.write(`data: ${JSON.stringify(chunk(j.model, '', 'stop'))}\n\n`);
        if (j.stream_options?.include_usage) {
          res.write(`data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1764160000,
            model: j.model, choices: [], usage: { prompt_tokens: 8, completion_tokens: 3, total_tokens: 11 } })}\n\n`);
        }
        res.write('data: [DONE]\n\n');
        finished = true;
        res.end();
      };
      tick();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---------------------------------------------------------------------------
// The gateway under test
// ---------------------------------------------------------------------------
let upstream, gateway, dataDir, base, cookie, apiKey, client;
const password = `pw-${Math.random().toString(36).slice(2)}`;

function startGateway() {
  dataDir = mkdtempSync(join(tmpdir(), 'mg-client-'));
  return new Promise((resolve, reject) => {
    const proc = spawn(BIN, ['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir], {
      env: { ...process.env, ADMIN_PASSWORD: password, LOG_LEVEL: 'WARNING' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}\n${err}`)), 15000);
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/OpenAI-compatible API: (http:\/\/[^\s]+)\/v1/);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1].replace('localhost', '127.0.0.1') });
      }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`gateway exited (${code}):\n${out}\n${err}`)); });
  });
}

async function admin(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function waitForLog(pred, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { logs } = await admin('GET', '/admin/api/logs/query?page_size=200');
    const row = logs.find(pred);
    if (row) return row;
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

before(async () => {
  upstream = await startUpstream();
  gateway = await startGateway();
  base = gateway.url;
  const login = await fetch(`${base}/admin/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  assert.equal(login.status, 200);
  cookie = login.headers.get('set-cookie').split(';')[0];
  const { id } = await admin('POST', '/admin/api/providers', {
    name: 'fake', base_url: `http://127.0.0.1:${upstream.address().port}/v1`, api_key: 'sk-upstream-test-123456',
  });
  await admin('POST', `/admin/api/providers/${id}/models`, { model: 'gpt-4o-mini' });
  await admin('POST', `/admin/api/providers/${id}/models`, { model: 'text-embedding-3-small' });
  apiKey = (await admin('POST', '/admin/api/keys', { name: 'sdk' })).key;
  client = new OpenAI({ apiKey, baseURL: `${base}/v1`, maxRetries: 0, timeout: 20000 });
});

after(async () => {
  if (gateway) {
    const exited = new Promise((r) => gateway.proc.once('exit', r));
    gateway.proc.kill('SIGTERM');
    await exited;
  }
  upstream?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// The SDK's view
// ---------------------------------------------------------------------------
test('models.list returns the models this key may use', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), ['fake/gpt-4o-mini', 'fake/text-embedding-3-small']);
});

test('chat.completions.create (non-streaming)', async () => {
  const r = await client.chat.completions.create({
    model: 'fake/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }],
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.content, 'Hello from upstream');
  assert.equal(r.usage.total_tokens, 12);
});

test('chat.completions.create with stream: true', async () => {
  const stream = await client.chat.completions.create({
    model: 'fake/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true,
  });
  let text = '';
  let sawUsage = false;
  for await (const c of stream) {
    text += c.choices[0]?.delta?.content ?? '';
    if (c.usage) sawUsage = true;
  }
  assert.equal(text, 'Hello there');
  assert.equal(sawUsage, false, 'no usage chunk unless asked for');
});

test('stream with stream_options.include_usage ends with usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'fake/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true,
    stream_options: { include_usage: true },
  });
  let last;
  for await (const c of stream) last = c;
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.prompt_tokens, 8);
  assert.equal(last.usage.total_tokens, 11);
});

test('the streaming helper assembles the final message', async () => {
  const runner = client.chat.completions.stream({
    model: 'fake/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }],
  });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.content, 'Hello there');
});

test('embeddings.create', async () => {
  const r = await client.embeddings.create({ model: 'fake/text-embedding-3-small', input: ['a', 'b'] });
  assert.equal(r.data.length, 2);
  assert.deepEqual(r.data[1].embedding, [0.5, -0.25, 0.125]);
  assert.equal(r.usage.prompt_tokens, 3);
});

test('a wrong key is an AuthenticationError', async () => {
  const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${base}/v1`, maxRetries: 0 });
  await assert.rejects(
    bad.chat.completions.create({ model: 'fake/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof OpenAI.AuthenticationError && e.status === 401 && e.code === 'invalid_api_key',
  );
});

test('an unknown model is a NotFoundError with an OpenAI error body', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'fake/gpt-99', messages: [{ role: 'user', content: 'hi' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found' && /gpt-99/.test(e.message),
  );
});

test('aborting mid-stream cancels the call upstream and logs it as cancelled', async () => {
  const before = upstreamClosedEarly;
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    { model: 'fake/gpt-4o-mini', messages: [{ role: 'user', content: 'please answer slowly' }], stream: true },
    { signal: controller.signal },
  );
  let received = 0;
  try {
    for await (const c of stream) {
      assert.equal(c.object, 'chat.completion.chunk');
      received += 1;
      if (received === 3) controller.abort();
    }
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIUserAbortError || e.name === 'AbortError', `unexpected ${e}`);
  }
  assert.ok(received >= 3 && received < 50, `received ${received} chunks`);
  const row = await waitForLog((l) => l.status === 'cancelled');
  assert.ok(row, 'the aborted call must be logged as cancelled');
  assert.equal(row.stream, true);
  assert.equal(row.api_key_name, 'sdk');
  const deadline = Date.now() + 5000;
  while (upstreamClosedEarly === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(upstreamClosedEarly > before, 'the upstream connection must be closed when the client aborts');
});
