// Every spec in examples/ is valid and renders: its first two frames, through the real command.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, cli, tempDir } from './helpers.ts';

test('each example spec renders its first frames and verifies', async () => {
  const dir = await tempDir('synthline-examples-');
  const examples = (await readdir(join(ROOT, 'examples'))).filter((f) => f.endsWith('.json'));
  assert.ok(examples.length >= 3, examples.join(', '));
  for (const f of examples) {
    const out = join(dir, f.replace(/\.json$/, ''));
    const r = await cli(['render', join(ROOT, 'examples', f), '--out', out, '--frames', '0:2']);
    assert.equal(r.code, 0, `${f}:\n${r.all}`);
    const v = await cli(['verify', out]);
    assert.equal(v.code, 0, `${f}:\n${v.all}`);
  }
});
