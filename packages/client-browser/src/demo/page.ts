import { escapeHtml } from './html.js';

/**
 * The demo page's HTML. The page reads its demo token from the URL fragment (never sent to the
 * server in a request line or a log) and loads its script from `appUrl`.
 */
export function demoPageHtml(options: { appUrl: string; title?: string }): string {
  const title = escapeHtml(options.title ?? 'fedlearn — train MNIST in your browser');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <p>Your browser joins the running federated job: it trains on its own slice of MNIST digits, which
  never leave this page, and sends only a masked update when secure aggregation is on.</p>
</header>
<main>
  <section class="card" id="local">
    <h2>This page</h2>
    <button id="join" type="button" disabled>Join the job</button>
    <p>State: <span id="state" class="state" data-state="idle">idle</span></p>
    <dl>
      <dt>Client</dt><dd id="client-id">—</dd>
      <dt>Backend</dt><dd id="backend">—</dd>
      <dt>Local data</dt><dd id="examples">—</dd>
      <dt>Round</dt><dd id="round">—</dd>
      <dt>Epoch</dt><dd id="epoch">—</dd>
      <dt>Local loss</dt><dd id="local-loss">—</dd>
    </dl>
    <p id="error" class="error" hidden></p>
  </section>
  <section class="card" id="global">
    <h2>Global model, per round</h2>
    <canvas id="chart" width="520" height="220" aria-label="accuracy and loss per round"></canvas>
    <p class="legend"><span class="acc">■ accuracy</span> <span class="loss">■ loss</span></p>
    <h3>Participants</h3>
    <ol id="participants" reversed></ol>
  </section>
  <section class="card" id="draw">
    <h2>Draw a digit</h2>
    <canvas id="pad" width="280" height="280" aria-label="drawing pad"></canvas>
    <div><button id="clear" type="button">Clear</button></div>
    <p>Prediction of the global model (round <span id="model-round">—</span>): <strong id="prediction">—</strong></p>
    <ol id="probabilities" start="0"></ol>
  </section>
</main>
<script type="module" src="${escapeHtml(options.appUrl)}"></script>
</body>
</html>
`;
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2330; }
header { padding: 12px 24px; background: #1d2330; color: #fff; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; font-size: 13px; opacity: .85; max-width: 900px; }
main { display: grid; grid-template-columns: 300px 560px 320px; gap: 16px; padding: 16px 24px; }
.card { background: #fff; border-radius: 8px; padding: 12px 16px; box-shadow: 0 1px 3px #0002; }
h2 { font-size: 16px; margin: 0 0 8px; } h3 { font-size: 14px; margin: 8px 0 4px; }
dl { display: grid; grid-template-columns: 90px 1fr; gap: 2px 8px; font-size: 13px; }
dt { color: #667; } dd { margin: 0; font-variant-numeric: tabular-nums; }
button { font-size: 14px; padding: 6px 14px; border-radius: 6px; border: 1px solid #345; background: #2b6cb0; color: #fff; cursor: pointer; }
button:disabled { background: #9ab; cursor: default; }
#clear { background: #fff; color: #234; }
.state { padding: 2px 8px; border-radius: 10px; background: #dde; font-weight: 600; }
.state[data-state="training"] { background: #fde68a; }
.state[data-state="waiting"] { background: #c6f6d5; }
.state[data-state^="secagg"], .state[data-state="uploading"] { background: #bee3f8; }
.state[data-state="disconnected"], .state[data-state="paused"] { background: #fed7d7; }
.error { color: #b00020; font-size: 13px; }
#participants { font-size: 12px; max-height: 190px; overflow: auto; padding-left: 28px; margin: 0; }
.browser-tag { background: #2b6cb0; color: #fff; border-radius: 4px; padding: 0 4px; }
.node-tag { background: #38a169; color: #fff; border-radius: 4px; padding: 0 4px; }
.legend { font-size: 12px; margin: 2px 0; } .acc { color: #2b6cb0; } .loss { color: #dd6b20; }
#pad { background: #000; border-radius: 6px; touch-action: none; cursor: crosshair; }
#probabilities { font-size: 12px; padding-left: 24px; margin: 4px 0; }
#probabilities li span { display: inline-block; height: 9px; background: #2b6cb0; margin-left: 6px; }
`;
