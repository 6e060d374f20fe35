export { histogramSvg, lineChartSvg, barChartSvg, niceTicks, escapeXml, type ChartOptions, type Series, type Bar } from './svg';
