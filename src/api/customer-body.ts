import { Type } from '@fastify/type-provider-typebox';
import { ComebackError } from '../errors.js';
import { resolveCustomerRef } from '../segments/index.js';
import type { Db } from '../store/index.js';

/**
 * The two ways a request body names a customer, one of them required: Comeback's id, or the way a
 * person names one on the command line (`resolveCustomerRef`): the store's own id (`14646`, or
 * `online-retail:14646`), an e-mail, or `#17` for Comeback's id.
 */
export const CUSTOMER_FIELDS = {
  customerId: Type.Optional(Type.Integer({ minimum: 1, description: 'Comeback’s id of the customer' })),
  customer: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 320,
      description: 'or the store’s own customer id (bare or source:id), an e-mail, or #id for Comeback’s id',
    }),
  ),
};

/**
 * Comeback's id of the customer a body names by `customerId` or `customer` (exactly one). Throws
 * `bad_input` naming the field: neither or both given, no such customer, a bare id that names several.
 */
export async function customerOfBody(db: Db, body: { customerId?: number; customer?: string }): Promise<number> {
  if (body.customerId !== undefined && body.customer !== undefined) {
    throw new ComebackError('bad_input', 'give customerId or customer, not both', { location: { field: 'customer' } });
  }
  if (body.customer !== undefined) {
    try {
      return await resolveCustomerRef(db, body.customer);
    } catch (error) {
      if (error instanceof ComebackError)
        throw new ComebackError('bad_input', error.message, { location: { field: 'customer' } });
      throw error;
    }
  }
  if (body.customerId === undefined) {
    throw new ComebackError('bad_input', 'customerId or customer is required', { location: { field: 'customerId' } });
  }
  const found = await db.selectFrom('customers').select('id').where('id', '=', body.customerId).executeTakeFirst();
  if (!found) {
    throw new ComebackError('bad_input', `no customer ${body.customerId}`, { location: { field: 'customerId' } });
  }
  return body.customerId;
}
