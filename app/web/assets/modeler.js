// The routing designer: bpmn-js modeler + a small QLVB properties panel + server-side validation shown
// on the elements. The page passes everything through data attributes on #qlvb-modeler.
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import './qlvb-designer.css';

import Modeler from 'bpmn-js/lib/Modeler';
import spiffworkflow from './spiffworkflow.json';
import qlvb from './qlvb.json';
import { restrictModule, translateModule } from './qlvb-modules.js';

const SPIFF_PROPS = 'spiffworkflow:Properties';

function esc(text) {
  return String(text == null ? '' : text).replace(/[&<>"']/g, (c) => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
  }[c]));
}

function is(element, type) {
  const bo = element && element.businessObject;
  return !!(bo && bo.$instanceOf && bo.$instanceOf(type));
}

class Designer {
  constructor(root) {
    this.root = root;
    this.cfg = {
      xmlUrl: root.dataset.xmlUrl,
      saveUrl: root.dataset.saveUrl,
      checkUrl: root.dataset.checkUrl,
      csrf: root.dataset.csrf,
      roles: JSON.parse(root.dataset.roles || '{}'),
      forms: JSON.parse(root.dataset.forms || '{}'),
      kinds: JSON.parse(root.dataset.kinds || '{}'),
      roleNames: JSON.parse(root.dataset.roleNames || '{}'),
      fields: JSON.parse(root.dataset.fields || '{}'),
      readonly: root.dataset.readonly === 'true',
    };
    this.problems = [];
    this.panel = document.getElementById('qlvb-panel');
    this.problemBox = document.getElementById('qlvb-problems');
    this.status = document.getElementById('qlvb-status');
    this.modeler = new Modeler({
      container: root.querySelector('.qlvb-canvas'),
      moddleExtensions: { spiffworkflow, qlvb },
      additionalModules: [translateModule, restrictModule],
    });
    window.qlvbModeler = this.modeler;
    window.qlvbDesigner = this;
    this.modeling = this.modeler.get('modeling');
    this.moddle = this.modeler.get('moddle');
    this.registry = this.modeler.get('elementRegistry');
    this.modeler.on('selection.changed', (e) => this.renderPanel(e.newSelection[0]));
    this.modeler.on('element.changed', (e) => {
      if (this.selected && e.element === this.selected && !this.editing) this.renderPanel(this.selected);
      this.setStatus('Có thay đổi chưa lưu', 'warning');
      this.dirty = true;
    });
    for (const button of document.querySelectorAll('[data-qlvb-action]')) {
      button.addEventListener('click', (event) => this.onAction(event, button.dataset.qlvbAction));
    }
    window.addEventListener('beforeunload', (event) => {
      if (this.dirty) event.preventDefault();
    });
  }

  async load() {
    const response = await fetch(this.cfg.xmlUrl, { credentials: 'same-origin' });
    const xml = await response.text();
    await this.modeler.importXML(xml);
    this.fit();
    this.dirty = false;
    this.renderPanel(null);
    const initial = this.root.dataset.problems;
    if (initial) this.showProblems(JSON.parse(initial));
    for (const link of this.root.querySelectorAll('.bjs-powered-by')) {
      link.setAttribute('aria-label', 'Sơ đồ vẽ bằng thư viện bpmn.io');
    }
    this.root.classList.add('qlvb-ready');
  }

  fit() {
    // Fit the diagram, leaving room on the left for the palette so it never covers the lane labels.
    const canvas = this.modeler.get('canvas');
    canvas.zoom('fit-viewport');
    const box = canvas.viewbox();
    const palette = this.root.querySelector('.djs-palette');
    const room = ((palette ? palette.getBoundingClientRect().width : 50) + 24) / box.scale;
    canvas.viewbox({ x: box.x - room, y: box.y - 12 / box.scale, width: box.width + room, height: box.height + 24 / box.scale });
  }

  setStatus(text, kind) {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.className = 'label label-' + (kind || 'default');
  }

