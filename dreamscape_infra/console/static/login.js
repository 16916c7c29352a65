"use strict";
// The token is kept in a same-site cookie for this origin; serve compares it in constant time.
document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = document.getElementById("token").value;
  document.cookie = "dreamscape_ui_token=" + encodeURIComponent(token) + "; path=/; SameSite=Strict";
  window.location.reload();
});
