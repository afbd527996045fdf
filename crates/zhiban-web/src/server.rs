//! Accepting connections without letting any client exhaust the server:
//! a cap on connections in all and per client address, a deadline for a
//! request's headers (slow-header attacks) that also closes keep-alive
//! connections left idle that long, and an accept loop that survives
//! running out of file descriptors. Graceful: on shutdown, requests in
//! flight finish.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

/// Limits on connections (settings `max_connections`,
/// `max_connections_per_client`, `header_read_timeout_secs`).
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Open connections in all; more wait in the kernel's backlog.
    pub max_total: usize,
    /// Open connections from one address; more are closed at once. Not
    /// applied behind a trusted proxy, whose address every request shares.
    pub max_per_client: usize,
    /// A client must send a request's headers within this time, and an idle
    /// keep-alive connection is closed after it.
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_total: 4096,
            max_per_client: 128,
            header_read_timeout: Duration::from_secs(15),
        }
    }
}

/// Open connections per client address; an entry leaves with its last one.
#[derive(Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

/// One open connection counted against its client; uncounted when dropped.
struct Counted {
    table: Arc<PerClient>,
    ip: Option<IpAddr>,
    _total: OwnedSemaphorePermit,
}

impl PerClient {
    fn enter(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<Option<IpAddr>> {
        let mut t = match self.0.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        let n = t.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Some(ip))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let Some(ip) = self.ip else { return };
        let mut t = match self.table.0.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        if let Some(n) = t.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                t.remove(&ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    per_client: bool,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let total = Arc::new(Semaphore::new(limits.max_total.max(1)));
    let clients = Arc::new(PerClient::default());
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.header_read_timeout));
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        // Wait for room before accepting: excess connections queue in the
        // kernel's backlog instead of costing a file descriptor each.
        let permit = tokio::select! {
            p = Arc::clone(&total).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors (EMFILE) or a connection reset
                    // before it was accepted: wait a moment, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ip = if per_client {
            match clients.enter(peer.ip(), limits.max_per_client) {
                Some(ip) => ip,
                None => {
                    tracing::warn!(ip = %peer.ip(), "too many connections from one address");
                    drop(stream);
                    continue;
                }
            }
        } else {
            None
        };
        let counted = Counted {
            table: Arc::clone(&clients),
            ip,
            _total: permit,
        };
        serve_one(
            stream,
            peer,
            app.clone(),
            Arc::clone(&builder),
            &graceful,
            counted,
            limits.header_read_timeout,
        );
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

fn serve_one(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    builder: Arc<Builder<TokioExecutor>>,
    graceful: &GracefulShutdown,
    counted: Counted,
    first_byte: Duration,
) {
    let watcher = graceful.watcher();
    tokio::spawn(async move {
        // A connection that sends nothing at all is closed after the
        // header deadline too (hyper's own timer starts with the first byte).
        let mut probe = [0u8; 1];
        match tokio::time::timeout(first_byte, stream.peek(&mut probe)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        }
        let _ = stream.set_nodelay(true);
        let svc = app.map_request(move |req: Request<hyper::body::Incoming>| {
            let mut req = req.map(axum::body::Body::new);
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(svc));
        if let Err(e) = watcher.watch(conn.into_owned()).await {
            tracing::debug!(error = %e, "connection ended");
        }
        drop(counted);
    });
}
