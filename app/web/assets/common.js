// Behaviour every page may use, without inline handlers (the Content-Security-Policy forbids them):
//   <button data-confirm="Câu hỏi?">, <form data-confirm="…">   ask before submitting
//   <input data-select-on-focus>                                 select the text on click (copyable links)
//   <form data-goto="/path/{key}/?new=1">                        navigate to the path built from a field
document.addEventListener('submit', (event) => {
  const form = event.target;
  const button = event.submitter;
  const question = (button && button.dataset.confirm) || form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  const target = form.dataset.goto;
  if (target) {
    event.preventDefault();
    const url = target.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent((form.elements[name] || {}).value || ''));
    window.location.assign(url);
  }
});
document.addEventListener('click', (event) => {
  const input = event.target.closest && event.target.closest('[data-select-on-focus]');
  if (input) input.select();
});
