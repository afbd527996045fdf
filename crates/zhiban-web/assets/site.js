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
  // Suggestions as you type: fills the search box's <datalist>.
  document.querySelectorAll('input[data-suggest]').forEach(function (input) {
    var list = document.getElementById(input.getAttribute('list'));
    var timer = null;
    var last = '';
    if (!list || !window.fetch) { return; }
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (!q || q === last) { return; }
        last = q;
        fetch(input.getAttribute('data-suggest') + '?q=' + encodeURIComponent(q))
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) {
            list.textContent = '';
            data.suggestions.forEach(function (s) {
              var o = document.createElement('option');
              o.value = s;
              list.appendChild(o);
            });
          })
          .catch(function () {});
      }, 150);
    });
  });
  // Scan-to-login: ask every 2 seconds whether the phone has answered; once
  // approved, continue as the button would. Without JavaScript the button
  // does the same.
  var qr = document.getElementById('qr-login');
  if (qr && window.fetch) {
    var statusEl = document.getElementById('qr-status');
    var finish = document.getElementById('qr-finish');
    var poll = setInterval(function () {
      fetch(qr.getAttribute('data-status-url'), { credentials: 'same-origin' })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (data.status === 'approved') {
            clearInterval(poll);
            statusEl.textContent = qr.getAttribute('data-msg-approved');
            finish.submit();
          } else if (data.status !== 'pending') {
            clearInterval(poll);
            statusEl.textContent = qr.getAttribute('data-msg-' + data.status) || '';
          }
        })
        .catch(function () {});
    }, 2000);
  }
  var summary = document.getElementById('error-summary');
  if (summary) { summary.focus(); }
});
