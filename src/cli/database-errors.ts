/**
 * Says in words why a database could not be opened: PostgreSQL's host not found, the connection
 * refused or timed out, a password refused, a database missing. Reads the error and its causes (Node's
 * `code`, PostgreSQL's SQLSTATE); returns undefined when none of them is a connection failure.
 * Imports nothing, so the entry point can load it at start-up.
 */
export function describeDatabaseFailure(error: unknown, dbUrl: string | undefined): string | undefined {
  const where = describeTarget(dbUrl);
  for (const cause of causes(error)) {
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    const host = where?.host ?? (typeof cause.hostname === 'string' ? cause.hostname : undefined) ?? 'the server';
    const at = `cannot connect to PostgreSQL at ${host}${where?.port ? `:${where.port}` : ''}`;
    switch (code) {
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `cannot connect to PostgreSQL at ${host}: host not found`;
      case 'ECONNREFUSED':
        return `${at}: connection refused (is the server running and listening there?)`;
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `${at}: no answer (${code})`;
      case 'ECONNRESET':
      case 'EPIPE':
        return `${at}: the server closed the connection`;
      case '28P01':
      case '28000':
        return `${at}: authentication failed${where?.user ? ` for user ${where.user}` : ''}`;
      case '3D000':
        return `${at}: database ${where?.database ? `"${where.database}" ` : ''}does not exist`;
      case '57P03':
        return `${at}: the server is starting up or shutting down`;
      default:
        if (
          typeof cause.message === 'string' &&
          /timeout expired|Connection terminated due to connection timeout/i.test(cause.message)
        ) {
          return `${at}: no answer (timed out)`;
        }
    }
  }
  return undefined;
}

function describeTarget(
  dbUrl: string | undefined,
): { host: string; port?: string; user?: string; database?: string } | undefined {
  if (!dbUrl || !/^postgres(ql)?:\/\//i.test(dbUrl)) return undefined;
  try {
    const url = new URL(dbUrl);
    return {
      host: url.hostname || 'localhost',
      port: url.port || undefined,
      user: url.username ? decodeURIComponent(url.username) : undefined,
      database: url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined,
    };
  } catch {
    return undefined;
  }
}

/** The error, its `cause` chain and the errors of an AggregateError (Node tries every address of a host). */
function* causes(error: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (depth > 8 || typeof error !== 'object' || error === null) return;
  const record = error as Record<string, unknown>;
  yield record;
  if (Array.isArray(record.errors)) for (const inner of record.errors) yield* causes(inner, depth + 1);
  yield* causes(record.cause, depth + 1);
}
