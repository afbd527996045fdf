//! The web layer: one route table ([`routes`]), small handlers that extract,
//! call one domain function and render, askama templates, embedded assets,
//! translations and the JSON API.

rust_i18n::i18n!("locales", fallback = "zh-CN");

mod assets;
mod cache;
mod error;
mod extract;
mod handlers;
mod live;
mod middleware;
mod openapi;
mod routes;
mod server;
mod state;
mod view;

pub use routes::{SiteRoute, StaffRoute, router, site_routes, staff_menu, staff_routes};
pub use server::ConnectionLimits;
pub use state::{AppState, WebConfig};
pub use view::Lang;

use tokio::net::TcpListener;

/// Serves `app` on an already bound listener until `shutdown` resolves,
/// letting in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    state.spawn_catalog_watcher();
    state.spawn_job_runner();
    let limits = state.config.connections.clone();
    // Live streams end first, so the graceful stop does not wait on them.
    let live = state.live.clone();
    let shutdown = async move {
        shutdown.await;
        live.close();
    };
    // Behind a proxy every connection comes from its address.
    let per_client = !state.config.trust_proxy;
    server::run(listener, router(state), limits, per_client, shutdown).await
}
