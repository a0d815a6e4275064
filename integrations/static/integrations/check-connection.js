// Check connection inside an integration's form: post the form as it stands (nothing is
// saved) and show the answer beside the button, so what was typed stays in the form.
// Without this script the button posts the form and the answer comes on a page of its own.
(function () {
  "use strict";
  document.querySelectorAll("button[data-check-connection]").forEach(function (button) {
    var result = document.getElementById("check-connection-result");
    button.addEventListener("click", function (event) {
      event.preventDefault();
      button.disabled = true;
      result.className = "";
      result.textContent = "Checking…";
      fetch(button.formAction, {
        method: "POST",
        body: new FormData(button.form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("the back office answered HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (answer) {
          result.className = answer.connected ? "check-ok" : answer.connected === null ? "" : "check-failed";
          result.textContent = answer.message;
        })
        .catch(function (error) {
          result.className = "check-failed";
          result.textContent = "Could not check: " + error.message;
        })
        .finally(function () {
          button.disabled = false;
        });
    });
  });
})();
