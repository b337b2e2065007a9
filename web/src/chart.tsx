import { BarChart, HeatmapChart, LineChart } from 'echarts/charts';
import {
  AriaComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { type EChartsCoreOption, init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

// Only what the pages draw, so the bundle carries no unused chart types.
use([
  BarChart,
  HeatmapChart,
  LineChart,
  AriaComponent,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

/** The dashboard palette: a blue for the main series, a teal beside it, readable on white. */
export const PALETTE = ['#1f5eff', '#14a38b', '#f29d38', '#8a5cf6', '#e5484d'];

/** Text styles shared by every chart. */
export const AXIS_NAME = { color: '#4a5468', fontSize: 12 };

/** An ECharts chart that follows its container's size; `label` names it for screen readers. */
export function Chart({ option, height = 320, label }: { option: EChartsCoreOption; height?: number; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<typeof init> | null>(null);
  useEffect(() => {
    if (!ref.current) return;
    const instance = init(ref.current, null, { renderer: 'canvas' });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(ref.current);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(
      {
        color: PALETTE,
        aria: { enabled: true, label: { description: label } },
        textStyle: { fontFamily: 'inherit' },
        animationDuration: 300,
        ...option,
      },
      { notMerge: true },
    );
  }, [option, label]);
  return <div className="chart" ref={ref} style={{ height }} role="img" aria-label={label} />;
}
