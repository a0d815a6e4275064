// The order page follows its payment while it is being confirmed (the server says so with
// `confirming`), and says so when that takes longer than a few seconds (`slow`).
(function () {
  var section = document.getElementById("payment");
  if (!section) { return; }
  var status = document.getElementById("payment-status");
  var slow = document.getElementById("payment-slow");
  var payAgain = document.getElementById("pay-again");
  function follow() {
    fetch(section.dataset.statusUrl, {headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { setTimeout(follow, 3000); return; }
        var changed = status.dataset.code !== data.code;
        status.textContent = data.status;
        status.dataset.code = data.code;
        slow.hidden = !data.slow;
        payAgain.hidden = !data.pay_again_url;
        if (data.confirming) { setTimeout(follow, 1000); }
        // Settled another way than it started (declined: the other methods to offer): the
        // page as the server draws it now.
        else if (changed && data.pay_again_url) { window.location.reload(); }
      })
      .catch(function () { setTimeout(follow, 3000); });
  }
  if (section.dataset.confirming === "true") { setTimeout(follow, 1000); }
})();
