import { Link } from '@remix-run/react'
import { useId, useState } from 'react'

export interface ChartTableColumn {
  header: string
  align?: 'left' | 'right'
}

export interface ChartTableRow {
  key: string
  cells: React.ReactNode[]
  /** Link for the row's first cell (the filtered inventory behind the number). */
  href?: string
}

/**
 * A panel with a chart and its text alternative: a "Show as table" toggle swaps the chart for
 * a table of the same numbers. The chart itself carries an accessible name and a summary.
 */
export function ChartCard({
  title,
  description,
  summary,
  chart,
  columns,
  rows,
  empty,
  footer,
  className,
}: {
  title: string
  description?: React.ReactNode
  /** One sentence a screen reader hears for the chart, e.g. "Most open findings are in over-privilege (1,204)". */
  summary: string
  chart: React.ReactNode
  columns: ChartTableColumn[]
  rows: ChartTableRow[]
  /** Shown instead of the chart when there is nothing to draw. */
  empty?: React.ReactNode
  footer?: React.ReactNode
  className?: string
}) {
  const [asTable, setAsTable] = useState(false)
  const headingId = useId()
  const hasData = rows.length > 0
  return (
    <section className={`panel chart-card ${className ?? ''}`} aria-labelledby={headingId}>
      <header className="chart-card-header">
        <div>
          <h2 id={headingId}>{title}</h2>
          {description ? <p className="muted small">{description}</p> : null}
        </div>
        {hasData ? (
          <button type="button" className="button button-ghost button-small" aria-pressed={asTable} onClick={() => setAsTable((value) => !value)}>
            {asTable ? 'Show as chart' : 'Show as table'}
          </button>
        ) : null}
      </header>
      {!hasData ? (
        <div className="chart-empty muted">{empty ?? 'Nothing to show yet.'}</div>
      ) : asTable ? (
        <table className="data-table compact">
          <caption className="visually-hidden">{title}</caption>
          <thead>
            <tr>
              {columns.map((column) => (
                <th key={column.header} scope="col" className={column.align === 'right' ? 'num' : undefined}>
                  {column.header}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.key}>
                {row.cells.map((cell, index) => (
                  <td key={index} className={columns[index]?.align === 'right' ? 'num' : undefined}>
                    {index === 0 && row.href ? <Link to={row.href}>{cell}</Link> : cell}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <div className="chart-frame" role="img" aria-label={`${title}: ${summary}`}>
          {chart}
        </div>
      )}
      {footer ? <footer className="chart-card-footer small muted">{footer}</footer> : null}
    </section>
  )
}
