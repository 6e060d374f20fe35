/** The report pages' shared style sheet (inline in every page: nothing is fetched). */
export const BASE_STYLE = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header p { margin: 2px 0; color: #c9cfdb; font-size: 13px; }
nav { background: #fff; border-bottom: 1px solid #dde1e8; padding: 8px 28px; font-size: 13px; position: sticky; top: 0; }
nav a { margin-right: 14px; color: #2f5da8; text-decoration: none; }
main { padding: 8px 28px 40px; max-width: 1800px; }
section { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 12px 18px 16px; margin: 16px 0; }
h2 { font-size: 17px; margin: 4px 0 10px; }
h3 { font-size: 14px; margin: 14px 0 6px; color: #3a4356; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border-bottom: 1px solid #eceef2; padding: 4px 10px; text-align: left; vertical-align: top; }
thead th { background: #f0f2f5; font-weight: 600; }
table.kv th { font-weight: 500; color: #4a5468; width: 220px; }
table.tasks td:nth-child(n+3), table.history td.num { text-align: right; font-variant-numeric: tabular-nums; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 14px 0; }
.card { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 10px 16px; min-width: 170px; flex: 1 1 220px; }
.card .label { font-size: 12px; color: #5b6477; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: 600; margin: 2px 0; }
.card .sub { font-size: 12px; color: #5b6477; }
.charts { display: flex; flex-wrap: wrap; gap: 14px; }
figure.chart { margin: 8px 0; }
.na { color: #8a5a00; background: #fff7e6; border: 1px solid #f3d9a4; padding: 6px 10px; border-radius: 4px; font-size: 13px; }
.note { color: #5b6477; font-size: 12px; }
.status { padding: 1px 8px; border-radius: 10px; font-size: 12px; }
.status.completed { background: #e3f4e6; color: #1e6b2f; }
.status.failed { background: #fde6e6; color: #a11d1d; }
.status.interrupted { background: #fff1d6; color: #8a5a00; }
code { font-size: 12px; background: #f0f2f5; padding: 1px 4px; border-radius: 3px; }

/* One meaning per colour, everywhere: resolved green, unresolved red, error amber. */
.badge { padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.resolved { background: #e3f4e6; color: #1e6b2f; }
.badge.unresolved { background: #fde6e6; color: #a11d1d; }
.badge.error { background: #fff1d6; color: #8a5a00; }
header a { color: #c9d8f5; }
a { color: #2f5da8; }
.illustrative { display: inline-block; font-size: 11px; color: #8a5a00; background: #fff7e6; border: 1px dashed #e0b860; border-radius: 3px; padding: 0 4px; }
.look { margin: 4px 0 12px; font-size: 14px; color: #4a5468; }
a.button { display: inline-block; background: #2f5da8; color: #fff; padding: 6px 14px; border-radius: 5px; text-decoration: none; font-weight: 600; margin-right: 8px; }
.count { font-weight: 600; }
.count.resolved { color: #1e6b2f; }
.count.unresolved { color: #a11d1d; }
.count.error { color: #8a5a00; }
.zero { color: #b0b6c3; }
a.trial { display: inline-block; font-size: 12px; padding: 0 6px; border-radius: 8px; text-decoration: none; margin: 1px 2px; }
a.trial.unresolved { background: #fde6e6; color: #a11d1d; }
a.trial.error { background: #fff1d6; color: #8a5a00; }
.definition { font-size: 13px; color: #3a4356; background: #f4f6fa; border-radius: 4px; padding: 6px 10px; max-width: 1100px; }
.charts .side { align-self: center; }
figure.runs-chart { margin: 8px 0; }
details { margin: 6px 0; }
`;
