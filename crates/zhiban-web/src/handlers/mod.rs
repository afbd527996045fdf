//! Handlers, in folders named after the site's areas: `public` (anyone),
//! `citizen` (signed-in people: `/login`, `/account`, `/apply`, `/my/…`),
//! `staff` (`/admin/…`), `oidc` (the OpenID Connect provider) and `api`
//! (other systems). A page's handler is found from its URL; templates are
//! in the same folders under `templates/`. A handler file never imports
//! another: what several share lives in `extract`, `view` or `middleware`.

pub mod api;
pub mod citizen;
pub mod oidc;
pub mod public;
pub mod staff;
