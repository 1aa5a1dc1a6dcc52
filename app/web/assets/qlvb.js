// Behaviour every staff page shares, declared in the markup with data-* attributes so that no template needs an
// inline handler (the CSP allows only our own files and nonce'd blocks):
//   data-qlvb-confirm="question"   on a form or a submit button: ask before submitting
//   data-qlvb-select               on a read-only input: select its text on focus (feed addresses)
//   data-qlvb-back                 on a link: go back in history when we came from this site, else follow href
//   data-qlvb-new-form="base/"     on a GET form with a "key" input: open base + key + "/?new=1"
//   data-qlvb-date / -datetime     on a text input in dd/mm/yyyy (hh:mm): a Vietnamese date picker
//   input[type=date]               gets the same picker, shown dd/mm/yyyy, posted yyyy-mm-dd as before
//   data-qlvb-workdays             on a deadline input: "còn n ngày làm việc" from the agency's calendar
import flatpickr from 'flatpickr';
import { Vietnamese } from 'flatpickr/dist/l10n/vn.js';
import 'flatpickr/dist/flatpickr.min.css';

flatpickr.localize(Vietnamese);

function ready(fn) {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn);
  else fn();
}

// -- confirmations, selection, back links, new form ----------------------------------------------------------
document.addEventListener('submit', (event) => {
  const form = event.target;
  const question = (event.submitter && event.submitter.dataset.qlvbConfirm) || form.dataset.qlvbConfirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  const base = form.dataset.qlvbNewForm;
  if (base !== undefined) {
    event.preventDefault();
    const key = form.elements.key;
    if (key && key.reportValidity()) window.location.href = `${base}${encodeURIComponent(key.value)}/?new=1`;
  }
}, true);

document.addEventListener('focusin', (event) => {
  if (event.target.matches && event.target.matches('[data-qlvb-select]')) event.target.select();
});

document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('a[data-qlvb-back]');
  if (!link) return;
  let sameSite = false;
  try {
    sameSite = document.referrer !== '' && new URL(document.referrer).origin === window.location.origin;
  } catch (_e) {
    sameSite = false;
  }
  if (sameSite && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});

// -- date pickers -------------------------------------------------------------------------------------------
const COMMON = { allowInput: true, disableMobile: true, monthSelectorType: 'static' };

function moveIdentity(from, to) {
  // flatpickr's visible copy must carry the label's target and the descriptions, or it is an unlabelled control.
  for (const attr of ['id', 'aria-describedby', 'aria-label', 'aria-invalid', 'required']) {
    if (from.hasAttribute(attr)) {
      to.setAttribute(attr, from.getAttribute(attr));
      if (attr === 'id') from.removeAttribute('id');
    }
  }
  if (!to.hasAttribute('aria-label') && !to.id && from.closest('label') === null) to.setAttribute('aria-label', 'Ngày');
}

function pickDates(root) {
  for (const input of root.querySelectorAll('input[data-qlvb-date], input[data-qlvb-datetime]')) {
    if (input._flatpickr) continue;
    const withTime = input.hasAttribute('data-qlvb-datetime');
    flatpickr(input, {
      ...COMMON, dateFormat: withTime ? 'd/m/Y H:i' : 'd/m/Y', enableTime: withTime, time_24hr: true,
    });
  }
  for (const input of root.querySelectorAll('input[type=date]')) {
    if (input._flatpickr) continue;
    const fp = flatpickr(input, { ...COMMON, dateFormat: 'Y-m-d', altInput: true, altFormat: 'd/m/Y' });
    if (fp.altInput) {
      fp.altInput.placeholder = 'dd/mm/yyyy';
      fp.altInput.setAttribute('inputmode', 'numeric');
      moveIdentity(input, fp.altInput);
    }
  }
}

// -- working days next to deadlines -------------------------------------------------------------------------
const QUICK = [3, 5, 10];

function workdaysUrl() {
  const meta = document.querySelector('meta[name=qlvb-workdays-url]');
  return meta ? meta.content : null;
}

async function ask(url, params) {
  const response = await fetch(`${url}?${new URLSearchParams(params)}`, {
    credentials: 'same-origin', headers: { Accept: 'application/json' },
  });
  if (!response.ok) throw new Error(String(response.status));
  return response.json();
}

function helpers(root) {
  const url = workdaysUrl();
  if (!url) return;
  for (const input of root.querySelectorAll('input[data-qlvb-workdays]')) {
    if (input.dataset.qlvbWorkdaysReady) continue;
    input.dataset.qlvbWorkdaysReady = '1';
    const box = document.createElement('div');
    box.className = 'qlvb-workdays';
    const status = document.createElement('span');
    status.className = 'qlvb-workdays-status';
    status.id = `${input.name}-workdays`;
    status.setAttribute('aria-live', 'polite');
    box.appendChild(status);
    const quick = document.createElement('span');
    quick.className = 'qlvb-workdays-quick';
    quick.appendChild(document.createTextNode('Đặt hạn sau: '));
    for (const n of QUICK) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-default btn-xs';
      button.textContent = `${n} ngày làm việc`;
      button.addEventListener('click', async () => {
        try {
          const res = await ask(url, { add: n });
          if (input._flatpickr) input._flatpickr.setDate(res.date, true, 'd/m/Y');
          else input.value = res.date;
          input.dispatchEvent(new Event('change', { bubbles: true }));
        } catch (_e) {
          status.textContent = 'Không tính được ngày làm việc; hãy nhập ngày.';
        }
      });
      quick.appendChild(button);
    }
    box.appendChild(quick);
    const group = input.closest('.form-group') || input.parentElement;
    const anchor = group.querySelector('.qlvb-help, .help-block');
    group.insertBefore(box, anchor ? anchor.nextSibling : null);
    const described = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    input.setAttribute('aria-describedby', [...described, status.id].join(' '));
    const update = async () => {
      const value = input.value.trim();
      if (!value) {
        status.textContent = '';
        return;
      }
      try {
        const res = await ask(url, { until: value });
        status.textContent = res.text;
        status.classList.toggle('text-danger', res.workdays < 0);
      } catch (_e) {
        status.textContent = '';
      }
    };
    input.addEventListener('change', update);
    update();
  }
}

// -- installable app: the service worker keeps the shell (app/web/pwa.py) -----------------------------------
if ('serviceWorker' in navigator && window.isSecureContext) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
  });
}

ready(() => {
  pickDates(document);
  helpers(document);
});
