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
  // Filters beside the results on a wide screen start open; on a phone
  // they stay folded above the results (one line: 筛选).
  document.querySelectorAll('details[data-open-wide]').forEach(function (d) {
    var grid = d.parentElement && window.getComputedStyle(d.parentElement).gridTemplateColumns;
    if (grid && grid.trim().split(/\s+/).length > 1) { d.open = true; }
  });
  // Uploads: say which file was chosen before it is sent, and refuse one
  // over the limit at once (no waiting on a slow line to hear it).
  document.querySelectorAll('.upload').forEach(function (box) {
    var input = box.querySelector('input[type="file"]');
    var out = box.querySelector('.upload-chosen');
    var max = parseFloat(box.getAttribute('data-max-mb')) || 0;
    if (!input || !out) { return; }
    input.addEventListener('change', function () {
      var f = input.files && input.files[0];
      out.classList.remove('upload-bad');
      if (!f) { out.textContent = ''; return; }
      var mb = (f.size / 1048576).toFixed(1);
      if (max && f.size > max * 1048576) {
        out.textContent = f.name + '（' + mb + ' MB）' + box.getAttribute('data-too-large');
        out.classList.add('upload-bad');
        input.value = '';
        return;
      }
      out.textContent = box.getAttribute('data-chosen') + f.name + '（' + mb + ' MB）';
    });
  });
  // A file over its input's limit is refused at once, before a long
  // upload, with the limit named; the other fields are left as typed.
  document.querySelectorAll('input[type="file"][data-max-mb]').forEach(function (input) {
    input.addEventListener('change', function () {
      var max = parseFloat(input.getAttribute('data-max-mb')) * 1024 * 1024;
      var said = input.parentNode.querySelector('.js-too-large');
      if (said) { said.remove(); }
      var big = [];
      for (var k = 0; input.files && k < input.files.length; k++) {
        if (input.files[k].size > max) { big.push(input.files[k].name); }
      }
      if (!big.length) { return; }
      input.value = '';
      var p = document.createElement('p');
      p.className = 'error-message js-too-large';
      p.setAttribute('role', 'alert');
      p.textContent = input.getAttribute('data-too-large')
        .replace('%{name}', big.join('、'))
        .replace('%{n}', input.getAttribute('data-max-mb'));
      input.parentNode.insertBefore(p, input);
    });
  });
  // Large uploads: send the form in the background and show how far it
  // has got, so a slow line does not look like a frozen page. Small files
  // (and browsers without XMLHttpRequest upload events) post as usual.
  document.querySelectorAll('form[data-uploading]').forEach(function (form) {
    var submitter = null;
    form.addEventListener('click', function (e) {
      var b = e.target.closest ? e.target.closest('button[type="submit"], input[type="submit"]') : null;
      if (b) { submitter = b; }
    });
    form.addEventListener('submit', function (e) {
      var bytes = 0;
      form.querySelectorAll('input[type="file"]').forEach(function (i) {
        for (var k = 0; i.files && k < i.files.length; k++) { bytes += i.files[k].size; }
      });
      var xhr = new XMLHttpRequest();
      if (bytes < 512 * 1024 || !xhr.upload || !window.FormData) { return; }
      e.preventDefault();
      var sub = e.submitter || submitter;
      var data = new FormData(form);
      if (sub && sub.name) { data.append(sub.name, sub.value); }
      var box = form.querySelector('.upload-progress');
      if (!box) {
        box = document.createElement('div');
        box.className = 'upload-progress';
        box.innerHTML = '<progress max="100" value="0"></progress><p aria-live="polite"></p>';
        var actions = form.querySelector('.actions') || form.lastElementChild;
        form.insertBefore(box, actions);
      }
      var bar = box.querySelector('progress');
      var say = box.querySelector('p');
      var label = form.getAttribute('data-uploading');
      bar.setAttribute('aria-label', label.replace('%{n}', ''));
      var buttons = form.querySelectorAll('button, input[type="submit"]');
      buttons.forEach(function (b) { b.disabled = true; });
      var shown = -1;
      xhr.upload.addEventListener('progress', function (ev) {
        if (!ev.lengthComputable) { return; }
        var n = Math.floor(ev.loaded * 100 / ev.total);
        bar.value = n;
        // Speak every tenth, not every event.
        if (Math.floor(n / 10) !== Math.floor(shown / 10)) {
          say.textContent = label.replace('%{n}', n);
          shown = n;
        }
      });
      var failed = function () {
        buttons.forEach(function (b) { b.disabled = false; });
        say.textContent = form.getAttribute('data-upload-failed');
        say.classList.add('upload-bad');
      };
      xhr.addEventListener('error', failed);
      xhr.addEventListener('abort', failed);
      xhr.addEventListener('load', function () {
        // The server answered as it does a plain post: a redirect (which the
        // request followed) or the same page again with the problems marked.
        if (xhr.responseURL && xhr.responseURL.split('#')[0] !== form.action.split('#')[0]) {
          window.location.assign(xhr.responseURL);
          return;
        }
        document.open();
        document.write(xhr.responseText);
        document.close();
      });
      xhr.open('POST', form.action);
      xhr.send(data);
    });
  });
  // The article editor: with JavaScript, the body is edited as it will
  // look (headings, lists, tables pasted from Word or WPS keep their shape,
  // their fonts and colours are dropped). The textarea stays the form's
  // field and is filled before sending; the server cleans it again.
  document.querySelectorAll('textarea[data-rich]').forEach(function (area) {
    if (!document.execCommand) { return; }
    var label = document.querySelector('label[for="' + area.id + '"]');
    var bar = document.createElement('div');
    bar.className = 'rich-tools';
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', area.getAttribute('data-tools'));
    var box = document.createElement('div');
    box.className = 'rich-box';
    box.contentEditable = 'true';
    box.setAttribute('role', 'textbox');
    box.setAttribute('aria-multiline', 'true');
    box.id = area.id + '-rich';
    if (label) { box.setAttribute('aria-labelledby', label.id || (label.id = area.id + '-label')); }
    box.setAttribute('aria-describedby', area.getAttribute('aria-describedby') || '');
    var text = area.value.trim();
    box.innerHTML = /<[a-z][\s\S]*>/i.test(text) ? text : text.split(/\n\s*\n/).map(function (p) {
      var d = document.createElement('p');
      d.textContent = p;
      return d.outerHTML;
    }).join('');
    var names = (area.getAttribute('data-buttons') || '').split('|');
    [['formatBlock', 'h2'], ['formatBlock', 'h3'], ['formatBlock', 'p'],
      ['insertUnorderedList'], ['insertOrderedList'], ['bold']].forEach(function (t, i) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'button button-secondary button-small';
      b.textContent = names[i] || t[1] || t[0];
      b.addEventListener('click', function () {
        box.focus();
        document.execCommand(t[0], false, t[1]);
      });
      bar.appendChild(b);
    });
    // Pasted office HTML: keep the structure, drop styles and office tags.
    box.addEventListener('paste', function (e) {
      var html = e.clipboardData && e.clipboardData.getData('text/html');
      if (!html) { return; }
      e.preventDefault();
      var doc = new DOMParser().parseFromString(html, 'text/html');
      doc.querySelectorAll('script, style, meta, link, title, xml, o\\:p').forEach(function (n) { n.remove(); });
      doc.body.querySelectorAll('*').forEach(function (n) {
        ['style', 'class', 'lang', 'align', 'width', 'height', 'face', 'size', 'color'].forEach(function (a) { n.removeAttribute(a); });
        [].slice.call(n.attributes).forEach(function (a) { if (/^on/i.test(a.name)) { n.removeAttribute(a.name); } });
      });
      document.execCommand('insertHTML', false, doc.body.innerHTML);
    });
    area.hidden = true;
    area.parentNode.insertBefore(bar, area);
    area.parentNode.insertBefore(box, area);
    if (area.form) {
      area.form.addEventListener('submit', function () { area.value = box.innerHTML; });
    }
  });
  // The article editor: only the channels that take the chosen type are
  // offered (a checked one stays visible), and a bulletin's own fields
  // show only for bulletins. Without JavaScript everything is shown and the
  // server says what does not fit.
  document.querySelectorAll('.article-form').forEach(function (form) {
    var kind = form.querySelector('select[name="kind"]');
    if (!kind) { return; }
    var sync = function () {
      form.querySelectorAll('.channel-choices label[data-kind]').forEach(function (l) {
        var box = l.querySelector('input');
        l.parentNode.hidden = l.getAttribute('data-kind') !== kind.value && !(box && box.checked);
      });
      form.querySelectorAll('[data-for-kind]').forEach(function (f) {
        f.hidden = f.getAttribute('data-for-kind') !== kind.value;
      });
    };
    kind.addEventListener('change', sync);
    sync();
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
  // Smart forms: show a conditional field only when the answer it depends
  // on matches (without JavaScript every field shows with a note), and say
  // at once when a typed value cannot be right.
  document.documentElement.classList.add('js');
  document.querySelectorAll('.smart-form').forEach(function (form) {
    var conds = form.querySelectorAll('[data-show-field]');
    function valueOf(name) {
      var els = form.querySelectorAll('[name="' + name + '"]');
      if (els.length === 0) { return null; }
      for (var i = 0; i < els.length; i++) {
        var el = els[i];
        if ((el.type === 'radio' || el.type === 'checkbox')) {
          if (el.checked) { return el.value; }
        } else { return el.value; }
      }
      return '';
    }
    function update() {
      conds.forEach(function (c) {
        var v = valueOf(c.getAttribute('data-show-field'));
        // The field it depends on is on another page: leave it shown.
        if (v === null) { c.hidden = false; return; }
        c.hidden = c.getAttribute('data-show-values').split('|').indexOf(v) < 0;
      });
    }
    form.addEventListener('change', update);
    update();
    form.querySelectorAll('input[data-invalid], textarea[data-invalid]').forEach(function (input) {
      input.addEventListener('blur', function () {
        var wrap = input.closest('.field');
        var msg = wrap && wrap.querySelector('.js-error');
        var bad = input.value !== '' && !input.checkValidity();
        if (bad && !msg && wrap) {
          msg = document.createElement('p');
          msg.className = 'error-message js-error';
          msg.id = 'je-' + input.id;
          msg.textContent = input.getAttribute('data-invalid');
          input.parentNode.insertBefore(msg, input);
          input.setAttribute('aria-invalid', 'true');
          input.setAttribute('aria-describedby', msg.id);
        } else if (!bad && msg) {
          msg.remove();
          input.removeAttribute('aria-invalid');
        }
      });
    });
  });
  // Form editor: the preview follows the JSON as it is typed (the 预览
  // button does the same without JavaScript).
  document.querySelectorAll('textarea[data-preview]').forEach(function (area) {
    var form = area.form;
    var panel = document.querySelector('.form-preview');
    var timer = null;
    if (!form || !panel || !window.fetch || !window.DOMParser) { return; }
    area.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var data = new URLSearchParams(new FormData(form));
        data.set('go', 'preview');
        fetch(area.getAttribute('data-preview'), { method: 'POST', body: data, credentials: 'same-origin' })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var doc = new DOMParser().parseFromString(html, 'text/html');
            var fresh = doc.querySelector('.form-preview');
            if (fresh) { panel.innerHTML = fresh.innerHTML; }
            var errors = doc.getElementById('error-summary');
            var old = document.getElementById('error-summary');
            if (old) { old.remove(); }
            if (errors) {
              errors.removeAttribute('tabindex');
              errors.setAttribute('role', 'status');
              form.parentNode.parentNode.insertBefore(errors, form.parentNode);
            }
          })
          .catch(function () {});
      }, 600);
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
  // Passkeys (WebAuthn): the server's options carry binary fields as
  // base64url; the browser wants ArrayBuffers, and the answer goes back as
  // base64url again.
  function fromB64u(s) {
    var b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    var out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) { out[i] = b.charCodeAt(i); }
    return out.buffer;
  }
  function toB64u(buf) {
    var bytes = new Uint8Array(buf);
    var s = '';
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function postJson(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { throw new Error(data.error || r.statusText); }
        return data;
      });
    });
  }
  var passkeySupported = !!(window.PublicKeyCredential && navigator.credentials && window.fetch);
  var reg = document.querySelector('.js-passkey-register');
  if (reg) {
    var regStatus = reg.querySelector('.passkey-status');
    reg.hidden = false;
    var addBtn = document.getElementById('passkey-add');
    if (!passkeySupported) { addBtn.hidden = true; regStatus.textContent = reg.getAttribute('data-unsupported'); }
    addBtn.addEventListener('click', function () {
      var csrf = reg.getAttribute('data-csrf');
      regStatus.textContent = '';
      postJson(reg.getAttribute('data-begin'), { _csrf: csrf }).then(function (begin) {
        var pk = begin.options.publicKey;
        pk.challenge = fromB64u(pk.challenge);
        pk.user.id = fromB64u(pk.user.id);
        (pk.excludeCredentials || []).forEach(function (c) { c.id = fromB64u(c.id); });
        return navigator.credentials.create({ publicKey: pk }).then(function (cred) {
          var nameInput = document.getElementById('passkey-name');
          return postJson(reg.getAttribute('data-finish'), {
            _csrf: csrf, ceremony: begin.ceremony, name: nameInput ? nameInput.value : '',
            next: reg.getAttribute('data-next') || '',
            credential: {
              id: cred.id, rawId: toB64u(cred.rawId), type: cred.type, extensions: {},
              response: {
                attestationObject: toB64u(cred.response.attestationObject),
                clientDataJSON: toB64u(cred.response.clientDataJSON)
              }
            }
          });
        });
      }).then(function (done) { window.location.assign(done.redirect); })
        .catch(function (e) { regStatus.textContent = e.message; });
    });
  }
  function passkeyAssert(box, button, beginUrl, finishUrl, extra) {
    var status = box.querySelector('.passkey-status');
    if (!passkeySupported) { status.textContent = box.getAttribute('data-unsupported'); return; }
    button.hidden = false;
    button.addEventListener('click', function () {
      var csrf = box.getAttribute('data-csrf');
      status.textContent = '';
      var body = extra();
      body._csrf = csrf;
      postJson(beginUrl, body).then(function (begin) {
        var pk = begin.options.publicKey;
        pk.challenge = fromB64u(pk.challenge);
        (pk.allowCredentials || []).forEach(function (c) { c.id = fromB64u(c.id); });
        return navigator.credentials.get({ publicKey: pk }).then(function (cred) {
          return postJson(finishUrl, {
            _csrf: csrf, ceremony: begin.ceremony, next: box.getAttribute('data-next'),
            credential: {
              id: cred.id, rawId: toB64u(cred.rawId), type: cred.type, extensions: {},
              response: {
                authenticatorData: toB64u(cred.response.authenticatorData),
                clientDataJSON: toB64u(cred.response.clientDataJSON),
                signature: toB64u(cred.response.signature),
                userHandle: cred.response.userHandle ? toB64u(cred.response.userHandle) : null
              }
            }
          });
        });
      }).then(function (done) { window.location.assign(done.redirect); })
        .catch(function (e) { status.textContent = e.message; });
    });
  }
  var pkLogin = document.querySelector('.js-passkey-login');
  if (pkLogin) {
    passkeyAssert(pkLogin, document.getElementById('passkey-login'), '/login/passkey/begin', '/login/passkey/finish',
      function () { return { phone: document.getElementById('pk-phone').value }; });
  }
  var pkVerify = document.querySelector('.js-passkey-verify');
  if (pkVerify) {
    passkeyAssert(pkVerify, document.getElementById('passkey-verify'), pkVerify.getAttribute('data-begin'),
      pkVerify.getAttribute('data-finish'), function () { return {}; });
  }
  // 我要写信: words such as 着火, 抢劫, 车祸 show the emergency lines right
  // under the text while the person types (on a phone the top of the page
  // is out of sight), before anything is sent (the server checks again).
  var emergencyForm = document.querySelector('form[data-emergency-check]');
  if (emergencyForm) {
    var banner = document.getElementById('emergency-banner');
    var lineList = document.getElementById('emergency-lines');
    var timer = null;
    var lastText = null;
    var check = function () {
      var text = (emergencyForm.elements.title.value || '') + ' ' + (emergencyForm.elements.body.value || '');
      if (text === lastText) { return; }
      lastText = text;
      fetch(emergencyForm.getAttribute('data-emergency-check') + '?text=' + encodeURIComponent(text.slice(0, 3000)),
        { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : { lines: [] }; })
        .then(function (data) {
          if (!data.lines.length) { banner.hidden = true; return; }
          lineList.textContent = '';
          data.lines.forEach(function (l) {
            var li = document.createElement('li');
            var a = document.createElement('a');
            a.className = 'button button-warning';
            a.href = 'tel:' + l.number;
            a.textContent = emergencyForm.getAttribute('data-call') + ' ' + l.number;
            li.appendChild(a);
            li.appendChild(document.createTextNode(' ' + l.label));
            lineList.appendChild(li);
          });
          banner.hidden = false;
        })
        .catch(function () {});
    };
    ['title', 'body'].forEach(function (name) {
      emergencyForm.elements[name].addEventListener('input', function () {
        clearTimeout(timer);
        timer = setTimeout(check, 400);
      });
    });
  }
  // 在线访谈: the live text follows the interview (server-sent events).
  // Each post arrives as JSON and is shown with text nodes only; a lost
  // connection comes back by itself and resumes where it left off.
  // Without JavaScript (or EventSource) the page says to reload.
  var liveList = document.querySelector('[data-live]');
  if (liveList && window.EventSource) {
    var replyLabel = liveList.getAttribute('data-reply-label') || '';
    var para = function (cls, text) {
      var p = document.createElement('p');
      if (cls) { p.className = cls; }
      p.textContent = text;
      return p;
    };
    var show = function (post) {
      if (document.getElementById('post-' + post.id)) { return; }
      var li = document.createElement('li');
      li.id = 'post-' + post.id;
      li.className = 'talk talk-' + post.kind;
      var head = document.createElement('p');
      head.className = 'talk-head';
      var who = document.createElement('strong');
      who.textContent = post.speaker;
      var time = document.createElement('span');
      time.className = 'muted';
      time.textContent = post.time;
      head.appendChild(who);
      head.appendChild(document.createTextNode(' '));
      head.appendChild(time);
      li.appendChild(head);
      if (post.quote) {
        var quote = document.createElement('blockquote');
        quote.className = 'talk-quote';
        quote.appendChild(para('', replyLabel + ' ' + post.quote.speaker + '：' + post.quote.body));
        li.appendChild(quote);
      }
      if (post.photo) {
        var fig = document.createElement('figure');
        var img = document.createElement('img');
        img.src = post.photo;
        img.alt = post.body;
        var cap = document.createElement('figcaption');
        cap.textContent = post.body;
        fig.appendChild(img);
        fig.appendChild(cap);
        li.appendChild(fig);
      } else {
        li.appendChild(para('prewrap', post.body));
      }
      liveList.appendChild(li);
      var empty = document.querySelector('[data-live-empty]');
      if (empty) { empty.hidden = true; }
    };
    var source = new EventSource(liveList.getAttribute('data-live'));
    source.addEventListener('shown', function (e) { show(JSON.parse(e.data)); });
    source.addEventListener('hidden', function (e) {
      var gone = document.getElementById('post-' + JSON.parse(e.data).id);
      if (gone) { gone.parentNode.removeChild(gone); }
    });
    source.addEventListener('state', function (e) {
      var s = JSON.parse(e.data);
      var badge = document.querySelector('[data-live-state]');
      if (badge) {
        badge.textContent = s.label;
        badge.className = 'badge badge-' + s.state;
      }
      if (s.state === 'ended') { source.close(); }
    });
    // The moderators' console: say how many questions have come in.
    var asked = document.querySelector('[data-live-asked]');
    var askedCount = 0;
    source.addEventListener('asked', function () {
      if (!asked) { return; }
      askedCount += 1;
      var text = asked.querySelector('[data-live-asked-text]');
      text.textContent = text.getAttribute('data-template').replace('%{n}', askedCount);
      asked.hidden = false;
    });
    var hint = document.getElementById('live-hint');
    if (hint) { hint.hidden = true; }
  }
  // 我要写信: the point of a request. The location button (shown only
  // where the browser can locate) and the district map (a tap, or the
  // arrow keys) both write `lat,lon` into the form; the map also chooses
  // the tapped district in the place list unless a street of it is chosen.
  var pointInput = document.querySelector('[data-point]');
  var pointShown = document.querySelector('[data-point-shown]');
  var pointNote = document.querySelector('[data-point-note]');
  var map = document.querySelector('[data-map]');
  var mapSvg = map && map.querySelector('svg');
  var proj = mapSvg ? mapSvg.getAttribute('data-projection').split(',').map(Number) : null;
  var marker = mapSvg && mapSvg.querySelector('[data-marker]');
  var placeList = document.querySelector('select[name="place"]');
  function showPoint(lat, lon) {
    var text = lat.toFixed(6) + ',' + lon.toFixed(6);
    pointInput.value = text;
    pointShown.querySelector('[data-point-text]').textContent = text;
    pointShown.hidden = false;
    if (pointNote) { pointNote.hidden = true; }
    if (marker) {
      marker.setAttribute('cx', (lon - proj[0]) * proj[2]);
      marker.setAttribute('cy', (proj[1] - lat) * proj[3]);
      marker.setAttribute('visibility', 'visible');
    }
  }
  function pickAt(x, y) {
    showPoint(proj[1] - y / proj[3], proj[0] + x / proj[2]);
    if (!placeList) { return; }
    var paths = mapSvg.querySelectorAll('path[data-place]');
    for (var i = 0; i < paths.length; i++) {
      if (paths[i].isPointInFill && paths[i].isPointInFill(new DOMPoint(x, y))) {
        var d = paths[i].getAttribute('data-place');
        if (placeList.value !== d && placeList.value.indexOf(d + ':') !== 0) {
          placeList.value = d;
        }
        return;
      }
    }
  }
  if (pointInput && mapSvg) {
    map.hidden = false;
    document.querySelectorAll('[data-map-field]').forEach(function (f) { f.hidden = false; });
    mapSvg.addEventListener('click', function (e) {
      var pt = new DOMPoint(e.clientX, e.clientY).matrixTransform(mapSvg.getScreenCTM().inverse());
      pickAt(pt.x, pt.y);
    });
    mapSvg.addEventListener('keydown', function (e) {
      var moves = { ArrowLeft: [-6, 0], ArrowRight: [6, 0], ArrowUp: [0, -6], ArrowDown: [0, 6] };
      var m = moves[e.key];
      if (!m) { return; }
      e.preventDefault();
      pickAt(Number(marker.getAttribute('cx')) + m[0], Number(marker.getAttribute('cy')) + m[1]);
    });
  }
  var pointButton = document.querySelector('[data-point-button]');
  if (pointButton && pointInput && navigator.geolocation) {
    pointButton.hidden = false;
    pointButton.addEventListener('click', function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        showPoint(pos.coords.latitude, pos.coords.longitude);
      }, function () {
        if (pointNote) {
          pointNote.textContent = pointButton.getAttribute('data-denied');
          pointNote.hidden = false;
        }
      }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }
  // 转人工: the chat with a person follows its log live (server-sent
  // events), on the citizen's page and in the agent console. Messages
  // arrive as JSON (text parts and links) and are shown with text nodes;
  // replies are sent without leaving the page. Without JavaScript the
  // forms post and the page says to reload.
  var chatList = document.querySelector('[data-chat-live]');
  if (chatList && window.EventSource) {
    var chatStatus = document.querySelector('[data-chat-status]');
    var textOf = function (sel) {
      var el = document.querySelector(sel);
      return el ? el.textContent : '';
    };
    var addLine = function (l) {
      if (document.getElementById('m-' + l.id)) { return; }
      var li = document.createElement('li');
      li.id = 'm-' + l.id;
      li.className = 'chat-line chat-line-' + l.sender;
      var text = document.createElement('p');
      var time = document.createElement('span');
      time.className = 'muted';
      time.textContent = l.time;
      if (l.sender === 'system') {
        text.className = 'chat-system';
        text.appendChild(time);
        text.appendChild(document.createTextNode(' '));
      } else {
        var who = document.createElement('p');
        who.className = 'chat-who';
        who.textContent = l.who + ' ';
        who.appendChild(time);
        li.appendChild(who);
        text.className = 'chat-text prewrap';
      }
      l.parts.forEach(function (part) {
        if (part.href) {
          var a = document.createElement('a');
          a.href = part.href;
          a.textContent = part.text;
          text.appendChild(a);
        } else {
          text.appendChild(document.createTextNode(part.text));
        }
      });
      li.appendChild(text);
      chatList.appendChild(li);
      li.scrollIntoView({ block: 'nearest' });
      if (l.state && chatStatus) {
        if (l.state === 'active') {
          chatStatus.textContent = textOf('[data-chat-connected-text]') || text.textContent;
        } else if (l.state === 'closed') {
          chatStatus.textContent = textOf('[data-chat-closed-text]') || text.textContent;
          document.querySelectorAll('[data-chat-open-only]').forEach(function (el) { el.hidden = true; });
        } else {
          chatStatus.textContent = text.textContent;
        }
      }
    };
    var chatClosed = false;
    var chatSource = new EventSource(chatList.getAttribute('data-chat-live'));
    chatSource.addEventListener('message', function (e) {
      var l = JSON.parse(e.data);
      addLine(l);
      if (l.state === 'closed') { chatClosed = true; chatSource.close(); }
    });
    var chatHint = document.getElementById('live-hint');
    if (chatHint) { chatHint.hidden = true; }
    document.querySelectorAll('[data-chat-form]').forEach(function (form) {
      var box = form.querySelector('textarea');
      var canned = form.querySelector('[data-canned]');
      if (canned) {
        canned.addEventListener('change', function () {
          var opt = canned.options[canned.selectedIndex];
          if (opt && opt.getAttribute('data-body')) { box.value = opt.getAttribute('data-body'); box.focus(); }
        });
      }
      form.addEventListener('submit', function (e) {
        // Once the person has left, the form asks the assistant again (a
        // whole page).
        if (chatClosed || !window.fetch || !window.URLSearchParams) { return; }
        e.preventDefault();
        var body = new URLSearchParams(new FormData(form));
        fetch(form.action, { method: 'POST', body: body, credentials: 'same-origin' })
          .then(function (r) {
            if (r.ok && r.redirected) {
              box.value = '';
              if (canned) { canned.selectedIndex = 0; }
              box.focus();
            } else {
              form.submit();
            }
          })
          .catch(function () { form.submit(); });
      });
    });
  }
  // 坐席工作台: the queue fetches itself again when any chat changes, and
  // the tab's title counts who is waiting.
  var queue = document.querySelector('[data-queue-live]');
  if (queue && window.EventSource && window.fetch) {
    var baseTitle = document.title;
    var count = function () {
      var w = document.querySelector('[data-waiting]');
      var n = w ? Number(w.getAttribute('data-waiting')) : 0;
      document.title = n > 0 ? '(' + n + ') ' + baseTitle : baseTitle;
    };
    count();
    var queueSource = new EventSource(queue.getAttribute('data-queue-live'));
    queueSource.addEventListener('changed', function () {
      fetch(location.href, { credentials: 'same-origin' })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, 'text/html');
          var fresh = doc.querySelector('[data-queue]');
          var current = document.querySelector('[data-queue]');
          if (fresh && current) { current.replaceWith(document.importNode(fresh, true)); count(); }
        });
    });
    var queueHint = document.getElementById('live-hint');
    if (queueHint) { queueHint.hidden = true; }
  }
  var summary = document.getElementById('error-summary');
  if (summary) { summary.focus(); }
});
