// A guarantee's page follows the step under way: it asks the progress URL now and then,
// redraws where the guarantee stands and its timeline when they change, and loads the
// page again once the step has ended (so the operations that fit then are offered).
// It stops asking when nothing is under way, and after a quarter of an hour of no change.
(function () {
  "use strict";
  var live = document.getElementById("guarantee-live");
  if (!live || !live.hasAttribute("data-under-way")) {
    return;
  }
  var url = live.getAttribute("data-progress-url");
  var version = live.getAttribute("data-version");
  var FIRST_DELAY = 1000, LONGEST_DELAY = 10000, GIVE_UP_AFTER = 15 * 60 * 1000;
  var delay = FIRST_DELAY;
  var lastChange = Date.now();
  var note = live.querySelector(".live-note");
  // What the note says as the following ends, in the page's language (set by the template).
  var said = live.dataset;
  if (note) {
    note.hidden = false;
  }

  function redraw(parts) {
    Object.keys(parts).forEach(function (name) {
      var part = live.querySelector('[data-live-part="' + name + '"]');
      if (part) {
        part.innerHTML = parts[name];
      }
    });
  }

  function stop(text) {
    if (note) {
      note.textContent = text;
    }
  }

  function ask() {
    if (document.hidden) {  // a tab in the background asks again when shown
      document.addEventListener("visibilitychange", ask, { once: true });
      return;
    }
    // With the version shown: an answer with no change carries no parts to redraw.
    fetch(url + "?since=" + encodeURIComponent(version), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        if (progress.version !== version) {
          version = progress.version;
          lastChange = Date.now();
          delay = FIRST_DELAY;
          if (!progress.under_way) {
            window.location.reload();
            return;
          }
          redraw(progress.parts);
        } else {
          delay = Math.min(delay * 1.5, LONGEST_DELAY);
        }
        if (!progress.under_way) {
          stop(said.ended);
        } else if (Date.now() - lastChange > GIVE_UP_AFTER) {
          stop(said.idle);
        } else {
          window.setTimeout(ask, delay);
        }
      })
      .catch(function () {
        delay = LONGEST_DELAY;
        if (Date.now() - lastChange > GIVE_UP_AFTER) {
          stop(said.unreachable);
        } else {
          window.setTimeout(ask, delay);
        }
      });
  }

  window.setTimeout(ask, delay);
})();
