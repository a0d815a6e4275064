// Check connection inside an integration's form: post the form as it stands (nothing is
// saved) and show the answer where the back office shows its messages, so what was typed
// stays in the form. Without this script the button posts the form and the answer comes on
// a page of its own. Its words come translated from the button's data attributes.
(function () {
  "use strict";

  function showMessage(text, level) {
    var list = document.querySelector("ul.messagelist");
    if (!list) {
      list = document.createElement("ul");
      list.className = "messagelist";
      var content = document.getElementById("content");
      content.parentNode.insertBefore(list, content);
    }
    var item = document.createElement("li");
    item.className = level;
    item.textContent = text;
    list.replaceChildren(item);
  }

  document.querySelectorAll("button[data-check-connection]").forEach(function (button) {
    var status = document.getElementById("check-connection-result");
    var hint = status.textContent;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      button.disabled = true;
      status.textContent = button.dataset.checking;
      fetch(button.formAction, {
        method: "POST",
        body: new FormData(button.form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (answer) {
          var level = answer.connected === null ? "info" : answer.connected ? "success" : "error";
          showMessage(answer.message, level);
        })
        .catch(function (error) {
          showMessage(button.dataset.failed + " " + error.message, "error");
        })
        .finally(function () {
          button.disabled = false;
          status.textContent = hint;
          window.scrollTo(0, 0);
        });
    });
  });
})();
