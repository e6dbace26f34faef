/**
 * `brama.wrap` around a database query function (a `pg`-like pool), with `isFailure` and
 * `fallback`. Uses an in-file fake pool: `npx tsx examples/wrap-db.ts`.
 */
import { Brama } from 'brama';

/** The little of `pg.Pool` this example needs. */
interface QueryResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}
interface Pool {
  query(text: string, values?: readonly unknown[]): Promise<QueryResult>;
}

/** Errors from the database carry a SQLSTATE `code`, as `pg`'s do. */
class DatabaseError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'DatabaseError';
  }
}

/** A fake pool: rejects duplicates like a unique index, and fails everything while `down`. */
class FakePool implements Pool {
  down = false;
  calls = 0;
  private readonly orders = new Map<number, string>([[1, 'pending']]);

  query(text: string, values: readonly unknown[] = []): Promise<QueryResult> {
    this.calls++;
    if (this.down) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    const id = Number(values[0]);
    if (text.startsWith('INSERT')) {
      if (this.orders.has(id)) {
        const message = 'duplicate key value violates unique constraint "orders_pkey"';
        return Promise.reject(new DatabaseError(message, '23505'));
      }
      this.orders.set(id, String(values[1]));
      return Promise.resolve({ rows: [], rowCount: 1 });
    }
    const status = this.orders.get(id);
    return Promise.resolve({ rows: status ? [{ id, status }] : [], rowCount: status ? 1 : 0 });
  }
}

const pool = new FakePool();
const brama = new Brama();

/** SQLSTATE class 23: integrity constraint violations are the caller's fault, not the database's. */
const isConstraintViolation = (error: unknown): boolean =>
  error instanceof DatabaseError && error.code.startsWith('23');

// Same parameters as pool.query; returns Promise<QueryResult>.
const query = brama.wrap('orders-db', pool.query.bind(pool), {
  maxAttempts: 2,
  expiry: 15_000,
  isFailure: (error) => !isConstraintViolation(error),
  // Called instead of throwing CircuitOpenError, with the call's arguments after the error.
  fallback: (error, text) => {
    console.log(`orders-db refused "${text}", retry in ${error.retryAfterMs} ms`);
    return { rows: [], rowCount: 0 };
  },
});

await query('INSERT INTO orders VALUES ($1, $2)', [1, 'paid']).catch((error: unknown) =>
  console.log(String(error)),
); // DatabaseError: duplicate key ... (re-thrown unchanged, not counted)
console.log(brama.status('orders-db').failureCount); // 0

console.log((await query('SELECT * FROM orders WHERE id = $1', [1])).rows); // [ { id: 1, status: 'pending' } ]

pool.down = true;
for (let i = 0; i < 2; i++) {
  await query('SELECT * FROM orders WHERE id = $1', [1]).catch((error: unknown) =>
    console.log(String(error)),
  ); // Error: connect ECONNREFUSED ... (counted)
}
console.log(brama.status('orders-db').state); // 'open'

const callsBefore = pool.calls;
const fallbackResult = await query('SELECT * FROM orders WHERE id = $1', [1]); // the fallback's
console.log(fallbackResult, pool.calls === callsBefore); // { rows: [], rowCount: 0 } true
