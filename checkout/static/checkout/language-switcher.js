// Choosing a language switches at once; without this script the form's button does it.
document.querySelectorAll("form[data-auto-submit]").forEach(function (form) {
  form.querySelector("select").addEventListener("change", function () { form.requestSubmit(); });
});
