import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { z } from 'zod';
import { AssetLibrary, ScanEntry } from '@synthline/library';
import { notFound, problemResponses } from '../problem.ts';
import { sendBytes } from '../send-bytes.ts';
import type { RouteDeps } from './deps.ts';

const AssetsView = z
  .object({
    library: z.string(),
    products: z.array(
      ScanEntry.extend({
        asset: z.string(),
        usable: z.boolean(),
        reason: z.string().nullable(),
        thumbnail: z.string().nullable().describe('where its thumbnail is served (rendered by the last scan); null: none'),
      }),
    ),
    backgrounds: z.array(z.string()),
    hdris: z.array(z.string()),
  })
  .meta({ id: 'Assets' });

/**
 * `GET /v1/assets`: the asset library's products as the last scan saw them (`synthline assets
 * scan`), whether each can be used in a spec and why not, and the background photos.
 */
export const assetsRoute: FastifyPluginAsyncZod<RouteDeps> = async (app, { libraryRoot, redact }) => {
  app.get('/v1/assets', { schema: { summary: 'The asset library', tags: ['assets'], response: { 200: AssetsView } } }, async () => {
    const lib = await AssetLibrary.open(libraryRoot);
    const products = lib.folders.map((f) => {
      const found = lib.lookup(f.id);
      const scanned = lib.scanFile.products[f.id];
      const base: ScanEntry = scanned ?? {
        id: f.id,
        ok: false,
        model_file: f.modelPath,
        format: f.format,
        size: f.size,
        mtime_ms: f.mtimeMs,
        name: f.product?.name ?? null,
        class: f.product ? (f.product.class ?? f.id) : null,
        dimensions_m: null,
        color_slots: f.product?.color_slots ?? [],
        colors: f.product?.colors ?? [],
        probe: null,
        errors: f.errors,
        warnings: [],
        scanned_at: '',
      };
      // Model files relative to the library, messages without the server's folders.
      const modelFile = base.model_file && isAbsolute(base.model_file) ? relative(lib.root, base.model_file) : base.model_file;
      return {
        ...base,
        model_file: modelFile,
        errors: base.errors.map(redact),
        warnings: base.warnings.map(redact),
        asset: `library:${f.id}`,
        usable: !('error' in found),
        reason: 'error' in found ? redact(found.error) : null,
        thumbnail: !('error' in found) && existsSync(lib.thumbnailPath(f.id)) ? `/v1/assets/${f.id}/thumbnail` : null,
      };
    });
    return {
      library: lib.root.startsWith('s3://') ? lib.root : '<library>',
      products,
      backgrounds: lib.backgrounds.map((b) => b.name),
      hdris: lib.hdris.map((h) => h.name),
    };
  });

  app.get(
    '/v1/assets/:id/thumbnail',
    {
      schema: {
        summary: "A usable product's thumbnail (a PNG the last scan rendered)",
        tags: ['assets'],
        params: z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a product id: letters, digits, "-" and "_"') }),
        response: {
          200: { description: 'a PNG', content: { 'image/png': { schema: z.string().meta({ format: 'binary' }) } } },
          ...problemResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const lib = await AssetLibrary.open(libraryRoot);
      const found = lib.lookup(id);
      if ('error' in found) throw notFound(`no usable product library:${id}: ${redact(found.error)}`);
      const png = await readFile(lib.thumbnailPath(id)).catch(() => undefined);
      if (!png) throw notFound(`library:${id} has no thumbnail: run synthline assets scan`);
      return sendBytes(reply, 'image/png', png);
    },
  );
};
