import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '@synthline/base';
import { MIX_FORMAT } from '@synthline/mix';
import { parseSpec, SpecError, type JobSpec } from '@synthline/spec';
import { EvaluateError } from './errors.ts';
import type { EvalSet } from './inputs.ts';
import type { ClassMap } from './targets.ts';
import { SUGGEST_ALPHA, suggestWeights, type WeightSuggestion } from './suggest-weights.ts';

/** The targets a product's weight decides: `--suggest` takes only these. */
export const SUGGEST_TARGETS = ['class', 'model', 'color'] as const;

/** The training set's spec as its manifest records it, and where it was read. */
export interface TrainSpec {
  spec: JobSpec;
  /** The dataset.json the spec came from (for a mix: its synthetic dataset's). */
  from: string;
}

/** What report.json says of a suggestion (`suggestion`). */
export interface SuggestionReport extends WeightSuggestion {
  /** The spec written. */
  spec: string;
  /** The dataset.json whose spec it started from. */
  from: string;
  target: string;
  rule: string;
}

const fail = (message: string) => new EvaluateError('SUGGEST', message);

/** Refuses, before anything is read, a target that no product weight decides. */
export function checkSuggestTarget(target: string): void {
  if ((SUGGEST_TARGETS as readonly string[]).includes(target)) return;
  throw new EvaluateError(
    'BAD_OPTION',
    `--suggest moves the spec's product weights, so it needs a target that the product decides (class, model or color); ` +
      (target === 'side'
        ? '--target side is not one: every product shows both sides, and face_down_probability decides them'
        : `--target ${target} is a label attribute no product weight decides`),
  );
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw fail(`${what}: cannot read ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fail(`${what}: ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * The spec the training set was rendered from: a synthline dataset's manifest records it; a mix
 * names its synthetic dataset, whose manifest must still be there unchanged. Photos (an
 * ImageFolder, WebDataset shards) have none: refused, naming the problem.
 */
export async function trainSpecOf(train: EvalSet): Promise<TrainSpec> {
  const manifestPath = join(train.dir, 'dataset.json');
  let from = manifestPath;
  if (train.kind === 'imagefolder' || train.kind === 'webdataset') {
    throw fail(
      `--suggest writes back the spec the training set was rendered from, but --train ${train.dir} is ` +
        `${train.kind === 'imagefolder' ? 'an ImageFolder of photos' : 'WebDataset shards of photos'}, which no synthline spec made; ` +
        'train on a synthline dataset or a mix (synthline mix), or leave out --suggest',
    );
  }
  let manifest = (await readJson(manifestPath, '--suggest')) as { spec?: unknown; inputs?: { synthetic?: unknown } } | null;
  if (train.kind === 'mix') {
    const synth = manifest?.inputs?.synthetic as { manifest?: unknown; manifest_sha256?: unknown } | undefined;
    if (typeof synth?.manifest !== 'string')
      throw fail(`--suggest: the mix ${manifestPath} (${MIX_FORMAT}) does not name its synthetic dataset's manifest`);
    from = synth.manifest;
    const text = await readFile(from, 'utf8').catch(() => undefined);
    if (text === undefined)
      throw fail(
        `--suggest: the mix --train ${train.dir} was made from the synthetic dataset ${dirname(from)}, whose dataset.json ` +
          '(the spec it was rendered from) is no longer there; put it back, or evaluate on that dataset itself',
      );
    if (createHash('sha256').update(text).digest('hex') !== synth.manifest_sha256)
      throw fail(
        `--suggest: ${from} changed since the mix --train ${train.dir} was made from it, so its spec may not be the one ` +
          'the mix was rendered from; mix again (synthline mix) and evaluate that',
      );
    manifest = (await readJson(from, '--suggest')) as { spec?: unknown } | null;
  }
  if (manifest?.spec === undefined || manifest.spec === null) throw fail(`--suggest: ${from} records no spec`);
  try {
    return { spec: parseSpec(manifest.spec), from };
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    throw fail(`--suggest: the spec recorded in ${from} does not parse today: ${err.message}`);
  }
}

/** The model id a product entry renders as (`builtin:iphone-13` -> `iphone-13`), as labels record it. */
const modelId = (asset: string) => asset.slice(asset.indexOf(':') + 1);

/**
 * split[p][c]: the training set's rendered frames of product p in class c. A photo of a mix is
 * not counted (no weight renders it); a rendered frame of a model the spec does not list is an
 * error (the manifest's spec is not the one its frames came from).
 */
export function productSplit(spec: JobSpec, train: EvalSet, classes: ClassMap, from: string): number[][] {
  const index = new Map<string, number>();
  spec.products.forEach((p, k) => {
    const id = modelId(p.asset);
    const other = index.get(id);
    if (other !== undefined)
      throw fail(
        `--suggest: products ${spec.products[other]?.asset} and ${p.asset} in ${from} share the model id "${id}", so their frames cannot be told apart`,
      );
    index.set(id, k);
  });
  const split = spec.products.map(() => new Array<number>(classes.names.length).fill(0));
  train.samples.forEach((s, i) => {
    if (s.source !== 'synthetic') return;
    const model = s.attributes.model;
    const k = model === undefined ? undefined : index.get(model);
    if (k === undefined)
      throw fail(`--suggest: training sample ${s.id} shows ${model ?? 'no model'}, which the spec recorded in ${from} does not list`);
    const row = split[k] as number[];
    const c = classes.train[i] as number;
    row[c] = (row[c] ?? 0) + 1;
  });
  return split;
}

/**
 * Checks where the suggested spec goes, before any training: not a folder, not a manifest of
 * the inputs, not a report file, and no file already there unless `overwrite`.
 */
export async function checkSuggestPath(path: string, overwrite: boolean, taken: string[]): Promise<string> {
  const out = resolve(path);
  if (taken.some((t) => resolve(t) === out))
    throw new EvaluateError('BAD_OPTION', `--suggest ${path} is a file of the inputs or of the report; give a file of its own`);
  const st = await stat(out).catch(() => undefined);
  if (st?.isDirectory()) throw new EvaluateError('BAD_OPTION', `--suggest ${path} is a folder; give the spec file to write`);
  if (st && !overwrite)
    throw new EvaluateError('OUTPUT_EXISTS', `--suggest ${path} already exists; pass --overwrite to replace it, or choose another file`);
  return out;
}

/**
 * The suggestion for `spec`: new product weights from the confusion matrix and each product's
 * split, and the spec with them, every other field as it was (its seed too).
 */
export function suggestSpec(
  spec: JobSpec,
  classes: string[],
  confusion: number[][],
  split: number[][],
): { spec: JobSpec; weights: WeightSuggestion } {
  const weights = suggestWeights({ products: spec.products, classes, confusion, split, alpha: SUGGEST_ALPHA });
  const products = spec.products.map((p, k) => ({ ...p, weight: weights.products[k]?.new_weight ?? p.weight }));
  // The project's own parser has the last word: what is written is a spec it takes.
  return { spec: parseSpec({ ...spec, products }), weights };
}

/** Writes the suggested spec atomically (a temporary name, then a rename), its folder made if absent. */
export async function writeSuggestedSpec(path: string, spec: JobSpec, overwrite: boolean): Promise<void> {
  if (!overwrite && (await stat(path).catch(() => undefined)))
    throw new EvaluateError('OUTPUT_EXISTS', `--suggest ${path} appeared during the evaluation; pass --overwrite to replace it`);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(spec, null, 2)}\n`);
}

/** The rule, in words, for the report. */
export const SUGGEST_RULE =
  `new weight = old weight x (1 + ${SUGGEST_ALPHA} x the product's test error), the error being that of the classes ` +
  "its training frames fall into, weighted by their share; then all scaled to keep the weights' sum, " +
  `rounded to 3 significant digits. A weight moves by at most a factor of ${1 + SUGGEST_ALPHA} either way; equal errors change nothing.`;
