// famassist: starts ReDoc on /redoc (api/docs). A file of its own, so that the page's
// Content-Security-Policy allows no inline script; the spec is the API's own /openapi.json.
"use strict";
(() => {
  const root = document.getElementById("redoc");
  Redoc.init(root.dataset.openapiUrl, { hideDownloadButton: false }, root);
})();
