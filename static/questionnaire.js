// Enter on an answer option does nothing. Without this, the browser sends the page
// (HTML's implicit submission clicks the form's first enabled submit button), and a
// keyboard user skips the rest of the page's questions. Without JavaScript, the form's
// first submit button saves and shows the same page again, so nothing is skipped either.
document.addEventListener('keydown', function (e) {
  var t = e.target;
  if (e.key === 'Enter' && t instanceof HTMLInputElement &&
      (t.type === 'radio' || t.type === 'checkbox')) {
    e.preventDefault();
  }
});
