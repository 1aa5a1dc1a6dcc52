// bpmn-js modules that fit the modeler to what QLVB can run: Vietnamese labels, a palette, context pad
// and replace menu offering only supported elements, and user tasks instead of untyped tasks.

const VI = {
  'Activate hand tool': 'Kéo khung nhìn',
  'Activate lasso tool': 'Chọn nhiều phần tử',
  'Activate create/remove space tool': 'Thêm/bớt khoảng trống',
  'Activate global connect tool': 'Nối luồng',
  'Create start event': 'Thêm sự kiện bắt đầu',
  'Create end event': 'Thêm sự kiện kết thúc',
  'Create gateway': 'Thêm cổng rẽ nhánh',
  'Create pool/participant': 'Thêm khung quy trình (pool)',
  'Append end event': 'Nối sự kiện kết thúc',
  'Append gateway': 'Nối cổng rẽ nhánh',
  'Append text annotation': 'Thêm ghi chú',
  'Add text annotation': 'Thêm ghi chú',
  'Change element': 'Đổi loại phần tử',
  'Change type': 'Đổi loại phần tử',
  'Delete': 'Xóa',
  'Remove': 'Xóa',
  'Connect to other element': 'Nối tới phần tử khác',
  'Connect using sequence/message flow or association': 'Nối luồng',
  'Connect using association': 'Nối ghi chú',
  'Add lane above': 'Thêm làn phía trên',
  'Add lane below': 'Thêm làn phía dưới',
  'Divide into two lanes': 'Chia thành hai làn',
  'Divide into three lanes': 'Chia thành ba làn',
  'User task': 'Bước người xử lý (userTask)',
  'Service task': 'Bước tự động (serviceTask)',
  'Exclusive gateway': 'Cổng rẽ nhánh (một nhánh)',
  'Parallel gateway': 'Cổng song song',
  'Inclusive gateway': 'Cổng rẽ nhánh bao hàm',
  'Start event': 'Sự kiện bắt đầu',
  'End event': 'Sự kiện kết thúc',
  'Terminate end event': 'Kết thúc toàn bộ',
  'Timer intermediate catch event': 'Chờ hẹn giờ',
  'Sequence flow': 'Luồng thường',
  'Default flow': 'Luồng mặc định',
  'Conditional flow': 'Luồng có điều kiện',
  'Parallel multi-instance': 'Nhiều người song song',
  'Sequential multi-instance': 'Nhiều người lần lượt',
  'Search in diagram': 'Tìm trong sơ đồ',
};

function translate(template, replacements) {
  replacements = replacements || {};
  return (VI[template] || template).replace(/{([^}]+)}/g, (_, key) => replacements[key] || '{' + key + '}');
}

export const translateModule = { translate: ['value', translate] };

// Replace-menu and header entries an agency may use; everything else is refused by the server anyway.
const ALLOWED_REPLACE = new Set([
  'replace-with-user-task', 'replace-with-exclusive-gateway', 'replace-with-parallel-gateway',
  'replace-with-inclusive-gateway', 'replace-with-none-start', 'replace-with-none-end',
  'replace-with-terminate-end', 'replace-with-timer-intermediate-catch', 'replace-with-sequence-flow',
  'replace-with-default-flow', 'replace-with-conditional-flow', 'replace-with-expanded-pool',
  'toggle-parallel-mi', 'toggle-sequential-mi',
]);

function QlvbPalette(palette, create, elementFactory, translate) {
  palette.registerProvider(500, {
    getPaletteEntries() {
      return function (entries) {
        for (const key of ['create.intermediate-event', 'create.data-object', 'create.data-store',
          'create.subprocess-expanded', 'create.group', 'create.task']) {
          delete entries[key];
        }
        entries['create.user-task'] = {
          group: 'activity',
          className: 'bpmn-icon-user-task',
          title: 'Thêm bước người xử lý (userTask)',
          action: {
            dragstart: (event) => create.start(event, elementFactory.createShape({ type: 'bpmn:UserTask' })),
            click: (event) => create.start(event, elementFactory.createShape({ type: 'bpmn:UserTask' })),
          },
        };
        entries['create.parallel-gateway'] = {
          group: 'gateway',
          className: 'bpmn-icon-gateway-parallel',
          title: 'Thêm cổng song song',
          action: {
            dragstart: (event) => create.start(event, elementFactory.createShape({ type: 'bpmn:ParallelGateway' })),
            click: (event) => create.start(event, elementFactory.createShape({ type: 'bpmn:ParallelGateway' })),
          },
        };
        return entries;
      };
    },
  });
}
QlvbPalette.$inject = ['palette', 'create', 'elementFactory', 'translate'];

function QlvbContextPad(contextPad, autoPlace, elementFactory) {
  contextPad.registerProvider(500, {
    getContextPadEntries(element) {
      return function (entries) {
        for (const key of Object.keys(entries)) {
          if (key.startsWith('append.') && !['append.end-event', 'append.gateway', 'append.text-annotation']
            .includes(key)) {
            delete entries[key];
          }
        }
        const bo = element.businessObject;
        const isFlowNode = bo && bo.$instanceOf && bo.$instanceOf('bpmn:FlowNode') && !bo.$instanceOf('bpmn:EndEvent');
        if (isFlowNode) {
          entries['append.user-task'] = {
            group: 'model',
            className: 'bpmn-icon-user-task',
            title: 'Nối bước người xử lý',
            action: {
              click: (event, source) => autoPlace.append(source, elementFactory.createShape({ type: 'bpmn:UserTask' })),
            },
          };
        }
        return entries;
      };
    },
  });
}
QlvbContextPad.$inject = ['contextPad', 'autoPlace', 'elementFactory'];

function QlvbReplaceMenu(popupMenu) {
  popupMenu.registerProvider('bpmn-replace', 500, {
    getPopupMenuEntries() {
      return function (entries) {
        for (const key of Object.keys(entries)) {
          if (!ALLOWED_REPLACE.has(key)) delete entries[key];
        }
        return entries;
      };
    },
    getPopupMenuHeaderEntries() {
      return function (entries) {
        for (const key of Object.keys(entries)) {
          if (!ALLOWED_REPLACE.has(key)) delete entries[key];
        }
        return entries;
      };
    },
  });
}
QlvbReplaceMenu.$inject = ['popupMenu'];

export const restrictModule = {
  __init__: ['qlvbPalette', 'qlvbContextPad', 'qlvbReplaceMenu'],
  qlvbPalette: ['type', QlvbPalette],
  qlvbContextPad: ['type', QlvbContextPad],
  qlvbReplaceMenu: ['type', QlvbReplaceMenu],
};
