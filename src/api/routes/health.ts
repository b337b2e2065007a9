import { Type } from '@fastify/type-provider-typebox';
import type { ApiApp } from '../app.types.js';

/** `GET /health`: public, not rate-limited; says the process is up. */
export function registerHealthRoutes(app: ApiApp): void {
  app.get(
    '/health',
    {
      config: { access: 'public', rateLimit: false },
      schema: {
        summary: 'Liveness check (public)',
        tags: ['system'],
        security: [],
        response: { 200: Type.Object({ ok: Type.Boolean() }) },
      },
    },
    async () => ({ ok: true }),
  );
}
