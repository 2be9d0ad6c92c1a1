// Staff pages: behaviour that would otherwise be inline (the Content-Security-Policy allows scripts
// only from /static). A button with data-confirm asks before its form is submitted.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });
})();
