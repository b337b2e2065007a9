import { Type } from '@fastify/type-provider-typebox';
import { messagingSettings, saveMessagingSettings } from '../../campaigns/index.js';
import type { ApiApp, RouteDeps } from '../app.types.js';

/**
 * The store's messaging settings (what `comeback flows settings` shows and changes): `GET
 * /settings/messaging` and `PATCH /settings/messaging` with the fields to change, both admin. A bad
 * value answers 400 naming the field (`storeUrl` must be an https address); nothing is saved then.
 */
export function registerSettingsRoutes(app: ApiApp, deps: RouteDeps): void {
  app.get(
    '/settings/messaging',
    { config: { access: 'admin' }, schema: { summary: 'The store’s messaging settings', tags: ['flows'] } },
    async () => messagingSettings(deps.store.db),
  );
  app.patch(
    '/settings/messaging',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Change messaging settings (store name and address, sender, zone, quiet hours, helpdesk …)',
        tags: ['flows'],
        body: Type.Record(Type.String(), Type.Unknown()),
      },
    },
    async (request) => saveMessagingSettings(deps.store.db, request.body),
  );
}
