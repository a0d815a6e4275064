// Show a method's data (e.g. InfinitePay's Debtor Data) only while that method is chosen.
// Without this script every section shows, and the server checks only the chosen one's.
(function () {
  var radios = document.querySelectorAll("#payment-methods input[name=method]");
  var sections = document.querySelectorAll("fieldset.method-data");
  if (!radios.length || !sections.length) { return; }
  function typeKey(identifier) { return identifier.replace(/_\d+$/, ""); }
  function update() {
    var chosen = document.querySelector("#payment-methods input[name=method]:checked");
    var key = chosen ? typeKey(chosen.value) : "";
    sections.forEach(function (section) {
      var shown = section.dataset.typeKey === key;
      section.hidden = !shown;
      section.disabled = !shown;
    });
  }
  radios.forEach(function (radio) { radio.addEventListener("change", update); });
  update();
})();
