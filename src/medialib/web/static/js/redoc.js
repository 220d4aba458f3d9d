// Starts Redoc on /openapi.json (a file of its own: the page's CSP allows no inline script).
window.Redoc.init("/openapi.json", { hideDownloadButton: false }, document.getElementById("redoc"));
