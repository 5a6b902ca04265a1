"""What the API and the web UI share: the app factory (``app``), who is asking
(``authentication``), what each route allows (``route_policies``), the JSON error envelope
(``error_envelope``) and the body-size limit (``body_limit``). It imports neither
``softquery.api`` nor ``softquery.web``; ``softquery.server`` mounts both on its app."""
