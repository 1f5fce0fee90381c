import { z } from 'zod';
import type { MlflowHttp } from './http.js';
import { expectShape } from './schemas.js';

/**
 * GETs every page of one of MLflow's paged endpoints (`page_token` in, `next_page_token` out)
 * and returns the items listed under `field`, each validated with `item`.
 *
 * @example await getAllPages(http, 'model-versions/search', 'model_versions', modelVersionSchema, { filter: "name='mnist'" })
 */
export async function getAllPages<T extends z.ZodType>(
  http: MlflowHttp,
  endpoint: string,
  field: string,
  item: T,
  query: Record<string, unknown>,
): Promise<z.infer<T>[]> {
  const pageSchema = z.object({
    [field]: z.array(item).optional().default([]),
    next_page_token: z.string().optional(),
  });
  const out: z.infer<T>[] = [];
  let token: string | undefined;
  do {
    const res = await http.call('GET', endpoint, { ...query, page_token: token });
    const page = expectShape(pageSchema, res, endpoint) as Record<string, unknown>;
    out.push(...(page[field] as z.infer<T>[]));
    token = (page['next_page_token'] as string | undefined) || undefined;
  } while (token);
  return out;
}
