// Statistics charts (SoICT dashboard, agency statistics): Chart.js from node_modules, bundled locally.
// A page declares <canvas data-chart="ID"> and <script type="application/json" id="ID">{type, data, options}</script>;
// no inline script runs, so the page works under a strict Content-Security-Policy.
import Chart from 'chart.js/auto';

// An axis marked {percent: true} in the page's JSON shows "40%" ticks (functions cannot travel in JSON).
function percentTicks(options) {
  for (const axis of Object.values(options?.scales || {})) {
    if (axis && axis.percent) {
      delete axis.percent;
      axis.ticks = { ...(axis.ticks || {}), callback: (v) => v + '%' };
    }
  }
  return options;
}

function render(canvas) {
  const source = document.getElementById(canvas.dataset.chart);
  if (!source) return;
  const spec = JSON.parse(source.textContent);
  Chart.defaults.font.family = '"Helvetica Neue", Helvetica, Arial, sans-serif';
  // eslint-disable-next-line no-new
  new Chart(canvas, { type: spec.type || 'bar', data: spec.data, options: percentTicks(spec.options || {}) });
}

document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('canvas[data-chart]').forEach(render);
});
