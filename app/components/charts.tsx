/**
 * Recharts wrappers in Leash's palette. Charts render in the browser only (Recharts measures
 * its container); the server renders a placeholder of the same size so the layout never jumps.
 * Bars navigate to the filtered inventory behind them.
 */
import { useNavigate } from '@remix-run/react'
import { useEffect, useState } from 'react'
import { Bar, BarChart, CartesianGrid, Cell, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, Legend } from 'recharts'
import { formatCount, formatDate } from './format'

export const SEVERITY_COLOURS: Record<string, string> = {
  critical: '#a4161a',
  high: '#c2410c',
  medium: '#b7791f',
  low: '#2f6f3e',
  info: '#46556a',
}

export const SERIES_COLOURS = ['#3b3fd8', '#0e7490', '#7c3aed', '#b45309', '#0f766e', '#be185d', '#4d7c0f', '#475569']

function useMounted(): boolean {
  const [mounted, setMounted] = useState(false)
  useEffect(() => setMounted(true), [])
  return mounted
}

function Placeholder({ height }: { height: number }) {
  return <div className="chart-placeholder" style={{ height }} aria-hidden="true" />
}

export interface BarDatum {
  label: string
  value: number
  href?: string
  colour?: string
}

/** Horizontal bars, one per category; clicking a bar opens its inventory. */
export function HorizontalBars({ data, height, valueLabel = 'Count' }: { data: BarDatum[]; height?: number; valueLabel?: string }) {
  const mounted = useMounted()
  const navigate = useNavigate()
  const chartHeight = height ?? Math.max(120, data.length * 34 + 30)
  if (!mounted) return <Placeholder height={chartHeight} />
  return (
    <ResponsiveContainer width="100%" height={chartHeight}>
      <BarChart data={data} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }}>
        <CartesianGrid horizontal={false} stroke="#e5e7eb" />
        <XAxis type="number" tickFormatter={(value: number) => formatCount(value)} tick={{ fill: '#57606a', fontSize: 12 }} />
        <YAxis type="category" dataKey="label" width={150} tick={{ fill: '#1b1f24', fontSize: 12 }} />
        <Tooltip formatter={(value: number) => [formatCount(value), valueLabel]} cursor={{ fill: '#eef0f4' }} />
        <Bar
          dataKey="value"
          name={valueLabel}
          radius={[0, 4, 4, 0]}
          isAnimationActive={false}
          cursor="pointer"
          onClick={(entry: { href?: string }) => {
            if (entry?.href) navigate(entry.href)
          }}
        >
          {data.map((datum, index) => (
            <Cell key={datum.label} fill={datum.colour ?? SERIES_COLOURS[index % SERIES_COLOURS.length]} />
          ))}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  )
}

/** Vertical bars (a histogram), e.g. credential ages. */
export function ColumnBars({ data, height = 220, valueLabel = 'Count' }: { data: BarDatum[]; height?: number; valueLabel?: string }) {
  const mounted = useMounted()
  const navigate = useNavigate()
  if (!mounted) return <Placeholder height={height} />
  return (
    <ResponsiveContainer width="100%" height={height}>
      <BarChart data={data} margin={{ top: 8, right: 8, bottom: 4, left: 8 }}>
        <CartesianGrid vertical={false} stroke="#e5e7eb" />
        <XAxis dataKey="label" tick={{ fill: '#1b1f24', fontSize: 12 }} interval={0} />
        <YAxis tickFormatter={(value: number) => formatCount(value)} tick={{ fill: '#57606a', fontSize: 12 }} width={60} />
        <Tooltip formatter={(value: number) => [formatCount(value), valueLabel]} cursor={{ fill: '#eef0f4' }} />
        <Bar
          dataKey="value"
          name={valueLabel}
          radius={[4, 4, 0, 0]}
          isAnimationActive={false}
          cursor="pointer"
          onClick={(entry: { href?: string }) => {
            if (entry?.href) navigate(entry.href)
          }}
        >
          {data.map((datum, index) => (
            <Cell key={datum.label} fill={datum.colour ?? SERIES_COLOURS[index % SERIES_COLOURS.length]} />
          ))}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  )
}

export interface TrendSeries {
  key: string
  label: string
  colour: string
  axis?: 'left' | 'right'
}

/** Lines over time (one point per posture snapshot). */
export function TrendLines({ data, series, height = 240 }: { data: Record<string, number | string>[]; series: TrendSeries[]; height?: number }) {
  const mounted = useMounted()
  if (!mounted) return <Placeholder height={height} />
  const hasRight = series.some((s) => s.axis === 'right')
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart data={data} margin={{ top: 8, right: 16, bottom: 4, left: 8 }}>
        <CartesianGrid stroke="#e5e7eb" vertical={false} />
        <XAxis dataKey="at" tickFormatter={(value: string) => formatDate(value)} tick={{ fill: '#57606a', fontSize: 12 }} minTickGap={32} />
        <YAxis yAxisId="left" tick={{ fill: '#57606a', fontSize: 12 }} width={48} tickFormatter={(value: number) => formatCount(value)} />
        {hasRight ? <YAxis yAxisId="right" orientation="right" tick={{ fill: '#57606a', fontSize: 12 }} width={60} tickFormatter={(value: number) => formatCount(value)} /> : null}
        <Tooltip labelFormatter={(value: string) => formatDate(value)} formatter={(value: number, name: string) => [formatCount(value), name]} />
        <Legend />
        {series.map((s) => (
          <Line key={s.key} yAxisId={s.axis ?? 'left'} type="monotone" dataKey={s.key} name={s.label} stroke={s.colour} strokeWidth={2} dot={false} isAnimationActive={false} />
        ))}
      </LineChart>
    </ResponsiveContainer>
  )
}
