// Draws the interactive reference of the gateway's own OpenAPI document, whose URL is on the
// element. A file of its own (no inline script): the page's Content-Security-Policy allows
// only same-origin scripts. validatorUrl null: Swagger UI would otherwise send the document
// to an outside validator for its badge.
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
