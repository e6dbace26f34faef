/** The dashboard's stylesheet (inlined into the page; no external fonts or images). */
export const DASHBOARD_CSS = `
:root {
  --bg: #f4f6f9; --panel: #ffffff; --text: #1c2330; --muted: #667085; --line: #e3e7ee;
  --closed: #1f9d55; --open: #d64545; --half_open: #c98a0b; --unknown: #8a94a6;
  --closed-bg: #e7f6ee; --open-bg: #fdecec; --half_open-bg: #fdf4e1; --unknown-bg: #eef0f4;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #11151c; --panel: #1a202a; --text: #e6e9ef; --muted: #98a2b3; --line: #2a3240;
    --closed-bg: #163324; --open-bg: #3b1c1c; --half_open-bg: #3a2e12; --unknown-bg: #262c36;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
header.top {
  display: flex; flex-wrap: wrap; align-items: center; gap: 12px 18px; padding: 14px 24px;
  background: var(--panel); border-bottom: 1px solid var(--line);
}
h1 { font-size: 18px; margin: 0; letter-spacing: .02em; }
h1 small { font-weight: 400; color: var(--muted); margin-left: 6px; }
h2 {
  font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted);
  margin: 0 0 8px;
}
.spacer { flex: 1; }
.badge {
  display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px; border-radius: 999px;
  font-weight: 600; font-size: 12px; background: var(--unknown-bg); color: var(--text);
  white-space: nowrap;
}
.badge::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--unknown); }
.badge[data-status="ok"]::before { background: var(--closed); }
.badge[data-status="degraded"]::before { background: var(--half_open); }
.badge[data-status="down"]::before { background: var(--open); }
.badge[data-status="ok"] { background: var(--closed-bg); }
.badge[data-status="degraded"] { background: var(--half_open-bg); }
.badge[data-status="down"] { background: var(--open-bg); }
.live { font-size: 12px; color: var(--muted); display: inline-flex; align-items: center; gap: 6px; }
.live::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--unknown); }
.live[data-live="on"]::before { background: var(--closed); box-shadow: 0 0 0 3px var(--closed-bg); }
.live[data-live="off"]::before { background: var(--open); }
label.filter { font-size: 12px; color: var(--muted); display: inline-flex; align-items: center; gap: 6px; }
select {
  font: inherit; color: var(--text); background: var(--panel); border: 1px solid var(--line);
  border-radius: 6px; padding: 4px 8px;
}
.banner {
  margin: 12px 24px 0; padding: 10px 14px; border-radius: 8px; background: var(--open-bg);
  color: var(--text); border: 1px solid var(--open);
}
.wrap { padding: 16px 24px 24px; }
.summary { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 16px; }
.count {
  background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 8px 14px; min-width: 110px;
}
.count b { display: block; font-size: 22px; line-height: 1.2; }
.count span { font-size: 12px; color: var(--muted); }
.count[data-state] { border-left: 4px solid var(--unknown); }
.count[data-state="closed"] { border-left-color: var(--closed); }
.count[data-state="open"] { border-left-color: var(--open); }
.count[data-state="half_open"] { border-left-color: var(--half_open); }
.strip {
  background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
  padding: 10px 14px; margin-bottom: 16px;
}
.strip ol {
  list-style: none; margin: 0; padding: 0 0 4px; display: flex; gap: 8px; overflow-x: auto;
}
.strip li {
  flex: 0 0 auto; width: 250px; border: 1px solid var(--line); border-radius: 8px;
  padding: 6px 10px; font-size: 12px;
}
.strip .line {
  display: flex; align-items: center; gap: 6px; white-space: nowrap; overflow: hidden; min-width: 0;
}
.strip .line + .line { margin-top: 4px; }
.strip li time { color: var(--muted); font-variant-numeric: tabular-nums; }
.strip li .who { font-weight: 600; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
.strip li .why { color: var(--muted); overflow: hidden; text-overflow: ellipsis; min-width: 0; }
.arrow { color: var(--muted); margin: 0 3px; }
.empty { color: var(--muted); font-size: 13px; margin: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: 12px; }
.conn {
  background: var(--panel); border: 1px solid var(--line); border-left: 5px solid var(--unknown);
  border-radius: 10px; padding: 12px 14px; min-width: 0;
}
.conn[data-state="closed"] { border-left-color: var(--closed); }
.conn[data-state="open"] { border-left-color: var(--open); background: linear-gradient(90deg, var(--open-bg), var(--panel) 60%); }
.conn[data-state="half_open"] { border-left-color: var(--half_open); background: linear-gradient(90deg, var(--half_open-bg), var(--panel) 60%); }
.head { display: flex; align-items: center; gap: 8px; min-width: 0; }
.sub { display: flex; align-items: center; gap: 8px; min-width: 0; margin: 3px 0 10px; }
.ident {
  font-weight: 650; font-size: 15px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  min-width: 0;
}
.scope {
  font-size: 11px; color: var(--muted); border: 1px solid var(--line); border-radius: 5px;
  padding: 0 6px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 45%;
  flex: 0 1 auto;
}
.pill {
  display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 11px; font-weight: 700;
  color: #fff; background: var(--unknown); text-transform: uppercase; letter-spacing: .04em;
  white-space: nowrap;
}
.pill[data-state="closed"] { background: var(--closed); }
.pill[data-state="open"] { background: var(--open); }
.pill[data-state="half_open"] { background: var(--half_open); }
.head .pill { margin-left: auto; }
.since {
  color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; min-width: 0;
}
dl.stats { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px 8px; margin: 0 0 10px; }
dl.stats div { min-width: 0; }
dl.stats dt { font-size: 10.5px; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
dl.stats dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.bar { height: 5px; border-radius: 3px; background: var(--unknown-bg); overflow: hidden; margin-bottom: 8px; }
.bar span { display: block; height: 100%; width: 0; background: var(--closed); }
.bar[data-bad="1"] span { background: var(--half_open); }
.bar[data-bad="2"] span { background: var(--open); }
.reason {
  font-size: 12px; margin: 0; color: var(--text); overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap;
}
.reason .label { color: var(--muted); margin-right: 4px; }
.reason[data-none="1"] .label { margin-right: 0; }
.reason[data-none="1"] { color: var(--muted); }
footer { color: var(--muted); font-size: 11px; padding: 0 24px 18px; }
`;
