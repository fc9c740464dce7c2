// The invoice's Print button (a file, not an onclick attribute: the Content-Security-Policy allows no inline script).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("invoice-print");
  if (button) button.addEventListener("click", function () { window.print(); });
});
