import { Link } from '@remix-run/react'
import { useId } from 'react'

/** A labelled select for a GET filter form; the empty option means "any". */
export function FilterSelect({
  name,
  label,
  value,
  options,
  anyLabel = 'Any',
}: {
  name: string
  label: string
  value: string | undefined
  options: { value: string; label: string }[]
  anyLabel?: string
}) {
  const id = useId()
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} defaultValue={value ?? ''} key={value ?? ''}>
        <option value="">{anyLabel}</option>
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  )
}

/** A labelled text input for a GET filter form. */
export function FilterText({ name, label, value, placeholder, type = 'text' }: { name: string; label: string; value: string | undefined; placeholder?: string; type?: 'text' | 'search' }) {
  const id = useId()
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} name={name} type={type} defaultValue={value ?? ''} key={value ?? ''} placeholder={placeholder} />
    </div>
  )
}

/** The chips of the filters in force, each removable. */
export function ActiveFilters({ items, clearHref }: { items: { key: string; label: string; removeHref: string }[]; clearHref: string }) {
  if (items.length === 0) return null
  return (
    <div className="active-filters" aria-label="Filters in force">
      {items.map((item) => (
        <Link key={item.key} className="chip" to={item.removeHref} aria-label={`Remove filter ${item.label}`}>
          {item.label} <span aria-hidden="true">×</span>
        </Link>
      ))}
      <Link className="chip chip-clear" to={clearHref}>
        Clear all
      </Link>
    </div>
  )
}
