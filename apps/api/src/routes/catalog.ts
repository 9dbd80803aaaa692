import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BUILTIN_HDRIS, CatalogColor, builtinCatalog } from '@synthline/spec';

export const CatalogView = z
  .object({
    models: z.array(
      z.object({
        id: z.string().describe('what a spec names in products[].asset'),
        name: z.string(),
        colors: z.array(CatalogColor),
      }),
    ),
    hdris: z.array(z.string()).describe('what a spec may list in world.hdris'),
    backgrounds: z.array(z.string()),
  })
  .meta({ id: 'Catalog' });
export type CatalogView = z.infer<typeof CatalogView>;

/** The catalog as clients see it: model ids as a spec writes them. */
export function catalogView(): CatalogView {
  return {
    models: builtinCatalog().models.map((m) => ({
      id: `builtin:${m.id}`,
      name: m.name,
      colors: m.colors.map((c) => ({ name: c.name, srgb: c.srgb })),
    })),
    hdris: [...BUILTIN_HDRIS],
    backgrounds: ['belt'],
  };
}

/** `GET /v1/catalog`: what a spec can name. */
export const catalogRoute: FastifyPluginAsyncZod = async (app) => {
  const view = catalogView();
  app.get(
    '/v1/catalog',
    { schema: { summary: 'Models, colours, HDRIs and backgrounds a spec can use', tags: ['catalog'], response: { 200: CatalogView } } },
    async () => view,
  );
};
