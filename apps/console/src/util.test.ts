import assert from 'node:assert/strict';
import { test } from 'node:test';
import { duration, jsonPathLines, lineOfPath, parseSse, percent, setName } from '../web/util.ts';

test('parseSse splits complete events, skips comments and keeps the unfinished rest', () => {
  const { events, rest } = parseSse(
    'event: status\ndata: {"a":1}\n\n: keep-alive\n\nevent: progress\r\ndata: x\r\ndata: y\r\n\r\nevent: en',
  );
  assert.deepEqual(events, [
    { event: 'status', data: '{"a":1}' },
    { event: 'progress', data: 'x\ny' },
  ]);
  assert.equal(rest, 'event: en');
});

test('jsonPathLines finds the line of nested keys and array items; lineOfPath falls back to the parent', () => {
  const text =
    '{\n  "name": "x",\n  "render": {\n    "resolution": [\n      64,\n      48\n    ]\n  },\n  "products": [{ "asset": "a" }]\n}';
  const lines = jsonPathLines(text);
  assert.equal(lines.get('name'), 2);
  assert.equal(lines.get('render'), 3);
  assert.equal(lines.get('render.resolution'), 4);
  assert.equal(lines.get('render.resolution[1]'), 6);
  assert.equal(lines.get('products[0].asset'), 9);
  assert.equal(lineOfPath(lines, 'render.samples'), 3);
  assert.equal(lineOfPath(lines, 'seed'), 1);
  assert.equal(jsonPathLines('{"a": ').size, 0);
});

test('duration reads as a person would say it', () => {
  assert.equal(duration(null), '—');
  assert.equal(duration(12.4), '12s');
  assert.equal(duration(185), '3m 05s');
  assert.equal(duration(3720), '1h 02m');
});

test('percent and setName read as the evaluation report writes them', () => {
  assert.equal(percent(0.8333), '83.3%');
  assert.equal(percent(1), '100.0%');
  assert.equal(percent(null), '—');
  assert.deepEqual([setName({ job: 'abc' }), setName({ mix: 'm1' }), setName({ real: 'photos' })], ['job:abc', 'mix:m1', 'real:photos']);
});
