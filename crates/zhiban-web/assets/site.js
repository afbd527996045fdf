// Progressive enhancement only: every page works without this file.
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('.js-print').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function () { window.print(); });
  });
  // Elder mode: read the page aloud with the browser's own speech engine.
  document.querySelectorAll('.js-read').forEach(function (b) {
    if (!('speechSynthesis' in window)) { return; }
    var label = b.textContent;
    b.hidden = false;
    b.addEventListener('click', function () {
      if (window.speechSynthesis.speaking) {
        window.speechSynthesis.cancel();
        b.textContent = label;
        return;
      }
      var main = document.getElementById('main');
      var u = new SpeechSynthesisUtterance(main ? main.innerText : document.body.innerText);
      var lang = b.getAttribute('data-lang');
      u.lang = lang === 'en' ? 'en-US' : (lang === 'zh-Hant-HK' ? 'zh-HK' : 'zh-CN');
      u.rate = 0.9;
      u.onend = function () { b.textContent = label; };
      b.textContent = b.getAttribute('data-stop');
      window.speechSynthesis.speak(u);
    });
  });
  var summary = document.getElementById('error-summary');
  if (summary) { summary.focus(); }
});
