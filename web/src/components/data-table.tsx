import type { ReactNode } from 'react';
import { TableScroll } from '../ui.js';

/** One column of a `DataTable`: its heading, what it shows for a row, and an optional class for both. */
export interface Column<Row> {
  head: ReactNode;
  cell: (row: Row) => ReactNode;
  /** `wrap`: the heading and cells may wrap (cells of text, such as a list of names, keep a readable width). */
  className?: string;
}

/**
 * A `.table` with one heading row and a row for each item. With `empty`, shows that instead when there
 * are no rows; with `scroll`, puts the table in a `TableScroll` box (it scrolls sideways inside its
 * card, with a hint when it is wider than the card).
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
            <th key={i} className={column.className}>
              {column.head}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map((column, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: as above.
              <td key={i} className={column.className}>
                {column.cell(row)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
  return scroll ? <TableScroll>{table}</TableScroll> : table;
}
