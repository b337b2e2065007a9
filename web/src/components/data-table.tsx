import type { ReactNode } from 'react';

/** One column of a `DataTable`: its heading and what it shows for a row. */
export interface Column<Row> {
  head: ReactNode;
  cell: (row: Row) => ReactNode;
}

/**
 * A `.table` with one heading row and a row for each item. With `empty`, shows that instead when there
 * are no rows; with `scroll`, puts the table in a `.table-scroll` box.
 */
export function DataTable<Row>({
  rows,
  rowKey,
  columns,
  empty,
  scroll,
  testId,
}: {
  rows: readonly Row[];
  rowKey: (row: Row) => string | number;
  columns: ReadonlyArray<Column<Row>>;
  empty?: ReactNode;
  scroll?: boolean;
  testId?: string;
}) {
  if (empty !== undefined && rows.length === 0) return <>{empty}</>;
  const table = (
    <table className="table" data-testid={testId}>
      <thead>
        <tr>
          {columns.map((column, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the columns are fixed, so their place is their identity.
            <th key={i}>{column.head}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map((column, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: as above.
              <td key={i}>{column.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
  return scroll ? <div className="table-scroll">{table}</div> : table;
}
