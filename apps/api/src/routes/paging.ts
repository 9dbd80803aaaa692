import { z } from 'zod';

/** The query of a paged list (`GET /v1/jobs`, `GET /v1/evaluations`): a cursor and a page size. */
export const PageQuery = z.strictObject({
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,120}$/, 'expected the next_cursor of a previous page')
    .optional()
    .describe('the `next_cursor` of the previous page; absent: the first page'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** One page of a paged list: its items, how many there are in all, and the cursor of the next. */
export function pageOf<T extends z.ZodType>(items: T, id: string, total: string) {
  return z
    .object({
      items: z.array(items),
      total: z.number().int().describe(total),
      limit: z.number().int(),
      next_cursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
    })
    .meta({ id });
}
