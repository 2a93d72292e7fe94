/**
 * Charts with Chart.js (bundled, tree-shaken: only the parts registered here). The 95%
 * intervals are drawn as whiskers by a small Chart.js plugin on top of the bars.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartType,
  type Plugin,
  type TooltipItem,
} from 'chart.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

/** Per dataset, per bar: the interval in chart units (0..100), or null. */
export type Whiskers = ({ low: number; high: number } | null)[][];

declare module 'chart.js' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface PluginOptionsByType<TType extends ChartType> {
    whiskers?: { intervals: Whiskers; color?: string };
  }
}

/** Draws each bar's interval as a vertical whisker with caps. */
const whiskerPlugin: Plugin<'bar'> = {
  id: 'whiskers',
  afterDatasetsDraw(chart, _args, options: { intervals?: Whiskers; color?: string }) {
    const intervals = options.intervals;
    const y = chart.scales.y;
    if (!intervals || !y) return;
    const { ctx } = chart;
    ctx.save();
    ctx.strokeStyle = options.color ?? '#1d1b26';
    ctx.lineWidth = 1.5;
    intervals.forEach((perBar, datasetIndex) => {
      const meta = chart.getDatasetMeta(datasetIndex);
      if (!chart.isDatasetVisible(datasetIndex)) return;
      perBar.forEach((interval, index) => {
        const bar = meta.data[index] as (BarElement & { width?: number }) | undefined;
        if (!interval || !bar) return;
        const x = bar.x;
        const top = y.getPixelForValue(interval.high);
        const bottom = y.getPixelForValue(interval.low);
        const cap = Math.min(8, (bar.width ?? 16) / 4);
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, bottom);
        ctx.moveTo(x - cap, top);
        ctx.lineTo(x + cap, top);
        ctx.moveTo(x - cap, bottom);
        ctx.lineTo(x + cap, bottom);
        ctx.stroke();
      });
    });
    ctx.restore();
  },
};
Chart.register(whiskerPlugin);

export const COLORS = { bot: '#5b3cc4', bot_then_agent: '#c25e00', agent: '#1e7a4a', all: '#1d1b26', neutral: '#7d7890' };

const percentAxis = {
  min: 0,
  max: 100,
  ticks: { callback: (value: string | number) => `${value}%` },
  title: { display: true, text: 'CSAT' },
};

const baseOptions = {
  // Drawn at once: no animation (also for people who prefer reduced motion, and for screenshots).
  animation: false as const,
  responsive: true,
  maintainAspectRatio: false,
};

export interface BarSeries {
  label: string;
  color: string;
  /** Values 0..100 (null: no bar). */
  values: (number | null)[];
  intervals?: ({ low: number; high: number } | null)[];
  /** Shown in the tooltip beside the value, e.g. "n = 12". */
  notes?: string[];
  /** One colour per bar (else `color` for all). */
  colors?: string[];
  /** A thicker line (the "all" series among cohorts). */
  emphasis?: boolean;
}

function tooltipLabel(series: BarSeries[]) {
  return (item: TooltipItem<'bar'> | TooltipItem<'line'>) => {
    const s = series[item.datasetIndex];
    const value = item.parsed.y;
    const note = s?.notes?.[item.dataIndex];
    return `${s?.label ?? ''}: ${value === null || value === undefined ? '—' : `${value.toFixed(1)}%`}${note ? ` (${note})` : ''}`;
  };
}

/** A bar chart of percentages, grouped by label, with interval whiskers. */
export function barChart(canvas: HTMLCanvasElement, labels: string[], series: BarSeries[], options: { yTitle?: string; max?: number } = {}): Chart<'bar'> {
  const config: ChartConfiguration<'bar', (number | null)[], string> = {
    type: 'bar',
    data: {
      labels,
      datasets: series.map((s) => ({
        label: s.label,
        data: s.values,
        backgroundColor: s.colors ? s.colors.map((c) => `${c}cc`) : `${s.color}cc`,
        borderColor: s.colors ?? s.color,
        borderWidth: 1,
      })),
    },
    options: {
      ...baseOptions,
      scales: { y: { ...percentAxis, max: options.max ?? 100, title: { display: true, text: options.yTitle ?? 'CSAT' } } },
      plugins: {
        legend: { display: series.length > 1, position: 'bottom' },
        tooltip: { callbacks: { label: tooltipLabel(series) } },
        whiskers: { intervals: series.map((s) => s.intervals ?? []) },
      },
    },
  };
  return new Chart(canvas, config);
}

/** A line chart of percentages over a category axis (days); gaps where a day has no answers. */
export function lineChart(canvas: HTMLCanvasElement, labels: string[], series: BarSeries[]): Chart<'line'> {
  const config: ChartConfiguration<'line', (number | null)[], string> = {
    type: 'line',
    data: {
      labels,
      datasets: series.map((s) => ({ label: s.label, data: s.values, borderColor: s.color, backgroundColor: s.color, spanGaps: true, pointRadius: 3, tension: 0, borderWidth: s.emphasis ? 3 : 1.5 })),
    },
    options: {
      ...baseOptions,
      scales: { y: percentAxis, x: { ticks: { maxRotation: 0, autoSkip: true } } },
      plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { label: tooltipLabel(series) } } },
    },
  };
  return new Chart(canvas, config);
}

export type AnyChart = Chart<'bar'> | Chart<'line'>;
