//! `GET /v1/openapi.json`: the OpenAPI document, generated from the handlers' annotations and
//! the request and response types (utoipa). A test checks that it names every endpoint of
//! [`crate::routes::endpoints`] with the same method, and marks exactly the role-protected
//! ones as needing the bearer token.

use crate::routes;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "fraudshield-server", description = "Citizens' tips, four-eyes review and signed releases. Errors: {\"error\":{\"code\":…,\"message\":…}}. Roles per endpoint: see each operation's description and the README."),
    paths(
        routes::reports::submit,
        routes::reports::status,
        routes::review::queue,
        routes::review::propose,
        routes::review::list,
        routes::review::get,
        routes::review::approve,
        routes::review::reject,
        routes::review::appeal,
        routes::batches::approve,
        routes::batches::reject,
        routes::review::answer,
        routes::review::contact,
        routes::audit::query,
        routes::publish::preview,
        routes::publish::publish,
        routes::publish::list,
        routes::manifest::manifest,
        routes::manifest::artifact,
        routes::ops::healthz,
        routes::ops::readyz,
        routes::ops::metrics,
        routes::ops::openapi,
    ),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "an API token `fs1.<id>.<secret>` (fraudshield-server token create)",
                    ))
                    .build(),
            ),
        );
        // The roles come from the one endpoint table the router enforces.
        for (ep, _) in routes::endpoints() {
            let Some(item) = openapi.paths.paths.get_mut(ep.path) else {
                continue;
            };
            let op = match ep.method.as_str() {
                "GET" => item.get.as_mut(),
                "POST" => item.post.as_mut(),
                _ => None,
            };
            if let Some(op) = op {
                let roles = if ep.roles.is_empty() {
                    "public".to_owned()
                } else {
                    ep.roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                op.summary = Some(ep.summary.to_owned());
                let doc = op.description.take().unwrap_or_default();
                op.description = Some(format!("Roles: {roles}.\n\n{doc}"));
            }
        }
    }
}

/// The OpenAPI document of this server.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
