// Read-only diagram for staff pages and the diff view:
// <div class="qlvb-diagram" data-bpmn-url="…" data-done='["register"]' data-active='["assign"]'></div>
// Optional data-added / data-removed / data-changed lists mark a version diff.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import './qlvb-designer.css';

import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

const MARKERS = { done: 'qlvb-done', active: 'qlvb-active', added: 'qlvb-added', removed: 'qlvb-removed',
  changed: 'qlvb-changed' };

function ids(node, name) {
  try {
    const value = JSON.parse(node.dataset[name] || '[]');
    return Array.isArray(value) ? value : [];
  } catch (err) {
    return [];
  }
}

// bpmn-js's watermark link (kept, as its licence asks) carries only a logo: give it a name for screen readers.
export function nameWatermark(root) {
  for (const link of root.querySelectorAll('.bjs-powered-by')) {
    link.setAttribute('aria-label', 'Sơ đồ hiển thị bằng thư viện bpmn.io');
  }
}

async function render(node) {
  const viewer = new NavigatedViewer({ container: node });
  node.qlvbViewer = viewer;
  try {
    const xml = node.dataset.bpmnXml || await (await fetch(node.dataset.bpmnUrl, { credentials: 'same-origin' })).text();
    await viewer.importXML(xml);
  } catch (err) {
    node.innerHTML = '<p class="text-danger" style="padding:12px">Không hiển thị được sơ đồ quy trình.</p>';
    return;
  }
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  for (const [name, marker] of Object.entries(MARKERS)) {
    for (const id of ids(node, name)) {
      if (registry.get(id)) canvas.addMarker(id, marker);
    }
  }
  canvas.zoom('fit-viewport');
  nameWatermark(node);
  node.classList.add('qlvb-ready');
}

function renderAll() {
  for (const node of document.querySelectorAll('.qlvb-diagram:not(.qlvb-ready)')) render(node);
}

window.qlvbRenderDiagrams = renderAll;
document.addEventListener('DOMContentLoaded', renderAll);