  async onAction(event, action) {
    event.preventDefault();
    if (action === 'save') {
      await this.save();
    } else if (action === 'publish') {
      const form = event.target.closest('form');
      const note = form.querySelector('[name=note]');
      if (!note.value.trim()) {
        note.focus();
        this.setStatus('Hãy ghi nội dung thay đổi trước khi ban hành', 'danger');
        return;
      }
      const result = await this.save();
      if (result && result.problems.length === 0) {
        this.dirty = false;
        form.submit();
      }
    } else if (action === 'fit') {
      this.fit();
    } else if (action === 'download') {
      const { xml } = await this.modeler.saveXML({ format: true });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([xml], { type: 'application/xml' }));
      link.download = (this.root.dataset.processKey || 'quy_trinh') + '.bpmn';
      link.click();
    }
  }

  async save() {
    const { xml } = await this.modeler.saveXML({ format: true });
    this.setStatus('Đang lưu và kiểm tra…', 'info');
    const response = await fetch(this.cfg.saveUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': this.cfg.csrf, Accept: 'application/json' },
      body: JSON.stringify({ xml }),
    });
    let result;
    try {
      result = await response.json();
    } catch (err) {
      this.setStatus('Máy chủ không trả lời đúng định dạng; chưa lưu được', 'danger');
      return null;
    }
    if (!response.ok && !result.problems) {
      this.setStatus(result.error || 'Không lưu được sơ đồ', 'danger');
      this.showProblems((result.details || []).map((m) => ({ element_id: null, message: m })));
      return null;
    }
    this.dirty = false;
    this.showProblems(result.problems);
    if (result.problems.length) {
      this.setStatus(`Đã lưu bản nháp số ${result.version.number} — còn ${result.problems.length} lỗi cần sửa`, 'danger');
    } else {
      this.setStatus(`Đã lưu bản nháp số ${result.version.number} — sơ đồ hợp lệ, có thể ban hành`, 'success');
    }
    return result;
  }

  showProblems(problems) {
    const canvas = this.modeler.get('canvas');
    const overlays = this.modeler.get('overlays');
    for (const old of this.problems) {
      if (old.element_id && this.registry.get(old.element_id)) canvas.removeMarker(old.element_id, 'qlvb-problem');
    }
    overlays.remove({ type: 'qlvb-problem' });
    this.problems = problems || [];
    const perElement = {};
    for (const p of this.problems) {
      if (p.element_id && this.registry.get(p.element_id)) {
        (perElement[p.element_id] = perElement[p.element_id] || []).push(p.message);
      }
    }
    for (const [id, messages] of Object.entries(perElement)) {
      canvas.addMarker(id, 'qlvb-problem');
      const element = this.registry.get(id);
      const position = element.waypoints ? { top: -10, left: -10 } : { top: -12, right: 12 };
      overlays.add(id, 'qlvb-problem', {
        position,
        html: `<div class="qlvb-problem-badge" title="${esc(messages.join('\n'))}">${messages.length}</div>`,
      });
    }
    if (!this.problemBox) return;
    if (!this.problems.length) {
      this.problemBox.innerHTML = '';
      this.problemBox.hidden = true;
      return;
    }
    this.problemBox.hidden = false;
    this.problemBox.innerHTML = `<strong>Sơ đồ còn ${this.problems.length} lỗi:</strong><ul>${this.problems.map((p) =>
      `<li>${p.element_id && perElement[p.element_id]
        ? `<a href="#" data-element="${esc(p.element_id)}">${esc(p.message)}</a>` : esc(p.message)}</li>`).join('')}</ul>`;
    for (const link of this.problemBox.querySelectorAll('a[data-element]')) {
      link.addEventListener('click', (event) => {
        event.preventDefault();
        const element = this.registry.get(link.dataset.element);
        this.modeler.get('selection').select(element);
        canvas.scrollToElement(element);
      });
    }
  }

  // -- QLVB properties ------------------------------------------------------------------------
  spiffProps(bo) {
    const ext = bo.extensionElements;
    return ext && (ext.get('values') || []).find((v) => v.$type === SPIFF_PROPS);
  }

  getProp(element, name) {
    const props = this.spiffProps(element.businessObject);
    const prop = props && (props.get('property') || []).find((p) => p.name === name);
    return prop ? prop.value : '';
  }

  setProp(element, name, value) {
    const bo = element.businessObject;
    let ext = bo.extensionElements;
    if (!ext) {
      ext = this.moddle.create('bpmn:ExtensionElements', { values: [] });
      ext.$parent = bo;
    }
    let props = this.spiffProps(bo);
    if (!props) {
      props = this.moddle.create(SPIFF_PROPS, { property: [] });
      props.$parent = ext;
      ext.get('values').push(props);
    }
    const list = props.get('property');
    const index = list.findIndex((p) => p.name === name);
    const clean = String(value == null ? '' : value).trim();
    if (!clean) {
      if (index >= 0) list.splice(index, 1);
    } else if (index >= 0) {
      list[index].value = clean;
    } else {
      const prop = this.moddle.create('spiffworkflow:Property', { name, value: clean });
      prop.$parent = props;
      list.push(prop);
    }
    this.modeling.updateProperties(element, { extensionElements: ext });
  }

  condition(element) {
    const expr = element.businessObject.conditionExpression;
    return expr ? expr.body || '' : '';
  }

  setCondition(element, text) {
    const clean = text.trim();
    const expr = clean ? this.moddle.create('bpmn:FormalExpression', { body: clean }) : undefined;
    this.modeling.updateProperties(element, { conditionExpression: expr });
  }

  field(label, control, help) {
    return `<div class="form-group"><label>${esc(label)}</label>${control}${help ? `<p class="help-block">${esc(help)}</p>` : ''}</div>`;
  }

  select(name, options, current, emptyLabel) {
    const opts = [`<option value="">${esc(emptyLabel)}</option>`].concat(Object.entries(options).map(([key, label]) =>
      `<option value="${esc(key)}"${key === current ? ' selected' : ''}>${esc(label)}</option>`));
    if (current && !(current in options)) {
      opts.push(`<option value="${esc(current)}" selected>${esc(current)} (không tồn tại)</option>`);
    }
    return `<select class="form-control input-sm" name="${name}">${opts.join('')}</select>`;
  }

  input(name, value, attrs) {
    return `<input class="form-control input-sm" name="${name}" value="${esc(value)}" ${attrs || ''}>`;
  }

  renderPanel(element) {
    this.selected = element || null;
    if (!this.panel) return;
    if (!element || element.type === 'label') {
      this.panel.innerHTML = '<h4>Thuộc tính</h4><p class="text-muted">Chọn một bước, làn, cổng hoặc luồng trên sơ đồ '
        + 'để đặt vai trò, biểu mẫu, điều kiện và hạn xử lý.</p>';
      return;
    }
    const bo = element.businessObject;
    const mine = this.problems.filter((p) => p.element_id === element.id);
    let html = `<h4>${esc(this.kindLabel(element))}</h4><p class="qlvb-element-id">Mã: <code>${esc(element.id)}</code></p>`;
    if (mine.length) {
      html += `<div class="alert alert-danger qlvb-panel-problems">${mine.map((p) => esc(p.message)).join('<br>')}</div>`;
    }
    if (is(element, 'bpmn:Lane')) {
      html += this.field('Vai trò xử lý của làn', this.select('lane_role', this.cfg.roles, bo.get('qlvb:role') || '', '— Chọn vai trò —'),
        'Mọi bước trong làn giao cho cán bộ có vai trò này; tên làn hiện theo vai trò.');
    } else if (!is(element, 'bpmn:Process') && !is(element, 'bpmn:Collaboration')) {
      html += this.field('Tên hiển thị', this.input('name', bo.name || ''));
    }
    if (is(element, 'bpmn:UserTask')) {
      html += this.field('Loại bước', this.select('stepKind', this.cfg.kinds, bo.get('qlvb:stepKind') || '', '— Chọn loại bước —'),
        'Loại bước quyết định việc hệ thống làm ở bước này (vào sổ, cấp số, ký số…), không phụ thuộc mã hay tên bước.');
      html += this.field('Biểu mẫu', this.select('formKey', this.cfg.forms, this.getProp(element, 'formKey'), '— Chọn biểu mẫu —'));
      html += this.field('Phòng ban xử lý theo trường', this.select('candidateDepartmentField', this.cfg.fields,
        this.getProp(element, 'candidateDepartmentField'), '— Theo vai trò của làn —'),
      'Trường (ở biểu mẫu bước trước) chứa phòng ban được giao.');
      html += this.field('Người xử lý theo trường', this.select('candidateUserField', this.cfg.fields,
        this.getProp(element, 'candidateUserField'), '— Theo vai trò của làn —'));
      html += this.field('Hạn xử lý (số ngày làm việc)', this.input('dueDays', this.getProp(element, 'dueDays'),
        'type="number" min="0" max="365"'), 'Không tính thứ Bảy, Chủ nhật và ngày lễ, Tết.');
      html += this.field('Hạn xử lý theo trường', this.select('dueField', this.cfg.fields, this.getProp(element, 'dueField'),
        '— Không —'));
    }
    if (is(element, 'bpmn:SequenceFlow')) {
      const source = element.source && element.source.businessObject;
      const fromGateway = source && (source.$instanceOf('bpmn:ExclusiveGateway') || source.$instanceOf('bpmn:InclusiveGateway'));
      const isDefault = source && source.default === bo;
      if (fromGateway) {
        html += this.field('Điều kiện đi theo luồng này', `<textarea class="form-control input-sm qlvb-mono" name="condition" rows="3"${isDefault ? ' disabled' : ''}>${esc(this.condition(element))}</textarea>`,
          'Ví dụ: decision == "send_back" hoặc request_reply == True. Chỉ dùng so sánh, and/or/not và tên trường biểu mẫu.');
        html += `<div class="checkbox"><label><input type="checkbox" name="isDefault"${isDefault ? ' checked' : ''}> Luồng mặc định (khi không điều kiện nào đúng)</label></div>`;
        html += '<button type="button" class="btn btn-default btn-xs" data-panel="check">Kiểm tra điều kiện</button> <span class="qlvb-check-result"></span>';
      } else {
        html += '<p class="text-muted">Luồng thường: chỉ luồng ra từ cổng rẽ nhánh mới có điều kiện.</p>';
      }
    }
    if (is(element, 'bpmn:ExclusiveGateway') || is(element, 'bpmn:InclusiveGateway')) {
      html += '<p class="text-muted">Chọn từng luồng ra của cổng để đặt điều kiện; một luồng có thể là luồng mặc định.</p>';
    }
    this.panel.innerHTML = html;
    this.bindPanel(element);
  }

  kindLabel(element) {
    const labels = {
      'bpmn:UserTask': 'Bước người xử lý', 'bpmn:ServiceTask': 'Bước tự động', 'bpmn:Lane': 'Làn (vai trò)',
      'bpmn:ExclusiveGateway': 'Cổng rẽ nhánh', 'bpmn:ParallelGateway': 'Cổng song song',
      'bpmn:InclusiveGateway': 'Cổng rẽ nhánh bao hàm', 'bpmn:SequenceFlow': 'Luồng', 'bpmn:StartEvent': 'Sự kiện bắt đầu',
      'bpmn:EndEvent': 'Sự kiện kết thúc', 'bpmn:Participant': 'Khung quy trình', 'bpmn:TextAnnotation': 'Ghi chú',
    };
    return labels[element.type] || element.type.replace('bpmn:', '');
  }

  bindPanel(element) {
    const on = (name, handler) => {
      const control = this.panel.querySelector(`[name=${name}]`);
      if (control) {
        control.addEventListener('change', () => {
          this.editing = true;
          try {
            handler(control);
          } finally {
            this.editing = false;
          }
        });
      }
    };
    on('name', (c) => this.modeling.updateLabel(element, c.value));
    on('lane_role', (c) => {
      this.modeling.updateProperties(element, { 'qlvb:role': c.value || undefined });
      if (c.value) this.modeling.updateLabel(element, this.cfg.roleNames[c.value] || c.value);
    });
    on('stepKind', (c) => this.modeling.updateProperties(element, { 'qlvb:stepKind': c.value || undefined }));
    for (const prop of ['formKey', 'candidateDepartmentField', 'candidateUserField', 'dueDays', 'dueField']) {
      on(prop, (c) => this.setProp(element, prop, c.value));
    }
    on('condition', (c) => this.setCondition(element, c.value));
    on('isDefault', (c) => {
      const source = element.source;
      this.modeling.updateProperties(source, { default: c.checked ? element.businessObject : undefined });
      if (c.checked) this.setCondition(element, '');
      this.renderPanel(element);
    });
    const check = this.panel.querySelector('[data-panel=check]');
    if (check) {
      check.addEventListener('click', async () => {
        const text = this.panel.querySelector('[name=condition]').value;
        const out = this.panel.querySelector('.qlvb-check-result');
        const response = await fetch(this.cfg.checkUrl, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRFToken': this.cfg.csrf, Accept: 'application/json' },
          body: JSON.stringify({ expression: text }),
        });
        const result = await response.json();
        out.textContent = result.message;
        out.className = 'qlvb-check-result ' + (result.ok ? 'text-success' : 'text-danger');
      });
    }
  }
}

document.addEventListener('DOMContentLoaded', () => {
  const root = document.getElementById('qlvb-modeler');
  if (!root) return;
  const designer = new Designer(root);
  designer.load().catch((err) => {
    designer.setStatus('Không mở được sơ đồ: ' + err.message, 'danger');
  });
});
