import type { ReactNode } from 'react';

/** A table's header row: one column header per name and, with `actions`, a last column of row
 *  buttons that screen readers hear as "Actions". */
export function TableHead({ columns, actions = false }: { columns: readonly ReactNode[]; actions?: boolean }) {
  return (
    <thead>
      <tr>
        {columns.map((column, i) => (
          <th scope="col" key={i}>
            {column}
          </th>
        ))}
        {actions && (
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        )}
      </tr>
    </thead>
  );
}
