// famassist: starts Swagger UI on /docs (api/docs). A file of its own, so that the page's
// Content-Security-Policy allows no inline script. Nothing is fetched from another host:
// the spec is the API's own /openapi.json and the validator badge is off (validatorUrl).
"use strict";
(() => {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
  });
})();
